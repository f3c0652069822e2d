use sea_orm::entity::prelude::*;

/// How often one output of one request read a value (`storage::drift`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "output_stats")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub integration_id: i32,
    /// `Scenario/Request`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub step: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub output: String,
    pub reads: i64,
    pub empties: i64,
    /// Answers in a row, since the last value, on which it read nothing.
    pub streak: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
