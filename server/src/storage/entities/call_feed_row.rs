use sea_orm::entity::prelude::*;

/// One change to one call on one extension, as agents' pages are told
/// (`app::agents::CallUpdate` as JSON); the id is the stream's event id.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "call_feed")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub extension: String,
    pub call_id: String,
    pub at_ms: i64,
    pub body: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
