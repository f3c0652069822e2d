use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Templates {
    Table,
    Id,
    Provider,
    Key,
    Name,
    Remark,
    Version,
    Xml,
    Logo,
    LogoMediaType,
    Warnings,
    CreatedAt,
    UpdatedAt,
    Revision,
}

/// One row per provider. Creating a template first updates its provider's row, which makes
/// concurrent creates for the same provider wait for each other, so the 10-per-provider cap
/// holds on PostgreSQL as on SQLite.
#[derive(DeriveIden)]
enum TemplateQuotaLocks {
    Table,
    Provider,
    Touched,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Templates::Table)
                    .if_not_exists()
                    .col(pk_auto(Templates::Id))
                    .col(string(Templates::Provider))
                    .col(string(Templates::Key))
                    .col(string(Templates::Name))
                    .col(string(Templates::Remark))
                    .col(string(Templates::Version))
                    .col(text(Templates::Xml))
                    .col(blob_null(Templates::Logo))
                    .col(string_null(Templates::LogoMediaType))
                    .col(text(Templates::Warnings))
                    .col(big_integer(Templates::CreatedAt))
                    .col(big_integer(Templates::UpdatedAt))
                    .col(integer(Templates::Revision))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_templates_provider_key")
                    .table(Templates::Table)
                    .col(Templates::Provider)
                    .col(Templates::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TemplateQuotaLocks::Table)
                    .if_not_exists()
                    .col(string(TemplateQuotaLocks::Provider).primary_key())
                    .col(big_integer(TemplateQuotaLocks::Touched).default(0))
                    .to_owned(),
            )
            .await?;
        let seed = Query::insert()
            .into_table(TemplateQuotaLocks::Table)
            .columns([TemplateQuotaLocks::Provider, TemplateQuotaLocks::Touched])
            .values_panic(["crm".into(), 0.into()])
            .values_panic(["helpdesk".into(), 0.into()])
            .to_owned();
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TemplateQuotaLocks::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Templates::Table).to_owned())
            .await
    }
}
