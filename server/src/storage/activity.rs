//! The Activity page's record (`activity`): one row per scenario run, bounded per
//! integration by a row count and an age (README "Activity": `PATCHBAY_ACTIVITY_KEEP`,
//! `PATCHBAY_ACTIVITY_DAYS`), pruned as rows are written so the table never grows past it.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::activity::{self, Entity as Activity};

/// Rows kept per integration unless configured.
pub const DEFAULT_KEEP_ROWS: u64 = 1_000;
/// Days a row is kept unless configured.
pub const DEFAULT_KEEP_DAYS: u64 = 30;
/// Rows one page of the Activity page shows.
pub const ACTIVITY_PAGE_ROWS: u64 = 100;
/// The longest error kept with a row.
pub const MAX_ACTIVITY_ERROR_CHARS: usize = 2_000;

/// How much activity is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    pub rows: u64,
    pub days: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            rows: DEFAULT_KEEP_ROWS,
            days: DEFAULT_KEEP_DAYS,
        }
    }
}

/// A run to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewActivity {
    pub integration_id: i32,
    pub at_ms: i64,
    pub scenario: String,
    pub origin: &'static str,
    pub outcome: &'static str,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub requests: u32,
    pub error: Option<String>,
    pub detail: Option<String>,
}

/// Which rows to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActivityQuery {
    pub integration_id: Option<i32>,
    pub scenario: Option<String>,
    pub outcome: Option<String>,
    pub before: Option<i64>,
    pub limit: u64,
}

#[derive(Clone)]
pub struct ActivityRepository {
    db: DatabaseConnection,
    retention: Retention,
}

impl ActivityRepository {
    pub fn new(db: DatabaseConnection, retention: Retention) -> Self {
        ActivityRepository { db, retention }
    }

    pub fn retention(&self) -> Retention {
        self.retention
    }

    /// Writes `entry`, then drops what the retention no longer keeps of its integration.
    pub async fn record(&self, entry: NewActivity) -> Result<(), DbErr> {
        let integration_id = entry.integration_id;
        let at_ms = entry.at_ms;
        activity::ActiveModel {
            integration_id: Set(integration_id),
            at: Set(at_ms),
            scenario: Set(entry.scenario),
            origin: Set(entry.origin.to_owned()),
            outcome: Set(entry.outcome.to_owned()),
            status: Set(entry.status.map(i32::from)),
            duration_ms: Set(i64::try_from(entry.duration_ms).unwrap_or(i64::MAX)),
            requests: Set(i32::try_from(entry.requests).unwrap_or(i32::MAX)),
            error: Set(entry
                .error
                .map(|e| e.chars().take(MAX_ACTIVITY_ERROR_CHARS).collect())),
            detail: Set(entry
                .detail
                .map(|d| d.chars().take(MAX_ACTIVITY_ERROR_CHARS).collect())),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        self.prune(integration_id, at_ms).await
    }

    async fn prune(&self, integration_id: i32, now_ms: i64) -> Result<(), DbErr> {
        let oldest_kept_ms =
            now_ms.saturating_sub(i64::try_from(self.retention.days).unwrap_or(0) * 86_400_000);
        Activity::delete_many()
            .filter(activity::Column::IntegrationId.eq(integration_id))
            .filter(activity::Column::At.lt(oldest_kept_ms))
            .exec(&self.db)
            .await?;
        let first_dropped = Activity::find()
            .select_only()
            .column(activity::Column::Id)
            .filter(activity::Column::IntegrationId.eq(integration_id))
            .order_by_desc(activity::Column::Id)
            .offset(self.retention.rows)
            .limit(1)
            .into_tuple::<i64>()
            .one(&self.db)
            .await?;
        if let Some(id) = first_dropped {
            Activity::delete_many()
                .filter(activity::Column::IntegrationId.eq(integration_id))
                .filter(activity::Column::Id.lte(id))
                .exec(&self.db)
                .await?;
        }
        Ok(())
    }

    /// Rows newest first.
    pub async fn list(&self, query: &ActivityQuery) -> Result<Vec<activity::Model>, DbErr> {
        let mut select = Activity::find().order_by_desc(activity::Column::Id);
        if let Some(id) = query.integration_id {
            select = select.filter(activity::Column::IntegrationId.eq(id));
        }
        if let Some(scenario) = &query.scenario {
            select = select.filter(activity::Column::Scenario.eq(scenario.clone()));
        }
        if let Some(outcome) = &query.outcome {
            select = select.filter(activity::Column::Outcome.eq(outcome.clone()));
        }
        if let Some(before) = query.before {
            select = select.filter(activity::Column::Id.lt(before));
        }
        select.limit(query.limit).all(&self.db).await
    }
}
