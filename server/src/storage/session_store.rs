//! A tower-sessions store over sea-orm, so sessions live in the same database as
//! everything else (SQLite or PostgreSQL). The released sqlx store targets another sqlx
//! version than sea-orm 2, hence this small one.

use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

use super::entities::session::{self, Entity as Sessions};
use super::recent::RecentReads;
use super::unix_now;

/// The key under which a signed-in session keeps its account id. The store copies it into
/// a column so that every session of an account can be ended at once.
pub const USER_ID_KEY: &str = "user_id";

#[derive(Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
    /// Sessions read in the last moment, by storage key: a page and the calls it makes
    /// right after read their session once (`storage::recent`).
    recent: Arc<RecentReads<String, Option<Record>>>,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSessionStore").finish_non_exhaustive()
    }
}

fn backend_error(error: DbErr) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

/// Only a hash of the cookie value is stored: a leaked database holds no usable sessions.
fn storage_key(id: &Id) -> String {
    let digest = Sha256::digest(id.to_string().as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn to_active_model(record: &Record) -> session_store::Result<session::ActiveModel> {
    let data = serde_json::to_string(&record.data)
        .map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let user_id = record
        .data
        .get(USER_ID_KEY)
        .and_then(serde_json::Value::as_i64)
        .and_then(|id| i32::try_from(id).ok());
    Ok(session::ActiveModel {
        id: Set(storage_key(&record.id)),
        data: Set(data),
        expires_at: Set(record.expiry_date.unix_timestamp()),
        user_id: Set(user_id),
    })
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            recent: Arc::default(),
        }
    }

    /// Ends every session of an account (after it is disabled, deleted or its password reset).
    pub async fn delete_for_user(&self, user_id: i32) -> Result<u64, DbErr> {
        let result = Sessions::delete_many()
            .filter(session::Column::UserId.eq(user_id))
            .exec(&self.db)
            .await?;
        self.recent.forget_all();
        Ok(result.rows_affected)
    }

    pub async fn count_for_user(&self, user_id: i32) -> Result<usize, DbErr> {
        Ok(Sessions::find()
            .filter(session::Column::UserId.eq(user_id))
            .all(&self.db)
            .await?
            .len())
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A 128-bit random id practically never collides, but if it does, pick another
        // rather than overwrite someone else's session.
        loop {
            let exists = Sessions::find_by_id(storage_key(&record.id))
                .one(&self.db)
                .await
                .map_err(backend_error)?
                .is_some();
            if !exists {
                break;
            }
            record.id = Id::default();
        }
        Sessions::insert(to_active_model(record)?)
            .exec(&self.db)
            .await
            .map_err(backend_error)?;
        self.recent
            .remember(storage_key(&record.id), Some(record.clone()));
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        Sessions::insert(to_active_model(record)?)
            .on_conflict(
                OnConflict::column(session::Column::Id)
                    .update_columns([
                        session::Column::Data,
                        session::Column::ExpiresAt,
                        session::Column::UserId,
                    ])
                    .to_owned(),
            )
            .exec(&self.db)
            .await
            .map_err(backend_error)?;
        self.recent
            .remember(storage_key(&record.id), Some(record.clone()));
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let key = storage_key(id);
        let record = self
            .recent
            .get_or_read(key.clone(), self.load_stored(id, &key))
            .await?;
        // A session remembered a moment ago may have expired since.
        Ok(record.filter(|record| record.expiry_date.unix_timestamp() > unix_now()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let key = storage_key(id);
        Sessions::delete_by_id(key.clone())
            .exec(&self.db)
            .await
            .map_err(backend_error)?;
        self.recent.forget(&key);
        Ok(())
    }
}

impl DbSessionStore {
    async fn load_stored(&self, id: &Id, key: &str) -> session_store::Result<Option<Record>> {
        let Some(row) = Sessions::find_by_id(key.to_owned())
            .filter(session::Column::ExpiresAt.gt(unix_now()))
            .one(&self.db)
            .await
            .map_err(backend_error)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(row.expires_at)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        Sessions::delete_many()
            .filter(session::Column::ExpiresAt.lte(unix_now()))
            .exec(&self.db)
            .await
            .map_err(backend_error)?;
        Ok(())
    }
}
