//! One scenario run as an author sees it (the test console and `patchbay run`; README "The
//! test console"): sample values in, every step traced, the result out. A dry run renders
//! the scenario's requests and sends nothing.

use std::collections::BTreeMap;
use std::time::Instant;

use app::console::{ConsoleInput, FoundContact, RunReport};
use app::integrations::Features;
use app::template::model::RequestView;

use super::core::contacts::PHONE_VARIABLE;
use super::core::numbers::Number;
use super::core::request::GlobalHeaders;
use super::core::scenarios::{
    creation_request, feature_options, journal_plan, ticket_plan, ticket_requests, WritePlan,
};
use super::core::trace::Tracer;
use super::core::Variables;
use super::lookup::LookupPlan;
use super::runner::{Outcome, Runner, StepError};
use super::scenario::{carry, NewContact};

/// The variable SearchContact's requests read the search text from.
pub const SEARCH_VARIABLE: &str = "SearchValue";

/// What to run.
pub struct ConsoleRun<'a> {
    pub input: &'a ConsoleInput,
    /// The integration's variables: its fields and global variables.
    pub variables: &'a Variables,
    /// Variables set by hand (`patchbay run --var`): they win over computed ones.
    pub overrides: &'a Variables,
    pub features: &'a Features,
}

/// The report, and the global variables the run read (GetGlobalInfo, follow-ups),
/// unmasked, to store.
pub struct ConsoleResult {
    pub report: RunReport,
    pub globals: BTreeMap<String, String>,
}

/// Runs `run.input.scenario`, tracing every step in `tracer` (which `runner` records to).
pub async fn run_console(
    runner: &Runner<'_>,
    tracer: &Tracer,
    run: &ConsoleRun<'_>,
) -> ConsoleResult {
    let started = Instant::now();
    let input = run.input;
    let mut report = RunReport {
        scenario: input.scenario.clone(),
        dry_run: input.dry_run,
        ..RunReport::default()
    };
    let result = if input.dry_run {
        dry_run(runner, run, tracer).map(|skipped| {
            (
                Outcome {
                    skipped,
                    ..Outcome::default()
                },
                None,
            )
        })
    } else {
        live_run(runner, run).await
    };
    let mut globals = BTreeMap::new();
    match result {
        Ok((outcome, contact)) => {
            report.skipped = outcome.skipped;
            report.outputs = outcome
                .outputs
                .iter()
                .chain(&outcome.globals)
                .map(|(k, v)| (k.clone(), tracer.mask(v)))
                .collect();
            globals = outcome.globals;
            report.contact = contact.map(|mut c| {
                for value in c.fields.values_mut() {
                    *value = tracer.mask(value);
                }
                c.popup_url = c.popup_url.map(|u| tracer.mask(&u));
                c
            });
        }
        Err(error) => report.error = Some(tracer.mask(&error.to_string())),
    }
    report.steps = tracer.steps();
    report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    ConsoleResult { report, globals }
}

/// The variables of the scenario, before anything is sent.
fn scenario_variables(
    runner: &Runner<'_>,
    run: &ConsoleRun<'_>,
    plan: Option<&WritePlan>,
) -> Result<Variables, StepError> {
    let input = run.input;
    let mut variables = run.variables.clone();
    variables.extend(Number::read(&input.phone, &run.features.contacts).variables());
    variables.insert(PHONE_VARIABLE.into(), input.phone.clone());
    variables.insert(SEARCH_VARIABLE.into(), input.phone.clone());
    // Every scenario sees the extension's user association, lookups too.
    crate::engine::core::call::extension_variables(&input.call.extension, &mut variables);
    if input.scenario == "CreateNewContact" {
        new_contact(input).set_variables(&mut variables);
    }
    variables.extend(run.overrides.clone());
    if let Some(plan) = plan {
        variables = runner.write_variables(&input.scenario, &variables, &input.call, plan)?;
        // A hand-set variable wins over the computed one, Subject and Description too.
        variables.extend(run.overrides.clone());
    }
    Ok(variables)
}

fn new_contact(input: &ConsoleInput) -> NewContact {
    NewContact {
        number: input.phone.clone(),
        first_name: input.first_name.clone(),
        last_name: input.last_name.clone(),
    }
}

/// The plan of a journal or ticket: as configured, on even where the user turned the
/// feature off (the console tests the template); an error where the template turns it off.
fn plan_for(runner: &Runner<'_>, run: &ConsoleRun<'_>) -> Result<Option<WritePlan>, StepError> {
    let scenario = run.input.scenario.as_str();
    if !matches!(scenario, "CallJournal" | "CreateNewTicket") {
        return Ok(None);
    }
    let options = feature_options(runner.view);
    let mut features = run.features.clone();
    features.journal.enabled = true;
    let plan = if scenario == "CallJournal" {
        journal_plan(&options, &features)
    } else {
        ticket_plan(&options, &features)
    };
    plan.map(Some).ok_or_else(|| StepError::Template {
        step: scenario.into(),
        message: "the template turns this feature off (its switch on <Information> is 0, or a helpdesk-only scenario in a CRM template)".into(),
    })
}

