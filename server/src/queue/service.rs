//! The call queue's service (README "Call events", ARCHITECTURE.md "The queue"): an event
//! is read, planned into jobs per integration and step, and written with them in one
//! transaction before it is acknowledged; the worker claims due jobs and runs each through
//! the integrations, retrying network errors, 429 and 5xx with backoff until
//! [`QueueSettings::max_attempts`], then leaving the job Failed and visible.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::agents::{CallUpdate, WorkState, WorkUpdate};
use app::calls::Call;
use sea_orm::DbErr;
use tokio::sync::{Notify, Semaphore};

use super::events::{parse_generic, parse_yeastar, CallEvent, EventError, Parsed};
use super::plan::{backoff_ms, calls_of, event_key, Step};
use crate::integrations::service::{IntegrationError, IntegrationsService};
use crate::storage::queue::{state as job_state, Job, NewJob, QueueRepository, Recorded};
use crate::storage::unix_now_ms as now_ms;
use app::activity::{QueueJob, QueuePage, QUEUE_PAGE_ROWS};

/// How the queue retries and leases (`PATCHBAY_QUEUE_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSettings {
    /// Attempts a step gets before it is Failed (`PATCHBAY_QUEUE_MAX_ATTEMPTS`, 12).
    pub max_attempts: u64,
    /// The first retry's delay; each later one doubles (`PATCHBAY_QUEUE_RETRY_BASE_MS`, 2 s).
    pub retry_base_ms: u64,
    /// The longest delay between attempts (`PATCHBAY_QUEUE_RETRY_MAX_SECS`, 10 min).
    pub retry_max_ms: u64,
    /// How long a claimed job is its server's; after that another takes it over
    /// (`PATCHBAY_QUEUE_LEASE_SECS`, 2 min: longer than a request with its retries).
    pub lease_ms: u64,
    /// Jobs run at once by one server (each integration's MaxConcurrentRequest still
    /// bounds its requests).
    pub workers: usize,
    /// How often the worker looks for due jobs when nothing wakes it.
    pub poll: Duration,
    /// Done and discarded jobs and accepted events are kept this many days
    /// (`PATCHBAY_QUEUE_KEEP_DAYS`, 30); a replay older than that is taken as new. Failed
    /// and waiting jobs are kept however old.
    pub keep_days: u64,
}

/// Event types an ignored event is logged for once each; later new types are not logged.
pub const MAX_IGNORED_TYPES_LOGGED: usize = 100;
/// The longest ignored event type kept, logged and answered.
pub const MAX_IGNORED_TYPE_CHARS: usize = 64;

/// How often the worker prunes what the retention lets go.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(3_600);

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            max_attempts: 12,
            retry_base_ms: 2_000,
            retry_max_ms: 600_000,
            lease_ms: 120_000,
            workers: 64,
            poll: Duration::from_millis(500),
            keep_days: 30,
        }
    }
}

/// The phone system an event comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Yeastar,
    Generic,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Yeastar => "yeastar",
            Source::Generic => "generic",
        }
    }
}

