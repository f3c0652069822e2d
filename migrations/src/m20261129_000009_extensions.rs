use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The extension directory (README "Extensions"): PBX extensions by number.
#[derive(DeriveIden)]
enum Extensions {
    Table,
    Id,
    Number,
    FirstName,
    LastName,
    Email,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Extensions::Table)
                    .col(pk_auto(Extensions::Id))
                    .col(string_uniq(Extensions::Number))
                    .col(string(Extensions::FirstName))
                    .col(string(Extensions::LastName))
                    .col(string(Extensions::Email))
                    .col(big_integer(Extensions::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Extensions::Table).to_owned())
            .await
    }
}
