//! The Phone system page's calls and [`PhoneSystemAdmin`] (implemented in
//! `server/src/web/backend/phone_system.rs`).

#[cfg(feature = "ssr")]
use super::{backend, require_admin, with_status};
#[cfg(feature = "ssr")]
use crate::accounts::CurrentUser;
use crate::error::PortalError;
use crate::phone_system::{ExtensionSyncReport, PhoneSystemInput, PhoneSystemView};
#[cfg(feature = "ssr")]
use async_trait::async_trait;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

/// The phone system: its settings, status, extension sync and disconnection.
#[cfg(feature = "ssr")]
#[async_trait]
pub trait PhoneSystemAdmin: Send + Sync + 'static {
    async fn view(&self) -> Result<PhoneSystemView, PortalError>;
    async fn save(
        &self,
        actor: &CurrentUser,
        input: PhoneSystemInput,
    ) -> Result<PhoneSystemView, PortalError>;
    async fn sync(&self, actor: &CurrentUser) -> Result<ExtensionSyncReport, PortalError>;
    async fn disconnect(&self, actor: &CurrentUser) -> Result<PhoneSystemView, PortalError>;
}

/// The phone system as the page shows it (administrators).
#[server(input = GetUrl, endpoint = "phone_system")]
pub async fn phone_system() -> Result<PhoneSystemView, PortalError> {
    with_status(async {
        super::require_admin_viewer()?;
        backend()?.phone_system.view().await
    })
    .await
}

#[server(input = Json, endpoint = "save_phone_system")]
pub async fn save_phone_system(
    csrf_token: String,
    input: PhoneSystemInput,
) -> Result<PhoneSystemView, PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?.phone_system.save(&actor, input).await
    })
    .await
}

#[server(endpoint = "sync_pbx_extensions")]
pub async fn sync_pbx_extensions(csrf_token: String) -> Result<ExtensionSyncReport, PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?.phone_system.sync(&actor).await
    })
    .await
}

#[server(endpoint = "disconnect_phone_system")]
pub async fn disconnect_phone_system(csrf_token: String) -> Result<PhoneSystemView, PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?.phone_system.disconnect(&actor).await
    })
    .await
}