/// What accepting an event did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Accepted {
    /// The event was accepted before: nothing new was queued.
    pub replay: bool,
    /// Jobs queued.
    pub jobs: usize,
    /// An event type Patchbay does not act on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("queue storage failed: {0}")]
    Storage(#[from] DbErr),
    #[error(transparent)]
    Integration(#[from] IntegrationError),
}

#[derive(Clone)]
pub struct QueueService {
    pub queue: QueueRepository,
    pub integrations: IntegrationsService,
    pub settings: QueueSettings,
    /// Wakes the worker when work arrives or a slot frees.
    pub wake: Arc<Notify>,
    /// The phone system's zone, for a record's `yyyy-MM-dd HH:mm:ss` start.
    pub zone: jiff::tz::TimeZone,
    /// Event types already logged as ignored.
    pub ignored_types: Arc<Mutex<HashSet<String>>>,
    /// This process's per-integration gates for queued steps (MaxConcurrentRequest each).
    pub lanes: Arc<crate::engine::executor::LaneGates>,
    /// Signs the links a CDR's recording becomes (`RecordPath`).
    pub recordings: crate::crypto::links::RecordingLinks,
    /// What agents' pages are told about each call.
    pub feed: crate::agents::feed::CallFeed,
    /// Set when the server stops: the worker claims no more, and a job still running
    /// `shutdown_grace` later gives its claim back.
    pub stopping: crate::shutdown::Stopping,
    pub shutdown_grace: Duration,
}

impl QueueService {
    /// Reads, plans and records one event; answers only once it is stored.
    pub async fn accept(&self, source: Source, body: &[u8]) -> Result<Accepted, IntakeError> {
        let accepted = self.intake(source, body).await;
        let outcome = match &accepted {
            Ok(Accepted {
                ignored: Some(_), ..
            }) => "ignored",
            Ok(Accepted { replay: true, .. }) => "replay",
            Ok(_) => "queued",
            Err(_) => "refused",
        };
        crate::metrics::metrics().event(source.as_str(), outcome);
        accepted
    }

    async fn intake(&self, source: Source, body: &[u8]) -> Result<Accepted, IntakeError> {
        let parsed = match source {
            Source::Yeastar => parse_yeastar(body)?,
            Source::Generic => parse_generic(body)?,
        };
        let event = match parsed {
            Parsed::Event(event) => event,
            Parsed::Ignored { event_type } => {
                // The type is whatever the sender wrote: remembered and logged bounded.
                let event_type: String = event_type.chars().take(MAX_IGNORED_TYPE_CHARS).collect();
                let first = {
                    let mut seen = self.ignored_types.lock().unwrap_or_else(|e| e.into_inner());
                    seen.len() < MAX_IGNORED_TYPES_LOGGED && seen.insert(event_type.clone())
                };
                if first {
                    tracing::info!(
                        source = source.as_str(),
                        ?event_type,
                        "call events of this type are ignored"
                    );
                }
                return Ok(Accepted {
                    replay: false,
                    jobs: 0,
                    ignored: Some(event_type),
                });
            }
        };
        let (call_id, kind) = match &event {
            CallEvent::Status { call_id, .. } => (call_id.clone(), "status"),
            CallEvent::Ended(record) => (record.call_id.clone(), "end"),
        };
        let mut jobs = Vec::new();
        let now = crate::storage::unix_now();
        let mut calls = calls_of(&event, now, |start| start_unix(start, &self.zone));
        for at in &mut calls {
            // A CDR names its recording by the PBX's file name: the CRM gets a link it can open.
            at.call.recording_url = self.recordings.record_path(&at.call.recording_url, now);
        }
        let targets = self.integrations.call_targets(&calls).await?;
        for target in &targets {
            let call = serde_json::to_string(&target.call).unwrap_or_default();
            for step in &target.steps {
                jobs.push(NewJob {
                    integration_id: target.integration_id,
                    call_id: target.call_id.clone(),
                    step: step.as_str(),
                    seq: step.seq(),
                    call: call.clone(),
                });
            }
        }
        let key = event_key(source.as_str(), &event);
        let recorded = self
            .queue
            .record(&key, &call_id, kind, &jobs, now_ms())
            .await?;
        self.wake.notify_one();
        if matches!(recorded, Recorded::New { .. }) {
            self.feed
                .publish_or_log(super::popups::of_event(&event, &calls, &targets, now_ms()))
                .await;
        }
        Ok(match recorded {
            Recorded::New { jobs } => Accepted {
                replay: false,
                jobs,
                ignored: None,
            },
            Recorded::Replay => Accepted {
                replay: true,
                jobs: 0,
                ignored: None,
            },
        })
    }

    /// Runs one claimed job to its next state, then writes its Activity row. The claim is
    /// renewed while the job waits and runs, and checked again before the step sends
    /// anything, so a job is sent by one server only.
    async fn run(&self, mut job: Job) {
        let claim = Claim::hold(self, &job);
        let call = serde_json::from_str::<Call>(&job.call);
        let (outcome, record) = tokio::select! {
            ran = self.run_step(&job, &call, &claim) => ran,
            _ = self.stopping.grace_over(self.shutdown_grace) => {
                self.give_back(job, claim).await;
                return;
            }
        };
        let work_state = match &outcome {
            Ok(_) => WorkState::Done,
            Err(error) if self.retries(&job, error) => WorkState::Queued,
            Err(_) => WorkState::Failed,
        };
        // The outcome is written against the lease as renewed; a claim lost on the way
        // (this server stalled past its lease) leaves the job to the server that took it.
        let settled = match claim.release().await {
            None => Ok(false),
            Some(held_until) => {
                job.lease_until = held_until;
                self.settle(&job, outcome).await
            }
        };
        match &settled {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    job = job.id,
                    "a job's lease passed before its outcome was written; another server took it over"
                )
            }
            Err(error) => tracing::warn!(%error, job = job.id, "cannot record a job's outcome"),
        }
        let extension = call.ok().map(|call| call.extension.number);
        let told = tell_agents(&job, extension, work_state, &settled, &record);
        // The worker wakes itself once this job no longer counts against its lane.
        if let Some(mut record) = record {
            // The outcome is written: the step's place in the lane is free.
            drop(record.lane.take());
            self.integrations.record_call_step(record).await;
        }
        self.feed.publish_or_log(told).await;
    }

    /// The job's step, run through the integrations against the call's carried values.
    async fn run_step(
        &self,
        job: &Job,
        call: &Result<Call, serde_json::Error>,
        claim: &Claim,
    ) -> (
        Result<
            std::collections::BTreeMap<String, String>,
            crate::integrations::calls::CallStepError,
        >,
        Option<crate::integrations::calls::CallStepRecord>,
    ) {
        match (Step::parse(&job.step), call) {
            (Some(step), Ok(call)) => {
                match self.queue.carried(job.integration_id, &job.call_id).await {
                    Ok(carried) => {
                        self.integrations
                            .run_call_step(
                                job.integration_id,
                                step,
                                call,
                                &carried,
                                crate::integrations::calls::StepClaim {
                                    retaken: job.retaken,
                                    lanes: &self.lanes,
                                    still_ours: claim.confirm(),
                                },
                            )
                            .await
                    }
                    Err(error) => (
                        Err(crate::integrations::calls::CallStepError {
                            message: format!("cannot read what the call carries: {error}"),
                            transient: true,
                            retry_after_secs: None,
                            fault: app::activity::Fault::Internal,
                        }),
                        None,
                    ),
                }
            }
            _ => (
                Err(crate::integrations::calls::CallStepError {
                    message: format!("the job's step {:?} or call cannot be read", job.step),
                    transient: false,
                    retry_after_secs: None,
                    fault: app::activity::Fault::Internal,
                }),
                None,
            ),
        }
    }

    /// A job the stop interrupted: its claim goes back to the queue at once (not when its
    /// lease passes), so another server, or this one started again, takes it up.
    async fn give_back(&self, mut job: Job, claim: Claim) {
        let Some(held_until) = claim.release().await else {
            return;
        };
        job.lease_until = held_until;
        match self.queue.give_back(&job, now_ms()).await {
            Ok(true) => {
                tracing::info!(job = job.id, step = %job.step, call = %job.call_id, "stopping: gave a running job back to the queue")
            }
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(%error, job = job.id, "stopping: cannot give a running job back; another server takes it when its lease passes")
            }
        }
    }
}

