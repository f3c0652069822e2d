//! The queue: the Activity page's queue calls and [`QueueAdmin`] (implemented in
//! `server/src/web/backend/queue.rs`).

#[cfg(feature = "ssr")]
use super::{backend, require_admin, require_signed_in_viewer, with_status};
#[cfg(feature = "ssr")]
use crate::accounts::CurrentUser;
use crate::activity::QueuePage;
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use async_trait::async_trait;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// Activity › Queue: the call queue's jobs, and what an administrator may do with a failed
/// one.
#[cfg(feature = "ssr")]
#[async_trait]
pub trait QueueAdmin: Send + Sync + 'static {
    /// Jobs in `state` (empty: pending, running and failed), newest first.
    async fn queue(&self, state: &str, offset: u64) -> Result<QueuePage, PortalError>;
    /// A failed job due again now, its attempts counted afresh.
    async fn retry_job(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError>;
    /// A failed job set aside for good (kept, shown as discarded).
    async fn discard_job(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError>;
}

/// Activity › Queue: jobs in `state` (empty: pending, running and failed).
#[server(input = GetUrl, endpoint = "list_queue")]
pub async fn list_queue(
    #[server(default)] state: String,
    #[server(default)] offset: u64,
) -> Result<QueuePage, PortalError> {
    with_status(async {
        require_signed_in_viewer()?;
        backend()?.queue.queue(&state, offset).await
    })
    .await
}

/// A failed queue job tried again now (administrators).
#[server(endpoint = "retry_queue_job")]
pub async fn retry_queue_job(csrf_token: String, id: i32) -> Result<(), PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?.queue.retry_job(&actor, id).await
    })
    .await
}

/// A failed queue job set aside for good (administrators).
#[server(endpoint = "discard_queue_job")]
pub async fn discard_queue_job(csrf_token: String, id: i32) -> Result<(), PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?.queue.discard_job(&actor, id).await
    })
    .await
}
