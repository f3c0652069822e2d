//! The durable queue (`call_events`, `queue_jobs`, `queue_calls`; ARCHITECTURE.md "The
//! queue"). An event and the jobs it causes are written in one transaction, and a replayed
//! event (same key) writes nothing. Jobs are claimed with a lease: on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, so several servers share the queue and none takes a job
//! another holds; a job whose lease passed (its server died) is taken again and marked.

use app::activity::Fault;
use std::collections::{BTreeMap, BTreeSet};

use sea_orm::sea_query::{Expr, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use super::entities::call_event::{self, Entity as CallEvents};
use super::entities::queue_call::{self, Entity as QueueCalls};
use super::entities::queue_job::{self, Entity as Jobs};

pub use super::entities::queue_job::Model as Job;

/// A job's states.
pub mod state {
    pub const PENDING: &str = "pending";
    pub const RUNNING: &str = "running";
    pub const DONE: &str = "done";
    pub const FAILED: &str = "failed";
    pub const DISCARDED: &str = "discarded";
    pub const ALL: [&str; 5] = [PENDING, RUNNING, DONE, FAILED, DISCARDED];
}

/// A job to write with its event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJob {
    pub integration_id: i32,
    pub call_id: String,
    pub step: &'static str,
    pub seq: i32,
    /// `app::calls::Call` as JSON.
    pub call: String,
}

/// What a prune deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub events: u64,
    pub jobs: u64,
    pub calls: u64,
}

/// What recording an event did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// New: this many jobs were added (a step the call already has is not added twice).
    New { jobs: usize },
    /// The same event was accepted before: nothing was written.
    Replay,
}

#[derive(Clone)]
pub struct QueueRepository {
    db: DatabaseConnection,
}

