//! Calls (README "Agents and the call popup"; every account, the agent's landing page): the
//! live call popup for the account's extensions (who is calling, the contacts each
//! integration found, Open in CRM, the call's state; Create contact when nobody was
//! found), each extension's popup settings, and the recent calls with their journals,
//! tickets and recordings. The popup is pushed by the server (`live`), never polled.

#[cfg(feature = "hydrate")]
mod live;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::agents::{
    AgentCall, CallState, CallUpdate, CallsPage, IntegrationContacts, NewContactInput, PopupMethod,
    PopupSettings, PopupTrigger, WorkState, RECENT_CALLS,
};
use crate::api::agents::{load_calls, CreateCallContact, SavePopupSettings};
use crate::calls::CallDirection;
use crate::components::frame::Frame;
use crate::components::loaded::Loaded;
use crate::components::page_data::page_data;
use crate::components::toast::use_toasts;
use crate::pages::templates::format_time;
use crate::viewer::Viewer;

/// A call on an extension: the popup and the list know it by both.
type CallKey = (String, String);

fn key_of(call: &AgentCall) -> CallKey {
    (call.call_id.clone(), call.extension.clone())
}

#[component]
pub fn CallsPage() -> impl IntoView {
    // A reset (the stream fell too far behind) loads the page's data again.
    let reload = RwSignal::new(0u32);
    let page = page_data(move || reload.get(), |_| load_calls());
    view! {
        <Title text="Calls" />
        <Frame>
            <h1>"Calls"</h1>
            <Loaded resource=page loading="Loading your calls…" then=move |page: CallsPage| {
                view! { <Live page=page on_reset=move || reload.update(|n| *n += 1) /> }
            } />
        </Frame>
    }
}

/// Applies `update` to the list: to its call, or as a new call at the top.
fn apply(calls: &mut Vec<AgentCall>, update: &CallUpdate) -> AgentCall {
    match calls.iter_mut().find(|c| c.is(update)) {
        Some(call) => {
            call.apply(update);
            call.clone()
        }
        None => {
            let call = AgentCall::starting(update);
            calls.insert(0, call.clone());
            calls.truncate(RECENT_CALLS);
            call
        }
    }
}

/// The one contact link to open by itself: only when exactly one contact with a link was
/// found (several: the agent picks).
fn single_link(call: &AgentCall) -> Option<String> {
    let links: Vec<&String> = call
        .contacts
        .iter()
        .flat_map(|c| c.found.iter())
        .filter_map(|c| c.popup_url.as_ref())
        .collect();
    match links.as_slice() {
        [only] => Some((*only).clone()),
        _ => None,
    }
}

