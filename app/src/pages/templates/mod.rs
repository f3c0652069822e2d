//! Templates › CRM and Templates › Helpdesk: the list of a provider's
//! templates with upload, download and delete (README "Templates REST API").

#[cfg(feature = "hydrate")]
mod browser;
mod editor;
mod gallery;
mod history;

pub use editor::TemplateEditorPage;
pub use history::TemplateHistoryPage;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::integrations::ApplyTemplate;
use crate::api::templates::{list_templates, DeleteTemplates};
use crate::components::confirm::{ConfirmDialog, ConfirmRequest};
use crate::components::frame::Frame;
use crate::components::loaded::Loaded;
use crate::components::page_data::page_data;
use crate::components::test_run::TestRunReport;
use crate::components::toast::use_toasts;
use crate::template::model::Provider;
use crate::template::{TemplateSummary, UploadOutcome, MAX_TEMPLATES_PER_PROVIDER};
use crate::test_cases::{ApplyResult, TestRun};
use crate::viewer::Viewer;

pub(crate) fn provider_label(provider: Provider) -> &'static str {
    match provider {
        Provider::Crm => "CRM",
        Provider::Helpdesk => "Helpdesk",
    }
}

/// `2026-11-21 20:45 UTC` from Unix seconds.
pub(crate) fn format_time(seconds: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(seconds) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => String::new(),
    }
}

/// [`format_time`] from Unix milliseconds.
pub(crate) fn format_time_ms(ms: i64) -> String {
    format_time(ms.div_euclid(1000))
}

fn api_path(provider: Provider) -> String {
    format!("/api/v1/templates/{}", provider.as_str())
}

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let params = use_params_map();
    let provider = move || params.with(|p| p.get("provider").and_then(|p| Provider::parse(&p)));
    view! {
        <Frame>
            {move || match provider() {
                Some(provider) if viewer.is_admin() => {
                    view! { <TemplateList provider /> }.into_any()
                }
                Some(_) => {
                    view! {
                        <Title text="Templates" />
                        <h1>"Templates"</h1>
                        <p class="notice">"Only administrators can manage templates."</p>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <Title text="Templates" />
                        <h1>"Templates"</h1>
                        <p class="notice" role="alert">"There are CRM and Helpdesk templates only."</p>
                    }
                        .into_any()
                }
            }}
        </Frame>
    }
}

/// What a pending confirmation will do.
#[derive(Clone)]
enum Pending {
    /// The first confirmation; `in_use` names the templates integrations use, which get a
    /// second confirmation.
    Delete {
        keys: Vec<String>,
        in_use: Vec<String>,
    },
    /// The second confirmation: integrations are disconnected first.
    DeleteDisconnecting(Vec<String>),
    Replace {
        file: String,
        key: String,
    },
    Apply(String),
    /// Apply although test cases failed against the new revision.
    ApplyAnyway(String),
}

