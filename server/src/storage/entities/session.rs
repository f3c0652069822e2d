use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// SHA-256 of the session id in the cookie, hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The session's key-value data as JSON.
    pub data: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub user_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
