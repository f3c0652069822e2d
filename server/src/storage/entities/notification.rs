use sea_orm::entity::prelude::*;

/// A notification sent (`storage::notifications`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// None: the deployment's (the phone system).
    pub integration_id: Option<i32>,
    pub condition: String,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    pub at_ms: i64,
    #[sea_orm(column_type = "Text")]
    pub delivery: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
