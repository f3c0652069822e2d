//! The phone system (`phone_system`, one row; `phone_system_secrets`;
//! `phone_system_event_counts`): its settings, sealed secrets, Open API tokens, the lease of
//! the one WebSocket per deployment, and what the status shows.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};

use super::entities::phone_system::{self, Entity as PhoneSystems};
use super::entities::phone_system_event_count::{self, Entity as EventCounts};
use super::entities::phone_system_secret::{self, Entity as Secrets};
use super::integrations::StoredSecret;

/// The one row's id.
const ROW: i32 = 1;

/// The settings an administrator saves (secrets apart).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsRow {
    pub base_url: String,
    pub client_id: String,
    pub delivery: String,
    pub sync_minutes: i32,
}

/// A change of the settings, written in one transaction.
#[derive(Clone, Debug)]
pub struct SettingsChange {
    pub settings: SettingsRow,
    /// Secrets written (replacing one of the same name).
    pub put: Vec<StoredSecret>,
    /// Secrets removed by name.
    pub remove: Vec<&'static str>,
    /// The Open API connection changed: its tokens go, its status starts again.
    pub reconnect: bool,
    pub previous_webhook_until: Option<i64>,
    pub actor: String,
    pub now: i64,
}

/// Tokens the Open API issued, sealed.
#[derive(Clone, Debug)]
pub struct IssuedTokens {
    pub access: StoredSecret,
    pub refresh: StoredSecret,
    pub access_expires_at: i64,
    pub refresh_expires_at: i64,
}

#[derive(Clone)]
pub struct PhoneSystemRepository {
    db: DatabaseConnection,
}

