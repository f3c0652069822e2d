//! The call feed (`call_feed`): each change to a call on an extension, in order, as agents'
//! pages are told. On PostgreSQL each row is also announced with `NOTIFY` in the
//! transaction that writes it, so every instance's listeners hear it once it commits.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};

use super::entities::call_feed_row::{self, Entity as Feed};

/// The PostgreSQL channel the feed's rows are announced on (their JSON as the payload).
pub const FEED_CHANNEL: &str = "patchbay_call_feed";

/// A row to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFeedRow {
    pub extension: String,
    pub call_id: String,
    pub at_ms: i64,
    /// The change as JSON, without its id (the row's).
    pub body: String,
}

/// A row as written: its id and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedRow {
    pub id: i64,
    pub body: String,
}

#[derive(Clone)]
pub struct CallFeedRepository {
    db: DatabaseConnection,
    /// The calls page's reads ([`crate::storage::connect_reads`]).
    reads: DatabaseConnection,
}

impl CallFeedRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        CallFeedRepository {
            reads: db.clone(),
            db,
        }
    }

    /// Reads the latest rows and the last id through `reads`.
    pub fn with_reads(self, reads: DatabaseConnection) -> Self {
        CallFeedRepository { reads, ..self }
    }

    pub fn is_postgres(&self) -> bool {
        self.db.get_database_backend() == DbBackend::Postgres
    }

    /// Writes `rows` in one transaction and answers them with their ids. On PostgreSQL
    /// each is announced on [`FEED_CHANNEL`] as it commits ([`announcement`]).
    pub async fn append(&self, rows: Vec<NewFeedRow>) -> Result<Vec<FeedRow>, DbErr> {
        let postgres = self.is_postgres();
        let txn = self.db.begin().await?;
        let mut written = Vec::with_capacity(rows.len());
        for row in rows {
            let inserted = Feed::insert(call_feed_row::ActiveModel {
                extension: Set(row.extension),
                call_id: Set(row.call_id),
                at_ms: Set(row.at_ms),
                body: Set(row.body.clone()),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
            let written_row = FeedRow {
                id: i64::from(inserted.last_insert_id),
                body: row.body,
            };
            if postgres {
                txn.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [FEED_CHANNEL.into(), announcement(&written_row).into()],
                ))
                .await?;
            }
            written.push(written_row);
        }
        txn.commit().await?;
        Ok(written)
    }

    /// The rows of `extensions` after `after_id`, oldest first, at most `limit`.
    pub async fn after(
        &self,
        extensions: &[String],
        after_id: i64,
        limit: u64,
    ) -> Result<Vec<FeedRow>, DbErr> {
        Ok(Feed::find()
            .filter(call_feed_row::Column::Extension.is_in(extensions.iter().cloned()))
            .filter(call_feed_row::Column::Id.gt(after_id))
            .order_by_asc(call_feed_row::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(row)
            .collect())
    }

    /// The last `limit` rows of `extensions`, oldest first.
    pub async fn latest(&self, extensions: &[String], limit: u64) -> Result<Vec<FeedRow>, DbErr> {
        let mut rows: Vec<FeedRow> = Feed::find()
            .filter(call_feed_row::Column::Extension.is_in(extensions.iter().cloned()))
            .order_by_desc(call_feed_row::Column::Id)
            .limit(limit)
            .all(&self.reads)
            .await?
            .into_iter()
            .map(row)
            .collect();
        rows.reverse();
        Ok(rows)
    }

    /// Every row of one call on one extension, oldest first (a call has few).
    pub async fn of_call(&self, extension: &str, call_id: &str) -> Result<Vec<FeedRow>, DbErr> {
        Ok(Feed::find()
            .filter(call_feed_row::Column::Extension.eq(extension))
            .filter(call_feed_row::Column::CallId.eq(call_id))
            .order_by_asc(call_feed_row::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(row)
            .collect())
    }

    /// The newest row's id (0 when there is none).
    pub async fn last_id(&self) -> Result<i64, DbErr> {
        Ok(Feed::find()
            .order_by_desc(call_feed_row::Column::Id)
            .one(&self.reads)
            .await?
            .map_or(0, |row| i64::from(row.id)))
    }

    /// Deletes the rows written before `before_ms`.
    pub async fn prune(&self, before_ms: i64) -> Result<u64, DbErr> {
        Ok(Feed::delete_many()
            .filter(call_feed_row::Column::AtMs.lt(before_ms))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}

/// What [`FEED_CHANNEL`] carries for `row`: `<id>:<body>`.
pub fn announcement(row: &FeedRow) -> String {
    format!("{}:{}", row.id, row.body)
}

/// A row from its announcement.
pub fn announced(payload: &str) -> Option<FeedRow> {
    let (id, body) = payload.split_once(':')?;
    Some(FeedRow {
        id: id.parse().ok()?,
        body: body.to_owned(),
    })
}

fn row(model: call_feed_row::Model) -> FeedRow {
    FeedRow {
        id: i64::from(model.id),
        body: model.body,
    }
}
