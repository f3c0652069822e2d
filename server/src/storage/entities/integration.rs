use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integrations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The template it connects (one integration per template; deleted with it).
    #[sea_orm(unique)]
    pub template_id: i32,
    /// The template revision it runs, and that revision's XML (Apply moves both on).
    pub template_revision: i32,
    pub template_xml: String,
    /// JSON: the values of the template's non-secret custom fields, and the client id.
    pub settings: String,
    /// JSON: the global variables GetGlobalInfo and follow-ups stored.
    pub global_variables: String,
    pub token_type: Option<String>,
    /// Unix seconds when the access token expires, when the token endpoint said.
    pub token_expires_at: Option<i64>,
    /// `not_connected`, `connected`, `token_invalid` or `error` (`app::integrations::Status`).
    pub status: String,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub connected_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