/// What agents' pages learn from a job settled by this server: its new state, and for a
/// lookup the contacts it found. Nothing for a job whose call (its `extension`) is unreadable.
fn tell_agents(
    job: &Job,
    extension: Option<String>,
    state: WorkState,
    settled: &Result<bool, DbErr>,
    record: &Option<crate::integrations::calls::CallStepRecord>,
) -> Vec<CallUpdate> {
    let (Ok(true), Some(extension)) = (settled, extension) else {
        return Vec::new();
    };
    vec![CallUpdate {
        call_id: job.call_id.clone(),
        extension,
        at_ms: now_ms(),
        work: Some(WorkUpdate {
            integration_id: job.integration_id,
            integration: record
                .as_ref()
                .map(|r| r.integration().to_owned())
                .unwrap_or_default(),
            step: super::popups::work_name(&job.step).to_owned(),
            state,
        }),
        contacts: record.as_ref().and_then(|r| r.popup.clone()),
        ..CallUpdate::default()
    }]
}

impl QueueService {
    /// Whether a step that failed with `error` is tried again: a transient failure, with
    /// attempts left.
    fn retries(&self, job: &Job, error: &crate::integrations::calls::CallStepError) -> bool {
        error.transient && (job.attempts as u64) < self.settings.max_attempts
    }

