//! Call work for the queue (README "Call events"): which connected integrations a call
//! concerns and what each runs (`engine::core::call_steps` decides), and one step of it run through
//! the engine, each a row in Activity. With User Association a call counts only on an
//! extension associated with a CRM user there; without it, on every extension.

use app::activity::Fault;
use std::collections::BTreeMap;
use std::time::Instant;

use tokio::sync::OwnedSemaphorePermit;

use app::agents::{IntegrationContacts, PopupContact};
use app::calls::{Call, ExtensionUser};
use app::console::FoundContact;
use app::integrations::JournalCalls;

use super::activity::{origin, run_started};
use super::service::{IntegrationError, IntegrationsService, ReadyIntegration};
use crate::engine::core::call::{call_variables, extension_variables, named};
use crate::engine::core::call_steps::{steps, CallAt, Step};
use crate::engine::core::scenarios::{
    contact_to_create, feature_options, journal_plan, ticket_plan, WritePlan,
};
use crate::engine::executor::{Lane, LaneGates};
use crate::engine::runner::{RunStats, Runner, StepError};
use crate::engine::scenario::{carry, NewContact};

/// One integration's part of a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallTarget {
    pub integration_id: i32,
    /// The integration's template name (what agents see).
    pub integration: String,
    pub call_id: String,
    /// The call with its extension's user there.
    pub call: Call,
    pub steps: Vec<Step>,
}

/// What a run call step leaves for Activity, and its place in the integration's lane
/// (given up once the queue has written the step's outcome).
pub struct CallStepRecord {
    pub lane: Option<OwnedSemaphorePermit>,
    connected: ReadyIntegration,
    scenario: &'static str,
    started: (i64, Instant),
    stats: RunStats,
    shown: Option<String>,
    globals: BTreeMap<String, String>,
    /// A lookup's contacts as the call popup shows them.
    pub popup: Option<IntegrationContacts>,
}

impl CallStepRecord {
    /// The integration's template name, as agents see it.
    pub fn integration(&self) -> &str {
        self.connected.name()
    }
}

/// The queue's claim on a step: whether it was taken over from a server that stopped,
/// this process's lanes, and the check that the claim is still this server's, awaited
/// right before the step sends anything.
pub struct StepClaim<'a, StillOurs> {
    pub retaken: bool,
    pub lanes: &'a LaneGates,
    pub still_ours: StillOurs,
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
    /// The layer it came from (Activity › Queue shows it).
    pub fault: Fault,
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
            fault: if transient {
                Fault::Internal
            } else {
                Fault::Template
            },
        }
    }
}

impl IntegrationsService {
    /// The integrations each of `calls` (one event's) concerns, each with its steps (none
    /// left out for having no steps: the caller skips those). The connected integrations
    /// are read once for the event.
    pub async fn call_targets(
        &self,
        calls: &[CallAt],
    ) -> Result<Vec<CallTarget>, IntegrationError> {
        let mut targets = Vec::new();
        // Most status events (answered, hung up) start nothing: nothing to read.
        if calls.is_empty() {
            return Ok(targets);
        }
        let mut groups = None;
        for live in self.connected_integrations().await? {
            let options = feature_options(&live.in_use.view);
            let rollout = &live.integration.features.rollout;
            let pilot_members = if rollout.limited() {
                if groups.is_none() {
                    groups = Some(self.extension_groups.all().await?);
                }
                groups
                    .iter()
                    .flatten()
                    .filter(|g| rollout.groups.contains(&g.name))
                    .flat_map(|g| g.members.iter().cloned())
                    .collect()
            } else {
                Vec::new()
            };
            for at in calls {
                let number = at.call.extension.number.as_str();
                // A pilot: only its extensions' calls reach this integration.
                if !rollout.includes(number, &pilot_members) {
                    continue;
                }
                let Some(extension) = self
                    .call_extension(live.integration.id, number, live.in_use.lists_users())
                    .await?
                else {
                    continue;
                };
                let at = CallAt {
                    call: Call {
                        extension,
                        ..at.call.clone()
                    },
                    ..at.clone()
                };
                let planned = steps(&options, &live.integration.features, &at);
                if !planned.is_empty() {
                    targets.push(CallTarget {
                        integration_id: live.integration.id,
                        integration: live.in_use.template.record.name.clone(),
                        call_id: at.call_id,
                        call: at.call,
                        steps: planned,
                    });
                }
            }
        }
        Ok(targets)
    }

