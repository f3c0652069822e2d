//! The documentation page shell (`/docs/…`, served by `server::web::docs`): the rendered
//! Markdown of docs/ inside the app's stylesheet. A plain document without the app's
//! script; the HTML it wraps was made from the project's own Markdown with raw HTML
//! escaped.

use leptos::prelude::*;
use leptos_meta::HashedStylesheet;

/// The whole HTML document for one documentation page.
pub fn docs_document(options: LeptosOptions, title: &str, html: String) -> String {
    let head = view! {
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{format!("{title} · Patchbay docs")}</title>
        <HashedStylesheet options id="patchbay-style" />
    };
    let body = view! {
        <main class="docs-page">
            <p class="breadcrumb"><a href="/docs">"Patchbay for template authors"</a>" · "<a href="/">"Back to Patchbay"</a></p>
            <article class="card docs" inner_html=html></article>
        </main>
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head>{}</head><body>{}</body></html>",
        head.to_html(),
        body.to_html()
    )
}