#[component]
fn Live(page: CallsPage, on_reset: impl Fn() + Send + Sync + Clone + 'static) -> AnyView {
    let calls = RwSignal::new(page.calls);
    let settings = RwSignal::new(page.extensions.clone());
    let popup = RwSignal::new(None::<CallKey>);
    let live = RwSignal::new(false);
    // Calls whose popup was shown, and whose record was opened by itself.
    // Lives as long as the page: the form that sends it goes once the contact is found.
    let create = ServerAction::<CreateCallContact>::new();
    let toasts = use_toasts();
    Effect::new(move |_| match create.value().get() {
        Some(Ok(_)) => toasts.success("The contact is created."),
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    let shown = StoredValue::new(std::collections::HashSet::<CallKey>::new());
    let opened = StoredValue::new(std::collections::HashSet::<CallKey>::new());

    let on_update = move |update: CallUpdate| {
        let mut call = None;
        calls.update(|list| call = Some(apply(list, &update)));
        let Some(call) = call else { return };
        let key = key_of(&call);
        let setting = settings.with_untracked(|all| {
            all.iter()
                .find(|s| s.extension == call.extension)
                .cloned()
                .unwrap_or_default()
        });
        if !setting.trigger.reached(&call) {
            return;
        }
        let first = shown
            .try_update_value(|s| s.insert(key.clone()))
            .unwrap_or(false);
        if first {
            popup.set(Some(key.clone()));
            #[cfg(feature = "hydrate")]
            if live::in_background() {
                let who = if call.party_name.is_empty() {
                    call.party_number.clone()
                } else {
                    format!("{} ({})", call.party_name, call.party_number)
                };
                live::notify(
                    &format!("{} on {}", call.state.label(), call.extension),
                    &who,
                );
            }
        }
        // Automatically: incoming calls only, once, when one record was found.
        if setting.method == PopupMethod::Automatic && call.direction == CallDirection::Inbound {
            if let Some(url) = single_link(&call) {
                let first_open = opened
                    .try_update_value(|o| o.insert(key.clone()))
                    .unwrap_or(false);
                if first_open {
                    #[cfg(feature = "hydrate")]
                    live::open_in_new_tab(&url);
                    #[cfg(not(feature = "hydrate"))]
                    let _ = url;
                }
            }
        }
    };

    #[cfg(feature = "hydrate")]
    {
        let on_reset = on_reset.clone();
        let stream = live::connect(page.last_id, move |heard| match heard {
            live::Heard::Open => live.set(true),
            live::Heard::Lost => live.set(false),
            live::Heard::Update(update) => on_update(*update),
            live::Heard::Reset => on_reset(),
        });
        let stream = StoredValue::new(stream);
        on_cleanup(move || stream.set_value(None));
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (&on_update, &on_reset, page.last_id);
    }

    view! {
        <p class="help">
            <span class=move || if live.get() { "status status-connected" } else { "status status-off" }
                data-testid="calls-live" data-live=move || live.get().to_string()>
                {move || if live.get() { "Live" } else { "Connecting…" }}
            </span>
            {format!(
                " Calls on your extensions: {}.",
                if page.extensions.is_empty() {
                    "none yet (an administrator links your account to extensions on the Accounts page)".to_owned()
                } else {
                    page.extensions.iter().map(|e| e.extension.clone()).collect::<Vec<_>>().join(", ")
                }
            )}
        </p>
        <NotificationsOffer />
        // Shown again only when another call's popup opens: the call's own updates change
        // its parts in place, so a half-typed contact survives them.
        {move || popup.get().map(|key| view! { <Popup key=key calls=calls create=create on_close=move || popup.set(None) /> })}
        <PopupSettingsCard settings=settings />
        <RecentCalls calls=calls />
    }
    .into_any()
}

/// Offers desktop notifications once, while the browser has not been asked.
#[component]
fn NotificationsOffer() -> AnyView {
    let undecided = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| undecided.set(live::notifications_undecided()));
    view! {
        <Show when=move || undecided.get()>
            <p class="notice">
                "Get a desktop notification when a call comes in while this page is in the background. "
                <button class="button button-small" type="button" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    live::ask_for_notifications();
                    undecided.set(false);
                }>"Turn on notifications"</button>
            </p>
        </Show>
    }
    .into_any()
}

#[component]
fn Popup(
    key: CallKey,
    calls: RwSignal<Vec<AgentCall>>,
    create: ServerAction<CreateCallContact>,
    on_close: impl Fn() + Send + Sync + 'static,
) -> AnyView {
    let call = Memo::new(move |_| {
        calls.with(|list| {
            list.iter()
                .find(|c| key_of(c) == key)
                .cloned()
                .unwrap_or_default()
        })
    });
    let title = move || match call.with(|c| c.direction) {
        CallDirection::Inbound => "Incoming call",
        CallDirection::Outbound => "Outgoing call",
        CallDirection::Internal => "Internal call",
    };
    let who = move || {
        call.with(|call| {
            if call.party_name.is_empty() {
                call.party_number.clone()
            } else {
                format!("{} · {}", call.party_name, call.party_number)
            }
        })
    };
    let looking_up = move || {
        call.with(|call| {
            call.work
                .iter()
                .filter(|w| w.step == "lookup" && w.state == WorkState::Queued)
                .filter(|w| {
                    !call
                        .contacts
                        .iter()
                        .any(|c| c.integration_id == w.integration_id)
                })
                .map(|w| format!("Looking {} up in {}…", call.party_number, w.integration))
                .collect::<Vec<_>>()
        })
    };
    let (call_id, extension) = call.with_untracked(|c| (c.call_id.clone(), c.extension.clone()));
    view! {
        <section class="card popup" role="dialog" aria-labelledby="popup-title" data-testid="call-popup"
            data-call=call_id data-state=move || call.with(|c| c.state.label().to_lowercase())>
            <h2 id="popup-title">{title} " " <span data-testid="popup-number">{who}</span></h2>
            <p>
                <span class="status" data-testid="popup-state">{move || call.with(|c| c.state.label())}</span>
                {move || call.with(|c| format!(" on extension {extension} since {}", format_time(c.started_ms / 1_000)))}
            </p>
            {move || looking_up().into_iter().map(|line| view! { <p class="help">{line}</p> }).collect_view()}
            // One block per integration, made again only when what it found changes.
            <For
                each=move || call.with(|c| c.contacts.clone())
                key=|found| serde_json::to_string(found).unwrap_or_default()
                children=move |found| view! { <Found found=found call=call.get_untracked() create=create /> }
            />
            <div class="actions">
                <button class="button button-quiet" type="button" on:click=move |_| on_close()>"Close"</button>
            </div>
        </section>
    }
    .into_any()
}

