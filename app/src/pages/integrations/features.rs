//! The Features section of an integration's page (docs/scenarios.md "The Features section"):
//! what the template offers, what the user chose, Save.

use leptos::prelude::*;

use crate::api::integrations::SaveFeatures;
use crate::components::toast::use_toasts;
use crate::integrations::{
    CallType, Choice, FeatureOptions, Features, JournalCalls, MatchRule, NumberFormat, TicketWhen,
    MAX_CACHE_MINUTES, SAMPLE_PHONE,
};
use crate::template::model::Provider;
use crate::viewer::Viewer;

/// A text the template lets the user change: a text area holding the user's value or the
/// template's default; unchanged, it stores `None` (the template's default stays in force).
fn editable_text(
    id: &'static str,
    label: &'static str,
    choice: &Choice<String>,
    value: RwSignal<Option<String>>,
) -> impl IntoView {
    let default = choice.default.clone();
    let shown = move || value.get().unwrap_or_else(|| default.clone());
    let default = choice.default.clone();
    choice.editable.then(|| {
        view! {
            <label for=id>{label}</label>
            <textarea id=id rows="2" prop:value=shown on:input=move |e| {
                let text = event_target_value(&e);
                value.set((text != default).then_some(text));
            } />
        }
    })
}

fn editable_flag(
    id: &'static str,
    label: &'static str,
    choice: Option<&Choice<bool>>,
    value: RwSignal<Option<bool>>,
) -> impl IntoView {
    let choice = choice.filter(|c| c.editable).cloned();
    choice.map(|choice| {
        view! {
            <label class="check" for=id>
                <input id=id type="checkbox" prop:checked=move || value.get().unwrap_or(choice.default)
                    on:change=move |e| value.set(Some(event_target_checked(&e))) />
                {label}
            </label>
        }
    })
}