    /// Extension `number` as a call in integration `integration_id` sees it: its CRM user
    /// there; without User Association (`lists_users` false) the directory's names; `None`
    /// when the template associates users and the extension has none.
    pub(super) async fn call_extension(
        &self,
        integration_id: i32,
        number: &str,
        lists_users: bool,
    ) -> Result<Option<ExtensionUser>, IntegrationError> {
        if let Some(user) = self.extension_user(integration_id, number).await? {
            return Ok(Some(user));
        }
        if lists_users {
            return Ok(None);
        }
        Ok(Some(match self.extensions.find(number).await? {
            Some(known) => ExtensionUser {
                number: known.number,
                first_name: known.first_name,
                last_name: known.last_name,
                email: known.email,
                crm_user_id: String::new(),
            },
            None => ExtensionUser {
                number: number.to_owned(),
                ..ExtensionUser::default()
            },
        }))
    }

    /// Runs `step` of `call` in the integration, within its lane (`claim.lanes`); answers what
    /// the call's later steps need (contact and ticket ids), and its record for Activity
    /// with the lane's place, to be given up once the queue has written the outcome and
    /// then written with [`IntegrationsService::record_call_step`]. `claim.retaken`: the step may
    /// have run before (its server stopped mid-way), which Activity says.
    pub async fn run_call_step(
        &self,
        integration_id: i32,
        step: Step,
        call: &Call,
        carried: &BTreeMap<String, String>,
        claim: StepClaim<'_, impl std::future::Future<Output = bool>>,
    ) -> (
        Result<BTreeMap<String, String>, CallStepError>,
        Option<CallStepRecord>,
    ) {
        let live = match self.connected_integration(integration_id).await {
            Ok(live) => live,
            Err(error) => return (Err(error.into()), None),
        };
        let Some(live) = live else {
            return (
                Err(CallStepError {
                    message: "the integration is no longer connected".into(),
                    transient: false,
                    retry_after_secs: None,
                    fault: Fault::Authentication,
                }),
                None,
            );
        };
        let connected = match self.ready(live).await {
            Ok(connected) => connected,
            Err(error) => return (Err(error.into()), None),
        };
        // A step holds its place until the queue has written its outcome, so a server killed
        // at any moment leaves at most MaxConcurrentRequest steps whose requests may have
        // reached the CRM unrecorded (sent again, flagged).
        let StepClaim {
            retaken,
            lanes,
            still_ours,
        } = claim;
        let lane = lanes
            .gate(Lane {
                integration_id,
                max_concurrent: super::service::max_concurrent(&connected.in_use.view),
            })
            .acquire_owned()
            .await
            .ok();
        // The wait for a place can be long: the claim must still be this server's before
        // anything is sent, or two servers would send the same step (`still_ours` is
        // awaited only now).
        if !still_ours.await {
            return (
                Err(CallStepError {
                    message: "another server took this step over".into(),
                    transient: true,
                    retry_after_secs: None,
                    fault: Fault::Internal,
                }),
                None,
            );
        }
        let stats = RunStats::default();
        let started = run_started();
        let mut found = None;
        let result = {
            let runner = self
                .runner(&connected)
                .counted(&stats)
                .shadowed(connected.integration.features.rollout.shadow);
            self.step_on(&connected, &runner, step, call, carried, &mut found)
                .await
        };
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
        let (answer, globals) = match result {
            Ok((carry_on, globals)) => (Ok(carry_on), globals),
            Err(error) => (
                Err(CallStepError {
                    message: connected.mask(&error.to_string()),
                    transient: error.is_transient(),
                    fault: error.fault(),
                    retry_after_secs: match &error {
                        StepError::Answer {
                            retry_after_secs, ..
                        } => *retry_after_secs,
                        _ => None,
                    },
                }),
                BTreeMap::new(),
            ),
        };
        let popup = (step == Step::Lookup).then(|| IntegrationContacts {
            integration_id,
            integration: connected.name().to_owned(),
            found: found.iter().flatten().map(popup_contact).collect(),
            error: error.clone(),
            creatable: if found.as_ref().is_some_and(|f| !f.is_empty()) {
                Vec::new()
            } else {
                creatable_types(&connected)
            },
        });
        let record = CallStepRecord {
            popup,
            lane,
            connected,
            scenario: step.scenario(),
            started,
            stats,
            shown,
            globals,
        };
        (answer, Some(record))
    }

    /// Writes a call step's Activity row and the global variables its follow-ups read.
    pub async fn record_call_step(&self, record: CallStepRecord) {
        self.record_activity(
            &record.connected,
            record.scenario,
            origin::CALL,
            record.started,
            &record.stats,
            record.shown.as_deref(),
        )
        .await;
        if let Err(error) = self.store_globals(&record.connected, &record.globals).await {
            tracing::warn!(%error, "cannot store the global variables a call's follow-up read");
        }
    }