/// What one integration found: the contacts (Open in CRM each), or Create contact.
#[component]
fn Found(
    found: IntegrationContacts,
    call: AgentCall,
    create: ServerAction<CreateCallContact>,
) -> AnyView {
    let contacts = found
        .found
        .iter()
        .map(|contact| {
            let detail = [contact.company.clone(), contact.contact_type.clone()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · ");
            let open = contact.popup_url.clone().map(|url| {
                view! { <a class="button button-primary button-small" href=url target="_blank" rel="noopener noreferrer" data-testid="open-in-crm">"Open in CRM"</a> }
            });
            view! {
                <li data-testid="popup-contact">
                    <strong>{contact.name.clone()}</strong> " " <span class="help">{detail}</span> " " {open}
                </li>
            }
        })
        .collect_view();
    let several = (found.found.len() > 1).then(|| {
        view! { <p class="help">{format!("{} contacts match: pick the one calling.", found.found.len())}</p> }
    });
    let nobody = found.found.is_empty() && found.error.is_none();
    let error = found
        .error
        .clone()
        .map(|e| view! { <p class="notice notice-error">{format!("The lookup failed: {e}")}</p> });
    let create = (nobody && !found.creatable.is_empty())
        .then(|| view! { <CreateContact found=found.clone() call=call.clone() create=create /> });
    view! {
        <div class="popup-integration" data-testid="popup-integration">
            <h3>{found.integration.clone()}</h3>
            {several}
            <ul class="plain">{contacts}</ul>
            {nobody.then(|| view! { <p data-testid="popup-unknown">"Not in the CRM."</p> })}
            {error}
            {create}
        </div>
    }
    .into_any()
}

#[component]
fn CreateContact(
    found: IntegrationContacts,
    call: AgentCall,
    create: ServerAction<CreateCallContact>,
) -> AnyView {
    let viewer = expect_context::<Viewer>();
    let open = RwSignal::new(false);
    let mut names = call.party_name.split_whitespace();
    let first_name = RwSignal::new(names.next().unwrap_or_default().to_owned());
    let last_name = RwSignal::new(names.collect::<Vec<_>>().join(" "));
    let contact_type = RwSignal::new(found.creatable.first().cloned().unwrap_or_default());
    let types = found.creatable.clone();
    let input = StoredValue::new(NewContactInput {
        call_id: call.call_id.clone(),
        extension: call.extension.clone(),
        integration_id: found.integration_id,
        number: call.party_number.clone(),
        ..NewContactInput::default()
    });
    let csrf_token = StoredValue::new(viewer.csrf_token);
    let number = call.party_number.clone();
    view! {
        <Show when=move || open.get() fallback=move || view! {
            <button class="button button-small" type="button" data-testid="create-contact" on:click=move |_| open.set(true)>"Create contact"</button>
        }>
            <form class="form-inline" data-testid="create-contact-form" on:submit=move |ev| {
                ev.prevent_default();
                let mut typed = input.get_value();
                typed.first_name = first_name.get_untracked();
                typed.last_name = last_name.get_untracked();
                typed.contact_type = contact_type.get_untracked();
                create.dispatch(CreateCallContact { csrf_token: csrf_token.get_value(), input: typed });
            }>
                <label>"Number" <input type="text" readonly value=number.clone() /></label>
                <label>"First name" <input type="text" name="first_name" maxlength="100" prop:value=move || first_name.get()
                    on:input=move |e| first_name.set(event_target_value(&e)) /></label>
                <label>"Last name" <input type="text" name="last_name" maxlength="100" prop:value=move || last_name.get()
                    on:input=move |e| last_name.set(event_target_value(&e)) /></label>
                <label>"Type" <select on:change=move |e| contact_type.set(event_target_value(&e))>
                    {types.iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                </select></label>
                <button class="button button-primary button-small" type="submit" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Creating…" } else { "Save contact" }}
                </button>
            </form>
        </Show>
    }
    .into_any()
}

#[component]
fn PopupSettingsCard(settings: RwSignal<Vec<PopupSettings>>) -> AnyView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token);
    let save = ServerAction::<SavePopupSettings>::new();
    Effect::new(move |_| match save.value().get() {
        Some(Ok(())) => toasts.success("Popup settings saved."),
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    let rows = move || {
        settings
            .get()
            .into_iter()
            .map(|setting| {
                let extension = setting.extension.clone();
                let method_id = format!("popup-method-{extension}");
                let trigger_id = format!("popup-trigger-{extension}");
                let change = move |update: Box<dyn Fn(&mut PopupSettings)>| {
                    let mut changed = None;
                    settings.update(|all| {
                        if let Some(s) = all.iter_mut().find(|s| s.extension == extension) {
                            update(s);
                            changed = Some(s.clone());
                        }
                    });
                    if let Some(settings) = changed {
                        save.dispatch(SavePopupSettings { csrf_token: csrf_token.get_value(), settings });
                    }
                };
                let change_trigger = change.clone();
                view! {
                    <tr>
                        <td>{setting.extension.clone()}</td>
                        <td>
                            <select id=method_id.clone() aria-label="Popup method" data-testid=method_id on:change=move |e| {
                                let chosen = PopupMethod::parse(&event_target_value(&e)).unwrap_or_default();
                                change(Box::new(move |s| s.method = chosen));
                            }>
                                {PopupMethod::ALL.iter().map(|m| view! {
                                    <option value=m.as_str() selected=*m == setting.method>{m.label()}</option>
                                }).collect_view()}
                            </select>
                        </td>
                        <td>
                            <select id=trigger_id.clone() aria-label="Trigger event" data-testid=trigger_id on:change=move |e| {
                                let chosen = PopupTrigger::parse(&event_target_value(&e)).unwrap_or_default();
                                change_trigger(Box::new(move |s| s.trigger = chosen));
                            }>
                                {PopupTrigger::ALL.iter().map(|t| view! {
                                    <option value=t.as_str() selected=*t == setting.trigger>{t.label()}</option>
                                }).collect_view()}
                            </select>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card" aria-labelledby="popup-settings-title">
            <h2 id="popup-settings-title">"Call popup"</h2>
            <p class="help">"Automatically opens the contact's record in a new tab for incoming calls when one contact is found (allow pop-ups for Patchbay in the browser); Manually shows Open in CRM for you to click. The trigger says when the popup appears."</p>
            <table class="table">
                <thead><tr><th scope="col">"Extension"</th><th scope="col">"Popup method"</th><th scope="col">"Trigger event"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
    .into_any()
}

#[component]
fn RecentCalls(calls: RwSignal<Vec<AgentCall>>) -> AnyView {
    let rows = move || {
        calls
            .get()
            .into_iter()
            .map(|call| {
                let contact = call
                    .contacts
                    .iter()
                    .flat_map(|c| c.found.iter())
                    .map(|c| c.name.clone())
                    .collect::<Vec<_>>()
                    .join(", ");
                let work = call
                    .work
                    .iter()
                    .filter(|w| w.step != "lookup")
                    .map(|w| {
                        let class = match w.state {
                            WorkState::Done => "status status-connected",
                            WorkState::Failed => "status status-error",
                            WorkState::Queued => "status status-off",
                        };
                        view! {
                            <span class=class data-testid="call-work" data-step=w.step.clone() data-state=w.state.label()>
                                {format!("{} {}: {}", w.integration, w.step, w.state.label())}
                            </span>
                            " "
                        }
                    })
                    .collect_view();
                let recording = (!call.recording_url.is_empty()).then(|| {
                    view! { <a href=call.recording_url.clone() target="_blank" rel="noopener noreferrer">"Recording"</a> }
                });
                let state_class = match call.state {
                    CallState::Missed => "status status-error",
                    CallState::Ringing | CallState::Talking => "status status-connected",
                    CallState::Ended => "status status-off",
                };
                view! {
                    <tr data-testid="recent-call" data-call=call.call_id.clone()>
                        <td>{format_time(call.started_ms / 1_000)}</td>
                        <td>{call.extension.clone()}</td>
                        <td>{call.direction.label()}</td>
                        <td>{call.party_number.clone()}</td>
                        <td>{contact}</td>
                        <td><span class=state_class>{call.state.label()}</span></td>
                        <td>{work}</td>
                        <td>{recording}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card" aria-labelledby="recent-calls-title">
            <h2 id="recent-calls-title">"Recent calls"</h2>
            <Show when=move || calls.with(|c| !c.is_empty()) fallback=|| view! { <p class="help">"No calls on your extensions yet."</p> }>
                <table class="table">
                    <thead><tr>
                        <th scope="col">"When"</th><th scope="col">"Extension"</th><th scope="col">"Direction"</th>
                        <th scope="col">"Number"</th><th scope="col">"Contact"</th><th scope="col">"State"</th>
                        <th scope="col">"Journal and ticket"</th><th scope="col">"Recording"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </Show>
        </section>
    }
    .into_any()
}
