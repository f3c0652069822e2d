//! Running a connected integration's scenarios (docs/scenarios.md): the test console, the
//! Features section, global variables at start-up and after a token refresh, and the
//! Activity record every run leaves.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::engine::console::{run_console, ConsoleRun};
use app::activity::{ActivityFilter, ActivityPage, ActivityRow, Outcome};
use app::console::{ConsoleInput, RunReport, CONSOLE_SCENARIOS};
use app::integrations::{FeatureOptions, Features, Status, TicketWhen};
use app::template::model::Provider;

use super::service::{running_of, IntegrationError, IntegrationsService, Live, Running};
use crate::engine::core::redact::redact;
use crate::engine::core::scenarios::{feature_options, follow_ups, TOKEN_REFRESH_TRIGGER};
use crate::engine::core::trace::Tracer;
use crate::engine::core::Variables;
use crate::engine::runner::{RunStats, Runner};
use crate::engine::tokens::Credentials;
use crate::storage::activity::{ActivityQuery, NewActivity, ACTIVITY_PAGE_ROWS};
use crate::storage::integrations::StoredIntegration;
use crate::storage::templates::StoredTemplate;

/// The longest sample value the console accepts.
pub const MAX_CONSOLE_VALUE_CHARS: usize = 1_000;

/// What started a run, as the Activity page shows it.
pub mod origin {
    pub const CONSOLE: &str = "console";
    pub const LOOKUP: &str = "lookup";
    pub const STARTUP: &str = "startup";
    pub const REFRESH: &str = "refresh";
    pub const SYNC: &str = "sync";
    /// Work from a call event, run by the queue.
    pub const CALL: &str = "call";
}

/// A connected integration ready to run: its credentials, its variables (fields and
/// global variables), the secret values to mask.
pub(super) struct Connected {
    pub(super) provider: Provider,
    pub(super) key: String,
    pub(super) running: Running,
    pub(super) integration: StoredIntegration,
    pub(super) credentials: Credentials,
    pub(super) variables: Variables,
    pub(super) secrets: Vec<String>,
    pub(super) user_fields: Vec<String>,
}

impl Connected {
    pub(super) fn name(&self) -> &str {
        &self.running.template.record.name
    }

    pub(super) fn options(&self) -> FeatureOptions {
        feature_options(&self.running.view)
    }

    pub(super) fn mask(&self, text: &str) -> String {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        redact(text, &secrets)
    }
}

