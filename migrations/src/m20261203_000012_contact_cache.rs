use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The contact cache, Patchbay's phonebook (docs/scenarios.md "Contacts, the cache and
/// number formats"): per integration, one row per number (normalised), the contact found
/// for it and when it was read from the CRM.
#[derive(DeriveIden)]
enum CachedContacts {
    Table,
    Id,
    IntegrationId,
    NumberKey,
    Number,
    ContactType,
    Name,
    Fields,
    PopupUrl,
    ReadAt,
}

/// Activity rows say what a run found (a lookup's matches, a cached contact).
#[derive(DeriveIden)]
enum Activity {
    Table,
    Detail,
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
                    .table(CachedContacts::Table)
                    .col(pk_auto(CachedContacts::Id))
                    .col(integer(CachedContacts::IntegrationId))
                    .col(string(CachedContacts::NumberKey))
                    .col(string(CachedContacts::Number))
                    .col(string(CachedContacts::ContactType))
                    .col(string(CachedContacts::Name))
                    .col(text(CachedContacts::Fields))
                    .col(text_null(CachedContacts::PopupUrl))
                    .col(big_integer(CachedContacts::ReadAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CachedContacts::Table, CachedContacts::IntegrationId)
                            .to(Integrations::Table, Integrations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("cached_contacts_one_per_number")
                    .table(CachedContacts::Table)
                    .col(CachedContacts::IntegrationId)
                    .col(CachedContacts::NumberKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("cached_contacts_by_age")
                    .table(CachedContacts::Table)
                    .col(CachedContacts::IntegrationId)
                    .col(CachedContacts::ReadAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Activity::Table)
                    .add_column(text_null(Activity::Detail))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Activity::Table)
                    .drop_column(Activity::Detail)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(CachedContacts::Table).to_owned())
            .await
    }
}
