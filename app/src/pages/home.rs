//! Overview (`/`, README "Overview"): the setup checklist of a deployment, each step linking
//! to its page; then each connected integration's health over the last 24 hours and the
//! queue; for administrators, the accounts.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::activity::latency_label;
use crate::api::notifications::{load_notifications, SendTestNotification};
use crate::api::overview::load_overview;
use crate::components::frame::Frame;
use crate::components::loaded::Loaded;
use crate::components::notifications::NotificationList;
use crate::components::page_data::page_data;
use crate::components::toast::use_toasts;
use crate::overview::{HealthCard, Overview};
use crate::viewer::Viewer;

#[component]
pub fn HomePage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let (email, role) = viewer
        .user
        .as_ref()
        .map(|u| (u.email.clone(), u.role.as_str()))
        .unwrap_or_default();
    let overview = page_data(|| (), |_| load_overview());
    let admin_hint = viewer.is_admin().then(|| {
        view! {
            <section class="card">
                <h2>"Accounts"</h2>
                <p>
                    "Create accounts for the people who connect integrations, disable them when they leave, and reset forgotten passwords."
                </p>
                <a class="button button-primary" href="/accounts">
                    "Manage accounts"
                </a>
            </section>
        }
    });
    view! {
        <Title text="Overview" />
        <Frame>
            <h1>"Overview"</h1>
            <p class="lead">
                "Signed in as " <strong>{email}</strong> " (" {role} ")."
            </p>
            <Loaded resource=overview loading="Loading the overview…" then=move |overview| view! { <Dashboard overview /> } />
            {viewer.is_admin().then(|| view! { <NotificationsCard /> })}
            {admin_hint}
        </Frame>
    }
}

#[component]
fn Dashboard(overview: Overview) -> impl IntoView {
    let open = overview.steps.iter().filter(|s| !s.done).count();
    let summary = if open == 0 {
        "Set up: every step is done.".to_string()
    } else {
        format!("{open} of {} setup steps to go.", overview.steps.len())
    };
    let queue = overview
        .queue
        .iter()
        .map(|(state, n)| format!("{state} {n}"))
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <section class="card" aria-labelledby="setup-title" data-testid="setup">
            <h2 id="setup-title">"Setup"</h2>
            <p role="status">{summary}</p>
            <ol class="checklist">
                {overview.steps.into_iter().map(|step| {
                    let (mark, label) = if step.done { ("\u{2713}", "done") } else { ("\u{25cb}", "to do") };
                    view! {
                        <li class:done=step.done data-done=step.done.to_string()>
                            <span class="check" aria-label=label>{mark}</span>
                            " "
                            <a href=step.href>{step.title}</a>
                            <span class="help">" \u{2014} " {step.detail}</span>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
        {(!overview.cards.is_empty()).then(|| view! {
            <h2>"Integrations"</h2>
            <div class="cards">
                {overview.cards.into_iter().map(|card| view! { <Card card /> }).collect_view()}
            </div>
        })}
        <section class="card" aria-labelledby="queue-title">
            <h2 id="queue-title">"Queue"</h2>
            <p>{if queue.is_empty() { "Empty.".to_string() } else { queue }}</p>
            <a href="/activity">"Activity and the queue"</a>
        </section>
    }
}

#[component]
fn Card(card: HealthCard) -> impl IntoView {
    let href = super::integrations::settings_href(card.provider, &card.key);
    let health = card.health;
    let failed = health.failed();
    let failures = health
        .failures
        .iter()
        .map(|(fault, n)| format!("{} {n}", fault.label()))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <section class="card health-card" data-testid="health-card">
            <h3><a href=href>{card.name}</a></h3>
            <p><span class=format!("status status-{}", card.status.as_str())>{card.status.label()}</span></p>
            {health.drift.iter().map(|flag| view! { <p class="notice notice-error">{"Drift: "}{flag.message()}</p> }).collect_view()}
            <dl class="facts">
                <dt>"24 hours"</dt>
                <dd>{format!("{} succeeded, {failed} failed", health.successes)}{(failed > 0).then(|| format!(" ({failures})"))}</dd>
                <dt>"CRM latency"</dt>
                <dd>{format!("median {}, p95 {}", latency_label(health.median_ms), latency_label(health.p95_ms))}</dd>
                <dt>"Queue"</dt>
                <dd>{format!("{} waiting, {} failed", health.backlog, health.failed_jobs)}</dd>
            </dl>
        </section>
    }
}

/// Where notifications go, Send a test, and the last ones (administrators).
#[component]
fn NotificationsCard() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let test = ServerAction::<SendTestNotification>::new();
    let sent = page_data(
        move || test.version().get(),
        |_| load_notifications(String::new(), String::new()),
    );
    Effect::new(move |_| match test.value().get() {
        Some(Ok(delivery)) => toasts.success(format!("Test sent: {delivery}.")),
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    view! {
        <section class="card" aria-labelledby="notifications-title">
            <h2 id="notifications-title">"Notifications"</h2>
            <Loaded resource=sent loading="Loading…" then=move |view| {
                let channels = if view.channels.is_empty() {
                    "Nowhere yet: set PATCHBAY_SMTP_URL and PATCHBAY_SMTP_FROM, or PATCHBAY_NOTIFY_WEBHOOK_URL (README \u{201c}Notifications\u{201d}).".to_string()
                } else {
                    format!("Sent by {}.", view.channels.join(" and "))
                };
                view! {
                    <p data-testid="channels">{channels}</p>
                    <NotificationList rows=view.recent />
                }
            } />
            <button class="button" on:click=move |_| { test.dispatch(SendTestNotification { csrf_token: csrf_token.get_value() }); } disabled=move || test.pending().get()>
                "Send a test"
            </button>
        </section>
    }
}
