//! Notifications: the pages' calls and [`NotificationsSource`] (implemented in
//! `server/src/web/backend/notifications.rs`).

#[cfg(feature = "ssr")]
use super::{backend, provider_param, require_admin, require_signed_in_viewer, with_status};
#[cfg(feature = "ssr")]
use crate::accounts::CurrentUser;
use crate::error::PortalError;
use crate::notifications::NotificationsView;
#[cfg(feature = "ssr")]
use crate::template::model::Provider;
#[cfg(feature = "ssr")]
use async_trait::async_trait;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

#[cfg(feature = "ssr")]
#[async_trait]
pub trait NotificationsSource: Send + Sync + 'static {
    /// Where notifications go and the last ones (of one integration when given).
    async fn notifications(
        &self,
        of: Option<(Provider, String)>,
    ) -> Result<NotificationsView, PortalError>;
    /// A test on every channel; answers where it went.
    async fn send_test(&self, actor: &CurrentUser) -> Result<String, PortalError>;
    /// Makes an account the integration's owner.
    async fn set_owner(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        email: &str,
    ) -> Result<(), PortalError>;
}

/// Any signed-in user; `provider` and `key` empty: every integration's and the phone
/// system's.
#[server(input = GetUrl, endpoint = "load_notifications")]
pub async fn load_notifications(
    #[server(default)] provider: String,
    #[server(default)] key: String,
) -> Result<NotificationsView, PortalError> {
    with_status(async {
        require_signed_in_viewer()?;
        let of = if provider.is_empty() {
            None
        } else {
            Some((provider_param(&provider)?, key))
        };
        backend()?.notifications.notifications(of).await
    })
    .await
}

/// Administrators.
#[server(endpoint = "send_test_notification")]
pub async fn send_test_notification(csrf_token: String) -> Result<String, PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?.notifications.send_test(&actor).await
    })
    .await
}

/// Administrators: the account an integration's notifications go to.
#[server(endpoint = "set_integration_owner")]
pub async fn set_integration_owner(
    csrf_token: String,
    provider: String,
    key: String,
    email: String,
) -> Result<(), PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?
            .notifications
            .set_owner(&actor, provider_param(&provider)?, &key, email.trim())
            .await
    })
    .await
}
