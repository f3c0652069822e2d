//! The REST API under `/api/v1/`, one module per resource, each with its route table in its
//! module doc. One [`ApiError`] with stable codes serves them all.

pub mod contacts;
pub mod events;
pub mod extensions;
pub mod templates;

use app::accounts::{CurrentUser, TokenScope};
use app::template::validate::Finding;
use app::viewer::Viewer;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::web::middleware::viewer::ApiClient;

/// Who may call an endpoint: a signed-in user, and with an API token one of `scopes`.
pub(super) struct Rule {
    /// Only administrators, who manage this (`only administrators manage {it}`).
    pub admin_only: Option<&'static str>,
    pub scopes: &'static [TokenScope],
    /// What a token of another scope is refused (`… scope does not include {scoped}`).
    pub scoped: &'static str,
}

/// The caller if `rule` lets them in: `auth.required` (401) without a session or a token,
/// `auth.forbidden` (403) for a non-administrator where one is needed, `auth.scope` (403)
/// for a token of another scope.
pub(super) fn authorize<'a>(
    viewer: &'a Viewer,
    client: Option<&ApiClient>,
    rule: &Rule,
) -> Result<&'a CurrentUser, ApiError> {
    let Some(user) = viewer.user.as_ref() else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "auth.required",
            "sign in or send an API token",
        ));
    };
    if let Some(managed) = rule.admin_only.filter(|_| !user.is_admin()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "auth.forbidden",
            format!("only administrators manage {managed}"),
        ));
    }
    if client.is_some_and(|c| !rule.scopes.contains(&c.scope)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "auth.scope",
            format!("this API token's scope does not include {}", rule.scoped),
        ));
    }
    Ok(user)
}

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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message, "findings": self.findings}});
        (self.status, Json(body)).into_response()
    }
}
