//! The User Association section of an integration's page (README "CRM user sync", "User
//! association"): Sync (progress while it runs, what it changed after); the CRM users it
//! read with their extensions, searchable and paged; Associate Automatically after a
//! confirmation with its counts; and a user's extensions picked by hand (extensions and
//! groups, a group adding its members).

use leptos::prelude::*;

use crate::api::directory::pick_extensions;
use crate::api::integrations::{
    associate_automatically, crm_user_sync_progress, list_crm_users, AssociateAutomatically,
    AssociateExtensions, SyncCrmUsers,
};
use crate::components::confirm::{ConfirmDialog, ConfirmRequest};
use crate::components::loaded::{failed, Loaded};
use crate::components::page_data::page_data;
use crate::components::pager::Pager;
use crate::components::toast::use_toasts;
use crate::integrations::{
    AutoAssociation, CrmUserRow, UserSyncProgress, CRM_USERS_PAGE_ROWS as PAGE_ROWS,
};
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
    let picking = RwSignal::new(None::<CrmUserRow>);
    let confirm = RwSignal::new(None::<ConfirmRequest>);
    let automatic = ServerAction::<AssociateAutomatically>::new();
    Effect::new(move |_| match automatic.value().get() {
        Some(Ok(done)) => {
            reloads.update(|n| *n += 1);
            toasts.success(format!(
                "{} extension(s) associated with {} user(s).",
                done.associated, done.users
            ));
        }
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    let on_automatic = move |_| {
        leptos::task::spawn_local(async move {
            match associate_automatically(
                csrf_token.get_value(),
                provider.as_str().to_string(),
                key.get_value(),
                false,
            )
            .await
            {
                Ok(plan) if plan.associated == 0 => toasts.success(automatic_message(&plan)),
                Ok(plan) => confirm.set(Some(ConfirmRequest {
                    title: "Associate automatically?".into(),
                    message: automatic_message(&plan),
                    confirm_label: format!("Associate {}", plan.associated),
                })),
                Err(error) => toasts.error(error.to_string()),
            }
        });
    };
    let on_confirm_automatic = move |_| {
        automatic.dispatch(AssociateAutomatically {
            csrf_token: csrf_token.get_value(),
            provider: provider.as_str().to_string(),
            key: key.get_value(),
            apply: true,
        });
    };
    let users = page_data(
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
                <button class="button" type="button" data-testid="associate-automatically" on:click=on_automatic disabled=move || automatic.pending().get()>"Associate Automatically"</button>
            </div>
            {move || sync.pending().get().then(|| {
                let p = progress.get();
                view! { <p class="help" role="status" data-testid="sync-progress">{format!("{} page(s) read, {} users so far", p.pages, p.users)}</p> }
            })}
            {move || sync.value().get().map(|result| match result {
                Ok(report) => view! { <p class="notice notice-ok" role="status" data-testid="sync-result">{report.message}</p> }.into_any(),
                Err(error) => failed(error),
            })}
            <ConfirmDialog request=confirm on_confirm=on_confirm_automatic />
            {move || picking.get().map(|user| view! {
                <Picker user=user provider=provider key=key csrf_token=csrf_token picking=picking reloads=reloads />
            })}
            <label for="users-search">"Search users"</label>
            <input id="users-search" type="search" prop:value=move || search.get()
                on:input=move |e| { search.set(event_target_value(&e)); offset.set(0); } />
            <Loaded resource=users loading="Loading users…" then=move |page| {
                    if page.total == 0 {
                        return view! { <p class="empty">"No CRM users yet: press Sync users."</p> }.into_any();
                    }
                    let (offset_now, shown, total) = (page.offset, page.users.len(), page.total);
                    view! {
                        <table class="table" data-testid="crm-users">
                            <thead><tr><th>"CRM id"</th><th>"Name"</th><th>"E-mail"</th><th>"Extensions"</th><th>"Actions"</th></tr></thead>
                            <tbody>
                                {page.users.into_iter().map(|u| {
                                    let for_pick = u.clone();
                                    view! {
                                        <tr data-crm-id=u.crm_id.clone()>
                                            <td>{u.crm_id.clone()}</td>
                                            <td>{format!("{} {}", u.first_name, u.last_name)}</td>
                                            <td>{u.email.clone()}</td>
                                            <td data-testid="user-extensions">{u.extensions.join(", ")}</td>
                                            <td><button class="button button-small" type="button" on:click=move |_| picking.set(Some(for_pick.clone()))>"Associate…"</button></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <Pager offset=offset_now shown=shown total=total page_rows=PAGE_ROWS set_offset=offset />
                    }.into_any()
                }
            />
        </section>
    }
}

/// The confirmation's text: what Associate Automatically will do.
fn automatic_message(plan: &AutoAssociation) -> String {
    let mut message = if plan.associated == 0 {
        format!(
            "Nothing new to associate by e-mail; {} user(s) stay unmatched.",
            plan.unmatched
        )
    } else {
        format!(
        "{} extension(s) will be associated with {} CRM user(s) by e-mail; {} user(s) stay unmatched.",
        plan.associated, plan.users, plan.unmatched
    )
    };
    if plan.already > 0 {
        message.push_str(&format!(
            " {} pair(s) are already associated.",
            plan.already
        ));
    }
    if !plan.conflicts.is_empty() {
        message.push_str(&format!(
            " Left as they are, because another user has them: {}.",
            plan.conflicts.join(", ")
        ));
    }
    message
}

/// A CRM user's extensions, picked by hand: the current ones (each removable), a search
/// over extensions and groups, and Save. The server refuses an extension another user has
/// and says who.
#[component]
fn Picker(
    user: CrmUserRow,
    provider: Provider,
    key: StoredValue<String>,
    csrf_token: StoredValue<String>,
    picking: RwSignal<Option<CrmUserRow>>,
    reloads: RwSignal<u32>,
) -> impl IntoView {
    let toasts = use_toasts();
    let chosen = RwSignal::new(user.extensions.clone());
    let search = RwSignal::new(String::new());
    let crm_id = StoredValue::new(user.crm_id.clone());
    let name = format!("{} {}", user.first_name, user.last_name)
        .trim()
        .to_owned();
    let title = if name.is_empty() {
        user.crm_id.clone()
    } else {
        name
    };
    let matches = page_data(move || search.get(), pick_extensions);
    let save = ServerAction::<AssociateExtensions>::new();
    Effect::new(move |_| {
        if let Some(Ok(numbers)) = save.value().get() {
            toasts.success(format!("{} extension(s) associated.", numbers.len()));
            picking.set(None);
            reloads.update(|n| *n += 1);
        }
    });
    let add = move |numbers: Vec<String>| {
        chosen.update(|list| {
            for number in numbers {
                if !list.contains(&number) {
                    list.push(number);
                }
            }
            list.sort();
        })
    };
    let on_save = move |_| {
        save.dispatch(AssociateExtensions {
            csrf_token: csrf_token.get_value(),
            provider: provider.as_str().to_string(),
            key: key.get_value(),
            crm_id: crm_id.get_value(),
            numbers: chosen.get_untracked(),
        });
    };
    view! {
        <div class="card" data-testid="picker" role="group" aria-labelledby="picker-title">
            <h3 id="picker-title">{format!("Extensions of {title}")}</h3>
            <ul class="chips" data-testid="picked">
                {move || {
                    let list = chosen.get();
                    if list.is_empty() {
                        return view! { <li class="help">"None yet: search below and add."</li> }.into_any();
                    }
                    list.into_iter().map(|number| {
                        let remove = number.clone();
                        view! {
                            <li class="tag" data-number=number.clone()>
                                {number.clone()}
                                <button class="button button-quiet button-small" type="button" aria-label=format!("Remove {number}")
                                    on:click=move |_| chosen.update(|l| l.retain(|n| n != &remove))>"×"</button>
                            </li>
                        }
                    }).collect_view().into_any()
                }}
            </ul>
            <label for="picker-search">"Find extensions or groups"</label>
            <input id="picker-search" type="search" prop:value=move || search.get() on:input=move |e| search.set(event_target_value(&e)) />
            <Transition fallback=|| view! { <p>"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match matches.await {
                        Err(error) => failed(error),
                        Ok(items) if items.is_empty() => view! { <p class="help">"Nothing matches."</p> }.into_any(),
                        Ok(items) => view! {
                            <ul class="picker-matches" data-testid="picker-matches">
                                {items.into_iter().map(|item| {
                                    let numbers = item.numbers.clone();
                                    view! {
                                        <li>
                                            <button class="button button-small" type="button" data-group=item.is_group.to_string()
                                                on:click=move |_| add(numbers.clone())>{format!("Add {}", item.label)}</button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
            {move || match save.value().get() {
                Some(Err(error)) => Some(view! { <p class="notice notice-error" role="alert" data-testid="picker-error">{error.to_string()}</p> }),
                _ => None,
            }}
            <div class="form-actions">
                <button class="button" type="button" on:click=move |_| picking.set(None)>"Cancel"</button>
                <button class="button button-primary" type="button" on:click=on_save disabled=move || save.pending().get()>"Save"</button>
            </div>
        </div>
    }
}