fn dry_run(
    runner: &Runner<'_>,
    run: &ConsoleRun<'_>,
    tracer: &Tracer,
) -> Result<Vec<String>, StepError> {
    let view = runner.view;
    let plan = plan_for(runner, run)?;
    let variables = scenario_variables(runner, run, plan.as_ref())?;
    let scenario_id = match run.input.scenario.as_str() {
        "SearchContact" if view.scenario("SearchContact").is_none() => "SyncContactAuto",
        other => other,
    };
    let requests: Vec<&RequestView> = match scenario_id {
        "CreateNewContact" => {
            vec![
                creation_request(view, &run.features.create_contact.contact_type).map_err(
                    |message| StepError::Template {
                        step: "CreateNewContact".into(),
                        message,
                    },
                )?,
            ]
        }
        "CreateNewTicket" => ticket_requests(view, variables.get("TicketId").map(String::as_str)),
        id => view
            .scenario(id)
            .map(|s| s.requests.iter().collect())
            .unwrap_or_default(),
    };
    let global = if scenario_id == "FollowUp" {
        GlobalHeaders::Omit
    } else {
        GlobalHeaders::Apply
    };
    runner.render_only(scenario_id, &requests, &variables, global, tracer)
}

async fn live_run(
    runner: &Runner<'_>,
    run: &ConsoleRun<'_>,
) -> Result<(Outcome, Option<FoundContact>), StepError> {
    let view = runner.view;
    let input = run.input;
    let plan = plan_for(runner, run)?;
    // A journal or ticket writes its variables after the contact lookup it may need.
    let mut variables = scenario_variables(runner, run, None)?;
    let phone = variables.get(PHONE_VARIABLE).cloned().unwrap_or_default();
    let lookup = LookupPlan::new(&run.features.contacts, &phone);
    match (input.scenario.as_str(), plan) {
        ("SyncContactAuto", _) => {
            // The contact found is the result; its fields are not repeated as variables.
            let found = runner.lookup(&variables, &lookup).await?;
            Ok((Outcome::default(), found.and_then(|f| f.contact)))
        }
        ("SearchContact", _) => match view.scenario("SearchContact") {
            Some(search) => {
                let requests: Vec<&RequestView> = search.requests.iter().collect();
                let outcome = runner
                    .run_requests("SearchContact", &requests, &variables, GlobalHeaders::Apply)
                    .await?;
                Ok((outcome, None))
            }
            None => {
                let found = runner.lookup(&variables, &lookup).await?;
                Ok((Outcome::default(), found.and_then(|f| f.contact)))
            }
        },
        ("CreateNewContact", _) => Ok((
            runner
                .create_contact(
                    &variables,
                    &run.features.create_contact.contact_type,
                    &new_contact(input),
                )
                .await?,
            None,
        )),
        (scenario @ ("CallJournal" | "CreateNewTicket"), Some(plan)) => {
            let mut contact = None;
            let need_contact = view
                .scenario(scenario)
                .and_then(|s| s.setting("NeedSyncContact"))
                .map(str::trim)
                == Some("1");
            if need_contact {
                let lookup = LookupPlan::new(&run.features.contacts, input.call.contact_number());
                if let Some(found) = runner.lookup(&variables, &lookup).await? {
                    variables.extend(found.variables());
                    contact = found.contact;
                }
            }
            let mut written = runner.write_variables(scenario, &variables, &input.call, &plan)?;
            // A hand-set variable wins over the computed one, Subject and Description too.
            written.extend(run.overrides.clone());
            if scenario == "CallJournal" {
                return Ok((runner.send_journal(&written).await?, contact));
            }
            let mut outcome = runner.send_ticket(&written).await?;
            let updates = !ticket_requests(view, Some("1")).is_empty();
            let created = outcome
                .outputs
                .get("TicketId")
                .is_some_and(|id| !id.is_empty());
            if updates && created && !written.contains_key("TicketId") {
                carry(&mut written, &outcome.outputs);
                let update = runner.send_ticket(&written).await?;
                outcome.outputs.extend(update.outputs);
                outcome.globals.extend(update.globals);
                outcome.skipped.extend(update.skipped);
            }
            Ok((outcome, contact))
        }
        ("GetGlobalInfo", _) => Ok((runner.global_info(&variables).await?, None)),
        _ => {
            let requests: Vec<&RequestView> = view
                .scenario(&input.scenario)
                .map(|s| s.requests.iter().collect())
                .unwrap_or_default();
            // Every follow-up in order, whatever its trigger; their outputs are globals.
            let mut outcome = runner
                .run_requests(&input.scenario, &requests, &variables, GlobalHeaders::Omit)
                .await?;
            outcome.globals = std::mem::take(&mut outcome.outputs);
            Ok((outcome, None))
        }
    }
}
