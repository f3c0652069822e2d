//! Cross-site request forgery protection for every state-changing request.
//!
//! A request that is not GET, HEAD or OPTIONS must carry the session's token: in the
//! `x-csrf-token` header, or in the `csrf_token` field of its body when that body is
//! URL-encoded (HTML forms, server functions) or a JSON object (JSON server functions).

use app::viewer::{csrf_token_matches, SessionCsrfToken, Viewer, CSRF_FIELD};
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::web::middleware::viewer::ApiClient;

pub use app::viewer::CSRF_HEADER;
/// Form bodies above this size are refused before they are read to look for the token.
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Form,
    Json,
}

fn body_kind(request: &Request) -> Option<BodyKind> {
    let content_type = request.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        Some(BodyKind::Form)
    } else if content_type.starts_with("application/json") {
        Some(BodyKind::Json)
    } else {
        None
    }
}

fn token_in_body(kind: BodyKind, bytes: &[u8]) -> Option<String> {
    match kind {
        BodyKind::Form => url::form_urlencoded::parse(bytes)
            .find(|(name, _)| name == CSRF_FIELD)
            .map(|(_, value)| value.into_owned()),
        BodyKind::Json => serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()?
            .get(CSRF_FIELD)?
            .as_str()
            .map(str::to_string),
    }
}

/// The REST API's paths, whose refusals are the API's JSON errors.
const API_PATH_PREFIX: &str = "/api/v1/";

fn refused(api: bool, message: &'static str) -> Response {
    if api {
        let body =
            serde_json::json!({"error": {"code": "auth.csrf", "message": message, "findings": []}});
        return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    }
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

pub async fn verify(request: Request, next: Next) -> Response {
    let by_api_token = request.extensions().get::<ApiClient>().is_some();
    // Call events are taken from an `events` API token only, never from a session, so a
    // request without one is refused there as unauthenticated (401), not as forged.
    let token_only = request
        .uri()
        .path()
        .starts_with(crate::web::api::events::EVENTS_PATH_PREFIX);
    // A lookup is a GET that makes the CRM act: a session caller sends the token too,
    // since a link on another site navigates with the (Lax) session cookie.
    let acting = request.uri().path() == crate::web::api::contacts::LOOKUP_PATH;
    if (is_safe(request.method()) && !acting) || by_api_token || token_only {
        return next.run(request).await;
    }
    let viewer = request.extensions().get::<Viewer>();
    let api = request.uri().path().starts_with(API_PATH_PREFIX);
    // Without a session's user an API request carries no authority to forge: its handler
    // refuses it as unauthenticated (401), in the API's own words.
    if api && viewer.is_none_or(|viewer| viewer.user.is_none()) {
        return next.run(request).await;
    }
    let expected = request
        .extensions()
        .get::<SessionCsrfToken>()
        .map(|token| token.0.clone())
        .unwrap_or_default();

    let header_token = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    if let Some(token) = header_token {
        if csrf_token_matches(&token, &expected) {
            return next.run(request).await;
        }
        return refused(
            api,
            "The request's CSRF token is not valid. Reload the page and try again.",
        );
    }

    let Some(kind) = body_kind(&request) else {
        return refused(
            api,
            "This request needs a CSRF token. Reload the page and try again.",
        );
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response();
    };
    match token_in_body(kind, &bytes) {
        Some(token) if csrf_token_matches(&token, &expected) => {
            next.run(Request::from_parts(parts, Body::from(bytes))).await
        }
        _ => refused(api, "This form has expired or did not come from Patchbay. Go back, reload the page and try again."),
    }
}