#[component]
pub fn FeaturesSection(
    provider: Provider,
    key: String,
    options: FeatureOptions,
    features: Features,
) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let key = StoredValue::new(key);
    let save = ServerAction::<SaveFeatures>::new();
    let contact_types = RwSignal::new(features.contacts.contact_types.clone());
    let phonebook = RwSignal::new(features.contacts.phonebook.clone());
    let always_query = RwSignal::new(features.contacts.always_query);
    let contacts = features.contacts.clone();
    let sync = RwSignal::new(contacts.sync);
    let cache_minutes = RwSignal::new(contacts.cache_minutes.to_string());
    let several_matches = RwSignal::new(contacts.several_matches);
    let number_formats = RwSignal::new(contacts.number_formats.clone());
    let default_country = RwSignal::new(contacts.default_country.clone());
    let last_digits = RwSignal::new(contacts.last_digits.to_string());
    let test_number = RwSignal::new(contacts.test_number.clone());
    let create_type = RwSignal::new(features.create_contact.contact_type.clone());
    let on_inbound = RwSignal::new(features.create_contact.on_inbound);
    let on_outbound = RwSignal::new(features.create_contact.on_outbound);
    let journal_on = RwSignal::new(features.journal.enabled);
    let journal_subject = RwSignal::new(features.journal.subject.clone());
    let journal_description = RwSignal::new(features.journal.description.clone());
    let play_recording = RwSignal::new(features.journal.play_recording);
    let skip_missed = RwSignal::new(features.journal.skip_missed);
    let journal_calls = RwSignal::new(features.journal.calls);
    let ticket_when = RwSignal::new(features.ticket.when);
    let ticket_types = RwSignal::new(features.ticket.call_types.clone());
    let ticket_subject = RwSignal::new(features.ticket.subject.clone());
    let ticket_description = RwSignal::new(features.ticket.description.clone());
    let users_after_sync = RwSignal::new(features.users.after_extension_sync);
    let pilot_extensions = RwSignal::new(features.rollout.extensions.join(", "));
    let pilot_groups = RwSignal::new(features.rollout.groups.join(", "));
    let shadow = RwSignal::new(features.rollout.shadow);
    Effect::new(move |_| match save.value().get() {
        Some(Ok(())) => toasts.success("Features saved.".to_string()),
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    let on_save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let mut chosen = Features::default();
        chosen.contacts.contact_types = contact_types.get_untracked();
        chosen.contacts.phonebook = phonebook.get_untracked();
        chosen.contacts.always_query = always_query.get_untracked();
        chosen.contacts.sync = sync.get_untracked();
        // A number the server refuses is sent as it is typed: its error names the field.
        chosen.contacts.cache_minutes = cache_minutes
            .get_untracked()
            .trim()
            .parse()
            .unwrap_or(u32::MAX);
        chosen.contacts.several_matches = several_matches.get_untracked();
        chosen.contacts.number_formats = number_formats.get_untracked();
        chosen.contacts.default_country = default_country.get_untracked().trim().to_string();
        chosen.contacts.last_digits = last_digits.get_untracked().trim().parse().unwrap_or(0);
        chosen.contacts.test_number = test_number.get_untracked().trim().to_string();
        chosen.create_contact.contact_type = create_type.get_untracked();
        chosen.create_contact.on_inbound = on_inbound.get_untracked();
        chosen.create_contact.on_outbound = on_outbound.get_untracked();
        chosen.journal.enabled = journal_on.get_untracked();
        chosen.journal.subject = journal_subject.get_untracked();
        chosen.journal.description = journal_description.get_untracked();
        chosen.journal.play_recording = play_recording.get_untracked();
        chosen.journal.skip_missed = skip_missed.get_untracked();
        chosen.journal.calls = journal_calls.get_untracked();
        chosen.ticket.when = ticket_when.get_untracked();
        chosen.ticket.call_types = ticket_types.get_untracked();
        chosen.ticket.subject = ticket_subject.get_untracked();
        chosen.ticket.description = ticket_description.get_untracked();
        chosen.users.after_extension_sync = users_after_sync.get_untracked();
        let list = |text: String| {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        chosen.rollout.extensions = list(pilot_extensions.get_untracked());
        chosen.rollout.groups = list(pilot_groups.get_untracked());
        chosen.rollout.shadow = shadow.get_untracked();
        save.dispatch(SaveFeatures {
            csrf_token: csrf_token.get_value(),
            provider: provider.as_str().to_string(),
            key: key.get_value(),
            features: chosen,
        });
    };
    let type_box = move |name: String| {
        let checked_name = name.clone();
        let toggled = name.clone();
        view! {
            <label class="check">
                <input type="checkbox" prop:checked=move || contact_types.with(|t| t.contains(&checked_name))
                    on:change=move |e| {
                        let on = event_target_checked(&e);
                        contact_types.update(|t| {
                            t.retain(|n| n != &toggled);
                            if on { t.push(toggled.clone()) }
                        })
                    } />
                {name}
            </label>
        }
    };
    let format_box = move |format: NumberFormat| {
        view! {
            <label class="check">
                <input type="checkbox" prop:checked=move || number_formats.with(|f| f.contains(&format))
                    on:change=move |e| {
                        let on = event_target_checked(&e);
                        number_formats.update(|f| {
                            f.retain(|x| *x != format);
                            if on { f.push(format) }
                        })
                    } />
                {format.label()}
            </label>
        }
    };
    let journal = options.journal.clone().map(|journal| view! {
        <fieldset>
            <legend>"Call Journal"</legend>
            <label class="check"><input type="checkbox" prop:checked=move || journal_on.get() on:change=move |e| journal_on.set(event_target_checked(&e)) />"Write a journal for each call"</label>
            <label for="journal-calls">"Which calls"</label>
            <select id="journal-calls" prop:value=move || journal_calls.get().as_str() on:change=move |e| journal_calls.set(JournalCalls::parse(&event_target_value(&e)))>
                {JournalCalls::ALL.iter().map(|c| view! { <option value=c.as_str()>{c.label()}</option> }).collect_view()}
            </select>
            {editable_text("journal-subject", "Subject", &journal.subject, journal_subject)}
            {editable_text("journal-description", "Description", &journal.description, journal_description)}
            {editable_flag("journal-recording", "Play call recording in the CRM", journal.play_recording.as_ref(), play_recording)}
            {editable_flag("journal-missed", "No journal for missed calls", journal.skip_missed.as_ref(), skip_missed)}
        </fieldset>
    }.into_any());
    let ticket = options.ticket.clone().map(|ticket| view! {
        <fieldset>
            <legend>"Create New Ticket"</legend>
            <label for="ticket-when">"When"</label>
            <select id="ticket-when" prop:value=move || ticket_when.get().as_str() on:change=move |e| ticket_when.set(TicketWhen::parse(&event_target_value(&e)))>
                {TicketWhen::ALL.iter().map(|w| view! { <option value=w.as_str()>{w.label()}</option> }).collect_view()}
            </select>
            <p class="help">"Call types (none ticked: all four; internal calls get no ticket)"</p>
            {CallType::ALL.iter().map(|d| {
                let d = *d;
                view! {
                    <label class="check"><input type="checkbox" prop:checked=move || ticket_types.with(|t| t.contains(&d))
                        on:change=move |e| {
                            let on = event_target_checked(&e);
                            ticket_types.update(|t| { t.retain(|x| *x != d); if on { t.push(d) } })
                        } />{d.label()}</label>
                }
            }).collect_view()}
            {editable_text("ticket-subject", "Subject", &ticket.subject, ticket_subject)}
            {editable_text("ticket-description", "Description", &ticket.description, ticket_description)}
        </fieldset>
    }.into_any());
    let creatable = options.creatable_types.clone();
    let create = (!creatable.is_empty()).then(|| view! {
        <fieldset>
            <legend>"Create New Contact"</legend>
            <label for="create-type">"Contact type"</label>
            <select id="create-type" prop:value=move || create_type.get() on:change=move |e| create_type.set(event_target_value(&e))>
                <option value="">"Off"</option>
                {creatable.iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
            </select>
            <label class="check"><input type="checkbox" prop:checked=move || on_inbound.get() on:change=move |e| on_inbound.set(event_target_checked(&e)) />"Automatically for unknown inbound callers"</label>
            <label class="check"><input type="checkbox" prop:checked=move || on_outbound.get() on:change=move |e| on_outbound.set(event_target_checked(&e)) />"Automatically for unknown outbound numbers"</label>
            <p class="help">"Neither ticked: contacts are created by hand only (agents from the call popup, or the test console)."</p>
        </fieldset>
    }.into_any());
    view! {
        <form class="card features" aria-labelledby="features-title" on:submit=on_save>
            <h2 id="features-title">"Features"</h2>
            <fieldset>
                <legend>"Synchronize Contacts Automatically"</legend>
                <p class="help">"Contact types to search, in the template's order (none ticked: all)."</p>
                {options.contact_types.iter().cloned().map(type_box).collect_view()}
                <label for="phonebook">"Phonebook name"</label>
                <input id="phonebook" type="text" prop:value=move || phonebook.get() on:input=move |e| phonebook.set(event_target_value(&e)) />
                <label class="check"><input id="contact-sync" type="checkbox" prop:checked=move || sync.get() on:change=move |e| sync.set(event_target_checked(&e)) />"Synchronize contacts automatically (look callers up when a call rings)"</label>
                <label class="check"><input type="checkbox" prop:checked=move || always_query.get() on:change=move |e| always_query.set(event_target_checked(&e)) />"Always Query (ask the CRM on every call)"</label>
                <label for="cache-minutes">"Without Always Query, use a contact read less than this many minutes ago"</label>
                <input id="cache-minutes" type="number" min="0" max=MAX_CACHE_MINUTES.to_string() prop:value=move || cache_minutes.get() on:input=move |e| cache_minutes.set(event_target_value(&e)) />
                <label for="several-matches">"When several contacts match"</label>
                <select id="several-matches" prop:value=move || several_matches.get().as_str() on:change=move |e| several_matches.set(MatchRule::parse(&event_target_value(&e)))>
                    {MatchRule::ALL.iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                </select>
                <p class="help">"Number formats to try, in the order ticked (none: as received):"</p>
                {NumberFormat::ALL.into_iter().map(format_box).collect_view()}
                <p class="help" data-testid="format-order">{move || {
                    let order: Vec<&str> = number_formats.with(|f| f.iter().map(|x| x.label()).collect());
                    if order.is_empty() { "Tried: as received.".to_string() } else { format!("Tried: {}.", order.join(", then ")) }
                }}</p>
                <label for="default-country">"Default country (ISO code, e.g. US, DE) for numbers without a country code"</label>
                <input id="default-country" type="text" maxlength="2" prop:value=move || default_country.get() on:input=move |e| default_country.set(event_target_value(&e)) />
                <label for="last-digits">"Last digits: how many"</label>
                <input id="last-digits" type="number" min="1" max="15" prop:value=move || last_digits.get() on:input=move |e| last_digits.set(event_target_value(&e)) />
                <label for="test-number">"Test number for Save and Check connection (when the template has no GetGlobalInfo)"</label>
                <input id="test-number" type="text" placeholder=SAMPLE_PHONE prop:value=move || test_number.get() on:input=move |e| test_number.set(event_target_value(&e)) />
            </fieldset>
            {create}
            {journal}
            {ticket}
            {options.lists_users.then(|| view! {
                <fieldset>
                    <legend>"User Association"</legend>
                    <label class="check"><input id="users-after-sync" type="checkbox" prop:checked=move || users_after_sync.get() on:change=move |e| users_after_sync.set(event_target_checked(&e)) />"After each extension sync from the PBX, sync CRM users and associate automatically"</label>
                </fieldset>
            })}
            <fieldset>
                <legend>"Pilot rollout"</legend>
                <p class="help">"Limit the calls this integration handles to some extensions while you try it; both empty: every extension."</p>
                <label for="pilot-extensions">"Only these extensions (numbers, comma-separated)"</label>
                <input id="pilot-extensions" type="text" placeholder="1001, 1002" prop:value=move || pilot_extensions.get() on:input=move |e| pilot_extensions.set(event_target_value(&e)) />
                <label for="pilot-groups">"Only these extension groups (names, comma-separated)"</label>
                <input id="pilot-groups" type="text" prop:value=move || pilot_groups.get() on:input=move |e| pilot_groups.set(event_target_value(&e)) />
                <label class="check"><input id="shadow-mode" type="checkbox" prop:checked=move || shadow.get() on:change=move |e| shadow.set(event_target_checked(&e)) />"Shadow mode: look callers up, but only record in Activity what contacts, journals and tickets would be written"</label>
            </fieldset>
            <div class="form-actions">
                <button class="button button-primary" type="submit" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save features" }}
                </button>
            </div>
        </form>
    }
}
