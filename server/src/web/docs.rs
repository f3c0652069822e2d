//! `GET /docs` and `/docs/{page}`: the template authors' documentation (docs/*.md, built into
//! the binary) as HTML, public like the sign-in page: it holds nothing secret, and the
//! validator's messages link here (`/docs/validator#<code>`). Markdown is rendered with
//! `pulldown-cmark`; raw HTML in it is shown as text, headings get GitHub-style ids so the
//! files' own links work, and links to `*.md` pages stay inside `/docs`.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

use crate::state::AppState;

/// The pages: (name in the URL, title, Markdown).
pub const PAGES: [(&str, &str, &str); 8] = [
    (
        "",
        "Patchbay for template authors",
        include_str!("../../../docs/README.md"),
    ),
    (
        "template-format",
        "The template file",
        include_str!("../../../docs/template-format.md"),
    ),
    (
        "scenarios",
        "Scenarios",
        include_str!("../../../docs/scenarios.md"),
    ),
    (
        "variables",
        "Variables",
        include_str!("../../../docs/variables.md"),
    ),
    (
        "template-language",
        "The template language",
        include_str!("../../../docs/template-language.md"),
    ),
    (
        "oauth2",
        "OAuth 2.0 and Bearer templates",
        include_str!("../../../docs/oauth2.md"),
    ),
    (
        "validator",
        "Validator findings",
        include_str!("../../../docs/validator.md"),
    ),
    (
        "import-3cx",
        "Importing 3CX CRM templates",
        include_str!("../../../docs/import-3cx.md"),
    ),
];

/// Files the pages link to, served as they are.
const FILES: [(&str, &str, &str); 2] = [
    (
        "examples/helpdesk.xml",
        "application/xml; charset=utf-8",
        include_str!("../../../docs/examples/helpdesk.xml"),
    ),
    (
        "examples/contacts.json",
        "application/json",
        include_str!("../../../docs/examples/contacts.json"),
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/docs", get(index))
        .route("/docs/", get(index))
        .route("/docs/{*page}", get(page))
}

async fn index(State(state): State<AppState>) -> Response {
    show(&state, "")
}

async fn page(State(state): State<AppState>, Path(page): Path<String>) -> Response {
    if let Some((_, content_type, text)) = FILES.iter().find(|(name, _, _)| *name == page) {
        return ([(header::CONTENT_TYPE, *content_type)], *text).into_response();
    }
    show(&state, page.trim_end_matches(".md"))
}

fn show(state: &AppState, name: &str) -> Response {
    let Some((_, title, markdown)) = PAGES.iter().find(|(page, _, _)| *page == name) else {
        return (
            StatusCode::NOT_FOUND,
            "There is no such documentation page.",
        )
            .into_response();
    };
    let document =
        app::pages::docs::docs_document(&state.site_assets.stylesheet, title, to_html(markdown));
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        document,
    )
        .into_response()
}

/// GitHub's heading ids: lower case, spaces to `-`, other punctuation but `-` and `_` dropped.
pub fn slug(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// `page.md#x` → `page#x` (and `README.md` → the index), so links between the files work
/// both on disk and here.
fn local_link(dest: &str) -> String {
    if dest.contains("://") || dest.starts_with('#') {
        return dest.to_owned();
    }
    let (path, anchor) = dest
        .split_once('#')
        .map_or((dest, None), |(p, a)| (p, Some(a)));
    let path = match path.strip_suffix(".md") {
        Some("README") => "/docs".to_owned(),
        Some(name) => format!("/docs/{name}"),
        None => format!("/docs/{path}"),
    };
    match anchor {
        Some(anchor) => format!("{path}#{anchor}"),
        None => path,
    }
}

/// Markdown to HTML: tables, `{#id}` heading attributes, GitHub ids for the other headings,
/// raw HTML escaped.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_HEADING_ATTRIBUTES;
    let events: Vec<Event> = Parser::new_ext(markdown, options).collect();
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    let mut i = 0;
    while i < events.len() {
        match &events[i] {
            Event::Start(Tag::Heading {
                level,
                id: None,
                classes,
                attrs,
            }) => {
                let text: String = events[i + 1..]
                    .iter()
                    .take_while(|e| !matches!(e, Event::End(TagEnd::Heading(_))))
                    .filter_map(|e| match e {
                        Event::Text(t) | Event::Code(t) => Some(t.to_string()),
                        _ => None,
                    })
                    .collect();
                out.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(slug(&text))),
                    classes: classes.clone(),
                    attrs: attrs.clone(),
                }));
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                out.push(Event::Start(Tag::Link {
                    link_type: *link_type,
                    dest_url: CowStr::from(local_link(dest_url)),
                    title: title.clone(),
                    id: id.clone(),
                }));
            }
            Event::Html(raw) | Event::InlineHtml(raw) => out.push(Event::Text(raw.clone())),
            other => out.push(other.clone()),
        }
        i += 1;
    }
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, out.into_iter());
    // Wide code blocks scroll: focusable, a keyboard can scroll them too. Raw HTML in the
    // Markdown became text above, so every `<pre>` here is a code block.
    html.replace("<pre>", r#"<pre tabindex="0">"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_get_ids_links_stay_inside_and_raw_html_is_text() {
        let html = to_html(
            "# The dialect\n\n## `json.unescaped`: x {#json.unescaped}\n\nSee [v](variables.md#call-variables), [i](README.md), [x](https://example.com/a.md).\n\n<script>alert(1)</script>\n",
        );
        assert!(html.contains(r#"<h1 id="the-dialect">"#), "{html}");
        assert!(
            to_html("```xml\n<a/>\n```\n").starts_with(r#"<pre tabindex="0"><code"#),
            "code blocks can be scrolled from the keyboard"
        );
        assert!(html.contains(r#"<h2 id="json.unescaped">"#), "{html}");
        assert!(
            html.contains(r#"href="/docs/variables#call-variables""#),
            "{html}"
        );
        assert!(html.contains(r#"href="/docs""#), "{html}");
        assert!(
            html.contains(r#"href="https://example.com/a.md""#),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
        assert_eq!(
            slug("CreateNewTicket and UpdateTicket"),
            "createnewticket-and-updateticket"
        );
    }
}
