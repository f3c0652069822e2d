use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The extensions an account answers (README "Agents and the call popup"). Kept by the
/// extension's number, not its row, so an extension sync that rebuilds the directory keeps
/// the links; deleting the account deletes its links.
#[derive(DeriveIden)]
enum AccountExtensions {
    Table,
    AccountId,
    Number,
}

/// How the call popup behaves on an extension (the reference's "Set up call popup"): method
/// `automatic` or `manual`, trigger `ring`, `answered` or `end`.
#[derive(DeriveIden)]
enum PopupSettings {
    Table,
    Number,
    Method,
    Trigger,
    UpdatedAt,
}

/// What agents' pages are told about calls, in order: each row one change to one call on
/// one extension (its state, the contacts found, a journal's outcome), as JSON. The row's
/// id is the stream's event id, so a reconnecting page asks for what came after.
#[derive(DeriveIden)]
enum CallFeed {
    Table,
    Id,
    Extension,
    CallId,
    AtMs,
    Body,
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
                    .table(AccountExtensions::Table)
                    .col(integer(AccountExtensions::AccountId))
                    .col(string(AccountExtensions::Number))
                    .primary_key(
                        Index::create()
                            .col(AccountExtensions::AccountId)
                            .col(AccountExtensions::Number),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AccountExtensions::Table, AccountExtensions::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("account_extensions_by_number")
                    .table(AccountExtensions::Table)
                    .col(AccountExtensions::Number)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PopupSettings::Table)
                    .col(string(PopupSettings::Number).primary_key())
                    .col(string(PopupSettings::Method))
                    .col(string(PopupSettings::Trigger))
                    .col(big_integer(PopupSettings::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CallFeed::Table)
                    .col(pk_auto(CallFeed::Id))
                    .col(string(CallFeed::Extension))
                    .col(string(CallFeed::CallId))
                    .col(big_integer(CallFeed::AtMs))
                    .col(text(CallFeed::Body))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("call_feed_by_extension")
                    .table(CallFeed::Table)
                    .col(CallFeed::Extension)
                    .col(CallFeed::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("call_feed_by_time")
                    .table(CallFeed::Table)
                    .col(CallFeed::AtMs)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CallFeed::Table.into_iden(),
            PopupSettings::Table.into_iden(),
            AccountExtensions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
