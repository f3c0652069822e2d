use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Call events and the durable work queue (README "Call events", ARCHITECTURE.md "The
/// queue"): every event accepted once (its key unique), the jobs it causes per integration
/// (one per call, integration and step, so a replay adds nothing), and what a call's
/// earlier jobs read for its later ones.
#[derive(DeriveIden)]
enum CallEvents {
    Table,
    Id,
    EventKey,
    CallId,
    Kind,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum QueueJobs {
    Table,
    Id,
    IntegrationId,
    CallId,
    Step,
    Seq,
    Call,
    State,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    Retaken,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum QueueCalls {
    Table,
    Id,
    IntegrationId,
    CallId,
    Carried,
    UpdatedAt,
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
                    .table(CallEvents::Table)
                    .col(pk_auto(CallEvents::Id))
                    .col(string_uniq(CallEvents::EventKey))
                    .col(string(CallEvents::CallId))
                    .col(string(CallEvents::Kind))
                    .col(big_integer(CallEvents::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(QueueJobs::Table)
                    .col(pk_auto(QueueJobs::Id))
                    .col(integer(QueueJobs::IntegrationId))
                    .col(string(QueueJobs::CallId))
                    .col(string(QueueJobs::Step))
                    .col(integer(QueueJobs::Seq))
                    .col(text(QueueJobs::Call))
                    .col(string(QueueJobs::State))
                    .col(integer(QueueJobs::Attempts))
                    .col(big_integer(QueueJobs::NextAttemptAt))
                    .col(big_integer(QueueJobs::LeaseUntil))
                    .col(boolean(QueueJobs::Retaken))
                    .col(text(QueueJobs::LastError))
                    .col(big_integer(QueueJobs::CreatedAt))
                    .col(big_integer(QueueJobs::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(QueueJobs::Table, QueueJobs::IntegrationId)
                            .to(Integrations::Table, Integrations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("queue_jobs_one_per_call_step")
                    .table(QueueJobs::Table)
                    .col(QueueJobs::IntegrationId)
                    .col(QueueJobs::CallId)
                    .col(QueueJobs::Step)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("queue_jobs_due")
                    .table(QueueJobs::Table)
                    .col(QueueJobs::State)
                    .col(QueueJobs::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(QueueCalls::Table)
                    .col(pk_auto(QueueCalls::Id))
                    .col(integer(QueueCalls::IntegrationId))
                    .col(string(QueueCalls::CallId))
                    .col(text(QueueCalls::Carried))
                    .col(big_integer(QueueCalls::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(QueueCalls::Table, QueueCalls::IntegrationId)
                            .to(Integrations::Table, Integrations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("queue_calls_one_per_call")
                    .table(QueueCalls::Table)
                    .col(QueueCalls::IntegrationId)
                    .col(QueueCalls::CallId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            QueueCalls::Table.into_iden(),
            QueueJobs::Table.into_iden(),
            CallEvents::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
