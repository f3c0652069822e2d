//! The Calls page's and the Accounts page's extension calls, over [`AgentsService`].

use std::collections::BTreeMap;

use app::accounts::CurrentUser;
use app::agents::{CallsPage, ExtensionMatch, IntegrationContacts, NewContactInput, PopupSettings};
use app::api::agents::AgentAdmin as AgentAdminTrait;
use app::error::PortalError;
use async_trait::async_trait;

use super::storage_failure;
use crate::agents::service::{AgentError, AgentsService};

pub struct AgentAdmin {
    pub service: AgentsService,
}

impl From<AgentError> for PortalError {
    fn from(error: AgentError) -> Self {
        match error {
            AgentError::Invalid { field, message } => PortalError::Invalid { field, message },
            AgentError::NotYours(_) => PortalError::Conflict(error.to_string()),
            AgentError::CallNotFound { call_id, .. } => {
                PortalError::NotFound(format!("The call {call_id}"))
            }
            AgentError::Integration(error) => error.into(),
            AgentError::Storage(_) | AgentError::Feed(_) => storage_failure("agent", error),
        }
    }
}

#[async_trait]
impl AgentAdminTrait for AgentAdmin {
    async fn calls_page(&self, viewer: &CurrentUser) -> Result<CallsPage, PortalError> {
        Ok(self.service.calls_page(viewer.id).await?)
    }

    async fn save_popup(
        &self,
        viewer: &CurrentUser,
        settings: PopupSettings,
    ) -> Result<(), PortalError> {
        Ok(self.service.save_popup(viewer.id, &settings).await?)
    }

    async fn create_contact(
        &self,
        viewer: &CurrentUser,
        input: NewContactInput,
    ) -> Result<IntegrationContacts, PortalError> {
        Ok(self.service.create_contact(viewer.id, &input).await?)
    }

    async fn account_links(&self) -> Result<BTreeMap<i32, Vec<String>>, PortalError> {
        Ok(self.service.account_links().await?)
    }

    async fn set_account_extensions(
        &self,
        account_id: i32,
        numbers: Vec<String>,
    ) -> Result<Vec<String>, PortalError> {
        Ok(self
            .service
            .set_account_extensions(account_id, &numbers)
            .await?)
    }

    async fn extension_matches(&self) -> Result<Vec<ExtensionMatch>, PortalError> {
        Ok(self.service.extension_matches().await?)
    }

    async fn link_matches(&self) -> Result<usize, PortalError> {
        Ok(self.service.link_matches().await?)
    }
}
