use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::accounts::MIN_PASSWORD_CHARS;
use crate::viewer::{Viewer, CSRF_FIELD};

/// First start without a configured admin: the one-time link printed by the server leads
/// here, and the form creates the first administrator.
#[component]
pub fn SetupPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    let error = move || {
        query.with(|q| match q.get("error").as_deref() {
            Some("token") => Some("This setup link is not valid any more. Use the link printed by the server at its last start.".to_string()),
            Some("email") => Some("Enter a valid e-mail address.".to_string()),
            Some("password") => Some(format!("The password needs at least {MIN_PASSWORD_CHARS} characters.")),
            Some("expired") => Some("The form expired. Please try again.".to_string()),
            _ => None,
        })
    };
    view! {
        <Title text="Set up" />
        <main class="auth-page">
            <form class="card auth-card" method="post" action="/setup">
                <h1>"Create the first administrator"</h1>
                <p>"This account can create every other account. The setup link works once."</p>
                {move || error().map(|text| view! { <p class="notice" role="alert">{text}</p> })}
                <input type="hidden" name=CSRF_FIELD value=viewer.csrf_token.clone() />
                <input type="hidden" name="token" value=token />
                <label for="email">"E-mail"</label>
                <input id="email" name="email" type="email" autocomplete="username" required />
                <NewPasswordField label="Password" />
                <button type="submit" class="button button-primary button-wide">
                    "Create administrator"
                </button>
            </form>
        </main>
    }
}

/// The page a reset link (`patchbay admin reset-password EMAIL`) opens: a new password for
/// the account the link was made for. The link works once, within an hour.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    let error = move || {
        query.with(|q| match q.get("error").as_deref() {
            Some("token") => Some("This link is not valid any more: it works once, within an hour. Ask for a new one with patchbay admin reset-password.".to_string()),
            Some("password") => Some(format!("The password needs at least {MIN_PASSWORD_CHARS} characters.")),
            Some("expired") => Some("The form expired. Please try again.".to_string()),
            _ => None,
        })
    };
    view! {
        <Title text="Choose a new password" />
        <main class="auth-page">
            <form class="card auth-card" method="post" action="/reset-password">
                <h1>"Choose a new password"</h1>
                <p>"For the account this link was made for. Its sessions end; sign in afterwards."</p>
                {move || error().map(|text| view! { <p class="notice" role="alert">{text}</p> })}
                <input type="hidden" name=CSRF_FIELD value=viewer.csrf_token.clone() />
                <input type="hidden" name="token" value=token />
                <NewPasswordField label="New password" />
                <button type="submit" class="button button-primary button-wide">
                    "Set password"
                </button>
            </form>
        </main>
    }
}

/// A new password's field, with the rule it must meet.
#[component]
fn NewPasswordField(label: &'static str) -> impl IntoView {
    view! {
        <label for="password">{label}</label>
        <input
            id="password"
            name="password"
            type="password"
            autocomplete="new-password"
            minlength=MIN_PASSWORD_CHARS.to_string()
            required
        />
        <p class="help">{format!("At least {MIN_PASSWORD_CHARS} characters.")}</p>
    }
}
