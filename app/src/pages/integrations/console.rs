//! The test console on an integration's page (README "The test console"): pick a scenario,
//! give sample values, Run or Dry run, read each step. What comes back is masked by the
//! server.

use leptos::prelude::*;

use super::production::CasesChanged;
use crate::api::integrations::{RunConsole, SaveTestCase};
use crate::calls::{Call, CallDirection, CallDisposition, ExtensionUser};
use crate::components::loaded::failed;
use crate::components::toast::use_toasts;
use crate::console::{ConsoleInput, RunReport, TraceStep, CONSOLE_SCENARIOS};
use crate::template::model::Provider;
use crate::test_cases::NewTestCase;
use crate::viewer::Viewer;

#[derive(Clone, Copy)]
struct Sample {
    scenario: RwSignal<String>,
    phone: RwSignal<String>,
    first_name: RwSignal<String>,
    last_name: RwSignal<String>,
    direction: RwSignal<String>,
    extension: RwSignal<String>,
    caller: RwSignal<String>,
    callee: RwSignal<String>,
    start: RwSignal<String>,
    duration: RwSignal<String>,
    talk: RwSignal<String>,
    disposition: RwSignal<String>,
    recording: RwSignal<String>,
}

impl Sample {
    fn input(&self, dry_run: bool) -> ConsoleInput {
        let number = |s: RwSignal<String>| s.get_untracked().trim().parse::<u32>().unwrap_or(0);
        ConsoleInput {
            scenario: self.scenario.get_untracked(),
            phone: self.phone.get_untracked(),
            first_name: self.first_name.get_untracked(),
            last_name: self.last_name.get_untracked(),
            call: Call {
                direction: CallDirection::parse(&self.direction.get_untracked())
                    .unwrap_or_default(),
                extension: ExtensionUser {
                    number: self.extension.get_untracked(),
                    ..ExtensionUser::default()
                },
                caller_name: String::new(),
                caller_number: self.caller.get_untracked(),
                callee_name: String::new(),
                callee_number: self.callee.get_untracked(),
                start_unix: self.start.get_untracked().trim().parse().unwrap_or(0),
                duration_secs: number(self.duration),
                talk_secs: number(self.talk),
                disposition: CallDisposition::parse(&self.disposition.get_untracked())
                    .unwrap_or_default(),
                recording_url: self.recording.get_untracked(),
                ringing: false,
                group: String::new(),
            },
            dry_run,
        }
    }
}

fn text_input(id: &'static str, label: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input id=id type="text" prop:value=move || value.get() on:input=move |e| value.set(event_target_value(&e)) />
    }
}

