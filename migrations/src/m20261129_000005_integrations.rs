use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One integration per template: the settings a user filled in, the template revision it
/// runs (its XML kept, so editing the template changes nothing until Apply), its status,
/// and (in `integration_secrets`) its encrypted secrets. Deleting the template deletes both.
#[derive(DeriveIden)]
enum Integrations {
    Table,
    Id,
    TemplateId,
    TemplateRevision,
    TemplateXml,
    Settings,
    GlobalVariables,
    TokenType,
    TokenExpiresAt,
    Status,
    LastError,
    LastErrorAt,
    ConnectedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IntegrationSecrets {
    Table,
    IntegrationId,
    Name,
    Ciphertext,
    KeyId,
}

#[derive(DeriveIden)]
enum Templates {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Integrations::Table)
                    .col(pk_auto(Integrations::Id))
                    .col(integer_uniq(Integrations::TemplateId))
                    .col(integer(Integrations::TemplateRevision))
                    .col(text(Integrations::TemplateXml))
                    .col(text(Integrations::Settings))
                    .col(text(Integrations::GlobalVariables))
                    .col(string_null(Integrations::TokenType))
                    .col(big_integer_null(Integrations::TokenExpiresAt))
                    .col(string(Integrations::Status))
                    .col(text_null(Integrations::LastError))
                    .col(big_integer_null(Integrations::LastErrorAt))
                    .col(big_integer_null(Integrations::ConnectedAt))
                    .col(big_integer(Integrations::CreatedAt))
                    .col(big_integer(Integrations::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Integrations::Table, Integrations::TemplateId)
                            .to(Templates::Table, Templates::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IntegrationSecrets::Table)
                    .col(integer(IntegrationSecrets::IntegrationId))
                    .col(string(IntegrationSecrets::Name))
                    .col(text(IntegrationSecrets::Ciphertext))
                    .col(string(IntegrationSecrets::KeyId))
                    .primary_key(
                        Index::create()
                            .col(IntegrationSecrets::IntegrationId)
                            .col(IntegrationSecrets::Name),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(IntegrationSecrets::Table, IntegrationSecrets::IntegrationId)
                            .to(Integrations::Table, Integrations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_integration_secrets_key_id")
                    .table(IntegrationSecrets::Table)
                    .col(IntegrationSecrets::KeyId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IntegrationSecrets::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Integrations::Table).to_owned())
            .await
    }
}
