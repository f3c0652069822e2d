//! The documentation page shell (`/docs/…`, served by `server::web::docs`): the rendered
//! Markdown of docs/ inside the app's stylesheet. A plain document without the app's
//! script; the HTML it wraps was made from the project's own Markdown with raw HTML
//! escaped.

use leptos::prelude::*;

use super::standalone::standalone_document;

/// The whole HTML document for one documentation page.
pub fn docs_document(stylesheet: &str, title: &str, html: String) -> String {
    let body = view! {
        <main class="docs-page">
            <p class="breadcrumb"><a href="/docs">"Patchbay for template authors"</a>" · "<a href="/">"Back to Patchbay"</a></p>
            <article class="card docs" inner_html=html></article>
        </main>
    };
    standalone_document(stylesheet, format!("{title} · Patchbay docs"), body)
}
