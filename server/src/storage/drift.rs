//! Drift (README "Drift"): per integration, request and output, how often the output read a
//! value on answers that carried data, and how many such answers in a row it read nothing.
//! One multi-row upsert per run; one row per output, however many runs.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

use super::entities::output_stat::{self as stat, Entity as Stats};

/// One output of one request on one answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    /// `Scenario/Request`.
    pub step: String,
    pub output: String,
    pub read: bool,
}

#[derive(Clone)]
pub struct DriftRepository {
    db: DatabaseConnection,
}

impl DriftRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Adds a run's observations: a value resets the output's streak, nothing lengthens it.
    pub async fn observe(
        &self,
        integration_id: i32,
        observations: &[Observation],
        now_ms: i64,
    ) -> Result<(), DbErr> {
        Self::observe_on(&self.db, integration_id, observations, now_ms).await
    }

    /// [`Self::observe`] on a connection or in a transaction.
    pub async fn observe_on(
        db: &impl ConnectionTrait,
        integration_id: i32,
        observations: &[Observation],
        now_ms: i64,
    ) -> Result<(), DbErr> {
        if observations.is_empty() {
            return Ok(());
        }
        let excluded = |column: &str| Expr::cust(format!("excluded.{column}"));
        let current = |column: stat::Column| Expr::col((stat::Entity, column));
        // One row per output in the statement (PostgreSQL refuses to update a row twice in
        // one upsert; a paginated request observes its outputs once per page).
        let mut merged: std::collections::BTreeMap<(&str, &str), (i64, i64)> = Default::default();
        for o in observations {
            let counts = merged.entry((&o.step, &o.output)).or_default();
            if o.read {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
        }
        Stats::insert_many(
            merged
                .into_iter()
                .map(|((step, output), (reads, empties))| stat::ActiveModel {
                    integration_id: Set(integration_id),
                    step: Set(step.to_owned()),
                    output: Set(output.to_owned()),
                    reads: Set(reads),
                    empties: Set(empties),
                    streak: Set(if reads > 0 { 0 } else { empties }),
                    updated_at: Set(now_ms),
                }),
        )
        .on_conflict(
            OnConflict::columns([
                stat::Column::IntegrationId,
                stat::Column::Step,
                stat::Column::Output,
            ])
            .value(
                stat::Column::Reads,
                current(stat::Column::Reads).add(excluded("reads")),
            )
            .value(
                stat::Column::Empties,
                current(stat::Column::Empties).add(excluded("empties")),
            )
            .value(
                stat::Column::Streak,
                Expr::case(Expr::cust("excluded.reads").gt(0), Expr::val(0i64))
                    .finally(current(stat::Column::Streak).add(excluded("empties"))),
            )
            .value(stat::Column::UpdatedAt, excluded("updated_at"))
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        Ok(())
    }

    /// The outputs that read nothing on at least `streak` answers in a row.
    pub async fn streaks(
        &self,
        integration_id: i32,
        streak: i64,
    ) -> Result<Vec<stat::Model>, DbErr> {
        Stats::find()
            .filter(stat::Column::IntegrationId.eq(integration_id))
            .filter(stat::Column::Streak.gte(streak))
            .order_by_asc(stat::Column::Step)
            .order_by_asc(stat::Column::Output)
            .all(&self.db)
            .await
    }

    /// Forgets an integration's figures (another revision reads differently).
    pub async fn clear(&self, integration_id: i32) -> Result<(), DbErr> {
        Stats::delete_many()
            .filter(stat::Column::IntegrationId.eq(integration_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
