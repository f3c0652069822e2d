use sea_orm::entity::prelude::*;

/// A contact found for a number, kept as Patchbay's phonebook (storage::contact_cache).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cached_contacts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub integration_id: i32,
    /// The number normalised (`core::numbers::Number::cache_key`).
    pub number_key: String,
    /// The number as it was asked for.
    pub number: String,
    pub contact_type: String,
    /// "First Last", for the page's list and search.
    pub name: String,
    /// JSON object of the contact's fields.
    #[sea_orm(column_type = "Text")]
    pub fields: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub popup_url: Option<String>,
    pub read_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
