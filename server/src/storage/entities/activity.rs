use sea_orm::entity::prelude::*;

/// One scenario run of an integration, for the Activity page (bounded, see
/// `storage::activity`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub integration_id: i32,
    /// Unix milliseconds when the run started.
    pub at: i64,
    pub scenario: String,
    /// What started it: `console`, `lookup`, `check`, `refresh`, `startup`.
    pub origin: String,
    /// `success`, `failed` or `skipped`.
    pub outcome: String,
    /// The last HTTP status the CRM answered.
    pub status: Option<i32>,
    pub duration_ms: i64,
    /// How many requests were sent.
    pub requests: i32,
    /// Why it failed, secrets masked.
    pub error: Option<String>,
    /// What it found, in a few words (a lookup's matches, a cached contact).
    pub detail: Option<String>,
    /// The layer a failure came from (`app::activity::Fault`); none when it did not fail.
    pub fault: Option<String>,
    /// Milliseconds the run waited for the CRM's answers; none when nothing was sent.
    pub crm_ms: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