    /// Moves a job this server holds to its next state after `outcome`: done, pending
    /// again after a backoff, or failed. False when the job is no longer this claim's.
    async fn settle(
        &self,
        job: &Job,
        outcome: Result<
            std::collections::BTreeMap<String, String>,
            crate::integrations::calls::CallStepError,
        >,
    ) -> Result<bool, DbErr> {
        let now = now_ms();
        match outcome {
            Ok(carry) => self.queue.complete(job, &carry, now).await,
            Err(error) if self.retries(job, &error) => {
                let delay = backoff_ms(
                    job.attempts,
                    self.settings.retry_base_ms,
                    self.settings.retry_max_ms,
                    error.retry_after_secs,
                    rand::random::<f64>(),
                );
                self.queue
                    .retry_at(job, now + delay as i64, (&error.message, error.fault), now)
                    .await
            }
            Err(error) => {
                tracing::warn!(job = job.id, step = %job.step, call = %job.call_id, error = %error.message, "a queued step failed for good");
                self.queue
                    .fail(job, (&error.message, error.fault), now)
                    .await
            }
        }
    }
}

impl QueueService {
    /// How many jobs are in each state (every server's: the queue is the database's).
    pub async fn counts<C: FromIterator<(String, u64)>>(&self) -> Result<C, IntakeError> {
        Ok(self
            .queue
            .counts()
            .await?
            .into_iter()
            .map(|(state, count)| (state.to_owned(), count))
            .collect())
    }

    /// Activity › Queue: jobs in `state` (empty: pending, running and failed), newest
    /// first, with the integrations' names; and the count in each state.
    pub async fn page(&self, state: &str, offset: u64) -> Result<QueuePage, IntakeError> {
        let states: Vec<&str> = if state.is_empty() {
            vec![job_state::PENDING, job_state::RUNNING, job_state::FAILED]
        } else {
            match job_state::ALL.into_iter().find(|s| *s == state) {
                Some(known) => vec![known],
                None => vec![],
            }
        };
        let (jobs, total) = self.queue.list(&states, offset, QUEUE_PAGE_ROWS).await?;
        let names = self.integrations.names().await?;
        Ok(QueuePage {
            counts: self.counts().await?,
            jobs: jobs
                .into_iter()
                .map(|job| {
                    let call = serde_json::from_str::<Call>(&job.call)
                        .map(|c| {
                            format!(
                                "{} {} → {} (extension {})",
                                c.direction.label(),
                                c.caller_number,
                                c.callee_number,
                                c.extension.number
                            )
                        })
                        .unwrap_or_default();
                    QueueJob {
                        integration: names
                            .get(&job.integration_id)
                            .cloned()
                            .unwrap_or_else(|| format!("#{}", job.integration_id)),
                        id: job.id,
                        call_id: job.call_id,
                        step: job.step,
                        state: job.state,
                        attempts: job.attempts,
                        next_attempt_at: job.next_attempt_at,
                        updated_at: job.updated_at,
                        last_error: job.last_error,
                        fault: job.fault.as_deref().and_then(app::activity::Fault::parse),
                        retaken: job.retaken,
                        call,
                    }
                })
                .collect(),
            total,
            offset,
        })
    }

