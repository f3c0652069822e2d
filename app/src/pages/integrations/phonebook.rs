//! The Phonebook section of an integration's page (docs/scenarios.md "Contacts, the cache
//! and number formats"): the contacts lookups found, newest first, searchable by name or
//! number, each with when the CRM was read and its record; Clear empties it.

use leptos::prelude::*;

use crate::api::integrations::{list_cached_contacts, ClearContactCache};
use crate::components::loaded::Loaded;
use crate::components::page_data::page_data;
use crate::components::pager::Pager;
use crate::components::toast::use_toasts;
use crate::integrations::PHONEBOOK_PAGE_ROWS as PAGE_ROWS;
use crate::template::model::Provider;
use crate::viewer::Viewer;

#[component]
pub fn PhonebookSection(provider: Provider, key: String, name: String) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let key = StoredValue::new(key);
    let search = RwSignal::new(String::new());
    let offset = RwSignal::new(0u64);
    let clear = ServerAction::<ClearContactCache>::new();
    let contacts = page_data(
        move || (search.get(), offset.get(), clear.version().get()),
        move |(search, offset, _)| {
            list_cached_contacts(
                provider.as_str().to_string(),
                key.get_value(),
                search,
                offset,
            )
        },
    );
    Effect::new(move |_| match clear.value().get() {
        Some(Ok(cleared)) => {
            offset.set(0);
            toasts.success(format!("{cleared} cached contact(s) cleared."));
        }
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    let title = if name.trim().is_empty() {
        "Phonebook".to_string()
    } else {
        format!("Phonebook: {name}")
    };
    view! {
        <section class="card phonebook" aria-labelledby="phonebook-title">
            <h2 id="phonebook-title">{title}</h2>
            <p class="help">"The contacts lookups found, kept so that a ring need not ask the CRM (see Always Query in Features). Cleared on Disconnect and when a new template revision is applied."</p>
            <label for="phonebook-search">"Search by name or number"</label>
            <input id="phonebook-search" type="search" prop:value=move || search.get()
                on:input=move |e| { search.set(event_target_value(&e)); offset.set(0); } />
            <Loaded resource=contacts loading="Loading contacts…" then=move |page| {
                    if page.total == 0 {
                        return view! { <p class="empty">"No cached contacts."</p> }.into_any();
                    }
                    let (offset_now, shown, total) = (page.offset, page.contacts.len(), page.total);
                    view! {
                        <table class="table" data-testid="phonebook">
                            <thead><tr><th>"Number"</th><th>"Name"</th><th>"Type"</th><th>"Read from the CRM"</th><th>"Record"</th></tr></thead>
                            <tbody>
                                {page.contacts.into_iter().map(|c| view! {
                                    <tr>
                                        <td>{c.number}</td>
                                        <td>{c.name}</td>
                                        <td>{c.contact_type}</td>
                                        <td>{crate::pages::templates::format_time(c.read_at)}</td>
                                        <td>{c.popup_url.map(|url| view! { <a href=url target="_blank" rel="noopener noreferrer">"Open in CRM"</a> })}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager offset=offset_now shown=shown total=total page_rows=PAGE_ROWS set_offset=offset />
                    }.into_any()
                }
            />
            <div class="form-actions">
                <button class="button" type="button" disabled=move || clear.pending().get()
                    on:click=move |_| { clear.dispatch(ClearContactCache {
                        csrf_token: csrf_token.get_value(),
                        provider: provider.as_str().to_string(),
                        key: key.get_value(),
                    }); }>"Clear the phonebook"</button>
            </div>
        </section>
    }
}
