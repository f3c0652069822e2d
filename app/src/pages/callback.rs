//! The page the OAuth redirect callback answers (README "Connecting an integration"):
//! "Authorization succeeded!" or why not, and the way back. A plain document without the
//! app's script: the callback does its work once, on the server, and the page only reports
//! it.

use leptos::prelude::*;

use super::standalone::standalone_document;

/// What the callback page says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackPage {
    pub succeeded: bool,
    pub title: String,
    pub message: String,
    /// Where the main link goes (the settings page, or sign-in), and its words.
    pub link: String,
    pub link_label: String,
}

/// The whole HTML document. Every text goes through the view, so a provider's
/// `error_description` is shown as text, never as markup.
pub fn callback_document(stylesheet: &str, page: CallbackPage) -> String {
    let CallbackPage {
        succeeded,
        title,
        message,
        link,
        link_label,
    } = page;
    let notice = if succeeded {
        "notice notice-ok"
    } else {
        "notice notice-error"
    };
    let role = if succeeded { "status" } else { "alert" };
    let page_title = format!("{title} · Patchbay");
    let body = view! {
        <main class="callback-page">
            <section class="card" aria-labelledby="callback-title">
                <h1 id="callback-title">{title}</h1>
                <p class=notice role=role data-outcome=if succeeded { "succeeded" } else { "failed" }>{message}</p>
                <p><a class="button button-primary" href=link>{link_label}</a></p>
            </section>
        </main>
    };
    standalone_document(stylesheet, page_title, body)
}
