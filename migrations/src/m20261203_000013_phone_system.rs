use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The phone system Patchbay listens to (README "Phone system"): one row, its Open API
/// connection, how events arrive, and what the status shows. Secrets live in
/// `phone_system_secrets`, sealed; the WebSocket is held by one instance at a time through
/// the lease columns.
#[derive(DeriveIden)]
enum PhoneSystem {
    Table,
    Id,
    BaseUrl,
    ClientId,
    Delivery,
    SyncMinutes,
    TokenExpiresAt,
    RefreshExpiresAt,
    Status,
    StatusDetail,
    StatusAt,
    LeaseOwner,
    LeaseUntil,
    LastHeartbeatAt,
    LastEventAt,
    LastEventType,
    LastEventChannel,
    LastSyncAt,
    LastSyncResult,
    PreviousWebhookUntil,
    Generation,
    UpdatedAt,
    UpdatedBy,
}

/// The phone system's secrets (Client Secret, the webhook Secrets, the Open API tokens),
/// each sealed by `crypto::cipher` with its name and what it is bound to.
#[derive(DeriveIden)]
enum PhoneSystemSecrets {
    Table,
    Name,
    Ciphertext,
    KeyId,
}

/// Events received per day and type, for the status (counted in memory, added here).
#[derive(DeriveIden)]
enum PhoneSystemEventCounts {
    Table,
    Day,
    EventType,
    Count,
}

/// Where an extension came from: `pbx` (the extension sync) or `manual` (the page, a CSV).
#[derive(DeriveIden)]
enum Extensions {
    Table,
    Source,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PhoneSystem::Table)
                    .col(integer(PhoneSystem::Id).primary_key())
                    .col(string(PhoneSystem::BaseUrl))
                    .col(string(PhoneSystem::ClientId))
                    .col(string(PhoneSystem::Delivery))
                    .col(integer(PhoneSystem::SyncMinutes))
                    .col(big_integer_null(PhoneSystem::TokenExpiresAt))
                    .col(big_integer_null(PhoneSystem::RefreshExpiresAt))
                    .col(string(PhoneSystem::Status))
                    .col(text(PhoneSystem::StatusDetail))
                    .col(big_integer_null(PhoneSystem::StatusAt))
                    .col(string_null(PhoneSystem::LeaseOwner))
                    .col(big_integer_null(PhoneSystem::LeaseUntil))
                    .col(big_integer_null(PhoneSystem::LastHeartbeatAt))
                    .col(big_integer_null(PhoneSystem::LastEventAt))
                    .col(string(PhoneSystem::LastEventType))
                    .col(string(PhoneSystem::LastEventChannel))
                    .col(big_integer_null(PhoneSystem::LastSyncAt))
                    .col(text(PhoneSystem::LastSyncResult))
                    .col(big_integer_null(PhoneSystem::PreviousWebhookUntil))
                    .col(integer(PhoneSystem::Generation))
                    .col(big_integer(PhoneSystem::UpdatedAt))
                    .col(string(PhoneSystem::UpdatedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PhoneSystemSecrets::Table)
                    .col(string(PhoneSystemSecrets::Name).primary_key())
                    .col(text(PhoneSystemSecrets::Ciphertext))
                    .col(string(PhoneSystemSecrets::KeyId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PhoneSystemEventCounts::Table)
                    .col(string(PhoneSystemEventCounts::Day))
                    .col(string(PhoneSystemEventCounts::EventType))
                    .col(big_integer(PhoneSystemEventCounts::Count))
                    .primary_key(
                        Index::create()
                            .col(PhoneSystemEventCounts::Day)
                            .col(PhoneSystemEventCounts::EventType),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Extensions::Table)
                    .add_column(string(Extensions::Source).default("manual"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Extensions::Table)
                    .drop_column(Extensions::Source)
                    .to_owned(),
            )
            .await?;
        for table in [
            PhoneSystemEventCounts::Table.into_iden(),
            PhoneSystemSecrets::Table.into_iden(),
            PhoneSystem::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
