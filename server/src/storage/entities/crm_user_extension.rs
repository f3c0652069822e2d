use sea_orm::entity::prelude::*;

/// An extension a CRM user answers for in one integration (at most one user per extension
/// and integration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "crm_user_extensions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub integration_id: i32,
    /// `crm_users.id` (the row, not the CRM's id).
    pub crm_user_id: i32,
    /// `extensions.id`.
    pub extension_id: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::extension::Entity",
        from = "Column::ExtensionId",
        to = "super::extension::Column::Id"
    )]
    Extension,
}

impl Related<super::extension::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Extension.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
