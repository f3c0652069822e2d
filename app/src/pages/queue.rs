//! Activity › Queue (README "Call events"): the call queue's jobs with their call, step,
//! attempts and last error, and the count in each state; an administrator may retry a
//! failed job or discard it, after a confirmation.

use leptos::prelude::*;

use crate::activity::{QueueJob, QUEUE_PAGE_ROWS};
use crate::api::queue::{list_queue, DiscardQueueJob, RetryQueueJob};
use crate::components::confirm::{ConfirmDialog, ConfirmRequest};
use crate::components::loaded::Loaded;
use crate::components::page_data::page_data;
use crate::components::pager::Pager;
use crate::components::toast::use_toasts;
use crate::viewer::Viewer;

/// What the confirmation is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Retry(i32),
    Discard(i32),
}

#[component]
pub fn QueueSection() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let is_admin = viewer.is_admin();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let state = RwSignal::new(String::new());
    let offset = RwSignal::new(0u64);
    let retry = ServerAction::<RetryQueueJob>::new();
    let discard = ServerAction::<DiscardQueueJob>::new();
    let confirm = RwSignal::new(None::<ConfirmRequest>);
    let pending = StoredValue::new(None::<Pending>);
    for (action, done) in [
        (retry.value(), "The job will be tried again now."),
        (discard.value(), "The job is discarded."),
    ] {
        Effect::new(move |_| match action.get() {
            Some(Ok(())) => toasts.success(done),
            Some(Err(error)) => toasts.error(error.to_string()),
            None => {}
        });
    }
    let jobs = page_data(
        move || {
            (
                state.get(),
                offset.get(),
                retry.version().get(),
                discard.version().get(),
            )
        },
        |(state, offset, _, _)| list_queue(state, offset),
    );
    let ask = move |job: &QueueJob, what: Pending| {
        pending.set_value(Some(what));
        let (title, message, label) = match what {
            Pending::Retry(_) => (
                "Try the job again?",
                format!(
                    "The {} of call {} in {} is sent again now.",
                    job.step, job.call_id, job.integration
                ),
                "Retry",
            ),
            Pending::Discard(_) => (
                "Discard the job?",
                format!(
                    "The {} of call {} in {} is never sent. It stays listed as discarded.",
                    job.step, job.call_id, job.integration
                ),
                "Discard",
            ),
        };
        confirm.set(Some(ConfirmRequest {
            title: title.into(),
            message,
            confirm_label: label.into(),
        }));
    };
    let on_confirm = move |_| match pending.get_value() {
        Some(Pending::Retry(id)) => {
            retry.dispatch(RetryQueueJob {
                csrf_token: csrf_token.get_value(),
                id,
            });
        }
        Some(Pending::Discard(id)) => {
            discard.dispatch(DiscardQueueJob {
                csrf_token: csrf_token.get_value(),
                id,
            });
        }
        None => {}
    };
    view! {
        <section class="card" aria-labelledby="queue-title">
            <h2 id="queue-title">"Queue"</h2>
            <p class="help">"Work from call events: each step of a call per integration. Failed steps stay here until they are retried or discarded."</p>
            <Loaded resource=jobs loading="Loading the queue…" then=move |page| {
                    let (first, shown, total) = (page.offset, page.jobs.len(), page.total);
                    view! {
                        <div class="filters" data-testid="queue-counts">
                            <label for="queue-state">"State"</label>
                            <select id="queue-state" prop:value=move || state.get()
                                on:change=move |e| { state.set(event_target_value(&e)); offset.set(0); }>
                                <option value="">"Open (pending, running, failed)"</option>
                                {page.counts.iter().map(|(name, count)| view! {
                                    <option value=name.clone()>{format!("{name} ({count})")}</option>
                                }).collect_view()}
                            </select>
                            {page.counts.iter().map(|(name, count)| view! {
                                <span class="tag" data-state=name.clone()>{format!("{name}: {count}")}</span>
                            }).collect_view()}
                        </div>
                        {if page.jobs.is_empty() {
                            view! { <p class="empty">"Nothing waiting."</p> }.into_any()
                        } else {
                            view! {
                                <table class="table" data-testid="queue">
                                    <thead><tr><th>"Call"</th><th>"Integration"</th><th>"Step"</th><th>"State"</th><th>"Attempts"</th><th>"Last error"</th>{is_admin.then(|| view! { <th>"Actions"</th> })}</tr></thead>
                                    <tbody>
                                        {page.jobs.into_iter().map(|job| {
                                            let failed = job.state == "failed";
                                            let for_retry = job.clone();
                                            let for_discard = job.clone();
                                            let fault = job.fault.map(|f| format!("{}: ", f.label())).unwrap_or_default();
                                            let error = if job.retaken {
                                                format!("{} (taken over after a server stopped: may have been sent twice)", job.last_error).trim().to_owned()
                                            } else {
                                                job.last_error.clone()
                                            };
                                            view! {
                                                <tr data-job=job.id.to_string() data-state=job.state.clone()>
                                                    <td>{job.call_id.clone()}<br /><span class="help">{job.call.clone()}</span></td>
                                                    <td>{job.integration.clone()}</td>
                                                    <td>{job.step.clone()}</td>
                                                    <td>{job.state.clone()}</td>
                                                    <td>{job.attempts}</td>
                                                    <td class="error-cell">{(!error.is_empty()).then_some(fault)}{error}</td>
                                                    {is_admin.then(|| view! {
                                                        <td>{failed.then(|| view! {
                                                            <div class="actions">
                                                                <button class="button button-small" type="button" on:click=move |_| ask(&for_retry, Pending::Retry(for_retry.id))>"Retry"</button>
                                                                <button class="button button-small button-danger" type="button" on:click=move |_| ask(&for_discard, Pending::Discard(for_discard.id))>"Discard"</button>
                                                            </div>
                                                        })}</td>
                                                    })}
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <Pager offset=first shown=shown total=total page_rows=QUEUE_PAGE_ROWS set_offset=offset />
                            }.into_any()
                        }}
                    }.into_any()
                }
            />
            <ConfirmDialog request=confirm on_confirm=on_confirm />
        </section>
    }
}
