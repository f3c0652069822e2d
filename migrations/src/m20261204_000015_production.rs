use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every saved revision of a template (README "Revisions and rollback"): who saved it, when,
/// its text. The newest `MAX_KEPT_REVISIONS` per template are kept; deleting the template
/// deletes them.
#[derive(DeriveIden)]
enum TemplateRevisions {
    Table,
    Id,
    TemplateId,
    Revision,
    Xml,
    Author,
    CreatedAt,
}

/// An integration's saved test cases (README "Test cases"): a console input and what must
/// hold, with the last run's result. Kept by the template, like the integration itself.
#[derive(DeriveIden)]
enum TestCases {
    Table,
    Id,
    TemplateId,
    Name,
    Scenario,
    Input,
    Expect,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    LastRunAt,
    LastPassed,
    LastReport,
}

#[derive(DeriveIden)]
enum Templates {
    Table,
    Id,
    Revision,
    Xml,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Integrations {
    Table,
    /// The revision the integration ran before the last Apply or rollback: what Roll back
    /// returns to.
    PreviousTemplateRevision,
    /// The e-mail of the account that owns it (connected it first, or was made its owner):
    /// its notifications go there.
    Owner,
}

/// Notifications sent (README "Notifications"): at most one per integration and
/// condition an hour; listed on the pages.
#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    /// None: the deployment's (the phone system).
    IntegrationId,
    Condition,
    Message,
    AtMs,
    /// Where it went (`email to …`, `webhook`), or why not.
    Delivery,
}

/// The layer a failure came from (`app::activity::Fault`), on Activity and queue rows.
#[derive(DeriveIden)]
enum Activity {
    Table,
    Fault,
    /// Milliseconds the run waited for the CRM's answers (the health card's latency).
    CrmMs,
    IntegrationId,
    At,
}

/// Counters per integration and hour (README "Health"): runs that succeeded, failures by
/// layer, CRM latency in buckets. One row per name and hour, however many runs.
#[derive(DeriveIden)]
enum IntegrationCounters {
    Table,
    IntegrationId,
    Hour,
    Name,
    Count,
}

/// How often each output of each request reads a value on answers that carry data
/// (README "Drift"): a path that used to read values and now reads nothing, answer after
/// answer, is a field the CRM renamed.
#[derive(DeriveIden)]
enum OutputStats {
    Table,
    IntegrationId,
    Step,
    Output,
    Reads,
    Empties,
    /// Empty answers in a row since the last value.
    Streak,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum QueueJobs {
    Table,
    Fault,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TemplateRevisions::Table)
                    .col(pk_auto(TemplateRevisions::Id))
                    .col(integer(TemplateRevisions::TemplateId))
                    .col(integer(TemplateRevisions::Revision))
                    .col(text(TemplateRevisions::Xml))
                    .col(string(TemplateRevisions::Author))
                    .col(big_integer(TemplateRevisions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TemplateRevisions::Table, TemplateRevisions::TemplateId)
                            .to(Templates::Table, Templates::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("template_revisions_by_template")
                    .table(TemplateRevisions::Table)
                    .col(TemplateRevisions::TemplateId)
                    .col(TemplateRevisions::Revision)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The revision each template has now is its first kept one; who saved it is unknown.
        let keep_current = Query::insert()
            .into_table(TemplateRevisions::Table)
            .columns([
                TemplateRevisions::TemplateId,
                TemplateRevisions::Revision,
                TemplateRevisions::Xml,
                TemplateRevisions::Author,
                TemplateRevisions::CreatedAt,
            ])
            .select_from(
                Query::select()
                    .column(Templates::Id)
                    .column(Templates::Revision)
                    .column(Templates::Xml)
                    .expr(Expr::val(""))
                    .column(Templates::UpdatedAt)
                    .from(Templates::Table)
                    .to_owned(),
            )
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(keep_current).await?;
        manager
            .create_table(
                Table::create()
                    .table(TestCases::Table)
                    .col(pk_auto(TestCases::Id))
                    .col(integer(TestCases::TemplateId))
                    .col(string(TestCases::Name))
                    .col(string(TestCases::Scenario))
                    .col(text(TestCases::Input))
                    .col(text(TestCases::Expect))
                    .col(string(TestCases::CreatedBy))
                    .col(big_integer(TestCases::CreatedAt))
                    .col(big_integer(TestCases::UpdatedAt))
                    .col(big_integer_null(TestCases::LastRunAt))
                    .col(boolean_null(TestCases::LastPassed))
                    .col(text_null(TestCases::LastReport))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TestCases::Table, TestCases::TemplateId)
                            .to(Templates::Table, Templates::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("test_cases_by_template")
                    .table(TestCases::Table)
                    .col(TestCases::TemplateId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Integrations::Table)
                    .add_column(integer_null(Integrations::PreviousTemplateRevision))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Integrations::Table)
                    .add_column(string_null(Integrations::Owner))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_auto(Notifications::Id))
                    .col(integer_null(Notifications::IntegrationId))
                    .col(string(Notifications::Condition))
                    .col(text(Notifications::Message))
                    .col(big_integer(Notifications::AtMs))
                    .col(text(Notifications::Delivery))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notifications_by_condition")
                    .table(Notifications::Table)
                    .col(Notifications::IntegrationId)
                    .col(Notifications::Condition)
                    .col(Notifications::AtMs)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Activity::Table)
                    .add_column(string_null(Activity::Fault))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Activity::Table)
                    .add_column(big_integer_null(Activity::CrmMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("activity_by_integration_time")
                    .table(Activity::Table)
                    .col(Activity::IntegrationId)
                    .col(Activity::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IntegrationCounters::Table)
                    .col(integer(IntegrationCounters::IntegrationId))
                    .col(big_integer(IntegrationCounters::Hour))
                    .col(string(IntegrationCounters::Name))
                    .col(big_integer(IntegrationCounters::Count))
                    .primary_key(
                        Index::create()
                            .col(IntegrationCounters::IntegrationId)
                            .col(IntegrationCounters::Hour)
                            .col(IntegrationCounters::Name),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OutputStats::Table)
                    .col(integer(OutputStats::IntegrationId))
                    .col(string(OutputStats::Step))
                    .col(string(OutputStats::Output))
                    .col(big_integer(OutputStats::Reads))
                    .col(big_integer(OutputStats::Empties))
                    .col(big_integer(OutputStats::Streak))
                    .col(big_integer(OutputStats::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(OutputStats::IntegrationId)
                            .col(OutputStats::Step)
                            .col(OutputStats::Output),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(QueueJobs::Table)
                    .add_column(string_null(QueueJobs::Fault))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(QueueJobs::Table)
                    .drop_column(QueueJobs::Fault)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("activity_by_integration_time")
                    .table(Activity::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Activity::Table)
                    .drop_column(Activity::Fault)
                    .drop_column(Activity::CrmMs)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Integrations::Table)
                    .drop_column(Integrations::PreviousTemplateRevision)
                    .drop_column(Integrations::Owner)
                    .to_owned(),
            )
            .await?;
        for table in [
            Notifications::Table.into_iden(),
            OutputStats::Table.into_iden(),
            IntegrationCounters::Table.into_iden(),
            TestCases::Table.into_iden(),
            TemplateRevisions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
