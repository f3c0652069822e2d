//! One integration's settings page: its status, the Authentication fields (and for OAuth
//! 2.0 the Network and Authorization sections), Save (which connects) and Disconnect; once
//! connected, User Association, Features, Health, Revision and Notifications. The test cases
//! and the test console are on the Tests page (`testing.rs`).
//! A stored secret is never sent here: its field says "Set" and offers Replace.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use leptos_meta::Title;

use super::features::FeaturesSection;
use super::phonebook::PhonebookSection;
use super::production::{HealthSection, NotificationsSection, RevisionSection};
use super::users::UsersSection;
use super::{IntegrationPage, IntegrationTabs};
use crate::api::integrations::{
    load_integration_settings, CheckIntegration, DisconnectIntegration, SaveIntegration,
};
use crate::components::confirm::{ConfirmDialog, ConfirmRequest};
use crate::components::loaded::Loaded;
use crate::components::page_data::page_data;
use crate::components::toast::use_toasts;
use crate::integrations::{
    FieldKind, IntegrationSettings, NetworkInfo, SettingField, SettingsInput, Status,
};
use crate::pages::templates::{format_time, provider_label};
use crate::template::model::Provider;
use crate::viewer::Viewer;

#[component]
pub fn IntegrationSettingsPage() -> impl IntoView {
    super::integration_page(|provider, key| view! { <SettingsView provider key /> }.into_any())
}

/// What the form holds while it is edited: a value per field, and which stored secrets
/// the user chose to replace.
#[derive(Clone, Copy)]
struct Editing {
    values: RwSignal<BTreeMap<String, String>>,
    replacing: RwSignal<BTreeSet<String>>,
}

