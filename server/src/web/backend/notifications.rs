//! Notifications behind the pages' server functions, over [`NotificationsService`].

use app::accounts::CurrentUser;
use app::api::notifications::NotificationsSource;
use app::error::PortalError;
use app::notifications::NotificationsView;
use app::template::model::Provider;
use async_trait::async_trait;

use super::storage_failure;
use crate::notifications::service::{NotificationsService, NotifyError};

pub struct NotificationsAdmin {
    pub service: NotificationsService,
}

impl From<NotifyError> for PortalError {
    fn from(error: NotifyError) -> Self {
        match error {
            NotifyError::Integrations(error) => error.into(),
            NotifyError::PhoneSystem(error) => error.into(),
            NotifyError::NoChannel => PortalError::invalid("Notifications", error.to_string()),
            NotifyError::Storage(error) => storage_failure("notification", error),
        }
    }
}

#[async_trait]
impl NotificationsSource for NotificationsAdmin {
    async fn notifications(
        &self,
        of: Option<(Provider, String)>,
    ) -> Result<NotificationsView, PortalError> {
        Ok(self
            .service
            .view(of.as_ref().map(|(p, k)| (*p, k.as_str())))
            .await?)
    }

    async fn send_test(&self, actor: &CurrentUser) -> Result<String, PortalError> {
        Ok(self.service.send_test(&actor.email).await?)
    }

    async fn set_owner(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        email: &str,
    ) -> Result<(), PortalError> {
        let known = self
            .service
            .accounts
            .find_by_email(email)
            .await
            .map_err(|e| storage_failure("account", e))?;
        if known.is_none_or(|a| a.disabled) {
            return Err(PortalError::invalid(
                "Owner",
                format!("{email:?} is not an active account"),
            ));
        }
        Ok(self
            .service
            .integrations
            .set_owner(&actor.email, provider, key, email)
            .await?)
    }
}
