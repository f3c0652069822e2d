//! Call work for the queue (README "Call events"): which connected integrations a call
//! concerns and what each runs (`queue::plan` decides), and one step of it run through
//! the engine, each a row in Activity. With User Association a call counts only on an
//! extension associated with a CRM user there; without it, on every extension.

use std::collections::BTreeMap;
use std::time::Instant;

use app::calls::{Call, ExtensionUser};

use super::scenarios::{now_ms, origin, Connected};
use super::service::{IntegrationError, IntegrationsService};
use crate::engine::core::call::extension_variables;
use crate::engine::core::scenarios::{
    contact_to_create, feature_options, journal_plan, ticket_plan, WritePlan,
};
use crate::engine::runner::{RunStats, Runner, StepError};
use crate::engine::scenario::{carry, NewContact};
use crate::queue::plan::{steps, CallAt, Step};

/// One integration's part of a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallTarget {
    pub integration_id: i32,
    /// The call with its extension's user there.
    pub call: Call,
    pub steps: Vec<Step>,
}

/// Why a step did not complete.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CallStepError {
    /// Secrets masked.
    pub message: String,
    /// Trying again later may succeed: the network, 429, 5xx, a storage hiccup.
    pub transient: bool,
    pub retry_after_secs: Option<u64>,
}

impl From<IntegrationError> for CallStepError {
    fn from(error: IntegrationError) -> Self {
        let transient = matches!(
            error,
            IntegrationError::Storage(_) | IntegrationError::TemplateStore(_)
        );
        CallStepError {
            message: error.to_string(),
            transient,
            retry_after_secs: None,
        }
    }
}

impl IntegrationsService {
    /// The integrations `at` concerns, each with its steps (none left out for having no
    /// steps: the caller skips those).
    pub async fn call_targets(&self, at: &CallAt) -> Result<Vec<CallTarget>, IntegrationError> {
        let number = at.call.extension.number.as_str();
        let mut targets = Vec::new();
        for live in self.live().await? {
            let extension = match self.extension_user(live.integration.id, number).await? {
                Some(user) => user,
                None if live.running.lists_users() => continue,
                None => ExtensionUser {
                    number: number.to_owned(),
                    ..ExtensionUser::default()
                },
            };
            let call = Call {
                extension,
                ..at.call.clone()
            };
            let at = CallAt {
                call: call.clone(),
                ..at.clone()
            };
            let planned = steps(
                &feature_options(&live.running.view),
                &live.integration.features,
                &at,
            );
            if !planned.is_empty() {
                targets.push(CallTarget {
                    integration_id: live.integration.id,
                    call,
                    steps: planned,
                });
            }
        }
        Ok(targets)
    }

    /// Runs `step` of `call` in the integration; answers what the call's later steps need
    /// (contact and ticket ids). `retaken`: the step may have run before (its server
    /// stopped mid-way), which Activity says.
    pub async fn run_call_step(
        &self,
        integration_id: i32,
        step: Step,
        call: &Call,
        carried: &BTreeMap<String, String>,
        retaken: bool,
    ) -> Result<BTreeMap<String, String>, CallStepError> {
        let live = self
            .live()
            .await?
            .into_iter()
            .find(|l| l.integration.id == integration_id)
            .ok_or_else(|| CallStepError {
                message: "the integration is no longer connected".into(),
                transient: false,
                retry_after_secs: None,
            })?;
        let connected = self.prepare(live).await?;
        let stats = RunStats::default();
        let runner = self.runner(&connected).counted(&stats);
        let started = (now_ms(), Instant::now());
        let result = self.step_on(&connected, &runner, step, call, carried).await;
        let error = result
            .as_ref()
            .err()
            .map(|e| connected.mask(&e.to_string()));
        let shown = match (&error, retaken) {
            (Some(error), true) => Some(format!(
                "{error} (taken over after a server stopped: its requests may have been sent twice)"
            )),
            (None, true) => Some(
                "taken over after a server stopped: its requests may have been sent twice"
                    .to_owned(),
            ),
            (error, false) => error.clone(),
        };
        self.record_activity(
            &connected,
            step.scenario(),
            origin::CALL,
            started,
            &stats,
            shown.as_deref(),
        )
        .await;
        match result {
            Ok((carry_on, globals)) => {
                self.store_globals(&connected, &globals).await?;
                Ok(carry_on)
            }
            Err(error) => Err(CallStepError {
                message: connected.mask(&error.to_string()),
                transient: error.is_transient(),
                retry_after_secs: match &error {
                    StepError::Answer {
                        retry_after_secs, ..
                    } => *retry_after_secs,
                    _ => None,
                },
            }),
        }
    }

    /// The step's requests; answers what to carry and the global variables follow-ups read.
    async fn step_on(
        &self,
        connected: &Connected,
        runner: &Runner<'_>,
        step: Step,
        call: &Call,
        carried: &BTreeMap<String, String>,
    ) -> Result<(BTreeMap<String, String>, BTreeMap<String, String>), StepError> {
        let options = feature_options(&connected.running.view);
        let features = &connected.integration.features;
        let mut variables = connected.variables.clone();
        extension_variables(&call.extension, &mut variables);
        variables.extend(carried.clone());
        let selected = &features.contacts.contact_types;
        let mut carry_on = BTreeMap::new();
        let phone = call.contact_number();
        match step {
            Step::Lookup => {
                if let Some(found) = runner.lookup(&variables, phone, selected).await? {
                    carry_on.extend(found.variables());
                }
                Ok((carry_on, BTreeMap::new()))
            }
            Step::Contact => {
                if carried.contains_key("ContactId") {
                    return Ok((carry_on, BTreeMap::new()));
                }
                if let Some(found) = runner.lookup(&variables, phone, selected).await? {
                    carry_on.extend(found.variables());
                    return Ok((carry_on, BTreeMap::new()));
                }
                let Some(contact_type) = contact_to_create(&options, features, call) else {
                    return Ok((carry_on, BTreeMap::new()));
                };
                let outcome = runner
                    .create_contact(
                        &variables,
                        contact_type,
                        &NewContact {
                            number: call.contact_number().to_owned(),
                            ..NewContact::default()
                        },
                    )
                    .await?;
                carry(&mut carry_on, &outcome.outputs);
                Ok((carry_on, outcome.globals))
            }
            Step::Journal | Step::TicketBefore | Step::TicketAfter => {
                let (scenario, plan): (&str, Option<WritePlan>) = if step == Step::Journal {
                    ("CallJournal", journal_plan(&options, features))
                } else {
                    ("CreateNewTicket", ticket_plan(&options, features))
                };
                let Some(plan) = plan else {
                    return Ok((carry_on, BTreeMap::new()));
                };
                let need_contact = connected
                    .running
                    .view
                    .scenario(scenario)
                    .and_then(|s| s.setting("NeedSyncContact"))
                    .map(str::trim)
                    == Some("1");
                if need_contact && !variables.contains_key("ContactId") {
                    if let Some(found) = runner.lookup(&variables, phone, selected).await? {
                        let found = found.variables();
                        variables.extend(found.clone());
                        carry_on.extend(found);
                    }
                }
                let written = runner.write_variables(scenario, &variables, call, &plan)?;
                let outcome = if step == Step::Journal {
                    runner.send_journal(&written).await?
                } else {
                    runner.send_ticket(&written).await?
                };
                carry(&mut carry_on, &outcome.outputs);
                Ok((carry_on, outcome.globals))
            }
        }
    }
}
