//! Call events in, for phone systems, under `/api/v1/events`: an API token of scope
//! `events` (which can do nothing else), or on the Yeastar path the PBX's own signature,
//! never a session.
//!
//! | method and path | does |
//! |---|---|
//! | `POST /api/v1/events/yeastar` | a Yeastar P-Series webhook event (`30011` call status changed, `30012` new CDR; `msg` an object or a JSON string) or an S-Series `CallStatus` / `NewCdr`; let in by `X-Signature` (Base64 HMAC-SHA256 of the raw body under the webhook Secret saved on the Phone system page) or an `events` token |
//! | `GET /api/v1/events/yeastar` | the same for a webhook set to the GET method, when it carries the same signed JSON body (the guide does not show what a GET webhook sends: README advises POST) |
//! | `POST /api/v1/events` | Patchbay's own form: `{"event": "ring" \| "answer" \| "end", "call_id", "direction", "extension", "from", "to", …}` (README "Call events") |
//!
//! An event is read, its work planned and written to the queue with it in one transaction,
//! and only then answered `202 {"replay", "jobs", "ignored"?}`; a replay (the same event
//! again) queues nothing; a type Patchbay does not act on is acknowledged and ignored.
//! Errors are JSON `{"error": {"code", "message"}}`: `event.invalid` (400, which field and
//! why), `event.too_large` (413), `auth.required` (401: no token and no signature),
//! `auth.signature` (401: a signature that does not verify; nothing is stored),
//! `auth.scope` (403), `storage` (500).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::access::{CallEvents, Caller};
use super::ApiError;
use crate::phone_system::service::WebhookError;
use crate::phone_system::webhook::SIGNATURE_HEADER;
use crate::queue::service::{IntakeError, Source};
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Where call events are posted.
pub const EVENTS_PATH_PREFIX: &str = "/api/v1/events";
/// The largest event accepted (Yeastar's are under 2 KiB).
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(generic))
        .routes(routes!(yeastar))
        .layer(DefaultBodyLimit::max(MAX_EVENT_BYTES))
}

#[utoipa::path(method(get, post), path = "/api/v1/events/yeastar", tag = "Call events",
    security(("token" = []), ()),
    params(("X-Signature" = Option<String>, Header, description = "Base64 HMAC-SHA256 of the raw body under the webhook Secret; instead of an `events` token")),
    request_body(description = "a Yeastar P-Series webhook event (`30011`, `30012`) or an S-Series `CallStatus` / `NewCdr`", content_type = "application/json"),
    responses((status = 202, description = "stored and queued: `{replay, jobs, ignored?}`")))]
async fn yeastar(
    State(state): State<AppState>,
    caller: Option<Caller<CallEvents>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    if caller.is_some() {
        let body = read_body(body)?;
        let phone_system = state.phone_system_service();
        return match phone_system.accept(&body, "token").await {
            Ok(accepted) => Ok((StatusCode::ACCEPTED, Json(accepted)).into_response()),
            Err(error) => Err(intake_error(error)),
        };
    }
    let Some(signature) = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
    else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "auth.required",
            "send the PBX's X-Signature (the webhook Secret saved on the Phone system page) or an API token of scope events: Authorization: Bearer <token>",
        ));
    };
    let body = read_body(body)?;
    match state
        .phone_system_service()
        .accept_signed(signature, &body)
        .await
    {
        Ok(accepted) => Ok((StatusCode::ACCEPTED, Json(accepted)).into_response()),
        Err(WebhookError::Intake(error)) => Err(intake_error(error)),
        Err(error @ (WebhookError::NoSecret | WebhookError::BadSignature)) => {
            tracing::info!(%error, "a webhook post is refused");
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "auth.signature",
                error.to_string(),
            ))
        }
        Err(WebhookError::PhoneSystem(error)) => {
            Err(ApiError::internal("checking a webhook", error))
        }
    }
}

fn read_body(
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Bytes, ApiError> {
    body.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "event.too_large",
            format!("an event is at most {} KiB", MAX_EVENT_BYTES / 1024),
        )
    })
}

fn intake_error(error: IntakeError) -> ApiError {
    match error {
        IntakeError::Event(error) => {
            ApiError::new(StatusCode::BAD_REQUEST, "event.invalid", error.to_string())
        }
        error => ApiError {
            message: "the event could not be stored; send it again".into(),
            ..ApiError::internal("storing a call event", error)
        },
    }
}

#[utoipa::path(post, path = "/api/v1/events", tag = "Call events", security(("token" = [])),
    request_body(description = "`{event: ring | answer | end, call_id, direction, extension, from, to, …}`", content_type = "application/json"),
    responses((status = 202, description = "stored and queued: `{replay, jobs, ignored?}`")))]
async fn generic(
    State(state): State<AppState>,
    _caller: Caller<CallEvents>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    accept(state, body, Source::Generic).await
}

/// A call event from a caller already let in (a token of scope `events`).
async fn accept(
    state: AppState,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    source: Source,
) -> Result<Response, ApiError> {
    let body = read_body(body)?;
    match state.queue_service().accept(source, &body).await {
        Ok(accepted) => Ok((StatusCode::ACCEPTED, Json(accepted)).into_response()),
        Err(error) => Err(intake_error(error)),
    }
}
