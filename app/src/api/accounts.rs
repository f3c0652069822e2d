//! Accounts: the Accounts page's calls (server functions) and what they need from the
//! server ([`AccountAdmin`], implemented in `server/src/web/backend/accounts.rs`).

#[cfg(feature = "ssr")]
use super::{backend, require_admin, require_admin_viewer, with_status};
use crate::accounts::AccountSummary;
#[cfg(feature = "ssr")]
use crate::accounts::{CurrentUser, Role};
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use async_trait::async_trait;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// Account management as the Accounts page (and the REST API) needs it. `actor` is the
/// signed-in admin; the implementation checks the input (e-mail, password length) and
/// enforces the rules that depend on stored state (last admin, self-delete).
#[cfg(feature = "ssr")]
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

#[server(input = GetUrl, endpoint = "list_accounts")]
pub async fn list_accounts() -> Result<Vec<AccountSummary>, PortalError> {
    with_status(async {
        require_admin_viewer()?;
        backend()?.accounts.list_accounts().await
    })
    .await
}

#[server(endpoint = "create_account")]
pub async fn create_account(
    csrf_token: String,
    email: String,
    password: String,
    role: String,
) -> Result<AccountSummary, PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        let role = Role::parse(&role)?;
        backend()?
            .accounts
            .create_account(&actor, &email, &password, role)
            .await
    })
    .await
}

#[server(endpoint = "set_account_disabled")]
pub async fn set_account_disabled(
    csrf_token: String,
    id: i32,
    disabled: bool,
) -> Result<(), PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?
            .accounts
            .set_account_disabled(&actor, id, disabled)
            .await
    })
    .await
}

#[server(endpoint = "delete_account")]
pub async fn delete_account(csrf_token: String, id: i32) -> Result<(), PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?.accounts.delete_account(&actor, id).await
    })
    .await
}

#[server(endpoint = "reset_password")]
pub async fn reset_password(
    csrf_token: String,
    id: i32,
    password: String,
) -> Result<(), PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?
            .accounts
            .reset_password(&actor, id, &password)
            .await
    })
    .await
}