    /// A failed job due again now; false when `id` is not a failed job.
    pub async fn retry_failed(&self, actor: &str, id: i32) -> Result<bool, IntakeError> {
        let retried = self.queue.retry_failed(id, now_ms()).await?;
        if retried {
            tracing::info!(%actor, job = id, "a failed queue job is tried again");
            self.wake.notify_one();
        }
        Ok(retried)
    }

    /// Deletes done and discarded jobs, accepted events and carried values older than the
    /// retention (`keep_days` before `now_ms`); failed and waiting jobs stay.
    pub async fn prune(&self, now_ms: i64) -> Result<crate::storage::queue::Pruned, IntakeError> {
        let before = now_ms - (self.settings.keep_days as i64) * 86_400_000;
        let pruned = self.queue.prune(before).await?;
        let feed = self.feed.prune(before).await?;
        if feed > 0 {
            tracing::info!(rows = feed, "pruned the call feed");
        }
        if pruned != Default::default() {
            tracing::info!(?pruned, "pruned the call queue's history");
        }
        Ok(pruned)
    }

    /// A failed job set aside for good; false when `id` is not a failed job.
    pub async fn discard_failed(&self, actor: &str, id: i32) -> Result<bool, IntakeError> {
        let discarded = self.queue.discard_failed(id, now_ms()).await?;
        if discarded {
            tracing::info!(%actor, job = id, "a failed queue job is discarded");
        }
        Ok(discarded)
    }
}

/// A job's claim, renewed every third of the lease while the job waits for its lane and
/// runs, so a live server never loses a job to another however slow the CRM is. `None`
/// once the claim is lost (the server stalled past its lease and another took the job).
struct Claim {
    held_until: Arc<tokio::sync::Mutex<Option<i64>>>,
    stop: Arc<Notify>,
    renewals: tokio::task::JoinHandle<()>,
    queue: QueueRepository,
    job_id: i32,
    lease_ms: i64,
}

impl Claim {
    fn hold(service: &QueueService, job: &Job) -> Claim {
        let held_until = Arc::new(tokio::sync::Mutex::new(Some(job.lease_until)));
        let stop = Arc::new(Notify::new());
        let lease_ms = service.settings.lease_ms as i64;
        let renewals = tokio::spawn({
            let (held_until, stop, queue, job_id) = (
                held_until.clone(),
                stop.clone(),
                service.queue.clone(),
                job.id,
            );
            async move {
                let every = Duration::from_millis((lease_ms / 3).max(1) as u64);
                loop {
                    tokio::select! {
                        _ = stop.notified() => return,
                        _ = tokio::time::sleep(every) => {}
                    }
                    if !renew(&queue, job_id, &held_until, lease_ms).await {
                        return;
                    }
                }
            }
        });
        Claim {
            held_until,
            stop,
            renewals,
            queue: service.queue.clone(),
            job_id: job.id,
            lease_ms,
        }
    }

    /// Whether the job is still this server's, renewing the claim on the way: asked right
    /// before a step sends its first request.
    async fn confirm(&self) -> bool {
        renew(&self.queue, self.job_id, &self.held_until, self.lease_ms).await
    }

    /// Stops the renewals (one under way finishes first) and answers the lease as held
    /// now, which the outcome is written against.
    async fn release(self) -> Option<i64> {
        self.stop.notify_one();
        let _ = self.renewals.await;
        *self.held_until.lock().await
    }
}

/// Extends the claim from the lease held to a new one; false once it is lost. A database
/// error keeps the claim as it was: the next renewal tries again.
async fn renew(
    queue: &QueueRepository,
    job_id: i32,
    held_until: &tokio::sync::Mutex<Option<i64>>,
    lease_ms: i64,
) -> bool {
    let mut held = held_until.lock().await;
    let Some(current) = *held else {
        return false;
    };
    let until = now_ms() + lease_ms;
    match queue.renew(job_id, current, until).await {
        Ok(true) => {
            *held = Some(until);
            true
        }
        Ok(false) => {
            *held = None;
            false
        }
        Err(error) => {
            tracing::warn!(%error, job = job_id, "cannot renew a job's lease");
            true
        }
    }
}

