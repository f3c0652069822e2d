use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Scenarios (docs/scenarios.md):
/// - `integrations.features`: the Features section's choices as JSON
///   (`app::integrations::Features`);
/// - `activity`: the recent requests per integration for the Activity page, kept bounded by
///   the activity retention (README "Activity").
#[derive(DeriveIden)]
enum Integrations {
    Table,
    Id,
    Features,
}

#[derive(DeriveIden)]
enum Activity {
    Table,
    Id,
    IntegrationId,
    At,
    Scenario,
    Origin,
    Outcome,
    Status,
    DurationMs,
    Requests,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Integrations::Table)
                    .add_column(text(Integrations::Features).default("{}"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Activity::Table)
                    .col(big_pk_auto(Activity::Id))
                    .col(integer(Activity::IntegrationId))
                    .col(big_integer(Activity::At))
                    .col(string(Activity::Scenario))
                    .col(string(Activity::Origin))
                    .col(string(Activity::Outcome))
                    .col(integer_null(Activity::Status))
                    .col(big_integer(Activity::DurationMs))
                    .col(integer(Activity::Requests))
                    .col(text_null(Activity::Error))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Activity::Table, Activity::IntegrationId)
                            .to(Integrations::Table, Integrations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("activity_by_integration")
                    .table(Activity::Table)
                    .col(Activity::IntegrationId)
                    .col(Activity::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Activity::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Integrations::Table)
                    .drop_column(Integrations::Features)
                    .to_owned(),
            )
            .await
    }
}
