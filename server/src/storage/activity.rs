//! The Activity page's record (`activity`): one row per scenario run, bounded per
//! integration by a row count and an age (README "Activity": `PATCHBAY_ACTIVITY_KEEP`,
//! `PATCHBAY_ACTIVITY_DAYS`), pruned as rows are written so the table never grows past it.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

use app::activity::{latency_bucket, Fault};

use super::counters::{name, CounterRepository};
use super::drift::{DriftRepository, Observation};
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
    /// Where a failure came from.
    pub fault: Option<Fault>,
    /// Milliseconds spent waiting for the CRM; none when nothing was sent.
    pub crm_ms: Option<u64>,
    /// What its outputs read, for drift (`storage::drift`).
    pub observations: Vec<Observation>,
}

impl NewActivity {
    /// The counters the run adds to (`storage::counters`): its outcome, its latency bucket.
    /// A success counts when the CRM answered it (not a cached contact, not an Apply).
    fn counted(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(2);
        match (self.outcome, self.fault) {
            (_, Some(fault)) => names.push(format!("{}{}", name::FAILED_PREFIX, fault.as_str())),
            ("success", None) if self.requests > 0 => names.push(name::SUCCESS.to_owned()),
            _ => {}
        }
        if let Some(ms) = self.crm_ms {
            names.push(format!("{}{}", name::LATENCY_PREFIX, latency_bucket(ms)));
        }
        names
    }
}

/// Which rows to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActivityQuery {
    pub integration_id: Option<i32>,
    pub scenario: Option<String>,
    pub outcome: Option<String>,
    pub fault: Option<Fault>,
    pub before: Option<i64>,
    pub limit: u64,
}

#[derive(Clone)]
pub struct ActivityRepository {
    db: DatabaseConnection,
    retention: Retention,
    counters: CounterRepository,
    drift: DriftRepository,
}

impl ActivityRepository {
    pub fn new(db: DatabaseConnection, retention: Retention) -> Self {
        ActivityRepository {
            counters: CounterRepository::new(db.clone()),
            drift: DriftRepository::new(db.clone()),
            db,
            retention,
        }
    }

    /// The hourly counters the runs add to.
    pub fn counters(&self) -> &CounterRepository {
        &self.counters
    }

    /// What the runs' outputs read.
    pub fn drift(&self) -> &DriftRepository {
        &self.drift
    }

    pub fn retention(&self) -> Retention {
        self.retention
    }

    /// Writes `entry` and adds it to its integration's counters, then drops what the
    /// retention no longer keeps of its integration.
    pub async fn record(&self, entry: NewActivity) -> Result<(), DbErr> {
        let integration_id = entry.integration_id;
        let at_ms = entry.at_ms;
        // The row, its counters and drift figures in one transaction: one commit.
        let transaction = self.db.begin().await?;
        CounterRepository::add_on(&transaction, integration_id, at_ms, &entry.counted()).await?;
        DriftRepository::observe_on(&transaction, integration_id, &entry.observations, at_ms)
            .await?;
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
            fault: Set(entry.fault.map(|f| f.as_str().to_owned())),
            crm_ms: Set(entry.crm_ms.map(|ms| i64::try_from(ms).unwrap_or(i64::MAX))),
            ..Default::default()
        }
        .insert(&transaction)
        .await?;
        transaction.commit().await?;
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
        self.counters.prune(integration_id, oldest_kept_ms).await?;
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
        if let Some(fault) = query.fault {
            select = select.filter(activity::Column::Fault.eq(fault.as_str()));
        }
        if let Some(before) = query.before {
            select = select.filter(activity::Column::Id.lt(before));
        }
        select.limit(query.limit).all(&self.db).await
    }

    /// Unix milliseconds of the integration's last run the CRM answered with success.
    pub async fn last_success(&self, integration_id: i32) -> Result<Option<i64>, DbErr> {
        Activity::find()
            .select_only()
            .column(activity::Column::At)
            .filter(activity::Column::IntegrationId.eq(integration_id))
            .filter(activity::Column::Outcome.eq("success"))
            .filter(activity::Column::Requests.gt(0))
            .order_by_desc(activity::Column::Id)
            .limit(1)
            .into_tuple::<i64>()
            .one(&self.db)
            .await
    }
}
