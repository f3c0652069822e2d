use leptos::prelude::*;
use leptos_meta::Title;

use crate::accounts::{
    AccountSummary, ApiTokenSummary, CreatedApiToken, TokenScope, MIN_PASSWORD_CHARS,
};
use crate::api::accounts::{
    list_accounts, CreateAccount, DeleteAccount, ResetPassword, SetAccountDisabled,
};
use crate::api::agents::{
    account_extension_matches, account_extensions, LinkMatchedExtensions, SetAccountExtensions,
};
use crate::api::api_tokens::{list_api_tokens, CreateApiToken, RevokeApiToken};
use crate::components::confirm::{ConfirmDialog, ConfirmRequest};
use crate::components::frame::Frame;
use crate::components::loaded::failed;
use crate::components::page_data::page_data;
use crate::components::toast::{use_toasts, Toasts};
use crate::error::PortalError;
use crate::viewer::{Viewer, CSRF_FIELD};
use std::collections::BTreeMap;

/// Shows a toast for each finished action: its success text, or the error.
fn report_outcome<T: Clone + Send + Sync + 'static>(
    outcome: impl Get<Value = Option<Result<T, PortalError>>> + Send + Sync + 'static,
    toasts: Toasts,
    success: impl Fn(&T) -> String + Send + Sync + 'static,
) {
    Effect::new(move |_| match outcome.get() {
        Some(Ok(value)) => toasts.success(success(&value)),
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
}

#[component]
pub fn AccountsPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    view! {
        <Title text="Accounts" />
        <Frame>
            <h1>"Accounts"</h1>
            {if viewer.is_admin() {
                view! {
                    <AccountsAdmin />
                    <ApiTokensAdmin />
                }
                    .into_any()
            } else {
                view! { <p class="notice">"Only administrators can manage accounts."</p> }
                    .into_any()
            }}
        </Frame>
    }
}

#[component]
fn AccountsAdmin() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let my_id = viewer.user.as_ref().map(|u| u.id);
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());

    let create = ServerAction::<CreateAccount>::new();
    let toggle = ServerAction::<SetAccountDisabled>::new();
    let delete = ServerAction::<DeleteAccount>::new();
    let reset = ServerAction::<ResetPassword>::new();
    report_outcome(create.value(), toasts, |a: &AccountSummary| {
        format!("Account {} created.", a.email)
    });
    report_outcome(toggle.value(), toasts, |_| "Account updated.".to_string());
    report_outcome(delete.value(), toasts, |_| "Account deleted.".to_string());
    report_outcome(reset.value(), toasts, |_| "Password reset.".to_string());

    let links_saved = RwSignal::new(0u32);
    let links = page_data(move || links_saved.get(), |_| account_extensions());
    let accounts = page_data(
        move || {
            (
                create.version().get(),
                toggle.version().get(),
                delete.version().get(),
                reset.version().get(),
            )
        },
        |_| list_accounts(),
    );

    let show_create = RwSignal::new(false);
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            show_create.set(false);
        }
    });

    let confirm = RwSignal::new(None::<ConfirmRequest>);
    let pending_delete = RwSignal::new(None::<i32>);
    let reset_target = RwSignal::new(None::<AccountSummary>);

    let ask_delete = move |account: AccountSummary| {
        pending_delete.set(Some(account.id));
        confirm.set(Some(ConfirmRequest {
            title: "Delete account?".into(),
            message: format!(
                "The account {} will be deleted and signed out everywhere. This cannot be undone.",
                account.email
            ),
            confirm_label: "Delete".into(),
        }));
    };

    let rows = move |list: Vec<AccountSummary>, links: BTreeMap<i32, Vec<String>>| {
        list.into_iter()
            .map(|account| {
                let is_me = Some(account.id) == my_id;
                let id = account.id;
                let disabled = account.disabled;
                let for_delete = account.clone();
                let for_reset = account.clone();
                let actions = (!is_me).then(|| {
                    view! {
                        <button
                            class="button button-small"
                            on:click=move |_| {
                                toggle.dispatch(SetAccountDisabled {
                                    csrf_token: csrf_token.get_value(),
                                    id,
                                    disabled: !disabled,
                                });
                            }
                        >
                            {if disabled { "Enable" } else { "Disable" }}
                        </button>
                        <button
                            class="button button-small"
                            on:click=move |_| reset_target.set(Some(for_reset.clone()))
                        >
                            "Reset password"
                        </button>
                        <button
                            class="button button-small button-danger"
                            on:click=move |_| ask_delete(for_delete.clone())
                        >
                            "Delete"
                        </button>
                    }
                });
                view! {
                    <tr data-email=account.email.clone()>
                        <td>
                            {account.email.clone()}
                            {is_me.then(|| view! { <span class="tag">"you"</span> })}
                        </td>
                        <td>{account.role.as_str()}</td>
                        <td>
                            <ExtensionsCell
                                account_id=id
                                email=account.email.clone()
                                numbers=links.get(&id).cloned().unwrap_or_default()
                                csrf_token
                                saved=links_saved
                            />
                        </td>
                        <td>
                            {if account.disabled {
                                view! { <span class="status status-off">"Disabled"</span> }
                            } else {
                                view! { <span class="status status-on">"Active"</span> }
                            }}
                        </td>
                        <td>
                            <div class="actions">{actions}</div>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };

    view! {
        <div class="toolbar">
            <button
                class="button button-primary"
                aria-expanded=move || show_create.get().to_string()
                aria-controls="create-account"
                on:click=move |_| show_create.update(|open| *open = !*open)
            >
                "New account"
            </button>
        </div>
        <Show when=move || show_create.get()>
            <ActionForm action=create attr:id="create-account" attr:class="card form-grid">
                <h2>"New account"</h2>
                <input type="hidden" name=CSRF_FIELD value=csrf_token.get_value() />
                <label for="new-email">"E-mail"</label>
                <input id="new-email" name="email" type="email" required />
                <label for="new-password">"Password"</label>
                <input
                    id="new-password"
                    name="password"
                    type="password"
                    autocomplete="new-password"
                    minlength=MIN_PASSWORD_CHARS.to_string()
                    required
                />
                <label for="new-role">"Role"</label>
                <select id="new-role" name="role">
                    <option value="user" selected>"User: connects integrations, associates users"</option>
                    <option value="admin">"Administrator: everything"</option>
                    <option value="agent">"Agent: sees the calls of their own extensions, changes nothing else"</option>
                </select>
                <div class="form-actions">
                    <button type="button" class="button" on:click=move |_| show_create.set(false)>
                        "Cancel"
                    </button>
                    <button type="submit" class="button button-primary">
                        "Create account"
                    </button>
                </div>
            </ActionForm>
        </Show>
        <Transition fallback=|| view! { <p>"Loading accounts…"</p> }>
            {move || Suspend::new(async move {
                match (accounts.await, links.await) {
                    (Ok(list), Ok(links)) => {
                        view! {
                            <table class="table" aria-label="Accounts">
                                <thead>
                                    <tr>
                                        <th scope="col">"E-mail"</th>
                                        <th scope="col">"Role"</th>
                                        <th scope="col">"Extensions"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Actions"</th>
                                    </tr>
                                </thead>
                                <tbody>{rows(list, links)}</tbody>
                            </table>
                        }
                            .into_any()
                    }
                    (Err(error), _) | (_, Err(error)) => {
                        failed(error)
                    }
                }
            })}
        </Transition>
        <ConfirmDialog
            request=confirm
            on_confirm=move |_| {
                if let Some(id) = pending_delete.get_untracked() {
                    delete.dispatch(DeleteAccount {
                        csrf_token: csrf_token.get_value(),
                        id,
                    });
                }
            }
        />
        <ResetPasswordDialog target=reset_target reset csrf_token />
        <ExtensionMatches csrf_token saved=links_saved />
    }
}

/// The extensions an account answers: typed as numbers, saved on their own.
#[component]
fn ExtensionsCell(
    account_id: i32,
    email: String,
    numbers: Vec<String>,
    csrf_token: StoredValue<String>,
    saved: RwSignal<u32>,
) -> impl IntoView {
    let toasts = use_toasts();
    let typed = RwSignal::new(numbers.join(", "));
    let save = ServerAction::<SetAccountExtensions>::new();
    Effect::new(move |_| match save.value().get() {
        Some(Ok(numbers)) => {
            toasts.success(if numbers.is_empty() {
                "The account answers no extension.".to_owned()
            } else {
                format!("The account answers {}.", numbers.join(", "))
            });
            saved.update(|n| *n += 1);
        }
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    view! {
        <form class="form-inline" on:submit=move |ev| {
            ev.prevent_default();
            let numbers = typed
                .get_untracked()
                .split([',', ' '])
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect();
            save.dispatch(SetAccountExtensions { csrf_token: csrf_token.get_value(), account_id, numbers });
        }>
            <input type="text" size="12" placeholder="1001, 1002" aria-label=format!("Extensions of {email}")
                data-testid=format!("extensions-of-{email}")
                prop:value=move || typed.get() on:input=move |e| typed.set(event_target_value(&e)) />
            <button class="button button-small" type="submit">"Save"</button>
        </form>
    }
}

/// Accounts whose e-mail address is an extension's in the directory: shown, then linked
/// after the administrator confirms.
#[component]
fn ExtensionMatches(csrf_token: StoredValue<String>, saved: RwSignal<u32>) -> impl IntoView {
    let toasts = use_toasts();
    let asked = RwSignal::new(0u32);
    let matches = page_data(
        move || asked.get(),
        |asked| async move {
            if asked == 0 {
                Ok(Vec::new())
            } else {
                account_extension_matches().await
            }
        },
    );
    let link = ServerAction::<LinkMatchedExtensions>::new();
    Effect::new(move |_| match link.value().get() {
        Some(Ok(count)) => {
            toasts.success(format!("{count} extensions linked."));
            saved.update(|n| *n += 1);
            asked.set(0);
        }
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    view! {
        <section class="card" aria-labelledby="extension-matches-title">
            <h2 id="extension-matches-title">"Link accounts to their extensions"</h2>
            <p class="help">"Agents see the calls of the extensions their account answers. Accounts whose e-mail address is an extension's in the directory can be linked to it in one step."</p>
            <button class="button" type="button" data-testid="find-extension-matches" on:click=move |_| asked.update(|n| *n += 1)>"Find matches"</button>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match matches.await {
                        Ok(found) if found.is_empty() && asked.get_untracked() > 0 => view! { <p data-testid="extension-matches">"No account matches an extension it does not answer yet."</p> }.into_any(),
                        Ok(found) if found.is_empty() => ().into_any(),
                        Ok(found) => {
                            let count: usize = found.iter().map(|m| m.numbers.len()).sum();
                            view! {
                                <ul data-testid="extension-matches">
                                    {found.into_iter().map(|m| view! { <li>{format!("{} → {}", m.email, m.numbers.join(", "))}</li> }).collect_view()}
                                </ul>
                                <button class="button button-primary" type="button" data-testid="link-extension-matches"
                                    on:click=move |_| { link.dispatch(LinkMatchedExtensions { csrf_token: csrf_token.get_value() }); }>
                                    {format!("Link {count} extensions")}
                                </button>
                            }.into_any()
                        }
                        Err(error) => failed(error),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ResetPasswordDialog(
    target: RwSignal<Option<AccountSummary>>,
    reset: ServerAction<ResetPassword>,
    csrf_token: StoredValue<String>,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let close = move || {
        password.set(String::new());
        target.set(None);
    };
    view! {
        <Show when=move || target.with(Option::is_some)>
            <div class="dialog-backdrop">
                <form
                    class="dialog"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="reset-title"
                    on:submit=move |event| {
                        event.prevent_default();
                        if let Some(account) = target.get_untracked() {
                            reset.dispatch(ResetPassword {
                                csrf_token: csrf_token.get_value(),
                                id: account.id,
                                password: password.get_untracked(),
                            });
                        }
                        close();
                    }
                >
                    <h2 id="reset-title">
                        {move || {
                            target.with(|t| {
                                t.as_ref().map(|a| format!("Reset the password of {}", a.email))
                            })
                        }}
                    </h2>
                    <label for="reset-password">"New password"</label>
                    <input
                        id="reset-password"
                        type="password"
                        autocomplete="new-password"
                        minlength=MIN_PASSWORD_CHARS.to_string()
                        required
                        prop:value=password
                        on:input=move |event| password.set(event_target_value(&event))
                    />
                    <p class="help">
                        {format!("At least {MIN_PASSWORD_CHARS} characters. The account is signed out everywhere.")}
                    </p>
                    <div class="dialog-actions">
                        <button type="button" class="button" on:click=move |_| close()>
                            "Cancel"
                        </button>
                        <button type="submit" class="button button-primary">
                            "Reset password"
                        </button>
                    </div>
                </form>
            </div>
        </Show>
    }
}

/// "2026-11-21 18:42 UTC" from Unix seconds; the same text on server and browser.
fn utc_time(seconds: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(seconds) {
        Ok(t) => format!(
            "{}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => "unknown".to_string(),
    }
}

#[component]
fn ApiTokensAdmin() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    report_outcome(create.value(), toasts, |t: &CreatedApiToken| {
        format!("API token {} created.", t.summary.name)
    });
    report_outcome(revoke.value(), toasts, |_| "API token revoked.".to_string());
    let tokens = page_data(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );
    let name = RwSignal::new(String::new());
    let scope = RwSignal::new(TokenScope::Admin.as_str().to_string());
    let expiry_days = RwSignal::new("90".to_string());
    let confirm = RwSignal::new(None::<ConfirmRequest>);
    let pending_revoke = RwSignal::new(None::<i32>);
    let fresh_token = move || create.value().get().and_then(Result::ok).map(|t| t.token);

    let rows = move |list: Vec<ApiTokenSummary>| {
        list.into_iter()
            .map(|token| {
                let id = token.id;
                let label = format!("{} ({}…)", token.name, token.prefix);
                view! {
                    <tr data-token=token.name.clone()>
                        <td>{token.name.clone()}</td>
                        <td class="mono">{format!("{}…", token.prefix)}</td>
                        <td>{token.scope.as_str()}</td>
                        <td>{token.created_by.clone()}</td>
                        <td>{token.expires_at.map(utc_time).unwrap_or_else(|| "never".into())}</td>
                        <td>{token.last_used_at.map(utc_time).unwrap_or_else(|| "never".into())}</td>
                        <td>
                            <button
                                class="button button-small button-danger"
                                on:click=move |_| {
                                    pending_revoke.set(Some(id));
                                    confirm.set(Some(ConfirmRequest {
                                        title: "Revoke API token?".into(),
                                        message: format!("Scripts using {label} will be refused from now on."),
                                        confirm_label: "Revoke".into(),
                                    }));
                                }
                            >
                                "Revoke"
                            </button>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };

    view! {
        <section class="section" aria-labelledby="api-tokens-title">
            <h2 id="api-tokens-title">"API tokens"</h2>
            <p class="help">
                "Scripts use a token to call the REST API (/api/v1/…), sent as Authorization: Bearer <token>. A token acts as the account that created it, only within its scope, and stops working when it expires or that account is disabled or deleted."
            </p>
            <form
                class="inline-form"
                on:submit=move |event| {
                    event.prevent_default();
                    create.dispatch(CreateApiToken {
                        csrf_token: csrf_token.get_value(),
                        name: name.get_untracked(),
                        scope: scope.get_untracked(),
                        expires_in_days: expiry_days.get_untracked(),
                    });
                    name.set(String::new());
                }
            >
                <label for="token-name">"Token name"</label>
                <input
                    id="token-name"
                    required
                    maxlength="64"
                    placeholder="e.g. Template CI"
                    prop:value=name
                    on:input=move |event| name.set(event_target_value(&event))
                />
                <label for="token-scope">"Scope"</label>
                <select
                    id="token-scope"
                    prop:value=scope
                    on:change=move |event| scope.set(event_target_value(&event))
                >
                    <option value="admin">"admin: the REST API"</option>
                    <option value="lookup">"lookup: contact lookups"</option>
                    <option value="events">"events: call events"</option>
                    <option value="metrics">"metrics: /metrics for Prometheus"</option>
                </select>
                <label for="token-expiry">"Expires"</label>
                <select
                    id="token-expiry"
                    prop:value=expiry_days
                    on:change=move |event| expiry_days.set(event_target_value(&event))
                >
                    <option value="30">"in 30 days"</option>
                    <option value="90">"in 90 days"</option>
                    <option value="365">"in a year"</option>
                    <option value="never">"never"</option>
                </select>
                <button type="submit" class="button button-primary">
                    "Create token"
                </button>
            </form>
            {move || {
                fresh_token()
                    .map(|token| {
                        view! {
                            <div class="notice" role="alert">
                                <p>"Copy this token now: it is not shown again."</p>
                                <input class="mono" readonly aria-label="New API token" value=token />
                            </div>
                        }
                    })
            }}
            <Transition fallback=|| view! { <p>"Loading API tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) if list.is_empty() => {
                            view! { <p class="help">"No API tokens yet."</p> }.into_any()
                        }
                        Ok(list) => {
                            view! {
                                <table class="table" aria-label="API tokens">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Name"</th>
                                            <th scope="col">"Token"</th>
                                            <th scope="col">"Scope"</th>
                                            <th scope="col">"Created by"</th>
                                            <th scope="col">"Expires"</th>
                                            <th scope="col">"Last used"</th>
                                            <th scope="col">"Actions"</th>
                                        </tr>
                                    </thead>
                                    <tbody>{rows(list)}</tbody>
                                </table>
                            }
                                .into_any()
                        }
                        Err(error) => {
                            failed(error)
                        }
                    }
                })}
            </Transition>
            <ConfirmDialog
                request=confirm
                on_confirm=move |_| {
                    if let Some(id) = pending_revoke.get_untracked() {
                        revoke.dispatch(RevokeApiToken {
                            csrf_token: csrf_token.get_value(),
                            id,
                        });
                    }
                }
            />
        </section>
    }
}
