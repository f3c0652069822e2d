//! What server functions need from the server, as a trait the `server` crate implements.
//! Keeping storage behind this trait lets `app` compile for the browser and keeps the
//! database code in one place.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;
use subtle::ConstantTimeEq;

use crate::accounts::{
    AccountSummary, ApiTokenSummary, CreatedApiToken, CurrentUser, Role, TokenScope,
};
use crate::activity::{ActivityFilter, ActivityPage, QueuePage};
use crate::console::{ConsoleInput, RunReport};
use crate::error::PortalError;
use crate::extensions::{Extension, ExtensionGroup, ExtensionSort, ExtensionsPage, PickerItem};
use crate::integrations::{
    AutoAssociation, CrmUsersPage, Features, IntegrationCard, IntegrationSettings, SaveOutcome,
    SettingsInput, UserSyncProgress, UserSyncReport,
};
use crate::template::form::TemplateForm;
use crate::template::model::Provider;
use crate::template::TemplateSummary;
use crate::viewer::Viewer;

/// Account management as the Accounts page needs it. `actor` is the signed-in admin; the
/// implementation enforces the rules that depend on stored state (last admin, self-delete).
#[async_trait]
pub trait AccountAdmin: Send + Sync + 'static {
    async fn list_accounts(&self) -> Result<Vec<AccountSummary>, PortalError>;
    async fn create_account(
        &self,
        actor: &CurrentUser,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<AccountSummary, PortalError>;
    async fn set_account_disabled(
        &self,
        actor: &CurrentUser,
        id: i32,
        disabled: bool,
    ) -> Result<(), PortalError>;
    async fn delete_account(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError>;
    async fn reset_password(
        &self,
        actor: &CurrentUser,
        id: i32,
        password: &str,
    ) -> Result<(), PortalError>;
}

/// API tokens for scripts using the REST API, managed on the Accounts page.
#[async_trait]
pub trait ApiTokenAdmin: Send + Sync + 'static {
    async fn list_tokens(&self) -> Result<Vec<ApiTokenSummary>, PortalError>;
    /// A token acting as `actor`, limited to `scope`, expiring after `expires_in_days`.
    async fn create_token(
        &self,
        actor: &CurrentUser,
        name: &str,
        scope: TokenScope,
        expires_in_days: Option<u32>,
    ) -> Result<CreatedApiToken, PortalError>;
    async fn revoke_token(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError>;
}

/// Template management as the Template Management pages need it.
#[async_trait]
pub trait TemplateAdmin: Send + Sync + 'static {
    async fn list_templates(&self, provider: Provider)
        -> Result<Vec<TemplateSummary>, PortalError>;
    async fn template_form(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<TemplateForm, PortalError>;
    /// The stored XML text of a template, for the editor.
    async fn template_text(&self, provider: Provider, key: &str) -> Result<String, PortalError>;
    /// Creates (`key` None) or edits the template through the form.
    async fn save_template(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: Option<&str>,
        form: TemplateForm,
    ) -> Result<TemplateSummary, PortalError>;
    /// Deletes the templates; one an integration uses only with `disconnect` (which
    /// disconnects it first), else a conflict naming it.
    async fn delete_templates(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        keys: &[String],
        disconnect: bool,
    ) -> Result<u64, PortalError>;
}

/// Integrations as the Integrations pages need them. Any signed-in user may connect and
/// disconnect; applying a template's new revision is Template Management's (admins).
#[async_trait]
pub trait IntegrationAdmin: Send + Sync + 'static {
    async fn list_integrations(
        &self,
        provider: Provider,
    ) -> Result<Vec<IntegrationCard>, PortalError>;
    async fn integration_settings(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<IntegrationSettings, PortalError>;
    /// Checks the values, tests them against the CRM (Basic, Bearer, None), then stores;
    /// OAuth 2.0 starts an authorization bound to `session_secret` (the session's own
    /// secret, its CSRF token) and answers where the browser goes.
    async fn save_integration(
        &self,
        actor: &CurrentUser,
        session_secret: &str,
        provider: Provider,
        key: &str,
        input: SettingsInput,
    ) -> Result<SaveOutcome, PortalError>;
    /// Forgets secrets and tokens (revoking them at the CRM when the template says how);
    /// answers what happened.
    async fn disconnect_integration(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<String, PortalError>;
    /// Sends the connection test with the stored values and tokens; answers what happened.
    async fn check_integration(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<String, PortalError>;
    /// Moves the integration to the template's current revision; answers that revision.
    async fn apply_template(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<i32, PortalError>;
    /// Stores the Features section.
    async fn save_features(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        features: Features,
    ) -> Result<(), PortalError>;
    /// The test console: runs a scenario with sample values; every secret masked.
    async fn run_console(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        input: ConsoleInput,
    ) -> Result<RunReport, PortalError>;
    /// A page of the Activity record.
    async fn activity(&self, filter: ActivityFilter) -> Result<ActivityPage, PortalError>;
    /// Syncs the integration's CRM users (or joins the sync under way).
    async fn sync_crm_users(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<UserSyncReport, PortalError>;
    async fn crm_user_sync_progress(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<UserSyncProgress, PortalError>;
    async fn crm_users(
        &self,
        provider: Provider,
        key: &str,
        search: &str,
        offset: u64,
    ) -> Result<CrmUsersPage, PortalError>;
    /// Associate Automatically: what it would do (`apply` false) or did.
    async fn associate_automatically(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        apply: bool,
    ) -> Result<AutoAssociation, PortalError>;
    /// Sets the CRM user's extensions; answers them as stored.
    async fn associate(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        crm_id: &str,
        numbers: &[String],
    ) -> Result<Vec<String>, PortalError>;
}

/// Activity › Queue: the call queue's jobs, and what an administrator may do with a failed
/// one.
#[async_trait]
pub trait QueueAdmin: Send + Sync + 'static {
    /// Jobs in `state` (empty: pending, running and failed), newest first.
    async fn queue(&self, state: &str, offset: u64) -> Result<QueuePage, PortalError>;
    /// A failed job due again now, its attempts counted afresh.
    async fn retry_job(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError>;
    /// A failed job set aside for good (kept, shown as discarded).
    async fn discard_job(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError>;
}

/// The extension directory as the Extensions page and the association picker need it.
#[async_trait]
pub trait DirectoryAdmin: Send + Sync + 'static {
    async fn extensions(
        &self,
        search: &str,
        sort: ExtensionSort,
        descending: bool,
        offset: u64,
    ) -> Result<ExtensionsPage, PortalError>;
    /// Adds (`original` None) or changes an extension.
    async fn save_extension(
        &self,
        actor: &CurrentUser,
        original: Option<&str>,
        extension: Extension,
    ) -> Result<(), PortalError>;
    async fn delete_extension(&self, actor: &CurrentUser, number: &str) -> Result<(), PortalError>;
    async fn groups(&self) -> Result<Vec<ExtensionGroup>, PortalError>;
    async fn save_group(
        &self,
        actor: &CurrentUser,
        id: Option<i32>,
        name: &str,
        members: &[String],
    ) -> Result<(), PortalError>;
    async fn delete_group(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError>;
    async fn picker(&self, search: &str) -> Result<Vec<PickerItem>, PortalError>;
}

/// The server provides one of these as Leptos context for every request.
#[derive(Clone)]
pub struct Backend {
    pub accounts: Arc<dyn AccountAdmin>,
    pub api_tokens: Arc<dyn ApiTokenAdmin>,
    pub templates: Arc<dyn TemplateAdmin>,
    pub integrations: Arc<dyn IntegrationAdmin>,
    pub directory: Arc<dyn DirectoryAdmin>,
    pub queue: Arc<dyn QueueAdmin>,
}

pub fn backend() -> Result<Backend, PortalError> {
    use_context::<Backend>().ok_or_else(|| PortalError::Internal("backend not configured".into()))
}

/// Sets the HTTP status of the server function's response to match the error.
pub fn with_status<T>(result: Result<T, PortalError>) -> Result<T, PortalError> {
    if let Err(error) = &result {
        if let (Some(options), Ok(status)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(error.status_code()),
        ) {
            options.set_status(status);
        }
    }
    result
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

/// Any signed-in user, for read-only calls.
pub fn require_signed_in_viewer() -> Result<CurrentUser, PortalError> {
    Viewer::from_request().user.ok_or(PortalError::NotSignedIn)
}

/// Any signed-in user, for state-changing calls (the CSRF token checked again here).
pub fn require_signed_in(csrf_token: &str) -> Result<CurrentUser, PortalError> {
    let viewer = Viewer::from_request();
    let user = viewer.user.ok_or(PortalError::NotSignedIn)?;
    let matches: bool = csrf_token
        .as_bytes()
        .ct_eq(viewer.csrf_token.as_bytes())
        .into();
    if viewer.csrf_token.is_empty() || !matches {
        return Err(PortalError::InvalidCsrf);
    }
    Ok(user)
}
