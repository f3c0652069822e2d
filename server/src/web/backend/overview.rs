//! The Overview page behind its server function, over [`OverviewService`].

use app::api::overview::OverviewSource;
use app::error::PortalError;
use app::overview::Overview;
use async_trait::async_trait;

use super::storage_failure;
use crate::overview::{OverviewError, OverviewService};

pub struct OverviewAdmin {
    pub service: OverviewService,
}

impl From<OverviewError> for PortalError {
    fn from(error: OverviewError) -> Self {
        match error {
            OverviewError::Integrations(error) => error.into(),
            OverviewError::PhoneSystem(error) => error.into(),
            OverviewError::Queue(error) => error.into(),
            OverviewError::Storage(error) => storage_failure("overview", error),
        }
    }
}

#[async_trait]
impl OverviewSource for OverviewAdmin {
    async fn overview(&self) -> Result<Overview, PortalError> {
        Ok(self.service.overview().await?)
    }
}
