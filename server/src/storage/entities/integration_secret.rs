use sea_orm::entity::prelude::*;

/// One encrypted secret of an integration (`crypto::cipher`): a password custom field
/// (`field:<name>`), `client_secret`, `access_token` or `refresh_token`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integration_secrets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub integration_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub ciphertext: String,
    /// The key that encrypted it, so a rotation finds what is left to re-encrypt.
    pub key_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