impl PhoneSystemRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        PhoneSystemRepository { db }
    }

    /// The phone system, when one was ever saved.
    pub async fn get(&self) -> Result<Option<phone_system::Model>, DbErr> {
        PhoneSystems::find_by_id(ROW).one(&self.db).await
    }

    pub async fn secret(&self, name: &str) -> Result<Option<StoredSecret>, DbErr> {
        Ok(Secrets::find_by_id(name.to_owned())
            .one(&self.db)
            .await?
            .map(stored))
    }

    pub async fn secrets(&self) -> Result<Vec<StoredSecret>, DbErr> {
        Ok(Secrets::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(stored)
            .collect())
    }

    /// Saves the settings and their secrets together; the generation goes up so the
    /// WebSocket's holder notices.
    pub async fn save(&self, change: SettingsChange, token_names: &[&str]) -> Result<(), DbErr> {
        let transaction = self.db.begin().await?;
        let existing = PhoneSystems::find_by_id(ROW).one(&transaction).await?;
        let generation = existing.as_ref().map_or(0, |m| m.generation) + 1;
        let is_new = existing.is_none();
        let mut row: phone_system::ActiveModel = match existing {
            Some(model) => model.into(),
            None => phone_system::ActiveModel {
                id: Set(ROW),
                token_expires_at: Set(None),
                refresh_expires_at: Set(None),
                status: Set(String::new()),
                status_detail: Set(String::new()),
                status_at: Set(None),
                lease_owner: Set(None),
                lease_until: Set(None),
                last_heartbeat_at: Set(None),
                last_event_at: Set(None),
                last_event_type: Set(String::new()),
                last_event_channel: Set(String::new()),
                last_sync_at: Set(None),
                last_sync_result: Set(String::new()),
                previous_webhook_until: Set(None),
                ..Default::default()
            },
        };
        let SettingsRow {
            base_url,
            client_id,
            delivery,
            sync_minutes,
        } = change.settings;
        row.base_url = Set(base_url);
        row.client_id = Set(client_id);
        row.delivery = Set(delivery);
        row.sync_minutes = Set(sync_minutes);
        row.generation = Set(generation);
        row.updated_at = Set(change.now);
        row.updated_by = Set(change.actor);
        if change.previous_webhook_until.is_some() {
            row.previous_webhook_until = Set(change.previous_webhook_until);
        }
        if change.reconnect {
            row.token_expires_at = Set(None);
            row.refresh_expires_at = Set(None);
            row.status = Set(String::new());
            row.status_detail = Set(String::new());
            row.status_at = Set(Some(change.now));
        }
        if is_new {
            row.insert(&transaction).await?;
        } else {
            row.update(&transaction).await?;
        }
        let mut remove: Vec<&str> = change.remove.clone();
        if change.reconnect {
            remove.extend_from_slice(token_names);
        }
        if !remove.is_empty() {
            Secrets::delete_many()
                .filter(phone_system_secret::Column::Name.is_in(remove))
                .exec(&transaction)
                .await?;
        }
        for secret in change.put {
            put_secret(&transaction, secret).await?;
        }
        transaction.commit().await
    }

    /// Stores tokens the Open API issued and marks the phone system connected.
    pub async fn store_tokens(&self, tokens: IssuedTokens) -> Result<(), DbErr> {
        let transaction = self.db.begin().await?;
        PhoneSystems::update_many()
            .col_expr(
                phone_system::Column::TokenExpiresAt,
                Expr::value(tokens.access_expires_at),
            )
            .col_expr(
                phone_system::Column::RefreshExpiresAt,
                Expr::value(tokens.refresh_expires_at),
            )
            .filter(phone_system::Column::Id.eq(ROW))
            .exec(&transaction)
            .await?;
        put_secret(&transaction, tokens.access).await?;
        put_secret(&transaction, tokens.refresh).await?;
        transaction.commit().await
    }

    /// Forgets the tokens (revoked, or refused).
    pub async fn clear_tokens(&self, token_names: &[&str]) -> Result<(), DbErr> {
        let transaction = self.db.begin().await?;
        Secrets::delete_many()
            .filter(phone_system_secret::Column::Name.is_in(token_names.iter().copied()))
            .exec(&transaction)
            .await?;
        PhoneSystems::update_many()
            .col_expr(
                phone_system::Column::TokenExpiresAt,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(
                phone_system::Column::RefreshExpiresAt,
                Expr::value(Option::<i64>::None),
            )
            .filter(phone_system::Column::Id.eq(ROW))
            .exec(&transaction)
            .await?;
        transaction.commit().await
    }

    pub async fn set_status(&self, status: &str, detail: &str, now: i64) -> Result<(), DbErr> {
        PhoneSystems::update_many()
            .col_expr(phone_system::Column::Status, Expr::value(status))
            .col_expr(phone_system::Column::StatusDetail, Expr::value(detail))
            .col_expr(phone_system::Column::StatusAt, Expr::value(now))
            .filter(phone_system::Column::Id.eq(ROW))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Takes the WebSocket lease when nobody holds it or its holder's ran out (an instance
    /// that died); one statement, so two instances cannot both take it.
    pub async fn try_lease(&self, owner: &str, now: i64, until: i64) -> Result<bool, DbErr> {
        let result = PhoneSystems::update_many()
            .col_expr(phone_system::Column::LeaseOwner, Expr::value(owner))
            .col_expr(phone_system::Column::LeaseUntil, Expr::value(until))
            .filter(phone_system::Column::Id.eq(ROW))
            .filter(
                phone_system::Column::LeaseUntil
                    .is_null()
                    .or(phone_system::Column::LeaseUntil.lt(now))
                    .or(phone_system::Column::LeaseOwner.eq(owner)),
            )
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Extends the lease while `owner` still holds it; false once another took it.
    pub async fn renew_lease(&self, owner: &str, until: i64) -> Result<bool, DbErr> {
        let result = PhoneSystems::update_many()
            .col_expr(phone_system::Column::LeaseUntil, Expr::value(until))
            .filter(phone_system::Column::Id.eq(ROW))
            .filter(phone_system::Column::LeaseOwner.eq(owner))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    pub async fn release_lease(&self, owner: &str) -> Result<(), DbErr> {
        PhoneSystems::update_many()
            .col_expr(
                phone_system::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                phone_system::Column::LeaseUntil,
                Expr::value(Option::<i64>::None),
            )
            .filter(phone_system::Column::Id.eq(ROW))
            .filter(phone_system::Column::LeaseOwner.eq(owner))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub async fn heartbeat(&self, now: i64) -> Result<(), DbErr> {
        PhoneSystems::update_many()
            .col_expr(phone_system::Column::LastHeartbeatAt, Expr::value(now))
            .filter(phone_system::Column::Id.eq(ROW))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// The last event received, and counts per day and type added to the stored ones.
    pub async fn add_events(
        &self,
        last: Option<(i64, &str, &str)>,
        counts: &[(String, String, i64)],
    ) -> Result<(), DbErr> {
        let transaction = self.db.begin().await?;
        if let Some((at, event_type, channel)) = last {
            PhoneSystems::update_many()
                .col_expr(phone_system::Column::LastEventAt, Expr::value(at))
                .col_expr(phone_system::Column::LastEventType, Expr::value(event_type))
                .col_expr(phone_system::Column::LastEventChannel, Expr::value(channel))
                .filter(phone_system::Column::Id.eq(ROW))
                .filter(
                    phone_system::Column::LastEventAt
                        .is_null()
                        .or(phone_system::Column::LastEventAt.lte(at)),
                )
                .exec(&transaction)
                .await?;
        }
        for (day, event_type, count) in counts {
            EventCounts::insert(phone_system_event_count::ActiveModel {
                day: Set(day.clone()),
                event_type: Set(event_type.clone()),
                count: Set(*count),
            })
            .on_conflict(
                OnConflict::columns([
                    phone_system_event_count::Column::Day,
                    phone_system_event_count::Column::EventType,
                ])
                .value(
                    phone_system_event_count::Column::Count,
                    Expr::col((EventCounts, phone_system_event_count::Column::Count)).add(*count),
                )
                .to_owned(),
            )
            .exec(&transaction)
            .await?;
        }
        transaction.commit().await
    }

    /// Events of `day` per type.
    pub async fn counts(&self, day: &str) -> Result<Vec<(String, i64)>, DbErr> {
        Ok(EventCounts::find()
            .filter(phone_system_event_count::Column::Day.eq(day))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| (row.event_type, row.count))
            .collect())
    }

    /// Forgets counts of days before `day`.
    pub async fn forget_counts_before(&self, day: &str) -> Result<(), DbErr> {
        EventCounts::delete_many()
            .filter(phone_system_event_count::Column::Day.lt(day))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub async fn sync_finished(&self, at: i64, result: &str) -> Result<(), DbErr> {
        PhoneSystems::update_many()
            .col_expr(phone_system::Column::LastSyncAt, Expr::value(at))
            .col_expr(phone_system::Column::LastSyncResult, Expr::value(result))
            .filter(phone_system::Column::Id.eq(ROW))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Replaces a secret only if it still holds `expected` (key rotation).
    pub async fn reencrypt_secret(
        &self,
        name: &str,
        expected: &str,
        replacement: &str,
        key_id: &str,
    ) -> Result<bool, DbErr> {
        let result = Secrets::update_many()
            .col_expr(
                phone_system_secret::Column::Ciphertext,
                Expr::value(replacement),
            )
            .col_expr(phone_system_secret::Column::KeyId, Expr::value(key_id))
            .filter(phone_system_secret::Column::Name.eq(name))
            .filter(phone_system_secret::Column::Ciphertext.eq(expected))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }
}

fn stored(row: phone_system_secret::Model) -> StoredSecret {
    StoredSecret {
        name: row.name,
        ciphertext: row.ciphertext,
        key_id: row.key_id,
    }
}

async fn put_secret<C: sea_orm::ConnectionTrait>(
    db: &C,
    secret: StoredSecret,
) -> Result<(), DbErr> {
    Secrets::insert(phone_system_secret::ActiveModel {
        name: Set(secret.name),
        ciphertext: Set(secret.ciphertext),
        key_id: Set(secret.key_id),
    })
    .on_conflict(
        OnConflict::column(phone_system_secret::Column::Name)
            .update_columns([
                phone_system_secret::Column::Ciphertext,
                phone_system_secret::Column::KeyId,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}
