use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// API tokens belong to an account (deleted with it), carry a scope and may expire.
/// SQLite cannot add a foreign key to an existing table, so the table is rebuilt; tokens
/// whose creator still exists are kept, with the `admin` scope they had in effect.
#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    Name,
    TokenHash,
    Prefix,
    CreatedBy,
    CreatedAt,
    LastUsedAt,
    AccountId,
    Scope,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum ApiTokensOwned {
    Table,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiTokensOwned::Table)
                    .col(pk_auto(ApiTokens::Id))
                    .col(string(ApiTokens::Name))
                    .col(string_uniq(ApiTokens::TokenHash))
                    .col(string(ApiTokens::Prefix))
                    .col(integer(ApiTokens::AccountId))
                    .col(string(ApiTokens::CreatedBy))
                    .col(string(ApiTokens::Scope))
                    .col(big_integer(ApiTokens::CreatedAt))
                    .col(big_integer_null(ApiTokens::LastUsedAt))
                    .col(big_integer_null(ApiTokens::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiTokensOwned::Table, ApiTokens::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO api_tokens_owned \
                   (id, name, token_hash, prefix, account_id, created_by, scope, created_at, last_used_at, expires_at) \
                 SELECT t.id, t.name, t.token_hash, t.prefix, a.id, t.created_by, 'admin', t.created_at, t.last_used_at, NULL \
                 FROM api_tokens t JOIN accounts a ON a.email = t.created_by",
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ApiTokens::Table).to_owned())
            .await?;
        manager
            .rename_table(
                Table::rename()
                    .table(ApiTokensOwned::Table, ApiTokens::Table)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            // The copied ids must not be handed out again.
            manager
                .get_connection()
                .execute_unprepared(
                    "SELECT setval(pg_get_serial_sequence('api_tokens', 'id'), \
                     COALESCE((SELECT MAX(id) FROM api_tokens), 0) + 1, false)",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "API token owners cannot be removed again; restore a backup instead".into(),
        ))
    }
}
