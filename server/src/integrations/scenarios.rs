//! TemplateInUse a connected integration's scenarios (docs/scenarios.md): the test console, the
//! Features section, global variables at start-up and after a token refresh, and the
//! Activity record every run leaves.

use std::collections::BTreeMap;

use crate::engine::console::{run_console, ConsoleRun};
use app::console::{ConsoleInput, RunReport, CONSOLE_SCENARIOS};
use app::integrations::{
    ContactFeatures, Features, RolloutFeatures, TicketWhen, MAX_CACHE_MINUTES, MAX_PILOT_ENTRIES,
};
use app::template::model::Provider;

use super::activity::{origin, run_started};
use super::service::{IntegrationError, IntegrationsService, ReadyIntegration};
use crate::engine::core::numbers::MAX_NUMBER_CHARS;
use crate::engine::core::scenarios::{follow_ups, TOKEN_REFRESH_TRIGGER};
use crate::engine::core::trace::Tracer;
use crate::engine::core::Variables;
use crate::engine::runner::RunStats;

/// The longest sample value the console accepts.
pub const MAX_CONSOLE_VALUE_CHARS: usize = 1_000;

/// The console's input checked: a scenario it runs, every value bounded.
pub(super) fn check_console_input(input: &ConsoleInput) -> Result<(), IntegrationError> {
    if !CONSOLE_SCENARIOS.contains(&input.scenario.as_str()) {
        return Err(IntegrationError::invalid(
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
            return Err(IntegrationError::invalid(
                field,
                format!("at most {MAX_CONSOLE_VALUE_CHARS} characters"),
            ));
        }
    }
    Ok(())
}

impl IntegrationsService {
    /// Stores the Features section. Contact types and the type to create must be the
    /// template's; texts are bounded like field values.
    pub async fn save_features(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
        features: Features,
    ) -> Result<(), IntegrationError> {
        let connected = self.ready_integration(provider, key, "Features").await?;
        let options = connected.options();
        for contact_type in &features.contacts.contact_types {
            if !options.contact_types.contains(contact_type) {
                return Err(IntegrationError::invalid(
                    "Contact types",
                    format!("the template has no contact type {contact_type:?}"),
                ));
            }
        }
        let create = &features.create_contact.contact_type;
        if !create.is_empty() && !options.creatable_types.contains(create) {
            return Err(IntegrationError::invalid(
                "Create New Contact",
                format!("the template cannot create a contact of type {create:?}"),
            ));
        }
        if features.ticket.when != TicketWhen::Off && options.ticket.is_none() {
            return Err(IntegrationError::invalid(
                "Create New Ticket",
                "the template does not create tickets",
            ));
        }
        check_contact_features(&features.contacts)?;
        self.check_rollout(&features.rollout).await?;
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
            if text.chars().count() > super::connection::MAX_FIELD_VALUE_CHARS {
                return Err(IntegrationError::invalid(
                    field,
                    format!(
                        "at most {} characters",
                        super::connection::MAX_FIELD_VALUE_CHARS
                    ),
                ));
            }
            if let Err(error) = self.renderer.render(field, text, &Variables::new()) {
                if matches!(
                    error,
                    crate::engine::core::render::RenderError::Parse { .. }
                ) {
                    return Err(IntegrationError::invalid(field, error.to_string()));
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
        check_console_input(input)?;
        let connected = self
            .ready_integration(provider, key, "Test console")
            .await?;
        let report = self
            .run_console_on(&connected, input, origin::CONSOLE)
            .await?;
        tracing::info!(%actor, provider = provider.as_str(), %key, scenario = %input.scenario, dry_run = input.dry_run, "test console run");
        Ok(report)
    }

    /// One console run of `input` on `connected` (the console, a test case): traced, its
    /// global variables stored and its Activity row (`origin`) written unless dry.
    pub(super) async fn run_console_on(
        &self,
        connected: &ReadyIntegration,
        input: &ConsoleInput,
        origin: &'static str,
    ) -> Result<RunReport, IntegrationError> {
        let view = &connected.in_use.view;
        if input.scenario != "SearchContact" && view.scenario(&input.scenario).is_none() {
            return Err(IntegrationError::invalid(
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
        let runner = self.runner(connected).traced(&tracer).counted(&stats);
        let started = run_started();
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
            self.store_globals(connected, &report_run.globals).await?;
        }
        if !input.dry_run {
            self.record_activity(
                connected,
                &input.scenario,
                origin,
                started,
                &stats,
                report.error.as_deref(),
            )
            .await;
        }
        Ok(report)
    }

    pub(super) async fn store_globals(
        &self,
        connected: &ReadyIntegration,
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
        for live in self.connected_integrations().await? {
            if only.is_some_and(|ids| !ids.contains(&live.integration.id)) {
                continue;
            }
            let has_global = live
                .in_use
                .view
                .scenario("GetGlobalInfo")
                .is_some_and(|s| !s.requests.is_empty());
            let refresh_follow_ups = why == origin::REFRESH
                && !follow_ups(&live.in_use.view, TOKEN_REFRESH_TRIGGER).is_empty();
            if !has_global && !refresh_follow_ups {
                continue;
            }
            let connected = self.ready(live).await?;
            let stats = RunStats::default();
            let runner = self.runner(&connected).counted(&stats);
            let started = run_started();
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
}

/// The longest last-digits count: E.164 numbers have at most 15 digits.
pub const MAX_LAST_DIGITS: u8 = 15;

/// The contact settings' limits (docs/scenarios.md "Contacts, the cache and number formats").
impl IntegrationsService {
    /// A pilot names extensions of the directory and existing groups, bounded.
    async fn check_rollout(&self, rollout: &RolloutFeatures) -> Result<(), IntegrationError> {
        if rollout.extensions.len() + rollout.groups.len() > MAX_PILOT_ENTRIES {
            return Err(IntegrationError::invalid(
                "Pilot",
                format!("at most {MAX_PILOT_ENTRIES} extensions and groups"),
            ));
        }
        for number in &rollout.extensions {
            if self.extensions.find(number).await?.is_none() {
                return Err(IntegrationError::invalid(
                    "Pilot extensions",
                    format!("{number:?} is not an extension of the directory"),
                ));
            }
        }
        for name in &rollout.groups {
            if self.extension_groups.find_by_name(name).await?.is_none() {
                return Err(IntegrationError::invalid(
                    "Pilot groups",
                    format!("there is no extension group {name:?}"),
                ));
            }
        }
        Ok(())
    }
}

fn check_contact_features(contacts: &ContactFeatures) -> Result<(), IntegrationError> {
    if contacts.cache_minutes > MAX_CACHE_MINUTES {
        return Err(IntegrationError::invalid(
            "Cache age",
            format!("at most {MAX_CACHE_MINUTES} minutes (a week)"),
        ));
    }
    if !(1..=MAX_LAST_DIGITS).contains(&contacts.last_digits) {
        return Err(IntegrationError::invalid(
            "Last digits",
            format!("between 1 and {MAX_LAST_DIGITS}"),
        ));
    }
    let country = contacts.default_country.trim();
    if !country.is_empty()
        && country
            .to_ascii_uppercase()
            .parse::<phonenumber::country::Id>()
            .is_err()
    {
        return Err(IntegrationError::invalid(
            "Default country",
            format!("{country:?} is not an ISO 3166 country code such as US or DE"),
        ));
    }
    let mut seen = Vec::new();
    for format in &contacts.number_formats {
        if seen.contains(format) {
            return Err(IntegrationError::invalid(
                "Number formats",
                format!("{} is listed twice", format.as_str()),
            ));
        }
        seen.push(*format);
    }
    let number = contacts.test_number.trim();
    if number.chars().count() > MAX_NUMBER_CHARS
        || (!number.is_empty() && !number.chars().any(|c| c.is_ascii_digit()))
    {
        return Err(IntegrationError::invalid(
            "Test number",
            format!("a phone number of at most {MAX_NUMBER_CHARS} characters"),
        ));
    }
    Ok(())
}
