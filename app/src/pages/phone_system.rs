//! Phone system (README "Phone system"; administrators): the PBX's address and Open API
//! credentials, the webhook Secret, how events arrive, the extension sync's schedule, and
//! the status: connected or why not, the last event and heartbeat, events today, the last
//! extension sync. A stored secret shows as set; typing a new one replaces it.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::phone_system::{
    phone_system, DisconnectPhoneSystem, SavePhoneSystem, SyncPbxExtensions,
};
use crate::components::frame::Frame;
use crate::components::loaded::Loaded;
use crate::components::page_data::page_data;
use crate::components::toast::use_toasts;
use crate::pages::templates::format_time;
use crate::phone_system::{Delivery, LinkState, PhoneSystemInput, PhoneSystemView};
use crate::viewer::Viewer;

fn when(at: Option<i64>) -> String {
    at.map(format_time).unwrap_or_else(|| "never".into())
}

#[component]
pub fn PhoneSystemPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let save = ServerAction::<SavePhoneSystem>::new();
    let sync = ServerAction::<SyncPbxExtensions>::new();
    let disconnect = ServerAction::<DisconnectPhoneSystem>::new();
    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => toasts.success("The phone system's settings are saved."),
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    Effect::new(move |_| match sync.value().get() {
        Some(Ok(report)) => toasts.success(format!("Extensions synced: {}.", report.summary())),
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    Effect::new(move |_| match disconnect.value().get() {
        Some(Ok(_)) => toasts.success("Disconnected from the Open API; webhooks go on."),
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    let refresh = RwSignal::new(0u32);
    let view_of = page_data(
        move || {
            (
                save.version().get(),
                sync.version().get(),
                disconnect.version().get(),
                refresh.get(),
            )
        },
        |_| phone_system(),
    );
    view! {
        <Frame>
            <Title text="Phone system" />
            <h1>"Phone system"</h1>
            <p class="help">"The Yeastar P-Series PBX Patchbay listens to: its events arrive by a signed webhook or over the Open API's WebSocket, and its extension list fills the directory."</p>
            <Loaded resource=view_of loading="Loading the phone system…" then=move |current: PhoneSystemView| {
                view! {
                    <Status current=current.clone() on_refresh=move || refresh.update(|n| *n += 1) />
                    <Settings current=current.clone() csrf_token=csrf_token save=save />
                    <section class="card" aria-labelledby="pbx-extensions-title">
                        <h2 id="pbx-extensions-title">"Extensions from the PBX"</h2>
                        <p class="help">{format!(
                            "The directory is made the PBX's extension list: new extensions added, names and e-mails updated, extensions the PBX no longer has removed with their user associations. {}",
                            if current.sync_minutes == 0 { "Only by hand.".to_owned() } else { format!("Every {} minutes, and on connecting.", current.sync_minutes) }
                        )}</p>
                        <p data-testid="pbx-last-sync">{format!("Last sync: {} {}", when(current.last_sync_at), current.last_sync_result)}</p>
                        <div class="actions">
                            <button class="button" type="button" data-testid="pbx-sync"
                                disabled=move || sync.pending().get() || current.client_id.is_empty()
                                on:click=move |_| { sync.dispatch(SyncPbxExtensions { csrf_token: csrf_token.get_value() }); }>
                                {move || if sync.pending().get() { "Syncing…" } else { "Sync extensions now" }}
                            </button>
                            <button class="button button-danger" type="button" data-testid="pbx-disconnect"
                                disabled=move || !current.client_secret_set
                                on:click=move |_| { disconnect.dispatch(DisconnectPhoneSystem { csrf_token: csrf_token.get_value() }); }>
                                "Disconnect the Open API"
                            </button>
                        </div>
                    </section>
                }
            } />
        </Frame>
    }
}

#[component]
fn Status(current: PhoneSystemView, on_refresh: impl Fn() + 'static) -> impl IntoView {
    let tag = match current.status {
        LinkState::Connected => "status status-connected",
        LinkState::Refused | LinkState::Unreachable => "status status-error",
        _ => "status status-off",
    };
    let channel = if current.last_event_channel.is_empty() {
        String::new()
    } else {
        format!(" by {}", current.last_event_channel)
    };
    view! {
        <section class="card" aria-labelledby="pbx-status-title">
            <h2 id="pbx-status-title">"Status"</h2>
            <dl class="facts">
                <dt>"Open API"</dt>
                <dd><span class=tag data-testid="pbx-status" data-state=current.status.as_str()>{current.status.label()}</span>
                    " " <span data-testid="pbx-status-detail">{current.status_detail.clone()}</span></dd>
                <dt>"Last event"</dt>
                <dd data-testid="pbx-last-event">{match current.last_event_at {
                    Some(at) => format!("{} {}{channel}", format_time(at), current.last_event_type),
                    None => "none yet".into(),
                }}</dd>
                <dt>"Last heartbeat"</dt>
                <dd data-testid="pbx-heartbeat">{when(current.last_heartbeat_at)}</dd>
                <dt>"Events today"</dt>
                <dd data-testid="pbx-events-today">{if current.events_today.is_empty() {
                    "none".to_owned()
                } else {
                    current.events_today.iter().map(|c| {
                        let name = if c.name.is_empty() { String::new() } else { format!(" ({})", c.name) };
                        format!("{}{name}: {}", c.event_type, c.count)
                    }).collect::<Vec<_>>().join(", ")
                }}</dd>
                <dt>"Webhook URL"</dt>
                <dd><code data-testid="pbx-webhook-url">{current.webhook_url.clone()}</code></dd>
            </dl>
            <p class="help">"On the PBX: Integrations › API › Webhook Event Push: add a webhook with this URL, method POST, the events 30011 and 30012, and paste its Secret below."</p>
            <button class="button button-quiet" type="button" on:click=move |_| on_refresh()>"Refresh"</button>
        </section>
    }
}

#[component]
fn Settings(
    current: PhoneSystemView,
    csrf_token: StoredValue<String>,
    save: ServerAction<SavePhoneSystem>,
) -> impl IntoView {
    let base_url = RwSignal::new(current.base_url.clone());
    let client_id = RwSignal::new(current.client_id.clone());
    let client_secret = RwSignal::new(String::new());
    let webhook_secret = RwSignal::new(String::new());
    let delivery = RwSignal::new(current.delivery);
    let sync_minutes = RwSignal::new(current.sync_minutes.to_string());
    let set_placeholder = |set: bool| {
        if set {
            "Set: leave empty to keep it"
        } else {
            ""
        }
    };
    // A saved secret leaves the page's fields at once: it shows as set, never as typed.
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            client_secret.set(String::new());
            webhook_secret.set(String::new());
        }
    });
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let secret = |signal: RwSignal<String>| {
            let value = signal.get_untracked();
            (!value.trim().is_empty()).then_some(value)
        };
        save.dispatch(SavePhoneSystem {
            csrf_token: csrf_token.get_value(),
            input: PhoneSystemInput {
                base_url: base_url.get_untracked(),
                client_id: client_id.get_untracked(),
                client_secret: secret(client_secret),
                webhook_secret: secret(webhook_secret),
                delivery: delivery.get_untracked(),
                sync_minutes: sync_minutes
                    .get_untracked()
                    .trim()
                    .parse()
                    .unwrap_or(u32::MAX),
            },
        });
    };
    view! {
        <section class="card" aria-labelledby="pbx-settings-title">
            <h2 id="pbx-settings-title">"Settings"</h2>
            <form class="form" on:submit=on_submit data-testid="pbx-settings">
                <label for="pbx-delivery">"Events arrive by"</label>
                <select id="pbx-delivery" prop:value=move || delivery.get().as_str()
                    on:change=move |e| delivery.set(Delivery::parse(&event_target_value(&e)).unwrap_or_default())>
                    {Delivery::ALL.iter().map(|d| view! { <option value=d.as_str()>{d.label()}</option> }).collect_view()}
                </select>
                <label for="pbx-webhook-secret">"Webhook Secret"</label>
                <input id="pbx-webhook-secret" type="password" autocomplete="off" prop:value=move || webhook_secret.get()
                    placeholder=set_placeholder(current.webhook_secret_set)
                    on:input=move |e| webhook_secret.set(event_target_value(&e)) />
                {current.previous_webhook_secret_until.map(|until| view! {
                    <p class="help">{format!("The Secret replaced last is accepted until {} while the PBX changes over.", format_time(until))}</p>
                })}
                <h3>"Open API"</h3>
                <p class="help">"Integrations › API on the PBX: enable the API, then copy the Client ID and Client Secret. Needed for the WebSocket, the extension sync and call recordings."</p>
                <label for="pbx-base-url">"PBX address"</label>
                <input id="pbx-base-url" type="url" placeholder="https://192.168.5.150:8088" prop:value=move || base_url.get()
                    on:input=move |e| base_url.set(event_target_value(&e)) />
                <label for="pbx-client-id">"Client ID"</label>
                <input id="pbx-client-id" type="text" autocomplete="off" prop:value=move || client_id.get()
                    on:input=move |e| client_id.set(event_target_value(&e)) />
                <label for="pbx-client-secret">"Client Secret"</label>
                <input id="pbx-client-secret" type="password" autocomplete="off" prop:value=move || client_secret.get()
                    placeholder=set_placeholder(current.client_secret_set)
                    on:input=move |e| client_secret.set(event_target_value(&e)) />
                <label for="pbx-sync-minutes">"Sync extensions every (minutes, 0: only by hand)"</label>
                <input id="pbx-sync-minutes" type="number" min="0" prop:value=move || sync_minutes.get()
                    on:input=move |e| sync_minutes.set(event_target_value(&e)) />
                <div class="actions">
                    <button class="button button-primary" type="submit" disabled=move || save.pending().get()>"Save"</button>
                </div>
            </form>
        </section>
    }
}
