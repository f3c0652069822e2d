//! The Activity record: every run of an integration's requests leaves a row (what started
//! it, its outcome, the last status, how many requests), read back a page at a time.

use std::collections::BTreeMap;
use std::time::Instant;

use app::activity::{ActivityFilter, ActivityPage, ActivityRow, Fault, Outcome};
use app::template::model::Provider;

use super::service::{IntegrationError, IntegrationsService, ReadyIntegration};
use crate::engine::runner::RunStats;
use crate::storage::activity::{ActivityQuery, NewActivity, ACTIVITY_PAGE_ROWS};

/// What started a run, as the Activity page shows it.
pub mod origin {
    pub const CONSOLE: &str = "console";
    pub const LOOKUP: &str = "lookup";
    pub const STARTUP: &str = "startup";
    pub const REFRESH: &str = "refresh";
    pub const SYNC: &str = "sync";
    /// Work from a call event, run by the queue.
    pub const CALL: &str = "call";
    /// The connection test of Save or of an OAuth authorization's callback.
    pub const SAVE: &str = "save";
    /// Check connection.
    pub const CHECK: &str = "check";
    /// An agent's contact, created from the call popup.
    pub const AGENT: &str = "agent";
    /// A test case run (a case that only reads runs live).
    pub const TEST: &str = "test";
    /// A revision applied or rolled back by an administrator.
    pub const REVISION: &str = "revision";
}

/// When a run starts: the wall clock for its row, the monotonic clock for its duration.
pub(super) fn run_started() -> (i64, Instant) {
    (crate::storage::unix_now_ms(), Instant::now())
}

/// One run to record. Its error is already masked: the caller knows the secrets.
pub(super) struct Run<'a> {
    pub(super) integration_id: i32,
    pub(super) scenario: &'a str,
    pub(super) origin: &'static str,
    /// When it started: the wall clock for the row, the monotonic clock for its duration.
    pub(super) started: (i64, Instant),
    pub(super) stats: &'a RunStats,
    pub(super) masked_error: Option<String>,
}

impl IntegrationsService {
    /// Records a run of `ready` on the Activity page, its error masked with its secrets.
    pub(super) async fn record_activity(
        &self,
        ready: &ReadyIntegration,
        scenario: &str,
        origin: &'static str,
        started: (i64, Instant),
        stats: &RunStats,
        error: Option<&str>,
    ) {
        // A shadowed request's body may carry a field's value.
        if let Some(note) = stats.noted() {
            stats.note(ready.mask(&note));
        }
        self.record_run(Run {
            integration_id: ready.integration.id,
            scenario,
            origin,
            started,
            stats,
            masked_error: error.map(|e| ready.mask(e)),
        })
        .await
    }

    /// Records a run; a failure to record is logged, never the run's.
    pub(super) async fn record_run(&self, run: Run<'_>) {
        let detail = run.stats.noted();
        let outcome = match (&run.masked_error, run.stats.requests()) {
            (Some(_), _) => Outcome::Failed,
            // Shadow mode held its writes back: nothing was written.
            (None, _) if run.stats.was_shadowed() => Outcome::Skipped,
            // Answered without a request: from the contact cache.
            (None, 0) if detail.is_some() => Outcome::Success,
            (None, 0) => Outcome::Skipped,
            (None, _) => Outcome::Success,
        };
        let entry = NewActivity {
            integration_id: run.integration_id,
            at_ms: run.started.0,
            scenario: run.scenario.to_owned(),
            origin: run.origin,
            outcome: outcome.as_str(),
            status: run.stats.last_status(),
            duration_ms: u64::try_from(run.started.1.elapsed().as_millis()).unwrap_or(u64::MAX),
            requests: run.stats.requests(),
            // A failure outside any step (the variables, the mapping) is the template's.
            fault: run
                .masked_error
                .as_ref()
                .map(|_| run.stats.fault().unwrap_or(Fault::Template)),
            crm_ms: (run.stats.requests() > 0).then(|| run.stats.crm_ms()),
            observations: run.stats.observations(),
            error: run.masked_error,
            detail,
        };
        if let Err(error) = self.activity.record(entry).await {
            tracing::warn!(%error, "cannot record activity");
        }
    }

    /// A page of the Activity record, newest first.
    pub async fn activity(
        &self,
        filter: &ActivityFilter,
    ) -> Result<ActivityPage, IntegrationError> {
        // Every integration by id, with its provider, key and name.
        let mut known = BTreeMap::new();
        let by_template = self.integrations.by_template().await?;
        for provider in [Provider::Crm, Provider::Helpdesk] {
            for template in self.templates.list(provider).await? {
                if let Some(integration) = by_template.get(&template.id) {
                    known.insert(
                        integration.id,
                        (provider, template.record.key, template.record.name),
                    );
                }
            }
        }
        let handle = |provider: &Provider, key: &str| format!("{}/{key}", provider.as_str());
        let integration_id = if filter.integration.is_empty() {
            None
        } else {
            Some(
                known
                    .iter()
                    .find(|(_, (provider, key, _))| handle(provider, key) == filter.integration)
                    .map(|(id, _)| *id)
                    .ok_or_else(|| {
                        IntegrationError::invalid(
                            "Integration",
                            format!("no integration {:?}", filter.integration),
                        )
                    })?,
            )
        };
        if !filter.outcome.is_empty() && Outcome::parse(&filter.outcome).is_none() {
            return Err(IntegrationError::invalid(
                "Outcome",
                format!("{:?} is not success, failed or skipped", filter.outcome),
            ));
        }
        let fault = match filter.fault.as_str() {
            "" => None,
            text => Some(Fault::parse(text).ok_or_else(|| {
                IntegrationError::invalid("Fault", format!("{text:?} is not a fault's name"))
            })?),
        };
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let mut rows = self
            .activity
            .list(&ActivityQuery {
                integration_id,
                scenario: non_empty(&filter.scenario),
                outcome: non_empty(&filter.outcome),
                fault,
                before: filter.before,
                limit: ACTIVITY_PAGE_ROWS + 1,
            })
            .await?;
        let more = rows.len() as u64 > ACTIVITY_PAGE_ROWS;
        rows.truncate(ACTIVITY_PAGE_ROWS as usize);
        let retention = self.activity.retention();
        Ok(ActivityPage {
            rows: rows
                .into_iter()
                .filter_map(|row| {
                    let (provider, key, name) = known.get(&row.integration_id)?.clone();
                    Some(ActivityRow {
                        id: row.id,
                        provider,
                        key,
                        integration: name,
                        at: row.at,
                        scenario: row.scenario,
                        origin: row.origin,
                        outcome: Outcome::parse(&row.outcome).unwrap_or(Outcome::Failed),
                        status: row.status.and_then(|s| u16::try_from(s).ok()),
                        duration_ms: u64::try_from(row.duration_ms).unwrap_or(0),
                        requests: u32::try_from(row.requests).unwrap_or(0),
                        error: row.error,
                        detail: row.detail,
                        fault: row.fault.as_deref().and_then(Fault::parse),
                    })
                })
                .collect(),
            integrations: known
                .values()
                .map(|(provider, key, name)| (handle(provider, key), name.clone()))
                .collect::<BTreeMap<_, _>>()
                .into_iter()
                .collect(),
            more,
            keep_rows: retention.rows,
            keep_days: retention.days,
        })
    }
}
