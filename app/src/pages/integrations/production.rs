//! Running an integration in production, on its page: Health (the last 24 hours by
//! layer), the revision it runs with Roll back, and its Test cases (README "Test cases",
//! "Revisions and rollback", "Health").

use leptos::prelude::*;

use crate::activity::{latency_label, IntegrationHealth, HEALTH_WINDOW_HOURS};
use crate::api::integrations::{
    list_test_cases, load_integration_health, DeleteTestCase, RollBackIntegration, RunTestCases,
    SaveTestCase,
};
use crate::api::notifications::{load_notifications, SetIntegrationOwner};
use crate::components::confirm::{ConfirmDialog, ConfirmRequest};
use crate::components::loaded::{failed, Loaded};
use crate::components::notifications::NotificationList;
use crate::components::page_data::page_data;
use crate::components::test_run::TestRunReport;
use crate::components::toast::use_toasts;
use crate::console::{ConsoleInput, CONSOLE_SCENARIOS};
use crate::pages::templates::format_time_ms;
use crate::template::model::Provider;
use crate::test_cases::{Expectation, NewTestCase, TestCase};
use crate::viewer::Viewer;

/// Moves on when a test case is saved elsewhere on the page (the console's "Save as test
/// case"), so the list reloads.
#[derive(Clone, Copy)]
pub struct CasesChanged(pub RwSignal<u32>);

#[component]
pub fn HealthSection(provider: Provider, key: String) -> impl IntoView {
    let health = page_data(
        || (),
        move |_| load_integration_health(provider.as_str().to_string(), key.clone()),
    );
    view! {
        <section class="card" aria-labelledby="health-title" data-testid="health">
            <h2 id="health-title">"Health"</h2>
            <p class="help">{format!("The last {HEALTH_WINDOW_HOURS} hours of runs that reached the CRM, by where failures came from.")}</p>
            <Loaded resource=health loading="Loading…" then=move |health| view! { <HealthFacts health /> } />
        </section>
    }
}

#[component]
fn HealthFacts(health: IntegrationHealth) -> impl IntoView {
    let failed = health.failed();
    view! {
        {health.drift.iter().map(|flag| view! {
            <p class="notice notice-error" role="alert" data-testid="drift">{"Drift: "}{flag.message()}</p>
        }).collect_view()}
        <dl class="facts">
            <dt>"Succeeded"</dt>
            <dd data-testid="health-successes">{health.successes}</dd>
            <dt>"Failed"</dt>
            <dd data-testid="health-failures">
                {if failed == 0 {
                    "none".to_string()
                } else {
                    health
                        .failures
                        .iter()
                        .map(|(fault, n)| format!("{} {n}", fault.label()))
                        .collect::<Vec<_>>()
                        .join(" · ")
                }}
            </dd>
            <dt>"CRM latency"</dt>
            <dd>{format!("median {}, p95 {}", latency_label(health.median_ms), latency_label(health.p95_ms))}</dd>
            <dt>"Queue"</dt>
            <dd>{format!("{} waiting or running, {} failed", health.backlog, health.failed_jobs)}</dd>
            <dt>"Last success"</dt>
            <dd>{health.last_success_at.map(format_time_ms).unwrap_or_else(|| "never".into())}</dd>
        </dl>
    }
}