#[component]
fn SettingsView(provider: Provider, key: String) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let save = ServerAction::<SaveIntegration>::new();
    let disconnect = ServerAction::<DisconnectIntegration>::new();
    let check = ServerAction::<CheckIntegration>::new();
    let key_for_load = key.clone();
    // Reloaded after a successful change only: a refused Save keeps what was typed.
    let reloads = RwSignal::new(0u32);
    let settings = page_data(
        move || reloads.get(),
        move |_| load_integration_settings(provider.as_str().to_string(), key_for_load.clone()),
    );
    let editing = Editing {
        values: RwSignal::new(BTreeMap::new()),
        replacing: RwSignal::new(BTreeSet::new()),
    };
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let reload = Callback::new(move |()| reloads.update(|n| *n += 1));
    Effect::new(move |_| match save.value().get() {
        Some(Ok(saved)) if saved.authorize_url.is_some() => {
            // OAuth 2.0: on to the CRM's consent page; its callback comes back here.
            outcome.set(Some(Ok(saved.message)));
            #[cfg(feature = "hydrate")]
            if let (Some(window), Some(url)) = (web_sys::window(), saved.authorize_url) {
                let _ = window.location().set_href(&url);
            }
        }
        Some(Ok(saved)) => {
            editing.replacing.set(BTreeSet::new());
            reloads.update(|n| *n += 1);
            toasts.success(saved.message.clone());
            outcome.set(Some(Ok(saved.message)));
        }
        Some(Err(error)) => outcome.set(Some(Err(error.to_string()))),
        None => {}
    });
    Effect::new(move |_| match disconnect.value().get() {
        Some(Ok(message)) => {
            outcome.set(None);
            reloads.update(|n| *n += 1);
            toasts.success(message);
        }
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    Effect::new(move |_| match check.value().get() {
        Some(Ok(message)) => {
            reloads.update(|n| *n += 1);
            outcome.set(Some(Ok(message)));
        }
        Some(Err(error)) => {
            reloads.update(|n| *n += 1);
            outcome.set(Some(Err(error.to_string())));
        }
        None => {}
    });
    let confirm = RwSignal::new(None::<ConfirmRequest>);
    let key_for_save = StoredValue::new(key.clone());
    let on_save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let replacing = editing.replacing.get_untracked();
        let values = editing
            .values
            .get_untracked()
            .into_iter()
            .filter(|(name, value)| {
                // A secret is only sent when typed anew.
                !value.is_empty() || !replacing.contains(name)
            })
            .collect();
        outcome.set(None);
        save.dispatch(SaveIntegration {
            csrf_token: csrf_token.get_value(),
            provider: provider.as_str().to_string(),
            key: key_for_save.get_value(),
            input: SettingsInput { values },
        });
    };
    let on_check = move |_| {
        outcome.set(None);
        check.dispatch(CheckIntegration {
            csrf_token: csrf_token.get_value(),
            provider: provider.as_str().to_string(),
            key: key_for_save.get_value(),
        });
    };
    let on_confirm = move |_| {
        disconnect.dispatch(DisconnectIntegration {
            csrf_token: csrf_token.get_value(),
            provider: provider.as_str().to_string(),
            key: key_for_save.get_value(),
        });
    };
    view! {
        <Title text=format!("{} integration", provider_label(provider)) />
        {super::breadcrumb(provider)}
        <Loaded resource=settings loading="Loading the integration…" then=move |settings| {
                editing.values.set(
                    settings
                        .fields
                        .iter()
                        .chain(&settings.authorization)
                        .map(|f| (f.name.clone(), initial_value(f)))
                        .collect(),
                );
                let connected = settings.status != Status::NotConnected
                    || settings.fields.iter().chain(&settings.authorization).any(|f| f.is_set);
                let checkable = settings.status != Status::NotConnected;
                let oauth = settings.network.is_some();
                let save_label = match (oauth, settings.status) {
                    (true, Status::TokenInvalid) => "Reconnect",
                    (true, _) => "Save and authorize",
                    _ => "Save",
                };
                let pending_label = if oauth { "Opening the CRM…" } else { "Testing the connection…" };
                let name = settings.name.clone();
                let ask_disconnect = move |_| {
                    confirm.set(Some(ConfirmRequest {
                        title: "Disconnect?".into(),
                        message: format!(
                            "{name} stops reaching the CRM. Stored passwords, secrets and tokens are removed; other values stay."
                        ),
                        confirm_label: "Disconnect".into(),
                    }))
                };
                view! {
                    {view! { <Header settings=settings.clone() /> }.into_any()}
                    <IntegrationTabs provider key=settings.key.clone() current=IntegrationPage::Settings />
                    <form class="card settings-form" on:submit=on_save novalidate>
                        <section aria-labelledby="auth-title">
                            <h2 id="auth-title">"Authentication"</h2>
                            {(settings.fields.is_empty() && !oauth).then(|| view! {
                                <p class="help">"This template needs no values to connect."</p>
                            })}
                            {(settings.fields.is_empty() && oauth).then(|| view! {
                                <p class="help">"Save and authorize opens the CRM's consent page; after it, the CRM sends you back here."</p>
                            })}
                            <Fields fields=settings.fields.clone() editing />
                        </section>
                        {settings.network.clone().map(|network| view! { <Network network /> }.into_any())}
                        {(!settings.authorization.is_empty()).then(|| view! {
                            <section aria-labelledby="authorization-title">
                                <h2 id="authorization-title">"Authorization"</h2>
                                <p class="help">"From the app you registered with the CRM (its Client ID and Client Secret)."</p>
                                <Fields fields=settings.authorization.clone() editing />
                            </section>
                        }.into_any())}
                        {move || outcome.get().map(|result| match result {
                            Ok(message) => view! { <p class="notice notice-ok" role="status">{message}</p> }.into_any(),
                            Err(message) => view! { <p class="notice notice-error" role="alert">{message}</p> }.into_any(),
                        })}
                        <div class="form-actions">
                            <button class="button button-primary" type="submit" disabled=move || save.pending().get()>
                                {move || if save.pending().get() { pending_label } else { save_label }}
                            </button>
                            {checkable.then(|| view! {
                                <button class="button" type="button" on:click=on_check disabled=move || check.pending().get()>
                                    {move || if check.pending().get() { "Checking…" } else { "Check connection" }}
                                </button>
                            })}
                            {connected.then(|| view! {
                                <button class="button button-danger" type="button" on:click=ask_disconnect>
                                    "Disconnect"
                                </button>
                            })}
                        </div>
                    </form>
                    {(checkable && settings.user_association).then(|| view! {
                        <UsersSection provider key=settings.key.clone() />
                    }.into_any())}
                    {checkable.then(|| view! {
                        <FeaturesSection provider key=settings.key.clone() options=settings.feature_options.clone() features=settings.features.clone() />
                        {(!settings.feature_options.contact_types.is_empty()).then(|| view! {
                            <PhonebookSection provider key=settings.key.clone() name=settings.features.contacts.phonebook.clone() />
                        })}
                        <HealthSection provider key=settings.key.clone() />
                        {settings.running_revision.map(|running| view! {
                            <RevisionSection provider key=settings.key.clone() running current=settings.template_revision previous=settings.previous_revision on_change=reload />
                        })}
                        <NotificationsSection provider key=settings.key.clone() owner=settings.owner.clone() />
                        <p class="help"><a href="/activity">"Activity: the recent runs of every integration"</a></p>
                    }.into_any())}
                }
                .into_any()
            }
        />
        <ConfirmDialog request=confirm on_confirm />
    }
}

/// A field's value when the page loads: the stored one, or a list's first option.
fn initial_value(field: &SettingField) -> String {
    if field.kind == FieldKind::List && field.value.is_empty() {
        return field.options.first().cloned().unwrap_or_default();
    }
    field.value.clone()
}

