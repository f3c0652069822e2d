use sea_orm::entity::prelude::*;

/// An OAuth authorization under way (migration `m20261129_000006_oauth`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_states")]
pub struct Model {
    /// SHA-256 of the `state` value, hex: the value itself is only in the browser's URL.
    #[sea_orm(primary_key, auto_increment = false)]
    pub state_hash: String,
    pub template_id: i32,
    /// SHA-256 of the starting session's secret: another session's callback is refused.
    pub session_hash: String,
    /// Who started it, for the log.
    pub actor: String,
    /// Encrypted JSON: the settings to store on success and the PKCE verifier.
    pub pending: String,
    pub expires_at: i64,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