/// A record's start as unix seconds: digits are unix seconds; `yyyy-MM-dd HH:mm:ss` is
/// in the phone system's zone.
pub fn start_unix(text: &str, zone: &jiff::tz::TimeZone) -> Option<i64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(seconds);
    }
    jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", text)
        .ok()?
        .to_zoned(zone.clone())
        .ok()
        .map(|zoned| zoned.timestamp().as_second())
}

/// Works the queue until the server stops: claims as many due jobs as it has free slots,
/// runs them concurrently, and sleeps until work arrives, a job finishes or the poll
/// interval passes. Once the server is told to stop it claims no more; the returned task
/// ends when the jobs it runs have finished or given their claims back (within the grace).
pub fn spawn_worker(service: QueueService) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let running = tokio_util::task::TaskTracker::new();
        let slots = Arc::new(Semaphore::new(service.settings.workers));
        // Jobs of each integration this server holds, from their claim until their outcome
        // is written: with the lanes' places, what it may claim more.
        let in_hand: Arc<Mutex<HashMap<i32, usize>>> = Arc::default();
        let mut pruned_at: Option<std::time::Instant> = None;
        while !service.stopping.is_stopping() {
            if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_INTERVAL) {
                pruned_at = Some(std::time::Instant::now());
                if let Err(error) = service.prune(now_ms()).await {
                    tracing::warn!(%error, "cannot prune the call queue's history");
                }
            }
            let free = slots.available_permits();
            let claimed = if free == 0 {
                Vec::new()
            } else {
                let held = in_hand.lock().unwrap_or_else(|e| e.into_inner()).clone();
                // An integration whose lane is not made yet gets one job: its first step
                // makes the lane, which wakes this loop to claim up to its places.
                let room = |integration_id: i32| {
                    service
                        .lanes
                        .places(integration_id)
                        .unwrap_or(1)
                        .saturating_sub(held.get(&integration_id).copied().unwrap_or(0))
                };
                match service
                    .queue
                    .claim(
                        now_ms(),
                        service.settings.lease_ms as i64,
                        free as u64,
                        room,
                    )
                    .await
                {
                    Ok(jobs) => jobs,
                    Err(error) => {
                        tracing::warn!(%error, "cannot claim queued jobs");
                        Vec::new()
                    }
                }
            };
            let took = !claimed.is_empty();
            for job in claimed {
                // Never more jobs than free slots were claimed: this does not wait.
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let service = service.clone();
                let integration_id = job.integration_id;
                *in_hand
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(integration_id)
                    .or_default() += 1;
                let in_hand = in_hand.clone();
                running.spawn(async move {
                    service.run(job).await;
                    if let Some(held) = in_hand
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_mut(&integration_id)
                    {
                        *held = held.saturating_sub(1);
                    }
                    drop(permit);
                    service.wake.notify_one();
                });
            }
            if !took {
                tokio::select! {
                    _ = service.wake.notified() => {}
                    _ = tokio::time::sleep(service.settings.poll) => {}
                    _ = service.stopping.requested() => {}
                }
            }
        }
        running.close();
        running.wait().await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_is_unix_seconds_or_a_time_in_the_phone_systems_zone() {
        let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        assert_eq!(start_unix("1700000000", &berlin), Some(1_700_000_000));
        assert_eq!(
            start_unix("2022-04-27 19:04:36", &jiff::tz::TimeZone::UTC),
            Some(1_651_086_276)
        );
        assert_eq!(
            start_unix("2022-04-27 19:04:36", &berlin),
            Some(1_651_086_276 - 7_200)
        );
        assert_eq!(start_unix("yesterday", &berlin), None);
    }
}
