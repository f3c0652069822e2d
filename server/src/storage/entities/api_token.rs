use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    /// SHA-256 of the token, hex.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The token's first characters, to tell tokens apart in lists.
    pub prefix: String,
    /// The account the token acts as; deleting the account deletes its tokens.
    pub account_id: i32,
    /// E-mail of the admin who created it, as it was then.
    pub created_by: String,
    /// What the token may do: `admin`, `lookup` or `events` (`app::accounts::TokenScope`).
    pub scope: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Unix seconds after which the token no longer works; `None`: until revoked.
    pub expires_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
