use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// CRM user sync (README "CRM user sync"): the users an integration's UserAssociation
/// scenario listed, one row per CRM id, replaced as a whole by each successful sync.
#[derive(DeriveIden)]
enum CrmUsers {
    Table,
    Id,
    IntegrationId,
    CrmId,
    FirstName,
    LastName,
    Email,
    SyncedAt,
}

#[derive(DeriveIden)]
enum Integrations {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CrmUsers::Table)
                    .col(pk_auto(CrmUsers::Id))
                    .col(integer(CrmUsers::IntegrationId))
                    .col(string(CrmUsers::CrmId))
                    .col(string(CrmUsers::FirstName))
                    .col(string(CrmUsers::LastName))
                    .col(string(CrmUsers::Email))
                    .col(big_integer(CrmUsers::SyncedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CrmUsers::Table, CrmUsers::IntegrationId)
                            .to(Integrations::Table, Integrations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("crm_users_by_integration_and_id")
                    .table(CrmUsers::Table)
                    .col(CrmUsers::IntegrationId)
                    .col(CrmUsers::CrmId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CrmUsers::Table).to_owned())
            .await
    }
}
