//! Activity › Queue's calls, over [`QueueService`].

use app::accounts::CurrentUser;
use app::activity::QueuePage;
use app::api::queue::QueueAdmin as QueueAdminTrait;
use app::error::PortalError;
use async_trait::async_trait;

use super::storage_failure;
use crate::queue::service::{IntakeError, QueueService};

pub struct QueueAdmin {
    pub service: QueueService,
}

impl From<IntakeError> for PortalError {
    fn from(error: IntakeError) -> Self {
        storage_failure("queue", error)
    }
}

fn not_failed() -> PortalError {
    PortalError::NotFound("no failed job has that id (it may have been retried already)".into())
}

#[async_trait]
impl QueueAdminTrait for QueueAdmin {
    async fn queue(&self, state: &str, offset: u64) -> Result<QueuePage, PortalError> {
        Ok(self.service.page(state, offset).await?)
    }

    async fn retry_job(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError> {
        match self.service.retry_failed(&actor.email, id).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(not_failed()),
            Err(error) => Err(PortalError::from(error)),
        }
    }

    async fn discard_job(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError> {
        match self.service.discard_failed(&actor.email, id).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(not_failed()),
            Err(error) => Err(PortalError::from(error)),
        }
    }
}
