use sea_orm::entity::prelude::*;

/// One saved revision of a template: its text, who saved it and when.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "template_revisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub template_id: i32,
    pub revision: i32,
    #[sea_orm(column_type = "Text")]
    pub xml: String,
    /// The account's e-mail; empty for revisions saved before history was kept.
    pub author: String,
    /// Unix seconds.
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