impl QueueRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        QueueRepository { db }
    }

    /// Records the event `event_key` and its jobs, all or nothing.
    pub async fn record(
        &self,
        event_key: &str,
        call_id: &str,
        kind: &str,
        jobs: &[NewJob],
        now_ms: i64,
    ) -> Result<Recorded, DbErr> {
        let transaction = self.db.begin().await?;
        let inserted = CallEvents::insert(call_event::ActiveModel {
            event_key: Set(event_key.to_owned()),
            call_id: Set(call_id.to_owned()),
            kind: Set(kind.to_owned()),
            received_at: Set(now_ms),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(call_event::Column::EventKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&transaction)
        .await?;
        if inserted == 0 {
            transaction.rollback().await?;
            return Ok(Recorded::Replay);
        }
        let mut added = 0;
        for job in jobs {
            added += Jobs::insert(queue_job::ActiveModel {
                integration_id: Set(job.integration_id),
                call_id: Set(job.call_id.clone()),
                step: Set(job.step.to_owned()),
                seq: Set(job.seq),
                call: Set(job.call.clone()),
                state: Set(state::PENDING.to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(now_ms),
                lease_until: Set(0),
                retaken: Set(false),
                last_error: Set(String::new()),
                created_at: Set(now_ms),
                updated_at: Set(now_ms),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([
                    queue_job::Column::IntegrationId,
                    queue_job::Column::CallId,
                    queue_job::Column::Step,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&transaction)
            .await? as usize;
        }
        transaction.commit().await?;
        Ok(Recorded::New { jobs: added })
    }

    /// Takes up to `limit` jobs that are due, each only when the earlier steps of its call
    /// (same integration) are finished and its integration has `room` for one more here
    /// (a job is claimed only when it can start now), leasing them until
    /// `now_ms + lease_ms`. A running job whose lease passed is taken again, marked
    /// `retaken`.
    pub async fn claim(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u64,
        room: impl Fn(i32) -> usize,
    ) -> Result<Vec<Job>, DbErr> {
        let transaction = self.db.begin().await?;
        let due = Condition::any()
            .add(
                Condition::all()
                    .add(queue_job::Column::State.eq(state::PENDING))
                    .add(queue_job::Column::NextAttemptAt.lte(now_ms)),
            )
            .add(
                Condition::all()
                    .add(queue_job::Column::State.eq(state::RUNNING))
                    .add(queue_job::Column::LeaseUntil.lt(now_ms)),
            );
        // More candidates than wanted: some wait for an earlier step of their call.
        let candidates = Jobs::find()
            .filter(due)
            .order_by_asc(queue_job::Column::Id)
            .limit(limit * 4)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(&transaction)
            .await?;
        if candidates.is_empty() {
            transaction.commit().await?;
            return Ok(Vec::new());
        }
        let calls: BTreeSet<String> = candidates.iter().map(|j| j.call_id.clone()).collect();
        let unfinished = Jobs::find()
            .filter(queue_job::Column::CallId.is_in(calls))
            .filter(queue_job::Column::State.is_in([state::PENDING, state::RUNNING]))
            .all(&transaction)
            .await?;
        let mut taken = Vec::new();
        let mut per_integration: BTreeMap<i32, usize> = BTreeMap::new();
        for job in candidates {
            let waits = unfinished.iter().any(|other| {
                other.integration_id == job.integration_id
                    && other.call_id == job.call_id
                    && other.seq < job.seq
                    && other.id != job.id
            });
            let claimed_here = per_integration.entry(job.integration_id).or_default();
            if waits || taken.len() as u64 == limit || *claimed_here >= room(job.integration_id) {
                continue;
            }
            *claimed_here += 1;
            let retaken = job.state == state::RUNNING;
            let mut active: queue_job::ActiveModel = job.into();
            active.state = Set(state::RUNNING.to_owned());
            active.lease_until = Set(now_ms + lease_ms);
            active.attempts = Set(active.attempts.as_ref() + 1);
            if retaken {
                active.retaken = Set(true);
            }
            active.updated_at = Set(now_ms);
            taken.push(active.update(&transaction).await?);
        }
        transaction.commit().await?;
        Ok(taken)
    }

    /// Extends a claim this server holds (its lease is `held_until`) to `until`; false when
    /// the job is no longer this claim's (its lease passed and another server took it).
    /// Renewing is also how a server checks a claim is still its own before sending.
    pub async fn renew(&self, id: i32, held_until: i64, until: i64) -> Result<bool, DbErr> {
        let result = Jobs::update_many()
            .col_expr(queue_job::Column::LeaseUntil, Expr::value(until))
            .filter(queue_job::Column::Id.eq(id))
            .filter(queue_job::Column::State.eq(state::RUNNING))
            .filter(queue_job::Column::LeaseUntil.eq(held_until))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Marks the job done and adds `carry` to what its call carries, in one transaction.
    pub async fn complete(
        &self,
        job: &Job,
        carry: &BTreeMap<String, String>,
        now_ms: i64,
    ) -> Result<bool, DbErr> {
        let transaction = self.db.begin().await?;
        let settled = settle(
            &transaction,
            job,
            state::DONE,
            job.next_attempt_at,
            None,
            now_ms,
        )
        .await?;
        if settled && !carry.is_empty() {
            carry_into(
                &transaction,
                job.integration_id,
                &job.call_id,
                carry,
                now_ms,
            )
            .await?;
        }
        transaction.commit().await?;
        Ok(settled)
    }

    /// Back to pending, due at `at`, with why it failed this time and in which layer.
    pub async fn retry_at(
        &self,
        job: &Job,
        at: i64,
        failure: (&str, Fault),
        now_ms: i64,
    ) -> Result<bool, DbErr> {
        settle(&self.db, job, state::PENDING, at, Some(failure), now_ms).await
    }

    pub async fn fail(
        &self,
        job: &Job,
        failure: (&str, Fault),
        now_ms: i64,
    ) -> Result<bool, DbErr> {
        settle(
            &self.db,
            job,
            state::FAILED,
            job.next_attempt_at,
            Some(failure),
            now_ms,
        )
        .await
    }

    /// Gives a job this server holds back to the queue, due now: the server is stopping and
    /// the job did not finish within the grace. The attempt is not counted (the stop cut it
    /// short, not the CRM), and the job is marked `retaken`, since its request may have
    /// reached the CRM. False when the job is no longer this claim's.
    pub async fn give_back(&self, job: &Job, now_ms: i64) -> Result<bool, DbErr> {
        let result = Jobs::update_many()
            .col_expr(queue_job::Column::State, Expr::value(state::PENDING))
            .col_expr(queue_job::Column::NextAttemptAt, Expr::value(now_ms))
            .col_expr(queue_job::Column::LeaseUntil, Expr::value(0i64))
            .col_expr(
                queue_job::Column::Attempts,
                Expr::value((job.attempts - 1).max(0)),
            )
            .col_expr(queue_job::Column::Retaken, Expr::value(true))
            .col_expr(queue_job::Column::UpdatedAt, Expr::value(now_ms))
            .filter(queue_job::Column::Id.eq(job.id))
            .filter(queue_job::Column::State.eq(state::RUNNING))
            .filter(queue_job::Column::LeaseUntil.eq(job.lease_until))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// What the call's earlier jobs read in this integration.
    pub async fn carried(
        &self,
        integration_id: i32,
        call_id: &str,
    ) -> Result<BTreeMap<String, String>, DbErr> {
        Ok(QueueCalls::find()
            .filter(queue_call::Column::IntegrationId.eq(integration_id))
            .filter(queue_call::Column::CallId.eq(call_id))
            .one(&self.db)
            .await?
            .and_then(|row| serde_json::from_str(&row.carried).ok())
            .unwrap_or_default())
    }

    /// Deletes what finished before `before_ms`: accepted events, done and discarded jobs,
    /// and the carried values of calls with no job left open.
    pub async fn prune(&self, before_ms: i64) -> Result<Pruned, DbErr> {
        let transaction = self.db.begin().await?;
        let events = CallEvents::delete_many()
            .filter(call_event::Column::ReceivedAt.lt(before_ms))
            .exec(&transaction)
            .await?
            .rows_affected;
        let jobs = Jobs::delete_many()
            .filter(queue_job::Column::State.is_in([state::DONE, state::DISCARDED]))
            .filter(queue_job::Column::UpdatedAt.lt(before_ms))
            .exec(&transaction)
            .await?
            .rows_affected;
        let open: BTreeSet<(i32, String)> = Jobs::find()
            .filter(queue_job::Column::State.is_in([state::PENDING, state::RUNNING, state::FAILED]))
            .all(&transaction)
            .await?
            .into_iter()
            .map(|job| (job.integration_id, job.call_id))
            .collect();
        let stale: Vec<i32> = QueueCalls::find()
            .filter(queue_call::Column::UpdatedAt.lt(before_ms))
            .all(&transaction)
            .await?
            .into_iter()
            .filter(|row| !open.contains(&(row.integration_id, row.call_id.clone())))
            .map(|row| row.id)
            .collect();
        let mut calls = 0;
        for chunk in stale.chunks(500) {
            calls += QueueCalls::delete_many()
                .filter(queue_call::Column::Id.is_in(chunk.to_vec()))
                .exec(&transaction)
                .await?
                .rows_affected;
        }
        transaction.commit().await?;
        Ok(Pruned {
            events,
            jobs,
            calls,
        })
    }

    /// For each open state (pending, running), when its oldest job was queued (unix ms).
    pub async fn oldest_open(&self) -> Result<Vec<(&'static str, i64)>, DbErr> {
        let mut oldest = Vec::new();
        for name in [state::PENDING, state::RUNNING] {
            if let Some(job) = Jobs::find()
                .filter(queue_job::Column::State.eq(name))
                .order_by_asc(queue_job::Column::CreatedAt)
                .one(&self.db)
                .await?
            {
                oldest.push((name, job.created_at));
            }
        }
        Ok(oldest)
    }

    /// How many jobs are in each state.
    /// One integration's jobs waiting or running, and failed.
    pub async fn backlog(&self, integration_id: i32) -> Result<(u64, u64), DbErr> {
        let of = |states: &[&str]| {
            Jobs::find()
                .filter(queue_job::Column::IntegrationId.eq(integration_id))
                .filter(queue_job::Column::State.is_in(states.iter().copied()))
                .count(&self.db)
        };
        Ok((
            of(&[state::PENDING, state::RUNNING]).await?,
            of(&[state::FAILED]).await?,
        ))
    }

    pub async fn counts(&self) -> Result<BTreeMap<&'static str, u64>, DbErr> {
        let mut counts = BTreeMap::new();
        for name in state::ALL {
            let count = Jobs::find()
                .filter(queue_job::Column::State.eq(name))
                .count(&self.db)
                .await?;
            counts.insert(name, count);
        }
        Ok(counts)
    }

    /// A page of jobs in `states`, newest first, and how many there are.
    pub async fn list(
        &self,
        states: &[&str],
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<Job>, u64), DbErr> {
        let select = Jobs::find().filter(queue_job::Column::State.is_in(states.to_vec()));
        let total = select.clone().count(&self.db).await?;
        let rows = select
            .order_by_desc(queue_job::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }

    /// A failed job back to pending, due now, its attempts counted afresh.
    pub async fn retry_failed(&self, id: i32, now_ms: i64) -> Result<bool, DbErr> {
        let result = Jobs::update_many()
            .col_expr(queue_job::Column::State, Expr::value(state::PENDING))
            .col_expr(queue_job::Column::Attempts, Expr::value(0))
            .col_expr(queue_job::Column::NextAttemptAt, Expr::value(now_ms))
            .col_expr(queue_job::Column::UpdatedAt, Expr::value(now_ms))
            .filter(queue_job::Column::Id.eq(id))
            .filter(queue_job::Column::State.eq(state::FAILED))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// A failed job set aside for good (kept, visible as discarded).
    pub async fn discard_failed(&self, id: i32, now_ms: i64) -> Result<bool, DbErr> {
        let result = Jobs::update_many()
            .col_expr(queue_job::Column::State, Expr::value(state::DISCARDED))
            .col_expr(queue_job::Column::UpdatedAt, Expr::value(now_ms))
            .filter(queue_job::Column::Id.eq(id))
            .filter(queue_job::Column::State.eq(state::FAILED))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }
}

/// Moves a job this server holds to `new_state`: only while its lease is still this
/// claim's (`lease_until` as claimed), so a job taken over by another server is left to it.
async fn settle(
    db: &impl ConnectionTrait,
    job: &Job,
    new_state: &str,
    next_attempt_at: i64,
    failure: Option<(&str, Fault)>,
    now_ms: i64,
) -> Result<bool, DbErr> {
    let result = Jobs::update_many()
        .col_expr(queue_job::Column::State, Expr::value(new_state))
        .col_expr(
            queue_job::Column::NextAttemptAt,
            Expr::value(next_attempt_at),
        )
        .col_expr(
            queue_job::Column::LastError,
            Expr::value(failure.map_or("", |(error, _)| error)),
        )
        .col_expr(
            queue_job::Column::Fault,
            Expr::value(failure.map(|(_, fault)| fault.as_str())),
        )
        .col_expr(queue_job::Column::UpdatedAt, Expr::value(now_ms))
        .filter(queue_job::Column::Id.eq(job.id))
        .filter(queue_job::Column::State.eq(state::RUNNING))
        .filter(queue_job::Column::LeaseUntil.eq(job.lease_until))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Adds `values` to what the call carries in the integration (a later value wins).
async fn carry_into(
    db: &impl ConnectionTrait,
    integration_id: i32,
    call_id: &str,
    values: &BTreeMap<String, String>,
    now_ms: i64,
) -> Result<(), DbErr> {
    let existing = QueueCalls::find()
        .filter(queue_call::Column::IntegrationId.eq(integration_id))
        .filter(queue_call::Column::CallId.eq(call_id))
        .one(db)
        .await?;
    match existing {
        Some(row) => {
            let mut carried: BTreeMap<String, String> =
                serde_json::from_str(&row.carried).unwrap_or_default();
            carried.extend(values.clone());
            let mut active: queue_call::ActiveModel = row.into();
            active.carried = Set(serde_json::to_string(&carried).unwrap_or_default());
            active.updated_at = Set(now_ms);
            active.update(db).await?;
        }
        None => {
            queue_call::ActiveModel {
                integration_id: Set(integration_id),
                call_id: Set(call_id.to_owned()),
                carried: Set(serde_json::to_string(values).unwrap_or_default()),
                updated_at: Set(now_ms),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}