/// The revision the integration runs, the template's newest, and Roll back (administrators).
#[component]
pub fn RevisionSection(
    provider: Provider,
    key: String,
    running: i32,
    current: i32,
    previous: Option<i32>,
    on_change: Callback<()>,
) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let is_admin = viewer.is_admin();
    let roll_back = ServerAction::<RollBackIntegration>::new();
    let confirm = RwSignal::new(None::<ConfirmRequest>);
    let key = StoredValue::new(key);
    Effect::new(move |_| match roll_back.value().get() {
        Some(Ok(revision)) => {
            toasts.success(format!("The integration runs revision {revision} again."));
            on_change.run(());
        }
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    let runbook = format!(
        "/api/v1/integrations/{}/{}/runbook",
        provider.as_str(),
        key.get_value()
    );
    let history = format!(
        "/templates/{}/{}/history",
        provider.as_str(),
        key.get_value()
    );
    let ask = move |_| {
        let Some(previous) = previous else { return };
        confirm.set(Some(ConfirmRequest {
            title: format!("Roll back to revision {previous}?"),
            message: format!(
                "The integration runs revision {running} now; from its next request on it runs revision {previous}, as before. The template itself keeps revision {current}."
            ),
            confirm_label: "Roll back".into(),
        }));
    };
    let on_confirm = move |_| {
        roll_back.dispatch(RollBackIntegration {
            csrf_token: csrf_token.get_value(),
            provider: provider.as_str().to_string(),
            key: key.get_value(),
        });
    };
    view! {
        <section class="card" aria-labelledby="revision-title">
            <h2 id="revision-title">"Revision"</h2>
            <p data-testid="running-revision">
                {format!("Runs revision {running} of {current}.")}
                {previous.map(|p| format!(" It ran revision {p} before."))}
                " "
                {is_admin.then(|| view! { <a href=history.clone()>"History and differences"</a> })}
            </p>
            <p>
                <a href=runbook download>"Download the runbook"</a>
                <span class="help">" (Markdown: hosts, fields by name, mappings, association, test cases; no values)"</span>
            </p>
            {(is_admin && previous.is_some()).then(|| view! {
                <button class="button" on:click=ask disabled=move || roll_back.pending().get()>
                    {format!("Roll back to revision {}", previous.unwrap_or_default())}
                </button>
            })}
            <ConfirmDialog request=confirm on_confirm />
        </section>
    }
}

#[component]
pub fn TestCasesSection(provider: Provider, key: String) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let key = StoredValue::new(key);
    let changed = use_context::<CasesChanged>()
        .map(|c| c.0)
        .unwrap_or_else(|| RwSignal::new(0));
    let run = ServerAction::<RunTestCases>::new();
    let delete = ServerAction::<DeleteTestCase>::new();
    let save = ServerAction::<SaveTestCase>::new();
    let cases = page_data(
        move || {
            (
                changed.get(),
                run.version().get(),
                delete.version().get(),
                save.version().get(),
            )
        },
        move |_| list_test_cases(provider.as_str().to_string(), key.get_value()),
    );
    let adding = RwSignal::new(false);
    Effect::new(move |_| match save.value().get() {
        Some(Ok(case)) => {
            adding.set(false);
            toasts.success(format!("Test case \u{201c}{}\u{201d} saved.", case.name));
        }
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    Effect::new(move |_| {
        if let Some(Err(error)) = delete.value().get() {
            toasts.error(error.to_string());
        }
    });
    let confirm = RwSignal::new(None::<ConfirmRequest>);
    let pending_delete = StoredValue::new(None::<i32>);
    let ask_delete = Callback::new(move |case: TestCase| {
        pending_delete.set_value(Some(case.id));
        confirm.set(Some(ConfirmRequest {
            title: "Delete the test case?".into(),
            message: format!(
                "\u{201c}{}\u{201d} will no longer run before Apply.",
                case.name
            ),
            confirm_label: "Delete".into(),
        }));
    });
    let on_confirm = move |_| {
        if let Some(id) = pending_delete.get_value() {
            delete.dispatch(DeleteTestCase {
                csrf_token: csrf_token.get_value(),
                provider: provider.as_str().to_string(),
                key: key.get_value(),
                id,
            });
        }
    };
    let run_all = move |_| {
        run.dispatch(RunTestCases {
            csrf_token: csrf_token.get_value(),
            provider: provider.as_str().to_string(),
            key: key.get_value(),
        });
    };
    let on_add = Callback::new(move |case: NewTestCase| {
        save.dispatch(SaveTestCase {
            csrf_token: csrf_token.get_value(),
            provider: provider.as_str().to_string(),
            key: key.get_value(),
            id: None,
            case,
        });
    });
    view! {
        <section class="card" aria-labelledby="cases-title" data-testid="test-cases">
            <h2 id="cases-title">"Test cases"</h2>
            <p class="help">"Known numbers and what the CRM must answer. Apply runs them against a new revision first. A case that writes (a contact, a journal, a ticket) runs dry: its requests are rendered and checked, nothing is sent."</p>
            <Loaded resource=cases loading="Loading test cases…" then=move |cases| view! { <CaseTable cases on_delete=ask_delete /> } />
            <div class="toolbar">
                <button class="button button-primary" on:click=run_all disabled=move || run.pending().get()>
                    {move || if run.pending().get() { "Running…" } else { "Run all" }}
                </button>
                <button class="button" on:click=move |_| adding.update(|a| *a = !*a)>"Write a case"</button>
            </div>
            {move || adding.get().then(|| view! { <CaseForm on_save=on_add /> })}
            {move || match run.value().get() {
                Some(Ok(result)) => view! { <TestRunReport run=result /> }.into_any(),
                Some(Err(error)) => failed(error).into_any(),
                None => ().into_any(),
            }}
            <ConfirmDialog request=confirm on_confirm />
        </section>
    }
}

#[component]
fn CaseTable(cases: Vec<TestCase>, on_delete: Callback<TestCase>) -> impl IntoView {
    if cases.is_empty() {
        return view! { <p class="help">"No test cases yet: run the console, then Save as test case, or write one."</p> }
            .into_any();
    }
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"Case"</th>
                    <th scope="col">"Scenario"</th>
                    <th scope="col">"Expects"</th>
                    <th scope="col">"Last run"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {cases
                    .into_iter()
                    .map(|case| {
                        let last = match &case.last {
                            Some(r) if r.passed => view! { <span class="status status-ok">{format!("Passed (revision {})", r.revision)}</span> }.into_any(),
                            Some(r) => view! { <span class="status status-error">{format!("Failed (revision {})", r.revision)}</span> }.into_any(),
                            None => view! { <span class="status status-off">"Not run"</span> }.into_any(),
                        };
                        let expects = case
                            .expect
                            .iter()
                            .map(Expectation::describe)
                            .collect::<Vec<_>>()
                            .join("; ");
                        let for_delete = case.clone();
                        view! {
                            <tr>
                                <td>{case.name.clone()}<br /><span class="help">{format!("by {}", case.created_by)}</span></td>
                                <td>{case.input.scenario.clone()} " " <span class="help">{case.input.phone.clone()}</span></td>
                                <td class="wrap">{expects}</td>
                                <td>{last}</td>
                                <td>
                                    <button class="button button-small button-danger" on:click=move |_| on_delete.run(for_delete.clone())>
                                        "Delete"
                                    </button>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The kinds of expectation a hand-written case offers, with whether each takes a name
/// (an output or a body path) and a value.
const KINDS: [(&str, &str, bool, bool); 8] = [
    ("succeeds", "Succeeds", false, false),
    ("fails", "Fails", false, false),
    ("contact_found", "Finds a contact", false, false),
    ("not_found", "Finds nobody", false, false),
    ("output", "Output is", true, true),
    ("popup_url", "Popup URL is", false, true),
    ("sent", "A request body's path is", true, true),
    ("status", "The CRM answers HTTP", false, true),
];

fn expectation(kind: &str, name: String, value: String) -> Option<Expectation> {
    Some(match kind {
        "succeeds" => Expectation::Succeeds,
        "fails" => Expectation::Fails,
        "contact_found" => Expectation::ContactFound,
        "not_found" => Expectation::NotFound,
        "output" => Expectation::Output { name, value },
        "popup_url" => Expectation::PopupUrl { value },
        "sent" => Expectation::Sent { path: name, value },
        "status" => Expectation::Status {
            code: value.trim().parse().ok()?,
        },
        _ => return None,
    })
}

/// A case written by hand: a name, a scenario and its number, and one expectation at a
/// time added to the list.
#[component]
fn CaseForm(on_save: Callback<NewTestCase>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let scenario = RwSignal::new("SyncContactAuto".to_string());
    let phone = RwSignal::new(String::new());
    let expect = RwSignal::new(Vec::<Expectation>::new());
    let kind = RwSignal::new("output".to_string());
    let subject = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let shape = move || KINDS.iter().find(|k| k.0 == kind.get()).copied();
    let add = move |_| match expectation(
        &kind.get_untracked(),
        subject.get_untracked(),
        value.get_untracked(),
    ) {
        Some(e) => {
            expect.update(|list| list.push(e));
            subject.set(String::new());
            value.set(String::new());
            problem.set(None);
        }
        None => problem.set(Some("An HTTP status is a number.".into())),
    };
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let case = NewTestCase {
            name: name.get_untracked(),
            input: ConsoleInput {
                scenario: scenario.get_untracked(),
                phone: phone.get_untracked(),
                ..ConsoleInput::default()
            },
            expect: expect.get_untracked(),
        };
        match case.problem() {
            Some((field, message)) => problem.set(Some(format!("{field}: {message}"))),
            None => on_save.run(case),
        }
    };
    view! {
        <form class="console-form" on:submit=submit novalidate data-testid="case-form">
            <label for="case-name">"Name"</label>
            <input id="case-name" type="text" prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e)) />
            <label for="case-scenario">"Scenario"</label>
            <select id="case-scenario" prop:value=move || scenario.get() on:change=move |e| scenario.set(event_target_value(&e))>
                {CONSOLE_SCENARIOS.iter().map(|id| view! { <option value=*id>{*id}</option> }).collect_view()}
            </select>
            <label for="case-phone">"Number"</label>
            <input id="case-phone" type="text" prop:value=move || phone.get() on:input=move |e| phone.set(event_target_value(&e)) />
            <span>"Expects"</span>
            <ul class="plain">
                {move || expect.get().into_iter().map(|e| view! { <li>{e.describe()}</li> }).collect_view()}
            </ul>
            <label for="case-kind">"Add"</label>
            <div class="form-inline">
                <select id="case-kind" prop:value=move || kind.get() on:change=move |e| kind.set(event_target_value(&e))>
                    {KINDS.iter().map(|(id, label, _, _)| view! { <option value=*id>{*label}</option> }).collect_view()}
                </select>
                {move || shape().is_some_and(|k| k.2).then(|| view! {
                    <input type="text" aria-label="Output or path" placeholder="ContactsId" prop:value=move || subject.get() on:input=move |e| subject.set(event_target_value(&e)) />
                })}
                {move || shape().is_some_and(|k| k.3).then(|| view! {
                    <input type="text" aria-label="Value" placeholder="value" prop:value=move || value.get() on:input=move |e| value.set(event_target_value(&e)) />
                })}
                <button class="button" type="button" on:click=add>"Add"</button>
            </div>
            {move || problem.get().map(|p| view! { <p class="notice notice-error" role="alert">{p}</p> })}
            <div class="form-actions">
                <button class="button button-primary" type="submit">"Save case"</button>
            </div>
        </form>
    }
}

/// The account an integration's notifications go to (administrators change it) and the
/// ones it sent.
#[component]
pub fn NotificationsSection(
    provider: Provider,
    key: String,
    owner: Option<String>,
) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let is_admin = viewer.is_admin();
    let key = StoredValue::new(key);
    let change = ServerAction::<SetIntegrationOwner>::new();
    let owner_typed = RwSignal::new(owner.clone().unwrap_or_default());
    let shown_owner = RwSignal::new(owner);
    Effect::new(move |_| match change.value().get() {
        Some(Ok(())) => {
            shown_owner.set(Some(owner_typed.get_untracked()));
            toasts.success("Owner changed.".to_string());
        }
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    let sent = page_data(
        || (),
        move |_| load_notifications(provider.as_str().to_string(), key.get_value()),
    );
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        change.dispatch(SetIntegrationOwner {
            csrf_token: csrf_token.get_value(),
            provider: provider.as_str().to_string(),
            key: key.get_value(),
            email: owner_typed.get_untracked(),
        });
    };
    view! {
        <section class="card" aria-labelledby="notify-title">
            <h2 id="notify-title">"Notifications"</h2>
            <p data-testid="owner">
                {move || match shown_owner.get() {
                    Some(owner) => format!("Sent to its owner, {owner}, when its token is refused or about to expire, an output drifts, or failed jobs pile up; at most once an hour each."),
                    None => "No owner: notifications go to every administrator.".to_string(),
                }}
            </p>
            {is_admin.then(|| view! {
                <form class="form-inline" on:submit=submit>
                    <label for="owner-email">"Owner (an account's e-mail)"</label>
                    <input id="owner-email" type="email" prop:value=move || owner_typed.get() on:input=move |e| owner_typed.set(event_target_value(&e)) />
                    <button class="button" type="submit" disabled=move || change.pending().get()>"Change owner"</button>
                </form>
            })}
            <Loaded resource=sent loading="Loading…" then=|view| view! { <NotificationList rows=view.recent /> } />
        </section>
    }
}
