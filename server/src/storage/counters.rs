//! Counters per integration and hour (`integration_counters`, README "Health"): each run
//! adds to its outcome's counter and its latency bucket's in one statement, so the table
//! grows by hours and names, not by runs. Pruned with the Activity record's age.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Set,
};

use super::entities::integration_counter::{self as counter, Entity as Counters};

/// The counter names.
pub mod name {
    pub const SUCCESS: &str = "success";
    /// `failed:<fault>`.
    pub const FAILED_PREFIX: &str = "failed:";
    /// `crm_ms:<bucket bound>`.
    pub const LATENCY_PREFIX: &str = "crm_ms:";
}

pub const MS_PER_HOUR: i64 = 3_600_000;

#[derive(Clone)]
pub struct CounterRepository {
    db: DatabaseConnection,
}

impl CounterRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Adds one to each named counter of the integration's hour at `at_ms`.
    pub async fn add(
        &self,
        integration_id: i32,
        at_ms: i64,
        names: &[String],
    ) -> Result<(), DbErr> {
        Self::add_on(&self.db, integration_id, at_ms, names).await
    }

    /// [`Self::add`] on a connection or in a transaction (Activity's record writes its row,
    /// counters and drift figures in one).
    pub async fn add_on(
        db: &impl ConnectionTrait,
        integration_id: i32,
        at_ms: i64,
        names: &[String],
    ) -> Result<(), DbErr> {
        if names.is_empty() {
            return Ok(());
        }
        let hour = at_ms.div_euclid(MS_PER_HOUR);
        Counters::insert_many(names.iter().map(|name| counter::ActiveModel {
            integration_id: Set(integration_id),
            hour: Set(hour),
            name: Set(name.clone()),
            count: Set(1),
        }))
        .on_conflict(
            OnConflict::columns([
                counter::Column::IntegrationId,
                counter::Column::Hour,
                counter::Column::Name,
            ])
            .value(
                counter::Column::Count,
                Expr::col((counter::Entity, counter::Column::Count)).add(1),
            )
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        Ok(())
    }

    /// The integration's counters summed from `since_ms`'s hour on.
    pub async fn since(
        &self,
        integration_id: i32,
        since_ms: i64,
    ) -> Result<Vec<(String, i64)>, DbErr> {
        Counters::find()
            .select_only()
            .column(counter::Column::Name)
            // PostgreSQL sums a BIGINT as NUMERIC.
            .column_as(
                Expr::col(counter::Column::Count)
                    .sum()
                    .cast_as(Alias::new("BIGINT")),
                "count",
            )
            .filter(counter::Column::IntegrationId.eq(integration_id))
            .filter(counter::Column::Hour.gte(since_ms.div_euclid(MS_PER_HOUR)))
            .group_by(counter::Column::Name)
            .into_tuple::<(String, i64)>()
            .all(&self.db)
            .await
    }

    /// Drops the integration's hours before `before_ms`.
    pub async fn prune(&self, integration_id: i32, before_ms: i64) -> Result<u64, DbErr> {
        Ok(Counters::delete_many()
            .filter(counter::Column::IntegrationId.eq(integration_id))
            .filter(counter::Column::Hour.lt(before_ms.div_euclid(MS_PER_HOUR)))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}
