use sea_orm::entity::prelude::*;

/// An extension's call popup settings (`app::agents::PopupSettings`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "popup_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: String,
    /// `automatic` or `manual`.
    pub method: String,
    /// `ring`, `answered` or `end`.
    pub trigger: String,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