#[component]
fn TemplateList(provider: Provider) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let label = provider_label(provider);

    let delete = ServerAction::<DeleteTemplates>::new();
    let apply = ServerAction::<ApplyTemplate>::new();
    let uploads_done = RwSignal::new(0u32);
    let templates = page_data(
        move || {
            (
                delete.version().get(),
                apply.version().get(),
                uploads_done.get(),
            )
        },
        move |_| list_templates(provider.as_str().to_string()),
    );
    let selected = RwSignal::new(Vec::<String>::new());
    let upload_results = RwSignal::new(Vec::<UploadOutcome>::new());
    let uploading = RwSignal::new(false);
    let confirm = RwSignal::new(None::<ConfirmRequest>);
    let pending = StoredValue::new(None::<Pending>);
    // The key of the template whose Apply was last sent.
    let pending_apply = StoredValue::new(String::new());

    Effect::new(move |_| match delete.value().get() {
        Some(Ok(count)) => {
            selected.set(Vec::new());
            toasts.success(if count == 1 {
                "Template deleted.".to_string()
            } else {
                format!("{count} templates deleted.")
            });
        }
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    // Apply stopped by failing test cases: the template's key and the run.
    let stopped = RwSignal::new(None::<(String, TestRun)>);
    Effect::new(move |_| match apply.value().get() {
        Some(Ok(ApplyResult {
            applied: Some(revision),
            tests,
            overridden,
        })) => {
            stopped.set(None);
            let tested = match (&tests, overridden) {
                (Some(_), true) => " Test cases failed; applying anyway was recorded.".to_string(),
                (Some(run), false) => format!(" Its {} test cases passed.", run.results.len()),
                (None, _) => String::new(),
            };
            toasts.success(format!(
                "The integration now runs revision {revision}.{tested}"
            ))
        }
        Some(Ok(ApplyResult {
            applied: None,
            tests: Some(run),
            ..
        })) => {
            let key = pending_apply.get_value();
            stopped.set(Some((key, run)));
        }
        Some(Ok(_)) => {}
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });

    let ask_delete = move |chosen: Vec<TemplateSummary>| {
        if chosen.is_empty() {
            return;
        }
        let names: Vec<String> = chosen
            .iter()
            .map(|t| format!("\u{201c}{}\u{201d}", t.name))
            .collect();
        pending.set_value(Some(Pending::Delete {
            keys: chosen.iter().map(|t| t.key.clone()).collect(),
            in_use: chosen
                .iter()
                .filter(|t| t.in_use.is_some())
                .map(|t| format!("\u{201c}{}\u{201d}", t.name))
                .collect(),
        }));
        confirm.set(Some(ConfirmRequest {
            title: if chosen.len() == 1 {
                "Delete template?".into()
            } else {
                format!("Delete {} templates?", chosen.len())
            },
            message: format!(
                "{} will be deleted. This cannot be undone.",
                names.join(", ")
            ),
            confirm_label: "Delete".into(),
        }));
    };

    let chosen_templates = move || {
        let keys = selected.get_untracked();
        templates
            .get_untracked()
            .and_then(|r| r.ok())
            .unwrap_or_default()
            .into_iter()
            .filter(|t| keys.contains(&t.key))
            .collect::<Vec<_>>()
    };

    // The files last picked, kept for a confirmed replacement (the input is
    // re-rendered with the list). Browser objects: local storage, and only in
    // the browser (a local value dropped on another server thread panics).
    #[cfg(feature = "hydrate")]
    let picked = StoredValue::new_local(Vec::<web_sys::File>::new());
    #[cfg(not(feature = "hydrate"))]
    let picked = ();
    let send_upload = move |replace: Vec<String>, only: Option<String>| {
        #[cfg(feature = "hydrate")]
        {
            let mut files = picked.get_value();
            if let Some(only) = &only {
                files.retain(|f| &f.name() == only);
            }
            if files.is_empty() {
                return;
            }
            uploading.set(true);
            let token = csrf_token.get_value();
            leptos::task::spawn_local(async move {
                let outcome = browser::upload(provider.as_str(), &token, &files, &replace).await;
                uploading.set(false);
                match outcome {
                    Ok(results) => {
                        if only.is_some() {
                            // A confirmed replacement: update that file's line.
                            upload_results.update(|all| {
                                for new in results {
                                    match all.iter_mut().find(|r| r.file == new.file) {
                                        Some(old) => *old = new,
                                        None => all.push(new),
                                    }
                                }
                            });
                        } else {
                            upload_results.set(results);
                        }
                        uploads_done.update(|n| *n += 1);
                    }
                    Err(message) => toasts.error(message),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (
            replace,
            only,
            uploading,
            upload_results,
            uploads_done,
            picked,
        );
    };
    let on_pick = move |event: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let input = event_target::<web_sys::HtmlInputElement>(&event);
            picked.set_value(browser::picked_files(&input));
            // Picking the same file again must fire `change` again.
            input.set_value("");
            send_upload(Vec::new(), None);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = event;
    };

    let download = move |keys: Vec<String>| {
        let url = match keys.as_slice() {
            [] => return,
            [one] => format!("{}/{}?format=xml", api_path(provider), one),
            several => format!(
                "{}?format=zip&keys={}",
                api_path(provider),
                several.join(",")
            ),
        };
        #[cfg(feature = "hydrate")]
        browser::download(&url);
        #[cfg(not(feature = "hydrate"))]
        let _ = url;
    };

    let send_apply = move |key: String, anyway: bool| {
        pending_apply.set_value(key.clone());
        apply.dispatch(ApplyTemplate {
            csrf_token: csrf_token.get_value(),
            provider: provider.as_str().to_string(),
            key,
            anyway,
        });
    };
    let on_confirm = move |_| match pending.get_value() {
        Some(Pending::Delete { keys, in_use }) if !in_use.is_empty() => {
            pending.set_value(Some(Pending::DeleteDisconnecting(keys)));
            confirm.set(Some(ConfirmRequest {
                title: "Disconnect and delete?".into(),
                message: format!(
                    "{} {} used by an integration. Deleting disconnects {} first: calls stop reaching the CRM through {}.",
                    in_use.join(", "),
                    if in_use.len() == 1 { "is" } else { "are" },
                    if in_use.len() == 1 { "it" } else { "them" },
                    if in_use.len() == 1 { "it" } else { "them" },
                ),
                confirm_label: "Disconnect and delete".into(),
            }));
        }
        Some(Pending::Delete { keys, .. }) => {
            delete.dispatch(DeleteTemplates {
                csrf_token: csrf_token.get_value(),
                provider: provider.as_str().to_string(),
                keys,
                disconnect: false,
            });
        }
        Some(Pending::DeleteDisconnecting(keys)) => {
            delete.dispatch(DeleteTemplates {
                csrf_token: csrf_token.get_value(),
                provider: provider.as_str().to_string(),
                keys,
                disconnect: true,
            });
        }
        Some(Pending::Apply(key)) => send_apply(key, false),
        Some(Pending::ApplyAnyway(key)) => send_apply(key, true),
        Some(Pending::Replace { file, key }) => send_upload(vec![key], Some(file)),
        None => {}
    };

    let ask_apply = move |template: TemplateSummary| {
        let running = template.in_use.as_ref().map_or(0, |u| u.running_revision);
        pending.set_value(Some(Pending::Apply(template.key.clone())));
        confirm.set(Some(ConfirmRequest {
            title: "Apply to the integration?".into(),
            message: format!(
                "The integration using \u{201c}{}\u{201d} runs revision {running}. It will run revision {} from its next request on.",
                template.name, template.revision
            ),
            confirm_label: "Apply".into(),
        }));
    };

    let ask_replace = move |outcome: UploadOutcome| {
        let Some(key) = outcome.key.clone() else {
            return;
        };
        pending.set_value(Some(Pending::Replace {
            file: outcome.file.clone(),
            key: key.clone(),
        }));
        confirm.set(Some(ConfirmRequest {
            title: "Replace template?".into(),
            message: format!(
                "The stored template with the key {key} will be replaced by {}. This cannot be undone.",
                outcome.file
            ),
            confirm_label: "Replace".into(),
        }));
    };

    let full_reason = format!(
        "{label} has the maximum of {MAX_TEMPLATES_PER_PROVIDER} templates; delete one to add another."
    );
    let new_href = format!("/templates/{}/new", provider.as_str());

    view! {
        <Title text=format!("{label} templates") />
        <Loaded resource=templates loading="Loading templates…" then=move |list| {
                let new_href = new_href.clone();
                let full_reason = full_reason.clone();
                    let count = list.len();
                    let full = count >= MAX_TEMPLATES_PER_PROVIDER;
                    let add = if full {
                        view! {
                            <button class="button button-primary" disabled aria-describedby="limit-reason">
                                "Add"
                            </button>
                        }
                            .into_any()
                    } else {
                        view! { <a class="button button-primary" href=new_href>"Add"</a> }.into_any()
                    };
                    let body = if list.is_empty() {
                        view! {
                            <div class="card empty-state">
                                <h2>{format!("No {label} templates yet")}</h2>
                                <p>
                                    "Add one with the editor, or upload a Yeastar P-Series template file (.xml). "
                                    {format!("Up to {MAX_TEMPLATES_PER_PROVIDER} templates.")}
                                </p>
                            </div>
                        }
                            .into_any()
                    } else {
                        let on_delete = Callback::new(move |t: TemplateSummary| ask_delete(vec![t]));
                        let on_download = Callback::new(move |key: String| download(vec![key]));
                        let on_apply = Callback::new(ask_apply);
                        view! { <TemplateTable provider list selected on_delete on_download on_apply /> }.into_any()
                    };
                    view! {
                        <div class="page-head">
                            <h1>"Templates › " {label}</h1>
                            <span class="counter" data-testid="template-counter" title="Templates used of the limit">
                                {format!("{count} / {MAX_TEMPLATES_PER_PROVIDER}")}
                            </span>
                        </div>
                        <div class="toolbar" role="toolbar" aria-label="Template actions">
                            {add}
                            <label class="button" class:button-disabled=full aria-disabled=full.to_string()>
                                "Upload"
                                <input
                                    class="visually-hidden"
                                    type="file"
                                    accept=".xml,application/xml,text/xml"
                                    multiple
                                    disabled=full
                                    aria-describedby="upload-help"
                                    on:change=on_pick
                                />
                            </label>
                            <button
                                class="button"
                                disabled=move || selected.with(Vec::is_empty)
                                on:click=move |_| download(selected.get_untracked())
                            >
                                "Download"
                            </button>
                            <button
                                class="button button-danger"
                                disabled=move || selected.with(Vec::is_empty)
                                on:click=move |_| ask_delete(chosen_templates())
                            >
                                "Delete"
                            </button>
                            <span class="help" id="upload-help">".xml files, at most 1 MiB each"</span>
                        </div>
                        {full.then(|| view! { <p class="notice" id="limit-reason" role="status">{full_reason}</p> })}
                        <gallery::GallerySection
                            provider
                            full
                            on_added=Callback::new(move |_| uploads_done.update(|n| *n += 1))
                        />
                        {body}
                    }
                        .into_any()
                }
        />
        <Show when=move || uploading.get()>
            <p role="status">"Uploading…"</p>
        </Show>
        <UploadResults results=upload_results on_replace=Callback::new(ask_replace) />
        {move || {
            stopped
                .get()
                .map(|(key, run)| {
                    let ask_anyway = move |_| {
                        pending.set_value(Some(Pending::ApplyAnyway(key.clone())));
                        confirm.set(Some(ConfirmRequest {
                            title: "Apply although test cases fail?".into(),
                            message: "The integration will run the new revision although its test cases fail against it. Activity records who applied it.".into(),
                            confirm_label: "Apply anyway".into(),
                        }));
                    };
                    view! {
                        <section class="card" aria-labelledby="apply-stopped" data-testid="apply-stopped">
                            <h2 id="apply-stopped">"Apply stopped"</h2>
                            <TestRunReport run />
                            <div class="toolbar">
                                <button class="button button-danger" on:click=ask_anyway>"Apply anyway"</button>
                                <button class="button" on:click=move |_| stopped.set(None)>"Close"</button>
                            </div>
                        </section>
                    }
                })
        }}
        <ConfirmDialog request=confirm on_confirm />
    }
}

/// The "In use" cell: the integration's status, and Apply when it runs an older revision.
fn in_use_cell(template: &TemplateSummary, on_apply: Callback<TemplateSummary>) -> AnyView {
    let Some(usage) = template.in_use.clone() else {
        return view! {
            <span class="status status-off" title="No integration uses this template">"Not in use"</span>
        }
        .into_any();
    };
    let stale = usage.running_revision < template.revision;
    let for_apply = template.clone();
    let name = template.name.clone();
    view! {
        <span class=format!("status status-{}", usage.status.as_str()) title=format!("Integration: {}", usage.status.label())>
            "In use · " {usage.status.label()}
        </span>
        {stale.then(|| view! {
            <span class="help">{format!(" runs revision {} of {}", usage.running_revision, for_apply.revision)}</span>
            <button
                class="button button-small"
                aria-label=format!("Apply {name} to its integration")
                on:click=move |_| on_apply.run(for_apply.clone())
            >
                "Apply"
            </button>
        })}
    }
    .into_any()
}

#[component]
fn TemplateTable(
    provider: Provider,
    list: Vec<TemplateSummary>,
    selected: RwSignal<Vec<String>>,
    on_delete: Callback<TemplateSummary>,
    on_download: Callback<String>,
    on_apply: Callback<TemplateSummary>,
) -> impl IntoView {
    let all_keys: Vec<String> = list.iter().map(|t| t.key.clone()).collect();
    let all_for_toggle = all_keys.clone();
    let all_selected = move || {
        let chosen = selected.get();
        !all_keys.is_empty() && all_keys.iter().all(|k| chosen.contains(k))
    };
    let rows = list
        .into_iter()
        .map(|t| {
            let key = t.key.clone();
            let key_for_check = key.clone();
            let key_for_toggle = key.clone();
            let key_for_download = key.clone();
            let checked = move || selected.with(|s| s.contains(&key_for_check));
            let edit_href = format!("/templates/{}/{}/edit", provider.as_str(), t.key);
            let history_href = format!("/templates/{}/{}/history", provider.as_str(), t.key);
            let logo = format!("{}/{}?format=logo", api_path(provider), t.key);
            let for_delete = t.clone();
            let name = t.name.clone();
            view! {
                <tr data-key=key.clone()>
                    <td>
                        <input
                            type="checkbox"
                            aria-label=format!("Select {name}")
                            prop:checked=checked
                            on:change=move |_| {
                                selected.update(|s| {
                                    if let Some(i) = s.iter().position(|k| *k == key_for_toggle) {
                                        s.remove(i);
                                    } else {
                                        s.push(key_for_toggle.clone());
                                    }
                                })
                            }
                        />
                    </td>
                    <td><img class="logo" src=logo alt="" width="32" height="32" /></td>
                    <td><a href=edit_href.clone()>{t.name.clone()}</a></td>
                    <td class="remark">{t.remark.clone()}</td>
                    <td>{t.version.clone()}</td>
                    <td><code>{t.key.clone()}</code></td>
                    <td>{format_time(t.updated_at)}</td>
                    <td>
                        {in_use_cell(&t, on_apply)}
                    </td>
                    <td>
                        <div class="actions">
                            <a class="button button-small" href=edit_href aria-label=format!("Edit {}", t.name)>"Edit"</a>
                            <a class="button button-small" href=history_href aria-label=format!("History of {}", t.name)>"History"</a>
                            <button
                                class="button button-small"
                                aria-label=format!("Download {}", t.name)
                                on:click=move |_| on_download.run(key_for_download.clone())
                            >
                                "Download"
                            </button>
                            <button
                                class="button button-small button-danger"
                                aria-label=format!("Delete {}", t.name)
                                on:click=move |_| on_delete.run(for_delete.clone())
                            >
                                "Delete"
                            </button>
                        </div>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" aria-label="Templates">
            <thead>
                <tr>
                    <th scope="col">
                        <input
                            type="checkbox"
                            aria-label="Select all"
                            prop:checked=all_selected
                            on:change=move |_| {
                                let everything = all_for_toggle.clone();
                                selected.update(|s| {
                                    if everything.iter().all(|k| s.contains(k)) {
                                        s.clear();
                                    } else {
                                        *s = everything;
                                    }
                                })
                            }
                        />
                    </th>
                    <th scope="col">"Logo"</th>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Remark"</th>
                    <th scope="col">"Version"</th>
                    <th scope="col">"Key"</th>
                    <th scope="col">"Last change"</th>
                    <th scope="col">"In use"</th>
                    <th scope="col">"Actions"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// One line per uploaded file: stored, replaced, waiting for a confirmation
/// to replace, or refused with the reason (and `line:column`).
#[component]
fn UploadResults(
    results: RwSignal<Vec<UploadOutcome>>,
    on_replace: Callback<UploadOutcome>,
) -> impl IntoView {
    view! {
        <Show when=move || results.with(|r| !r.is_empty())>
            <section class="card upload-results" aria-label="Upload results">
                <h2>"Upload results"</h2>
                <ul>
                    {move || {
                        results
                            .get()
                            .into_iter()
                            .map(|r| {
                                let status_text = match r.status.as_str() {
                                    "stored" => "Stored",
                                    "replaced" => "Replaced",
                                    "exists" => "Key exists",
                                    _ => "Refused",
                                };
                                let class = match r.status.as_str() {
                                    "stored" | "replaced" => "status status-on",
                                    "exists" => "status status-warn",
                                    _ => "status status-error",
                                };
                                let detail = r.message.clone().unwrap_or_else(|| {
                                    r.name.clone().map(|n| format!("{n} ({})", r.key.clone().unwrap_or_default())).unwrap_or_default()
                                });
                                let warnings = r.findings.len();
                                let for_replace = r.clone();
                                view! {
                                    <li data-file=r.file.clone() data-status=r.status.clone()>
                                        <strong>{r.file.clone()}</strong>
                                        " "
                                        <span class=class>{status_text}</span>
                                        " "
                                        <span class="detail">{detail}</span>
                                        {(warnings > 0 && r.status != "refused").then(|| view! { <span class="help">{format!(" {warnings} warning(s)")}</span> })}
                                        {(r.status == "exists").then(|| view! {
                                            " "
                                            <button class="button button-small" on:click=move |_| on_replace.run(for_replace.clone())>
                                                "Replace…"
                                            </button>
                                        })}
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </section>
        </Show>
    }
}
