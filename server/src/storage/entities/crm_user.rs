use sea_orm::entity::prelude::*;

/// A CRM user an integration's last successful sync listed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "crm_users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub integration_id: i32,
    /// The CRM's own id of the user (`UserUniqueId`); unique per integration.
    pub crm_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Unix seconds of the sync that last changed or confirmed it.
    pub synced_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
