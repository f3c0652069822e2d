use sea_orm::entity::prelude::*;

/// One step of a call's work for one integration (a lookup, a contact, the journal, a
/// ticket), with its state and retries.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "queue_jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub integration_id: i32,
    pub call_id: String,
    /// `lookup`, `ticket_before`, `contact`, `journal`, `ticket_after`.
    pub step: String,
    /// The step's place in the call's order: a job waits for the call's lower ones.
    pub seq: i32,
    /// The call as JSON (`app::calls::Call`).
    #[sea_orm(column_type = "Text")]
    pub call: String,
    /// `pending`, `running`, `done`, `failed`, `discarded`.
    pub state: String,
    pub attempts: i32,
    /// Unix milliseconds.
    pub next_attempt_at: i64,
    /// Unix milliseconds; a running job whose lease passed is taken over.
    pub lease_until: i64,
    /// Taken over after its lease passed: its request may have been sent twice.
    pub retaken: bool,
    #[sea_orm(column_type = "Text")]
    pub last_error: String,
    /// The layer the last failure came from (`app::activity::Fault`).
    pub fault: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
