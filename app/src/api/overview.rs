//! The Overview page's call and [`OverviewSource`] (implemented in
//! `server/src/web/backend/overview.rs`).

#[cfg(feature = "ssr")]
use super::{backend, require_signed_in_viewer, with_status};
use crate::error::PortalError;
use crate::overview::Overview;
#[cfg(feature = "ssr")]
use async_trait::async_trait;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

#[cfg(feature = "ssr")]
#[async_trait]
pub trait OverviewSource: Send + Sync + 'static {
    /// The setup checklist, each connected integration's health, the queue.
    async fn overview(&self) -> Result<Overview, PortalError>;
}

/// Any signed-in user (agents have their own page).
#[server(input = GetUrl, endpoint = "load_overview")]
pub async fn load_overview() -> Result<Overview, PortalError> {
    with_status(async {
        require_signed_in_viewer()?;
        backend()?.overview.overview().await
    })
    .await
}
