//! The server side of every server function (compiled with `ssr` only): who may call
//! (`require_*`), the [`Backend`] the server provides, and the status a failure answers with.

use std::sync::Arc;

use leptos::prelude::use_context;

use super::accounts::AccountAdmin;
use super::api_tokens::ApiTokenAdmin;
use super::directory::DirectoryAdmin;
use super::integrations::IntegrationAdmin;
use super::queue::QueueAdmin;
use super::templates::TemplateAdmin;
use crate::accounts::CurrentUser;
use crate::error::PortalError;
use crate::template::model::Provider;
use crate::viewer::{csrf_token_matches, SessionCsrfToken, Viewer};

/// The server provides one of these as Leptos context for every request.
#[derive(Clone)]
pub struct Backend {
    pub accounts: Arc<dyn AccountAdmin>,
    pub api_tokens: Arc<dyn ApiTokenAdmin>,
    pub templates: Arc<dyn TemplateAdmin>,
    pub integrations: Arc<dyn IntegrationAdmin>,
    pub directory: Arc<dyn DirectoryAdmin>,
    pub queue: Arc<dyn QueueAdmin>,
    pub phone_system: Arc<dyn super::phone_system::PhoneSystemAdmin>,
    pub agents: Arc<dyn super::agents::AgentAdmin>,
    pub overview: Arc<dyn super::overview::OverviewSource>,
    pub notifications: Arc<dyn super::notifications::NotificationsSource>,
}

pub fn backend() -> Result<Backend, PortalError> {
    use_context::<Backend>().ok_or_else(|| PortalError::Internal("backend not configured".into()))
}

/// Runs a server function's body and sets the HTTP status of its answer to match its
/// error (Leptos answers every server function error 500 otherwise).
pub async fn with_status<T>(
    body: impl std::future::Future<Output = Result<T, PortalError>>,
) -> Result<T, PortalError> {
    let result = body.await;
    if let Err(error) = &result {
        set_status(error);
    }
    result
}

/// Sets the HTTP status of the server function's response to match `error`.
pub fn set_status(error: &PortalError) {
    if let (Some(options), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(error.status_code()),
    ) {
        options.set_status(status);
    }
}

/// The signed-in admin, for read-only calls (GET, so no CSRF token is involved).
pub fn require_admin_viewer() -> Result<CurrentUser, PortalError> {
    let user = require_signed_in_viewer()?;
    if !user.is_admin() {
        return Err(PortalError::Forbidden);
    }
    Ok(user)
}

/// The signed-in admin, for state-changing calls. The CSRF middleware has already checked
/// the token; checking it again here keeps each server function safe on its own.
pub fn require_admin(csrf_token: &str) -> Result<CurrentUser, PortalError> {
    let user = require_signed_in(csrf_token)?;
    if !user.is_admin() {
        return Err(PortalError::Forbidden);
    }
    Ok(user)
}

/// A signed-in administrator or user, for read-only calls. Agents are refused: they see
/// their own calls only (`require_account_viewer`).
pub fn require_signed_in_viewer() -> Result<CurrentUser, PortalError> {
    not_agent(require_account_viewer()?)
}

/// A signed-in administrator or user, for state-changing calls (the CSRF token checked
/// again here). Agents are refused.
pub fn require_signed_in(csrf_token: &str) -> Result<CurrentUser, PortalError> {
    not_agent(require_account(csrf_token)?)
}

fn not_agent(user: CurrentUser) -> Result<CurrentUser, PortalError> {
    if user.is_agent() {
        return Err(PortalError::Forbidden);
    }
    Ok(user)
}

/// Any signed-in account, agents too, for read-only calls about the account's own calls.
pub fn require_account_viewer() -> Result<CurrentUser, PortalError> {
    Viewer::from_request().user.ok_or(PortalError::NotSignedIn)
}

/// Any signed-in account, agents too, for changes to the account's own calls and settings
/// (the CSRF token checked again here).
pub fn require_account(csrf_token: &str) -> Result<CurrentUser, PortalError> {
    let user = Viewer::from_request()
        .user
        .ok_or(PortalError::NotSignedIn)?;
    if !csrf_token_matches(csrf_token, &SessionCsrfToken::from_request().0) {
        return Err(PortalError::InvalidCsrf);
    }
    Ok(user)
}

pub fn provider_param(text: &str) -> Result<Provider, PortalError> {
    Provider::parse(text).ok_or_else(|| {
        PortalError::invalid(
            "provider",
            format!("must be crm or helpdesk, not \"{text}\""),
        )
    })
}
