use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Extension groups (README "Extensions") and the user association (README "User
/// association"): which extensions each CRM user of an integration answers for. Deleting an
/// extension, a group, a CRM user or an integration deletes what hangs on it.
#[derive(DeriveIden)]
enum ExtensionGroups {
    Table,
    Id,
    Name,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ExtensionGroupMembers {
    Table,
    GroupId,
    ExtensionId,
}

#[derive(DeriveIden)]
enum CrmUserExtensions {
    Table,
    Id,
    IntegrationId,
    CrmUserId,
    ExtensionId,
}

#[derive(DeriveIden)]
enum Extensions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CrmUsers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Integrations {
    Table,
    Id,
}

fn cascade(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ExtensionGroups::Table)
                    .col(pk_auto(ExtensionGroups::Id))
                    .col(string_uniq(ExtensionGroups::Name))
                    .col(big_integer(ExtensionGroups::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExtensionGroupMembers::Table)
                    .col(integer(ExtensionGroupMembers::GroupId))
                    .col(integer(ExtensionGroupMembers::ExtensionId))
                    .primary_key(
                        Index::create()
                            .col(ExtensionGroupMembers::GroupId)
                            .col(ExtensionGroupMembers::ExtensionId),
                    )
                    .foreign_key(&mut cascade(
                        (ExtensionGroupMembers::Table, ExtensionGroupMembers::GroupId),
                        (ExtensionGroups::Table, ExtensionGroups::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (
                            ExtensionGroupMembers::Table,
                            ExtensionGroupMembers::ExtensionId,
                        ),
                        (Extensions::Table, Extensions::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CrmUserExtensions::Table)
                    .col(pk_auto(CrmUserExtensions::Id))
                    .col(integer(CrmUserExtensions::IntegrationId))
                    .col(integer(CrmUserExtensions::CrmUserId))
                    .col(integer(CrmUserExtensions::ExtensionId))
                    .foreign_key(&mut cascade(
                        (CrmUserExtensions::Table, CrmUserExtensions::IntegrationId),
                        (Integrations::Table, Integrations::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (CrmUserExtensions::Table, CrmUserExtensions::CrmUserId),
                        (CrmUsers::Table, CrmUsers::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (CrmUserExtensions::Table, CrmUserExtensions::ExtensionId),
                        (Extensions::Table, Extensions::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // An extension answers for at most one CRM user per integration.
        manager
            .create_index(
                Index::create()
                    .name("crm_user_extensions_one_user_per_extension")
                    .table(CrmUserExtensions::Table)
                    .col(CrmUserExtensions::IntegrationId)
                    .col(CrmUserExtensions::ExtensionId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("crm_user_extensions_by_user")
                    .table(CrmUserExtensions::Table)
                    .col(CrmUserExtensions::CrmUserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CrmUserExtensions::Table.into_iden(),
            ExtensionGroupMembers::Table.into_iden(),
            ExtensionGroups::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
