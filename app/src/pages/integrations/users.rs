//! The User Association section of an integration's page (README "CRM user sync"): Sync
//! (progress while it runs, what it changed after), and the CRM users it read, searchable
//! and paged.

use leptos::prelude::*;

use crate::api::{crm_user_sync_progress, list_crm_users, SyncCrmUsers};
use crate::components::toast::use_toasts;
use crate::integrations::{UserSyncProgress, CRM_USERS_PAGE_ROWS as PAGE_ROWS};
use crate::template::model::Provider;
use crate::viewer::Viewer;

#[component]
pub fn UsersSection(provider: Provider, key: String) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let key = StoredValue::new(key);
    let sync = ServerAction::<SyncCrmUsers>::new();
    let progress = RwSignal::new(UserSyncProgress::default());
    let search = RwSignal::new(String::new());
    let offset = RwSignal::new(0u64);
    let reloads = RwSignal::new(0u32);
    let users = Resource::new(
        move || (search.get(), offset.get(), reloads.get()),
        move |(search, offset, _)| {
            list_crm_users(
                provider.as_str().to_string(),
                key.get_value(),
                search,
                offset,
            )
        },
    );
    Effect::new(move |_| match sync.value().get() {
        Some(Ok(report)) => {
            offset.set(0);
            reloads.update(|n| *n += 1);
            toasts.success(report.message);
        }
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    // While a sync runs, ask how far it is twice a second.
    Effect::new(move |previous: Option<Option<IntervalHandle>>| {
        if let Some(Some(handle)) = previous {
            handle.clear();
        }
        if !sync.pending().get() {
            return None;
        }
        set_interval_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    if let Ok(now) =
                        crm_user_sync_progress(provider.as_str().to_string(), key.get_value()).await
                    {
                        progress.set(now);
                    }
                })
            },
            std::time::Duration::from_millis(500),
        )
        .ok()
    });
    let on_sync = move |_| {
        progress.set(UserSyncProgress::default());
        sync.dispatch(SyncCrmUsers {
            csrf_token: csrf_token.get_value(),
            provider: provider.as_str().to_string(),
            key: key.get_value(),
        });
    };
    view! {
        <section class="card users" aria-labelledby="users-title">
            <h2 id="users-title">"User Association"</h2>
            <p class="help">"Sync reads the CRM's users with the template's pagination (at most 100 requests). A sync that fails changes nothing."</p>
            <div class="form-actions">
                <button class="button button-primary" type="button" on:click=on_sync disabled=move || sync.pending().get()>
                    {move || if sync.pending().get() { "Syncing…" } else { "Sync users" }}
                </button>
            </div>
            {move || sync.pending().get().then(|| {
                let p = progress.get();
                view! { <p class="help" role="status" data-testid="sync-progress">{format!("{} page(s) read, {} users so far", p.pages, p.users)}</p> }
            })}
            {move || sync.value().get().map(|result| match result {
                Ok(report) => view! { <p class="notice notice-ok" role="status" data-testid="sync-result">{report.message}</p> }.into_any(),
                Err(error) => view! { <p class="notice notice-error" role="alert">{error.to_string()}</p> }.into_any(),
            })}
            <label for="users-search">"Search users"</label>
            <input id="users-search" type="search" prop:value=move || search.get()
                on:input=move |e| { search.set(event_target_value(&e)); offset.set(0); } />
            <Transition fallback=|| view! { <p>"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    let page = match users.await {
                        Ok(page) => page,
                        Err(error) => return view! { <p class="notice" role="alert">{error.to_string()}</p> }.into_any(),
                    };
                    if page.total == 0 {
                        return view! { <p class="empty">"No CRM users yet: press Sync users."</p> }.into_any();
                    }
                    let shown = format!(
                        "{}–{} of {}",
                        page.offset + 1,
                        page.offset + page.users.len() as u64,
                        page.total
                    );
                    let more = page.offset + (page.users.len() as u64) < page.total;
                    let back = page.offset > 0;
                    view! {
                        <table class="table" data-testid="crm-users">
                            <thead><tr><th>"CRM id"</th><th>"Name"</th><th>"E-mail"</th></tr></thead>
                            <tbody>
                                {page.users.into_iter().map(|u| view! {
                                    <tr><td>{u.crm_id}</td><td>{format!("{} {}", u.first_name, u.last_name)}</td><td>{u.email}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <div class="toolbar">
                            <span class="help">{shown}</span>
                            {back.then(|| view! { <button class="button" type="button" on:click=move |_| offset.update(|o| *o = o.saturating_sub(PAGE_ROWS))>"Previous"</button> })}
                            {more.then(|| view! { <button class="button" type="button" on:click=move |_| offset.update(|o| *o += PAGE_ROWS)>"Next"</button> })}
                        </div>
                    }.into_any()
                })}
            </Transition>
        </section>
    }
}
