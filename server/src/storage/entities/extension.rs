use sea_orm::entity::prelude::*;

/// A PBX extension of the directory.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "extensions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub number: String,
    pub first_name: String,
    pub last_name: String,
    /// Lower case; empty when unknown.
    pub email: String,
    pub updated_at: i64,
    /// `pbx` (the extension sync) or `manual` (the page, a CSV import).
    pub source: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
