//! The Phone system page's calls, over [`PhoneSystemService`].

use app::accounts::CurrentUser;
use app::api::phone_system::PhoneSystemAdmin as PhoneSystemAdminTrait;
use app::error::PortalError;
use app::phone_system::{ExtensionSyncReport, PhoneSystemInput, PhoneSystemView};
use async_trait::async_trait;

use super::storage_failure;
use crate::phone_system::service::{PhoneSystemError, PhoneSystemService};

pub struct PhoneSystemAdmin {
    pub service: PhoneSystemService,
}

impl From<PhoneSystemError> for PortalError {
    fn from(error: PhoneSystemError) -> Self {
        match error {
            PhoneSystemError::Invalid { field, message } => PortalError::Invalid {
                field: field.to_owned(),
                message,
            },
            PhoneSystemError::Cipher(_) | PhoneSystemError::Storage(_) => {
                storage_failure("phone system", error)
            }
            other => PortalError::Conflict(other.to_string()),
        }
    }
}

#[async_trait]
impl PhoneSystemAdminTrait for PhoneSystemAdmin {
    async fn view(&self) -> Result<PhoneSystemView, PortalError> {
        Ok(self.service.view().await?)
    }

    async fn save(
        &self,
        actor: &CurrentUser,
        input: PhoneSystemInput,
    ) -> Result<PhoneSystemView, PortalError> {
        Ok(self.service.save(&actor.email, input).await?)
    }

    async fn sync(&self, _actor: &CurrentUser) -> Result<ExtensionSyncReport, PortalError> {
        Ok(self.service.sync_extensions().await?)
    }

    async fn disconnect(&self, actor: &CurrentUser) -> Result<PhoneSystemView, PortalError> {
        Ok(self.service.disconnect(&actor.email).await?)
    }
}
