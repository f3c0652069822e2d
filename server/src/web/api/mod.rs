//! The REST API under `/api/v1/`, one module per resource, each with its route table in its
//! module doc. One [`ApiError`] with stable codes serves them all.

pub mod access;
pub mod accounts;
pub mod activity;
pub mod calls;
pub mod contacts;
pub mod crm_users;
pub mod events;
pub mod extensions;
pub mod gallery;
pub mod import;
pub mod integration_settings;
pub mod integrations;
pub mod metrics;
pub mod openapi;
pub mod phone_system;
pub mod recordings;
pub mod templates;

use app::error::PortalError;
use app::template::model::Provider;
use app::template::validate::Finding;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// An API error: status, stable code, message, and the validator's findings if any.
#[derive(Debug)]
pub struct ApiError {
    pub(super) status: StatusCode,
    pub(super) code: &'static str,
    pub(super) message: String,
    pub(super) findings: Vec<Finding>,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            findings: Vec::new(),
        }
    }
}

impl ApiError {
    /// A failure of the server's own (storage, the queue): logged here, once, with what
    /// failed; the caller gets a 500 without internals.
    pub(super) fn internal(what: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "{what} failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage",
            "the server could not complete this request",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message, "findings": self.findings}});
        (self.status, Json(body)).into_response()
    }
}

/// The stable codes an endpoint over a page's action answers that action's refusals with
/// (the pages' [`PortalError`]s), one set per resource: `queue.not_found`, ….
pub(super) struct Codes {
    pub not_found: &'static str,
    pub invalid: &'static str,
    pub conflict: &'static str,
    pub upstream: &'static str,
}

impl Codes {
    /// The API's answer to a page action's refusal: the same message the page shows.
    pub(super) fn error(&self, error: PortalError) -> ApiError {
        let message = error.to_string();
        let status =
            StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = match error {
            PortalError::NotSignedIn => "auth.required",
            PortalError::Forbidden => "auth.forbidden",
            PortalError::InvalidCsrf => "auth.csrf",
            PortalError::Invalid { .. } => self.invalid,
            PortalError::InvalidTemplate { findings, .. } => {
                return ApiError {
                    status,
                    code: "template.invalid",
                    message,
                    findings,
                }
            }
            PortalError::Conflict(_) => self.conflict,
            PortalError::NotFound(_) => self.not_found,
            PortalError::BadRequest => "request.unreadable",
            PortalError::Upstream(_) => self.upstream,
            // Already logged by the adapter, and worded without internals.
            PortalError::Internal(_) | PortalError::Transport(_) => "storage",
        };
        ApiError::new(status, code, message)
    }
}

/// A JSON request body; one that does not parse is refused as `request.invalid` (422) with
/// what the parser said, in the API's error shape (axum's own rejection is plain text).
pub(super) struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "request.invalid",
                format!(
                    "the request body is not readable: {}",
                    rejection.body_text()
                ),
            )),
        }
    }
}

/// Query parameters; ones that do not parse are refused as `request.invalid` (422).
pub(super) struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Params(value)),
            Err(rejection) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "request.invalid",
                format!("the query is not readable: {}", rejection.body_text()),
            )),
        }
    }
}

/// The provider in a path (`crm` or `helpdesk`): 404 `provider.unknown` for another.
pub(super) fn provider(text: &str) -> Result<Provider, ApiError> {
    Provider::parse(text).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "provider.unknown",
            format!("unknown provider \"{text}\"; use crm or helpdesk"),
        )
    })
}

/// Every endpoint under `/api/v1/` with its OpenAPI description: each module hands its
/// handlers to `routes!`, which registers a handler's route and describes it from the same
/// `#[utoipa::path]`, so the description cannot name a route that does not exist or miss
/// one that does.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(templates::routes())
        .merge(contacts::routes())
        .merge(calls::routes())
        .merge(events::routes())
        .merge(extensions::routes())
        .merge(gallery::routes())
        .merge(import::routes())
        .merge(integrations::routes())
        .merge(integration_settings::routes())
        .merge(crm_users::routes())
        .merge(activity::routes())
        .merge(accounts::routes())
        .merge(phone_system::routes())
        .merge(recordings::routes())
        .merge(openapi::routes())
}
