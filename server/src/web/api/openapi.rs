//! The REST API's OpenAPI 3.1 description at `GET /api/v1/openapi.json`, and the same
//! rendered as a reference page at `GET /docs/api`. Both are public like `/docs`: they say
//! nothing the README does not.
//!
//! The operations come from the handlers' `#[utoipa::path]` (collected by
//! [`super::routes`]); this module adds what holds for every operation: the two ways to
//! authenticate and the one error shape. The page is rendered here from the description
//! rather than by Swagger UI or Redoc: those are JavaScript bundles the page's CSP would
//! have to let in, fetched from a CDN a server next to a phone system often cannot reach.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::{json, Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::web::SESSION_COOKIE;
use app::viewer::CSRF_HEADER;

pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";
pub const REFERENCE_PATH: &str = "/docs/api";

/// The description, served as it is, and its reference page's Markdown; made once, when
/// the router is.
pub struct Reference {
    json: String,
    markdown: String,
}

impl Reference {
    pub fn new(description: utoipa::openapi::OpenApi) -> Reference {
        let document = complete(description);
        Reference {
            json: serde_json::to_string_pretty(&document).unwrap_or_default(),
            markdown: markdown(&document),
        }
    }

    pub fn document(&self) -> &str {
        &self.json
    }
}

/// The description's own route, described like the others.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(description))
}

/// The reference page (outside `/api/v1/`, beside the other documentation).
pub fn page_routes() -> Router<AppState> {
    Router::new().route(REFERENCE_PATH, get(page))
}

/// This OpenAPI 3.1 description.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "Reference", security(()),
    responses((status = 200, description = "the OpenAPI 3.1 description", content_type = "application/json")))]
async fn description(Extension(reference): Extension<Arc<Reference>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        reference.json.clone(),
    )
        .into_response()
}

async fn page(
    State(state): State<AppState>,
    Extension(reference): Extension<Arc<Reference>>,
) -> Response {
    let html = super::super::docs::to_html(&reference.markdown);
    let document =
        app::pages::docs::docs_document(&state.site_assets.stylesheet, "The REST API", html);
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        document,
    )
        .into_response()
}

/// The error every operation may answer, whatever its status.
fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable, for scripts: `auth.required` (401), `auth.forbidden` and `auth.scope` (403), `request.invalid` (422), `<resource>.not_found`, `<resource>.invalid`, `<resource>.conflict`, …"},
                "message": {"type": "string", "description": "For people: what is wrong and where."},
                "findings": {"type": "array", "description": "The validator's findings, when a template was refused.", "items": {"type": "object"}}
            }
        }}
    })
}

/// The handlers' operations with the document's information, security and error shape.
fn complete(description: utoipa::openapi::OpenApi) -> Value {
    let mut document = serde_json::to_value(description).unwrap_or_else(|_| json!({}));
    document["openapi"] = json!("3.1.0");
    document["info"] = json!({
        "title": "Patchbay REST API",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "Everything the pages do, for scripts. Send an API token (`Authorization: Bearer pbt_…`, made on the Accounts page, scoped) or, from a browser, the session cookie with the `x-csrf-token` header on unsafe methods. Errors are `{\"error\": {\"code\", \"message\"}}` with a stable code.",
        "license": {"name": "MIT", "identifier": "MIT"}
    });
    document["security"] = json!([{"token": []}, {"session": []}]);
    let components = document
        .as_object_mut()
        .map(|d| d.entry("components").or_insert_with(|| json!({})));
    if let Some(components) = components {
        components["securitySchemes"] = json!({
            "token": {"type": "http", "scheme": "bearer", "description": "An API token; its scope decides what it may call."},
            "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE, "description": format!("A signed-in browser; unsafe methods also send the `{CSRF_HEADER}` header the page holds.")}
        });
        if !components["schemas"].is_object() {
            components["schemas"] = json!({});
        }
        components["schemas"]["Error"] = error_schema();
    }
    let mut operation_ids = std::collections::HashSet::new();
    if let Some(paths) = document["paths"].as_object_mut() {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for (method, operation) in item.iter_mut() {
                let Some(operation) = operation.as_object_mut() else {
                    continue;
                };
                // One handler serving two methods (a webhook's GET and POST) is named once
                // by its function; operation ids must be unique.
                if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
                    if !operation_ids.insert(id.to_owned()) {
                        let unique = format!("{id}_{method}");
                        operation_ids.insert(unique.clone());
                        operation.insert("operationId".into(), json!(unique));
                    }
                }
                let responses = operation.entry("responses").or_insert_with(|| json!({}));
                // OpenAPI requires a description of every response; `body = T` alone has none.
                for (status, response) in responses.as_object_mut().into_iter().flatten() {
                    if response.get("description").is_none() {
                        let reason = status
                            .parse::<u16>()
                            .ok()
                            .and_then(|code| StatusCode::from_u16(code).ok())
                            .and_then(|code| code.canonical_reason())
                            .unwrap_or("the answer");
                        response["description"] = json!(reason);
                    }
                }
                responses["default"] = json!({
                    "description": "an error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                });
            }
        }
    }
    document
}

