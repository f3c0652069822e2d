use sea_orm::entity::prelude::*;

/// A call event accepted once: its key (source, call, kind, what it says) is unique, so a
/// replay is recognised.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "call_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub event_key: String,
    pub call_id: String,
    pub kind: String,
    /// Unix milliseconds.
    pub received_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
