//! The Calls page's calls and the Accounts page's extension links, and [`AgentAdmin`]
//! (implemented in `server/src/web/backend/agents.rs`). The calls of the Calls page are
//! any account's own (agents included); linking accounts to extensions is an
//! administrator's.

#[cfg(feature = "ssr")]
use super::server_side::{require_account, require_account_viewer};
#[cfg(feature = "ssr")]
use super::{backend, require_admin, require_admin_viewer, with_status};
#[cfg(feature = "ssr")]
use crate::accounts::CurrentUser;
use crate::agents::{
    CallsPage, ExtensionMatch, IntegrationContacts, NewContactInput, PopupSettings,
};
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use async_trait::async_trait;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use std::collections::BTreeMap;

#[cfg(feature = "ssr")]
#[async_trait]
pub trait AgentAdmin: Send + Sync + 'static {
    async fn calls_page(&self, viewer: &CurrentUser) -> Result<CallsPage, PortalError>;
    async fn save_popup(
        &self,
        viewer: &CurrentUser,
        settings: PopupSettings,
    ) -> Result<(), PortalError>;
    async fn create_contact(
        &self,
        viewer: &CurrentUser,
        input: NewContactInput,
    ) -> Result<IntegrationContacts, PortalError>;
    async fn account_links(&self) -> Result<BTreeMap<i32, Vec<String>>, PortalError>;
    async fn set_account_extensions(
        &self,
        account_id: i32,
        numbers: Vec<String>,
    ) -> Result<Vec<String>, PortalError>;
    async fn extension_matches(&self) -> Result<Vec<ExtensionMatch>, PortalError>;
    async fn link_matches(&self) -> Result<usize, PortalError>;
}

/// The signed-in account's Calls page.
#[server(input = GetUrl, endpoint = "load_calls")]
pub async fn load_calls() -> Result<CallsPage, PortalError> {
    with_status(async {
        let viewer = require_account_viewer()?;
        backend()?.agents.calls_page(&viewer).await
    })
    .await
}

/// Saves one of the account's extensions' popup settings.
#[server(input = Json, endpoint = "save_popup_settings")]
pub async fn save_popup_settings(
    csrf_token: String,
    settings: PopupSettings,
) -> Result<(), PortalError> {
    with_status(async {
        let viewer = require_account(&csrf_token)?;
        backend()?.agents.save_popup(&viewer, settings).await
    })
    .await
}

/// Creates a contact from the popup of a call on one of the account's extensions.
#[server(input = Json, endpoint = "create_call_contact")]
pub async fn create_call_contact(
    csrf_token: String,
    input: NewContactInput,
) -> Result<IntegrationContacts, PortalError> {
    with_status(async {
        let viewer = require_account(&csrf_token)?;
        backend()?.agents.create_contact(&viewer, input).await
    })
    .await
}

/// Every account's extensions (administrators).
#[server(input = GetUrl, endpoint = "account_extensions")]
pub async fn account_extensions() -> Result<BTreeMap<i32, Vec<String>>, PortalError> {
    with_status(async {
        require_admin_viewer()?;
        backend()?.agents.account_links().await
    })
    .await
}

/// Sets the extensions an account answers (administrators).
#[server(input = Json, endpoint = "set_account_extensions")]
pub async fn set_account_extensions(
    csrf_token: String,
    account_id: i32,
    numbers: Vec<String>,
) -> Result<Vec<String>, PortalError> {
    with_status(async {
        require_admin(&csrf_token)?;
        backend()?
            .agents
            .set_account_extensions(account_id, numbers)
            .await
    })
    .await
}

/// Accounts whose e-mail matches extensions of the directory (administrators).
#[server(input = GetUrl, endpoint = "account_extension_matches")]
pub async fn account_extension_matches() -> Result<Vec<ExtensionMatch>, PortalError> {
    with_status(async {
        require_admin_viewer()?;
        backend()?.agents.extension_matches().await
    })
    .await
}

/// Links every match (administrators, after the page showed them).
#[server(endpoint = "link_matched_extensions")]
pub async fn link_matched_extensions(csrf_token: String) -> Result<usize, PortalError> {
    with_status(async {
        require_admin(&csrf_token)?;
        backend()?.agents.link_matches().await
    })
    .await
}
