//! Template management behind the pages' server functions, over [`TemplatesService`].

use app::accounts::CurrentUser;
use app::api::templates::TemplateAdmin;
use app::error::PortalError;
use app::gallery::GalleryEntry;
use app::history::{RevisionDiff, TemplateHistory};
use app::template::form::TemplateForm;
use app::template::model::Provider;
use app::template::TemplateSummary;
use async_trait::async_trait;

use super::storage_failure;
use crate::templates::service::TemplateStoreError;
use crate::templates::service::{summary_of, InUse, TemplateEditError, TemplatesService};

pub struct TemplatesAdmin {
    pub service: TemplatesService,
}

impl From<TemplateEditError> for PortalError {
    fn from(error: TemplateEditError) -> Self {
        match error {
            TemplateEditError::Invalid(refusal) => PortalError::InvalidTemplate {
                message: refusal.summary(),
                findings: refusal.findings,
            },
            TemplateEditError::WrongDestination { message, .. } => {
                PortalError::invalid("template", message)
            }
            TemplateEditError::Store(error) => PortalError::from(error),
            TemplateEditError::InUse(_) => PortalError::Conflict(error.to_string()),
            TemplateEditError::Integrations(error) => storage_failure("integration", error),
            TemplateEditError::NoSuchRevision { .. } | TemplateEditError::NotInGallery(_) => {
                PortalError::NotFound(error.to_string())
            }
            TemplateEditError::Unreadable(key) => {
                tracing::error!(%key, "stored template unreadable");
                PortalError::Internal("storage".into())
            }
        }
    }
}

impl From<TemplateStoreError> for PortalError {
    fn from(error: TemplateStoreError) -> Self {
        match error {
            TemplateStoreError::LimitReached(_) | TemplateStoreError::DuplicateKey { .. } => {
                PortalError::Conflict(error.to_string())
            }
            TemplateStoreError::NotFound { key, .. } => {
                PortalError::NotFound(format!("The template {key}"))
            }
            other => storage_failure("template", other),
        }
    }
}

#[async_trait]
impl TemplateAdmin for TemplatesAdmin {
    async fn gallery(&self) -> Result<Vec<GalleryEntry>, PortalError> {
        Ok(crate::templates::gallery::entries())
    }

    async fn add_from_gallery(
        &self,
        actor: &CurrentUser,
        id: &str,
    ) -> Result<TemplateSummary, PortalError> {
        let stored = self.service.add_from_gallery(&actor.email, id).await?;
        Ok(summary_of(&stored))
    }

    async fn list_templates(
        &self,
        provider: Provider,
    ) -> Result<Vec<TemplateSummary>, PortalError> {
        Ok(self.service.summaries(provider).await?)
    }

    async fn template_form(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<TemplateForm, PortalError> {
        Ok(self.service.form_of(provider, key).await?)
    }

    async fn template_text(&self, provider: Provider, key: &str) -> Result<String, PortalError> {
        Ok(self.service.stored_text(provider, key).await?)
    }

    async fn save_template(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: Option<&str>,
        form: TemplateForm,
    ) -> Result<TemplateSummary, PortalError> {
        let stored = match key {
            None => {
                self.service
                    .create_from_form(&actor.email, provider, form)
                    .await
            }
            Some(key) => {
                self.service
                    .edit_with_form(&actor.email, provider, key, &form)
                    .await
            }
        }
        .map_err(PortalError::from)?;
        tracing::info!(actor = %actor.email, key = %stored.record.key, "template saved from the editor");
        Ok(summary_of(&stored))
    }

    async fn delete_templates(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        keys: &[String],
        disconnect: bool,
    ) -> Result<u64, PortalError> {
        let in_use = if disconnect {
            InUse::Disconnect
        } else {
            InUse::Refuse
        };
        let deleted = self
            .service
            .delete(provider, keys, in_use)
            .await
            .map_err(PortalError::from)?;
        tracing::info!(actor = %actor.email, deleted, "templates deleted from the list");
        Ok(deleted)
    }

    async fn template_history(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<TemplateHistory, PortalError> {
        Ok(self.service.history(provider, key).await?)
    }

    async fn revision_diff(
        &self,
        provider: Provider,
        key: &str,
        from: i32,
        to: i32,
    ) -> Result<RevisionDiff, PortalError> {
        Ok(self.service.diff(provider, key, from, to).await?)
    }
}