fn invalid(field: &str, message: impl Into<String>) -> IntegrationError {
    IntegrationError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

pub(super) use crate::storage::unix_now_ms as now_ms;

impl IntegrationsService {
    /// `live` with its secrets opened and its variables assembled.
    pub(super) async fn prepare(&self, live: Live) -> Result<Connected, IntegrationError> {
        let Live {
            provider,
            key,
            running,
            integration,
        } = live;
        let stored = self.decrypted_secrets(&running).await?;
        let credentials = self.credentials(&running, &integration, &stored, provider, &key);
        let mut variables = credentials.variables.clone();
        for (name, value) in &integration.global_variables {
            variables
                .entry(name.clone())
                .or_insert_with(|| value.clone());
        }
        Ok(Connected {
            provider,
            key,
            user_fields: running.auth.user_fields(),
            secrets: stored.into_values().collect(),
            running,
            integration,
            credentials,
            variables,
        })
    }

    /// A runner for `connected`'s requests through this process's token keeper.
    pub(super) fn runner<'a>(&'a self, connected: &'a Connected) -> Runner<'a> {
        Runner::new(
            &self.tokens,
            &self.renderer,
            &connected.credentials,
            &connected.running.view,
            &connected.user_fields,
        )
    }

    /// The stored integration of `provider`/`key` when it is connected, with its template;
    /// nothing parsed or opened (for what needs only its rows).
    pub(super) async fn connected_rows(
        &self,
        provider: Provider,
        key: &str,
        what: &str,
    ) -> Result<(StoredTemplate, StoredIntegration), IntegrationError> {
        let template = self
            .templates
            .get(provider, key)
            .await?
            .ok_or_else(|| IntegrationError::NotFound { key: key.into() })?;
        let integration = self
            .integrations
            .find_by_template(template.id)
            .await?
            .filter(|i| i.status != Status::NotConnected)
            .ok_or_else(|| invalid(what, "the integration is not connected yet"))?;
        Ok((template, integration))
    }

    /// The integration of `provider`/`key` when it is connected, ready to run.
    pub(super) async fn connected(
        &self,
        provider: Provider,
        key: &str,
        what: &str,
    ) -> Result<Connected, IntegrationError> {
        let (template, integration) = self.connected_rows(provider, key, what).await?;
        let running = running_of(template, Some(integration.clone()))?;
        self.prepare(Live {
            provider,
            key: key.to_owned(),
            running,
            integration,
        })
        .await
    }

    /// Records a run on the Activity page; a failure to record is logged, never the run's.
    pub(super) async fn record_activity(
        &self,
        connected: &Connected,
        scenario: &str,
        origin: &'static str,
        started: (i64, Instant),
        stats: &RunStats,
        error: Option<&str>,
    ) {
        let outcome = match (error, stats.requests()) {
            (Some(_), _) => Outcome::Failed,
            (None, 0) => Outcome::Skipped,
            (None, _) => Outcome::Success,
        };
        let entry = NewActivity {
            integration_id: connected.integration.id,
            at_ms: started.0,
            scenario: scenario.to_owned(),
            origin,
            outcome: outcome.as_str(),
            status: stats.last_status(),
            duration_ms: u64::try_from(started.1.elapsed().as_millis()).unwrap_or(u64::MAX),
            requests: stats.requests(),
            error: error.map(|e| connected.mask(e)),
        };
        if let Err(error) = self.activity.record(entry).await {
            tracing::warn!(%error, "cannot record activity");
        }
    }

    /// Stores the Features section. Contact types and the type to create must be the
    /// template's; texts are bounded like field values.
    pub async fn save_features(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
        features: Features,
    ) -> Result<(), IntegrationError> {
        let connected = self.connected(provider, key, "Features").await?;
        let options = connected.options();
        for contact_type in &features.contacts.contact_types {
            if !options.contact_types.contains(contact_type) {
                return Err(invalid(
                    "Contact types",
                    format!("the template has no contact type {contact_type:?}"),
                ));
            }
        }
        let create = &features.create_contact.contact_type;
        if !create.is_empty() && !options.creatable_types.contains(create) {
            return Err(invalid(
                "Create New Contact",
                format!("the template cannot create a contact of type {create:?}"),
            ));
        }
        if features.ticket.when != TicketWhen::Off && options.ticket.is_none() {
            return Err(invalid(
                "Create New Ticket",
                "the template does not create tickets",
            ));
        }
        let texts = [
            ("Phonebook", Some(&features.contacts.phonebook)),
            ("Call Journal subject", features.journal.subject.as_ref()),
            (
                "Call Journal description",
                features.journal.description.as_ref(),
            ),
            ("Ticket subject", features.ticket.subject.as_ref()),
            ("Ticket description", features.ticket.description.as_ref()),
        ];
        for (field, text) in texts {
            let Some(text) = text else { continue };
            if text.chars().count() > super::service::MAX_FIELD_VALUE_CHARS {
                return Err(invalid(
                    field,
                    format!(
                        "at most {} characters",
                        super::service::MAX_FIELD_VALUE_CHARS
                    ),
                ));
            }
            if let Err(error) = self.renderer.render(field, text, &Variables::new()) {
                if matches!(
                    error,
                    crate::engine::core::render::RenderError::Parse { .. }
                ) {
                    return Err(invalid(field, error.to_string()));
                }
            }
        }
        self.integrations
            .set_features(connected.integration.id, &features)
            .await?;
        tracing::info!(%actor, provider = provider.as_str(), %key, "features saved");
        Ok(())
    }

    /// The test console: `input.scenario` with sample values, every step traced with the
    /// integration's secrets masked. A dry run renders and sends nothing.
    pub async fn console(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
        input: &ConsoleInput,
    ) -> Result<RunReport, IntegrationError> {
        if !CONSOLE_SCENARIOS.contains(&input.scenario.as_str()) {
            return Err(invalid(
                "Scenario",
                format!(
                    "{:?} is not one of {}",
                    input.scenario,
                    CONSOLE_SCENARIOS.join(", ")
                ),
            ));
        }
        for (field, value) in [
            ("Phone", &input.phone),
            ("First name", &input.first_name),
            ("Last name", &input.last_name),
            ("Caller name", &input.call.caller_name),
            ("Caller number", &input.call.caller_number),
            ("Callee name", &input.call.callee_name),
            ("Callee number", &input.call.callee_number),
            ("Recording URL", &input.call.recording_url),
            ("Extension", &input.call.extension.number),
            ("Extension first name", &input.call.extension.first_name),
            ("Extension last name", &input.call.extension.last_name),
            ("Extension e-mail", &input.call.extension.email),
            ("CRM user", &input.call.extension.crm_user_id),
        ] {
            if value.chars().count() > MAX_CONSOLE_VALUE_CHARS {
                return Err(invalid(
                    field,
                    format!("at most {MAX_CONSOLE_VALUE_CHARS} characters"),
                ));
            }
        }
        let connected = self.connected(provider, key, "Test console").await?;
        let view = &connected.running.view;
        if input.scenario != "SearchContact" && view.scenario(&input.scenario).is_none() {
            return Err(invalid(
                "Scenario",
                format!("the template has no {} scenario", input.scenario),
            ));
        }
        // The sample call's extension is the directory's, with its CRM user here (the
        // user association variables), unless the console named the user itself.
        let mut input = std::borrow::Cow::Borrowed(input);
        let number = input.call.extension.number.trim().to_owned();
        if !number.is_empty() && input.call.extension.crm_user_id.is_empty() {
            if let Some(user) = self
                .extension_user(connected.integration.id, &number)
                .await?
            {
                input.to_mut().call.extension = user;
            }
        }
        let input = input.as_ref();
        let tracer = Tracer::new(connected.secrets.clone());
        let stats = RunStats::default();
        let runner = self.runner(&connected).traced(&tracer).counted(&stats);
        let started = (now_ms(), Instant::now());
        let report_run = run_console(
            &runner,
            &tracer,
            &ConsoleRun {
                input,
                variables: &connected.variables,
                overrides: &Variables::new(),
                features: &connected.integration.features,
            },
        )
        .await;
        let report = report_run.report;
        if !input.dry_run && report.error.is_none() {
            self.store_globals(&connected, &report_run.globals).await?;
        }
        if !input.dry_run {
            self.record_activity(
                &connected,
                &input.scenario,
                origin::CONSOLE,
                started,
                &stats,
                report.error.as_deref(),
            )
            .await;
        }
        tracing::info!(%actor, provider = provider.as_str(), %key, scenario = %input.scenario, dry_run = input.dry_run, "test console run");
        Ok(report)
    }

    pub(super) async fn store_globals(
        &self,
        connected: &Connected,
        outputs: &BTreeMap<String, String>,
    ) -> Result<(), IntegrationError> {
        if outputs.is_empty() {
            return Ok(());
        }
        let mut globals = connected.integration.global_variables.clone();
        globals.extend(outputs.clone());
        self.integrations
            .set_global_variables(connected.integration.id, &globals)
            .await?;
        Ok(())
    }

    /// GetGlobalInfo (and its follow-ups) for every connected integration that has it,
    /// at start-up; `TokenRefresh` follow-ups too after a refresh. The outputs are stored as
    /// global variables; a failure is recorded and logged, the others go on.
    pub async fn refresh_global_info(
        &self,
        only: Option<&[i32]>,
        why: &'static str,
    ) -> Result<usize, IntegrationError> {
        let mut ran = 0;
        for live in self.live().await? {
            if only.is_some_and(|ids| !ids.contains(&live.integration.id)) {
                continue;
            }
            let has_global = live
                .running
                .view
                .scenario("GetGlobalInfo")
                .is_some_and(|s| !s.requests.is_empty());
            let refresh_follow_ups = why == origin::REFRESH
                && !follow_ups(&live.running.view, TOKEN_REFRESH_TRIGGER).is_empty();
            if !has_global && !refresh_follow_ups {
                continue;
            }
            let connected = self.prepare(live).await?;
            let stats = RunStats::default();
            let runner = self.runner(&connected).counted(&stats);
            let started = (now_ms(), Instant::now());
            let mut outputs = BTreeMap::new();
            let mut result = Ok(());
            if has_global {
                match runner.global_info(&connected.variables).await {
                    Ok(outcome) => outputs.extend(outcome.globals),
                    Err(error) => result = Err(error),
                }
            }
            if result.is_ok() && refresh_follow_ups {
                let mut variables = connected.variables.clone();
                variables.extend(outputs.clone());
                match runner.follow_up(TOKEN_REFRESH_TRIGGER, &variables).await {
                    Ok(outcome) => outputs.extend(outcome.globals),
                    Err(error) => result = Err(error),
                }
            }
            let error = result.err().map(|e| connected.mask(&e.to_string()));
            if let Some(error) = &error {
                tracing::warn!(provider = connected.provider.as_str(), key = %connected.key, %error, "global variables not refreshed");
            } else {
                self.store_globals(&connected, &outputs).await?;
            }
            self.record_activity(
                &connected,
                "GetGlobalInfo",
                why,
                started,
                &stats,
                error.as_deref(),
            )
            .await;
            ran += 1;
        }
        Ok(ran)
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
                        invalid(
                            "Integration",
                            format!("no integration {:?}", filter.integration),
                        )
                    })?,
            )
        };
        if !filter.outcome.is_empty() && Outcome::parse(&filter.outcome).is_none() {
            return Err(invalid(
                "Outcome",
                format!("{:?} is not success, failed or skipped", filter.outcome),
            ));
        }
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let mut rows = self
            .activity
            .list(&ActivityQuery {
                integration_id,
                scenario: non_empty(&filter.scenario),
                outcome: non_empty(&filter.outcome),
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
