use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "templates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub provider: String,
    pub key: String,
    pub name: String,
    pub remark: String,
    pub version: String,
    /// The template's XML exactly as uploaded or last written.
    pub xml: String,
    pub logo: Option<Vec<u8>>,
    pub logo_media_type: Option<String>,
    /// The validator's warnings at the last save, as JSON.
    pub warnings: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Starts at 1 and grows with every replace.
    pub revision: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