    /// The step's requests; answers what to carry and the global variables follow-ups read.
    async fn step_on(
        &self,
        connected: &ReadyIntegration,
        runner: &Runner<'_>,
        step: Step,
        call: &Call,
        carried: &BTreeMap<String, String>,
        found: &mut Option<Vec<FoundContact>>,
    ) -> Result<(BTreeMap<String, String>, BTreeMap<String, String>), StepError> {
        let options = feature_options(&connected.in_use.view);
        let features = &connected.integration.features;
        let mut variables = connected.variables.clone();
        extension_variables(&call.extension, &mut variables);
        variables.extend(carried.clone());
        let mut carry_on = BTreeMap::new();
        let phone = call.contact_number();
        match step {
            Step::Lookup => {
                // The ring's own variables: a template may search with CallerNumber.
                let at_ring = call_variables(&self.renderer, &named(call, &variables), false)
                    .map_err(|e| StepError::Template {
                        step: "the call's variables".into(),
                        message: e.to_string(),
                    })?;
                variables.extend(at_ring);
                let lookup = self
                    .find_contact(connected, runner, &variables, phone)
                    .await?;
                *found = Some(
                    lookup
                        .as_ref()
                        .map_or_else(Vec::new, |l| l.candidates.clone()),
                );
                if let Some(lookup) = lookup {
                    carry_on.extend(lookup.variables());
                }
                Ok((carry_on, BTreeMap::new()))
            }
            Step::Contact => {
                if carried.contains_key("ContactId") {
                    return Ok((carry_on, BTreeMap::new()));
                }
                if let Some(found) = self
                    .find_contact(connected, runner, &variables, phone)
                    .await?
                {
                    // Known, even when several match and the rule chose none: creating
                    // another would only add a duplicate.
                    carry_on.extend(found.variables());
                    return Ok((carry_on, BTreeMap::new()));
                }
                let Some(contact_type) = contact_to_create(&options, features, call) else {
                    return Ok((carry_on, BTreeMap::new()));
                };
                let outcome = runner
                    .create_contact(&variables, contact_type, &NewContact::of_call(call))
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
                    .in_use
                    .view
                    .scenario(scenario)
                    .and_then(|s| s.setting("NeedSyncContact"))
                    .map(str::trim)
                    == Some("1");
                // The vendor journals calls with CRM contacts only (Features: "Which calls").
                let contacts_only =
                    step == Step::Journal && features.journal.calls == JournalCalls::WithContacts;
                if (need_contact || contacts_only) && !variables.contains_key("ContactId") {
                    if let Some(found) = self
                        .find_contact(connected, runner, &variables, phone)
                        .await?
                    {
                        let found = found.variables();
                        variables.extend(found.clone());
                        carry_on.extend(found);
                    }
                }
                if contacts_only && !variables.contains_key("ContactId") {
                    runner.note(
                        "no CRM contact: not journaled (Features: calls with a CRM contact)".into(),
                    );
                    return Ok((carry_on, BTreeMap::new()));
                }
                // The names the phone system did not send: the contact's, the extension's.
                let call = &named(call, &variables);
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

/// A contact as the call popup shows it: its name (the names it has, or its id), company
/// and type, and the link to its record.
pub fn popup_contact(contact: &FoundContact) -> PopupContact {
    let field = |name: &str| contact.fields.get(name).map(|v| v.trim()).unwrap_or("");
    let mut name = format!("{} {}", field("FirstName"), field("LastName"))
        .trim()
        .to_owned();
    if name.is_empty() {
        name = [field("DisplayName"), field("Name"), field("ContactsId")]
            .into_iter()
            .find(|v| !v.is_empty())
            .unwrap_or_default()
            .to_owned();
    }
    PopupContact {
        name,
        company: field("Company").to_owned(),
        contact_type: contact.contact_type.clone(),
        popup_url: contact.popup_url.clone(),
    }
}

/// The contact type an agent may create by hand in `connected`: the one the Features
/// section's Create New Contact names, when the template can create it (whether it is
/// created automatically at a call's end or only by hand, "Manually").
pub(super) fn creatable_types(connected: &ReadyIntegration) -> Vec<String> {
    let wanted = &connected.integration.features.create_contact.contact_type;
    feature_options(&connected.in_use.view)
        .creatable_types
        .into_iter()
        .filter(|t| !wanted.trim().is_empty() && t == wanted)
        .collect()
}