#[component]
pub fn ConsoleSection(provider: Provider, key: String) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let key = StoredValue::new(key);
    let run = ServerAction::<RunConsole>::new();
    let save_case = ServerAction::<SaveTestCase>::new();
    // The input of the run shown, which "Save as test case" keeps with what it showed.
    let last_input = StoredValue::new(None::<ConsoleInput>);
    let case_name = RwSignal::new(String::new());
    let toasts = use_toasts();
    let cases_changed = use_context::<CasesChanged>();
    Effect::new(move |_| match save_case.value().get() {
        Some(Ok(case)) => {
            case_name.set(String::new());
            if let Some(changed) = cases_changed {
                changed.0.update(|n| *n += 1);
            }
            toasts.success(format!(
                "Saved as the test case \u{201c}{}\u{201d}.",
                case.name
            ));
        }
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    let save_as_case = move |report: RunReport| {
        let Some(input) = last_input.get_value() else {
            return;
        };
        save_case.dispatch(SaveTestCase {
            csrf_token: csrf_token.get_value(),
            provider: provider.as_str().to_string(),
            key: key.get_value(),
            id: None,
            case: NewTestCase::from_run(case_name.get_untracked(), &input, &report),
        });
    };
    let s = |v: &str| RwSignal::new(v.to_owned());
    let sample = Sample {
        scenario: s("SyncContactAuto"),
        phone: s(""),
        first_name: s(""),
        last_name: s(""),
        direction: s("inbound"),
        extension: s("1001"),
        caller: s(""),
        callee: s("1001"),
        start: s("1672531199"),
        duration: s("95"),
        talk: s("80"),
        disposition: s("ANSWERED"),
        recording: s(""),
    };
    let start_run = move |dry_run: bool| {
        let input = sample.input(dry_run);
        last_input.set_value(Some(input.clone()));
        run.dispatch(RunConsole {
            csrf_token: csrf_token.get_value(),
            provider: provider.as_str().to_string(),
            key: key.get_value(),
            input,
        });
    };
    let is_call = move || {
        matches!(
            sample.scenario.get().as_str(),
            "CallJournal" | "CreateNewTicket"
        )
    };
    let is_contact = move || {
        matches!(
            sample.scenario.get().as_str(),
            "SyncContactAuto" | "SearchContact" | "CreateNewContact"
        )
    };
    view! {
        <section class="card console" aria-labelledby="console-title">
            <h2 id="console-title">"Test console"</h2>
            <p class="help">"Runs a scenario against the CRM with sample values and shows every request and answer. Secrets are masked. Dry run sends nothing."</p>
            <div class="console-form">
                <label for="console-scenario">"Scenario"</label>
                <select id="console-scenario" on:change=move |e| sample.scenario.set(event_target_value(&e)) prop:value=move || sample.scenario.get()>
                    {CONSOLE_SCENARIOS.iter().map(|id| view! { <option value=*id>{*id}</option> }).collect_view()}
                </select>
                {move || is_contact().then(|| view! {
                    {text_input("console-phone", "Phone number", sample.phone)}
                    {(sample.scenario.get() == "CreateNewContact").then(|| view! {
                        {text_input("console-first", "First name", sample.first_name)}
                        {text_input("console-last", "Last name", sample.last_name)}
                    })}
                }.into_any())}
                {move || is_call().then(|| view! {
                    <label for="console-direction">"Direction"</label>
                    <select id="console-direction" on:change=move |e| sample.direction.set(event_target_value(&e)) prop:value=move || sample.direction.get()>
                        {CallDirection::ALL.iter().map(|d| view! { <option value=d.as_str()>{d.label()}</option> }).collect_view()}
                    </select>
                    {text_input("console-extension", "Extension", sample.extension)}
                    {text_input("console-caller", "Caller number", sample.caller)}
                    {text_input("console-callee", "Callee number", sample.callee)}
                    {text_input("console-start", "Start (unix seconds)", sample.start)}
                    {text_input("console-duration", "Duration (s)", sample.duration)}
                    {text_input("console-talk", "Talk time (s)", sample.talk)}
                    <label for="console-status">"Status"</label>
                    <select id="console-status" on:change=move |e| sample.disposition.set(event_target_value(&e)) prop:value=move || sample.disposition.get()>
                        {CallDisposition::ALL.iter().map(|d| view! { <option value=d.as_str()>{d.as_str()}</option> }).collect_view()}
                    </select>
                    {text_input("console-recording", "Recording URL", sample.recording)}
                }.into_any())}
            </div>
            <div class="form-actions">
                <button class="button button-primary" type="button" on:click=move |_| start_run(false) disabled=move || run.pending().get()>
                    {move || if run.pending().get() { "Running…" } else { "Run" }}
                </button>
                <button class="button" type="button" on:click=move |_| start_run(true) disabled=move || run.pending().get()>
                    "Dry run"
                </button>
            </div>
            {move || run.value().get().map(|result| match result {
                Ok(report) => {
                    let for_case = report.clone();
                    view! {
                        <form class="form-inline" data-testid="save-case" on:submit=move |e: leptos::ev::SubmitEvent| {
                            e.prevent_default();
                            save_as_case(for_case.clone());
                        }>
                            <label for="case-from-run">"Test case name"</label>
                            <input id="case-from-run" type="text" placeholder="Known caller is found" prop:value=move || case_name.get() on:input=move |e| case_name.set(event_target_value(&e)) />
                            <button class="button" type="submit" disabled=move || save_case.pending().get()>"Save as test case"</button>
                        </form>
                        <Report report />
                    }
                    .into_any()
                }
                Err(error) => failed(error),
            })}
        </section>
    }
}

#[component]
fn Report(report: RunReport) -> impl IntoView {
    let summary = match (&report.error, report.dry_run) {
        (Some(_), _) => "Failed".to_string(),
        (None, true) => format!(
            "Dry run: {} request(s) rendered, nothing sent",
            report.steps.len()
        ),
        (None, false) => format!("Done in {} ms", report.elapsed_ms),
    };
    view! {
        <div class="trace" data-testid="console-trace">
            <p class=if report.error.is_some() { "notice notice-error" } else { "notice notice-ok" } role="status">{summary}</p>
            {report.error.clone().map(|e| view! { <p class="trace-error" role="alert">{e}</p> })}
            <ol class="trace-steps">
                {report.steps.into_iter().map(|step| view! { <Step step /> }).collect_view()}
            </ol>
            {(!report.skipped.is_empty()).then(|| view! {
                <p class="help">{format!("Skipped (URL rendered empty): {}", report.skipped.join(", "))}</p>
            })}
            {report.contact.map(|contact| view! {
                <h3>{format!("Contact found ({})", contact.contact_type)}</h3>
                <dl class="facts" data-testid="console-contact">
                    {contact.fields.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                    {contact.popup_url.map(|u| view! { <dt>"Popup URL"</dt><dd><code>{u}</code></dd> })}
                </dl>
            }.into_any())}
            {(!report.outputs.is_empty()).then(|| view! {
                <h3>"Variables"</h3>
                <dl class="facts">
                    {report.outputs.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                </dl>
            }.into_any())}
        </div>
    }
}

#[component]
fn Step(step: TraceStep) -> impl IntoView {
    let request = step.request;
    let headers = request
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n");
    view! {
        <li class="trace-step">
            <h3>{step.step.clone()}<span class="trace-time">{format!(" {} ms", step.elapsed_ms)}</span></h3>
            <pre class="trace-request">{format!("{} {}\n{headers}", request.method, request.url)}{request.body.map(|b| format!("\n\n{b}"))}{request.folded.then_some("\n… (folded)")}</pre>
            {step.response.map(|response| view! {
                <details open=true>
                    <summary>{format!("HTTP {} {}", response.status, response.content_type.unwrap_or_default())}</summary>
                    <pre class="trace-response">{response.body}{response.folded.then_some("\n… (folded)")}</pre>
                </details>
            }.into_any())}
            {(!step.outputs.is_empty()).then(|| view! {
                <dl class="facts trace-outputs">
                    {step.outputs.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                </dl>
            }.into_any())}
            {step.error.map(|e| view! { <p class="trace-error" role="alert">{e}</p> })}
        </li>
    }
}
