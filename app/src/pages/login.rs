use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::viewer::{Viewer, CSRF_FIELD};

/// The server redirects back here with a short code instead of free text, so the page
/// never reflects attacker-chosen text.
fn login_message(code: Option<&str>, retry_after: Option<&str>) -> Option<String> {
    let text = match code? {
        "invalid" => "The e-mail address or password is not correct.".to_string(),
        "throttled" => format!(
            "Too many failed attempts. Wait {} seconds, then try again.",
            retry_after
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(60)
        ),
        "expired" => "The sign-in form expired. Please try again.".to_string(),
        "signed_out" => "You have signed out.".to_string(),
        "password_set" => "Your new password is set. Sign in with it.".to_string(),
        _ => return None,
    };
    Some(text)
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let query = use_query_map();
    let message =
        move || query.with(|q| login_message(q.get("msg").as_deref(), q.get("retry").as_deref()));
    let show_password = RwSignal::new(false);

    view! {
        <Title text="Sign in" />
        <main class="auth-page">
            <form class="card auth-card" method="post" action="/login">
                <h1>"Sign in to Patchbay"</h1>
                {move || {
                    message().map(|text| view! { <p class="notice" role="alert">{text}</p> })
                }}
                <input type="hidden" name=CSRF_FIELD value=viewer.csrf_token.clone() />
                <label for="email">"E-mail"</label>
                <input id="email" name="email" type="email" autocomplete="username" required />
                <label for="password">"Password"</label>
                <div class="input-with-button">
                    <input
                        id="password"
                        name="password"
                        type=move || if show_password.get() { "text" } else { "password" }
                        autocomplete="current-password"
                        required
                    />
                    <button
                        type="button"
                        class="button button-quiet"
                        aria-controls="password"
                        aria-pressed=move || show_password.get().to_string()
                        on:click=move |_| show_password.update(|shown| *shown = !*shown)
                    >
                        {move || if show_password.get() { "Hide" } else { "Show" }}
                    </button>
                </div>
                <button type="submit" class="button button-primary button-wide">
                    "Sign in"
                </button>
            </form>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::login_message;

    #[test]
    fn unknown_codes_show_nothing() {
        assert_eq!(login_message(Some("<script>"), None), None);
        assert_eq!(login_message(None, None), None);
    }

    #[test]
    fn throttled_message_names_the_wait() {
        let text = login_message(Some("throttled"), Some("42")).unwrap();
        assert!(text.contains("42 seconds"), "{text}");
    }
}