/// The reference page: the operations by tag, then the schemas.
fn markdown(document: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# The REST API\n\n{}\n\nThe same as an OpenAPI 3.1 description, for tools: \
         [{OPENAPI_PATH}]({OPENAPI_PATH}).\n",
        document["info"]["description"].as_str().unwrap_or_default()
    );
    let mut by_tag: Vec<(String, Vec<String>)> = Vec::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let tag = operation["tags"][0].as_str().unwrap_or("Other").to_owned();
            let section = operation_markdown(method, path, operation);
            match by_tag.iter_mut().find(|(name, _)| *name == tag) {
                Some((_, sections)) => sections.push(section),
                None => by_tag.push((tag, vec![section])),
            }
        }
    }
    by_tag.sort_by(|a, b| a.0.cmp(&b.0));
    for (tag, sections) in by_tag {
        let _ = writeln!(out, "## {tag}\n");
        for section in sections {
            out.push_str(&section);
        }
    }
    out.push_str("## Schemas\n\n");
    for (name, schema) in document["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let text = serde_json::to_string_pretty(schema).unwrap_or_default();
        let _ = writeln!(out, "### {name}\n\n```json\n{text}\n```\n");
    }
    out
}

fn operation_markdown(method: &str, path: &str, operation: &Value) -> String {
    // In a code span: a heading ending in `{id}` would be read as heading attributes.
    let mut out = format!("### `{} {path}`\n\n", method.to_uppercase());
    for key in ["summary", "description"] {
        if let Some(text) = operation[key].as_str() {
            let _ = writeln!(out, "{text}\n");
        }
    }
    let parameters = operation["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !parameters.is_empty() {
        out.push_str("| parameter | in | required | description |\n|---|---|---|---|\n");
        for parameter in &parameters {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                parameter["name"].as_str().unwrap_or_default(),
                parameter["in"].as_str().unwrap_or_default(),
                if parameter["required"].as_bool() == Some(true) {
                    "yes"
                } else {
                    "no"
                },
                parameter["description"]
                    .as_str()
                    .unwrap_or_default()
                    .replace('\n', " ")
            );
        }
        out.push('\n');
    }
    if let Some(body) = operation["requestBody"]["content"].as_object() {
        for (media, content) in body {
            let _ = writeln!(
                out,
                "Request body ({media}): {}\n",
                schema_name(&content["schema"])
            );
        }
    }
    let responses: Vec<String> = operation["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, response)| {
            let schema = response["content"]
                .as_object()
                .and_then(|content| content.values().next())
                .map(|content| format!(": {}", schema_name(&content["schema"])))
                .unwrap_or_default();
            format!(
                "`{status}` {}{schema}",
                response["description"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let _ = writeln!(out, "Answers: {}\n", responses.join("; "));
    out
}

/// A schema as the page names it: a reference by its name, else its type.
fn schema_name(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("`{name}`");
    }
    match schema {
        Value::Object(map) if map.is_empty() => "any JSON".to_owned(),
        Value::Object(map) => {
            let short: Map<String, Value> = map
                .iter()
                .filter(|(key, _)| *key != "description")
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect();
            format!("`{}`", Value::Object(short))
        }
        _ => "any JSON".to_owned(),
    }
}