#[component]
fn Header(settings: IntegrationSettings) -> impl IntoView {
    let stale = settings
        .running_revision
        .filter(|running| *running < settings.template_revision);
    view! {
        {super::name_and_status(settings.name.clone(), settings.status)}
        <dl class="facts">
            <dt>"Authentication"</dt>
            <dd>{auth_label(&settings.auth_type)}</dd>
            {settings.connected_at.map(|at| view! { <dt>"Connected"</dt><dd>{format_time(at)}</dd> })}
            {settings.token_issued_at.map(|at| view! {
                <dt>"Token"</dt>
                <dd>
                    {format!("issued {}", format_time(at))}
                    {settings.token_expires_at.map(|until| format!(", expires {}", format_time(until)))}
                </dd>
            })}
            {(settings.global_variables > 0).then(|| view! {
                <dt>"Global variables"</dt><dd>{settings.global_variables}</dd>
            })}
            {stale.map(|running| view! {
                <dt>"Template"</dt>
                <dd>{format!("runs revision {running}; revision {} waits for an administrator to apply it", settings.template_revision)}</dd>
            })}
        </dl>
        {settings.last_error.clone().map(|error| view! {
            <p class="notice notice-error" role="alert">
                "Last error"
                {settings.last_error_at.map(|at| format!(" ({})", format_time(at)))}
                ": " {error}
            </p>
        })}
    }
}

fn auth_label(auth_type: &str) -> &'static str {
    match auth_type {
        "basic" => "Basic",
        "oauth2" => "OAuth 2.0",
        "bearer" => "Bearer token",
        _ => "None",
    }
}

#[component]
fn Fields(fields: Vec<SettingField>, editing: Editing) -> impl IntoView {
    fields
        .into_iter()
        .map(|field| view! { <Field field editing /> })
        .collect_view()
}

#[component]
fn Field(field: SettingField, editing: Editing) -> impl IntoView {
    let id = format!("setting-{}", field.name);
    let name = field.name.clone();
    let name_for_input = name.clone();
    let value = move || {
        editing
            .values
            .with(|v| v.get(&name).cloned().unwrap_or_default())
    };
    let on_input = move |e: leptos::ev::Event| {
        let typed = event_target_value(&e);
        editing.values.update(|v| {
            v.insert(name_for_input.clone(), typed);
        });
    };
    let control = match field.kind {
        FieldKind::List => view! {
            <select id=id.clone() class="input" prop:value=value on:change=on_input>
                {field.options.iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
            </select>
        }
        .into_any(),
        _ if field.secret => {
            let replace_name = field.name.clone();
            let shown_name = field.name.clone();
            let replacing = move || {
                !field.is_set || editing.replacing.with(|r| r.contains(&shown_name))
            };
            let id_for_input = id.clone();
            view! {
                <Show
                    when=replacing
                    fallback=move || {
                        let replace_name = replace_name.clone();
                        view! {
                            <div class="secret-row">
                            <span class="secret-set">"Set"</span>
                            <button
                                class="button button-small"
                                type="button"
                                on:click=move |_| editing.replacing.update(|r| {
                                    r.insert(replace_name.clone());
                                })
                            >
                                "Replace"
                            </button>
                            </div>
                        }
                    }
                >
                    <input
                        id=id_for_input.clone()
                        class="input"
                        type="password"
                        autocomplete="new-password"
                        prop:value=value.clone()
                        on:input=on_input.clone()
                    />
                </Show>
            }
            .into_any()
        }
        _ => view! {
            <input id=id.clone() class="input" type="text" autocomplete="off" prop:value=value on:input=on_input />
        }
        .into_any(),
    };
    view! {
        <div class="field">
            <label for=id>{field.title.clone()}</label>
            {control}
            <p class="help"><code>{format!("{{{{.{}}}}}", field.name)}</code></p>
        </div>
    }
}

#[component]
fn Network(network: NetworkInfo) -> impl IntoView {
    view! {
        <section aria-labelledby="network-title">
            <h2 id="network-title">"Network"</h2>
            <p class="help">"Register the Authorized Redirect URI as the callback URL of the app you create in the CRM."</p>
            <CopyField id="network-homepage" label="Homepage URL" value=network.homepage_url />
            <CopyField id="network-redirect" label="Authorized Redirect URI" value=network.redirect_uri />
        </section>
    }
}

#[component]
fn CopyField(id: &'static str, label: &'static str, value: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let to_copy = value.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&to_copy);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &to_copy;
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <div class="copy-row">
                <input id=id class="input mono" type="text" readonly prop:value=value />
                <button class="button button-small" type="button" on:click=copy aria-label=format!("Copy the {label}")>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
        </div>
    }
}
