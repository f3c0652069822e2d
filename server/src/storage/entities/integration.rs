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
    /// The revision it ran before the last Apply or rollback: what Roll back returns to.
    pub previous_template_revision: Option<i32>,
    /// The e-mail of the account its notifications go to.
    pub owner: Option<String>,
    /// JSON: the values of the template's non-secret custom fields, and the client id.
    pub settings: String,
    /// JSON: the global variables GetGlobalInfo and follow-ups stored.
    pub global_variables: String,
    /// JSON: the Features section's choices (`app::integrations::Features`).
    pub features: String,
    pub token_type: Option<String>,
    /// Unix seconds when the access token expires, when the token endpoint said.
    pub token_expires_at: Option<i64>,
    /// `not_connected`, `connected`, `token_invalid` or `error` (`app::integrations::Status`).
    pub status: String,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub connected_at: Option<i64>,
    /// Unix seconds when the token in use was issued (by a connect or a refresh).
    pub token_refreshed_at: Option<i64>,
    /// Moves on with every new token: a request that saw generation N and was refused
    /// knows a token of N+1 is another's refresh, not its own to repeat.
    pub token_generation: i32,
    /// The server instance refreshing the token, and until when its lease holds.
    pub refresh_lease_owner: Option<String>,
    pub refresh_lease_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
