//! The Extensions page's and the association picker's calls, over [`DirectoryService`].

use app::accounts::CurrentUser;
use app::api::directory::DirectoryAdmin as DirectoryAdminTrait;
use app::error::PortalError;
use app::extensions::{Extension, ExtensionGroup, ExtensionSort, ExtensionsPage, PickerItem};
use async_trait::async_trait;

use super::storage_failure;
use crate::directory::service::{DirectoryError, DirectoryService};

pub struct DirectoryAdmin {
    pub service: DirectoryService,
}

impl From<DirectoryError> for PortalError {
    fn from(error: DirectoryError) -> Self {
        match error {
            DirectoryError::Invalid { field, message } => PortalError::invalid(field, message),
            DirectoryError::NotFound(message) => PortalError::NotFound(message),
            DirectoryError::File(error) => PortalError::invalid("file", error.to_string()),
            DirectoryError::Refused(refusal) => PortalError::invalid("file", refusal.to_string()),
            DirectoryError::Storage(_) => storage_failure("directory", error),
        }
    }
}

#[async_trait]
impl DirectoryAdminTrait for DirectoryAdmin {
    async fn extensions(
        &self,
        search: &str,
        sort: ExtensionSort,
        descending: bool,
        offset: u64,
    ) -> Result<ExtensionsPage, PortalError> {
        Ok(self.service.page(search, sort, descending, offset).await?)
    }

    async fn save_extension(
        &self,
        actor: &CurrentUser,
        original: Option<&str>,
        extension: Extension,
    ) -> Result<(), PortalError> {
        Ok(self.service.save(&actor.email, original, extension).await?)
    }

    async fn delete_extension(&self, actor: &CurrentUser, number: &str) -> Result<(), PortalError> {
        Ok(self.service.delete(&actor.email, number).await?)
    }

    async fn groups(&self) -> Result<Vec<ExtensionGroup>, PortalError> {
        self.service.groups().await.map_err(PortalError::from)
    }

    async fn save_group(
        &self,
        actor: &CurrentUser,
        id: Option<i32>,
        name: &str,
        members: &[String],
    ) -> Result<(), PortalError> {
        Ok(self
            .service
            .save_group(&actor.email, id, name, members)
            .await?)
    }

    async fn delete_group(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError> {
        Ok(self.service.delete_group(&actor.email, id).await?)
    }

    async fn picker(&self, search: &str) -> Result<Vec<PickerItem>, PortalError> {
        self.service.picker(search).await.map_err(PortalError::from)
    }
}
