//! The REST API under `/api/v1/`, one module per resource, each with its route table in its
//! module doc. One [`ApiError`] with stable codes serves them all.

pub mod access;
pub mod calls;
pub mod contacts;
pub mod events;
pub mod extensions;
pub mod integrations;
pub mod metrics;
pub mod phone_system;
pub mod recordings;
pub mod templates;

use app::template::validate::Finding;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

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
