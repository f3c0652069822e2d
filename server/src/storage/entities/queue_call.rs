use sea_orm::entity::prelude::*;

/// What a call's earlier jobs read (a contact id, a ticket id) for its later ones, per
/// integration.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "queue_calls")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub integration_id: i32,
    pub call_id: String,
    /// JSON object of variables.
    #[sea_orm(column_type = "Text")]
    pub carried: String,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
