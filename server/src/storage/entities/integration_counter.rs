use sea_orm::entity::prelude::*;

/// One counter of an integration for one hour (`storage::counters`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integration_counters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub integration_id: i32,
    /// Unix seconds / 3600.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hour: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
