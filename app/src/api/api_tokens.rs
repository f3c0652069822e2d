//! API tokens: the Accounts page's token calls and [`ApiTokenAdmin`] (implemented in
//! `server/src/web/backend/api_tokens.rs`).

#[cfg(feature = "ssr")]
use super::{backend, require_admin, require_admin_viewer, with_status};
#[cfg(feature = "ssr")]
use crate::accounts::{check_token_days, CurrentUser, TokenScope};
use crate::accounts::{ApiTokenSummary, CreatedApiToken};
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use async_trait::async_trait;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// API tokens for scripts using the REST API, managed on the Accounts page.
#[cfg(feature = "ssr")]
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

#[server(input = GetUrl, endpoint = "list_api_tokens")]
pub async fn list_api_tokens() -> Result<Vec<ApiTokenSummary>, PortalError> {
    with_status(async {
        require_admin_viewer()?;
        backend()?.api_tokens.list_tokens().await
    })
    .await
}

#[server(endpoint = "create_api_token")]
pub async fn create_api_token(
    csrf_token: String,
    name: String,
    scope: String,
    expires_in_days: String,
) -> Result<CreatedApiToken, PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        let scope = TokenScope::parse(&scope)?;
        let days = check_token_days(&expires_in_days)?;
        backend()?
            .api_tokens
            .create_token(&actor, &name, scope, days)
            .await
    })
    .await
}

#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(csrf_token: String, id: i32) -> Result<(), PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?.api_tokens.revoke_token(&actor, id).await
    })
    .await
}
