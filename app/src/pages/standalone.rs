//! A whole HTML document without the app's script, for pages the server answers on its own
//! (the OAuth callback's page, the documentation): the app's stylesheet, a title, a body.

use leptos::prelude::*;

pub fn standalone_document(stylesheet: &str, title: String, body: impl IntoView) -> String {
    let head = view! {
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title}</title>
        <link rel="stylesheet" id="patchbay-style" href=stylesheet.to_owned() />
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head>{}</head><body>{}</body></html>",
        head.to_html(),
        body.to_html()
    )
}
