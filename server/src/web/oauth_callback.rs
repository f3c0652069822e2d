//! `GET /integration/callback/api/{provider}/{key}/` (with or without the trailing slash):
//! where the CRM sends the browser back after consent (docs/oauth2.md). The work is
//! `IntegrationsService::complete_authorization`; this adapter turns its outcome into a
//! page and a status: 200 when connected, 4xx for what the caller or the provider got
//! wrong, 502 when the token endpoint failed, never a stack trace.

use app::pages::callback::{callback_document, CallbackPage};
use app::template::model::Provider;
use app::viewer::{SessionCsrfToken, Viewer};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};

use crate::integrations::oauth::{CallbackError, CallbackQuery};
use crate::integrations::service::IntegrationError;
use crate::state::AppState;

/// The path prefix the Network section shows; the viewer lets anyone reach it, so a
/// signed-out browser gets an explanation rather than a bare redirect.
pub const CALLBACK_PREFIX: &str = "/integration/callback/api/";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/integration/callback/api/{provider}/{key}", get(callback))
        .route("/integration/callback/api/{provider}/{key}/", get(callback))
}

async fn callback(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Extension(session): Extension<SessionCsrfToken>,
    Path((provider, key)): Path<(String, String)>,
    query: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let settings_page = format!("/integrations/{provider}/{key}");
    let Some(provider) = Provider::parse(&provider) else {
        return page(
            &state,
            StatusCode::NOT_FOUND,
            failure(
                "There is no such provider: only crm and helpdesk integrations have callbacks."
                    .into(),
                "/integrations/crm".into(),
            ),
        );
    };
    let query = match query {
        Ok(Query(query)) => query,
        Err(_) => {
            return page(
                &state,
                StatusCode::BAD_REQUEST,
                failure("The callback's query cannot be read.".into(), settings_page),
            )
        }
    };
    let session_secret = viewer
        .user
        .as_ref()
        .map(|_| session.0.as_str())
        .filter(|s| !s.is_empty());
    let outcome = state
        .integrations_service()
        .complete_authorization(session_secret, provider, &key, &query)
        .await;
    match outcome {
        Ok(name) => page(
            &state,
            StatusCode::OK,
            CallbackPage {
                succeeded: true,
                title: "Authorization succeeded!".into(),
                message: format!("{name} is connected: the CRM issued a token and answered the test request with it."),
                link: settings_page,
                link_label: "Back to the integration".into(),
            },
        ),
        Err(CallbackError::NotSignedIn) => page(
            &state,
            StatusCode::UNAUTHORIZED,
            CallbackPage {
                link: "/login".into(),
                link_label: "Sign in".into(),
                ..failure(CallbackError::NotSignedIn.to_string(), String::new())
            },
        ),
        Err(error) => {
            let status = status_of(&error);
            if status.is_server_error() {
                tracing::warn!(provider = provider.as_str(), ?key, %error, "OAuth callback failed");
            } else {
                tracing::info!(provider = provider.as_str(), ?key, %error, "OAuth callback refused");
            }
            page(&state, status, failure(error.to_string(), settings_page))
        }
    }
}

fn status_of(error: &CallbackError) -> StatusCode {
    match error {
        CallbackError::NotSignedIn => StatusCode::UNAUTHORIZED,
        CallbackError::OtherSession => StatusCode::FORBIDDEN,
        CallbackError::MissingState
        | CallbackError::UnknownState
        | CallbackError::OtherIntegration
        | CallbackError::Denied(_)
        | CallbackError::MissingCode => StatusCode::BAD_REQUEST,
        CallbackError::Integration(error) => match error {
            IntegrationError::NotFound { .. } => StatusCode::NOT_FOUND,
            IntegrationError::Invalid { .. }
            | IntegrationError::CredentialsRejected(_)
            | IntegrationError::Conflict(_) => StatusCode::BAD_REQUEST,
            IntegrationError::TestFailed(_)
            | IntegrationError::TokenFailed(_)
            | IntegrationError::Template(_) => StatusCode::BAD_GATEWAY,
            IntegrationError::Storage(_)
            | IntegrationError::TemplateStore(_)
            | IntegrationError::Secret(_)
            | IntegrationError::TestCases(_) => StatusCode::INTERNAL_SERVER_ERROR,
            IntegrationError::TestCasesFailed(_) => StatusCode::CONFLICT,
        },
    }
}

fn failure(message: String, link: String) -> CallbackPage {
    CallbackPage {
        succeeded: false,
        title: "Authorization failed".into(),
        message,
        link,
        link_label: "Back to the integration".into(),
    }
}

fn page(state: &AppState, status: StatusCode, page: CallbackPage) -> Response {
    let html = callback_document(&state.site_assets.stylesheet, page);
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The URL held a code and a state: no cache keeps the page.
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}
