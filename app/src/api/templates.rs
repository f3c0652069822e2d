//! Templates: the Templates pages' calls and [`TemplateAdmin`] (implemented in
//! `server/src/web/backend/templates.rs`).

#[cfg(feature = "ssr")]
use super::{backend, provider_param, require_admin, require_admin_viewer, with_status};
#[cfg(feature = "ssr")]
use crate::accounts::CurrentUser;
use crate::error::PortalError;
use crate::gallery::GalleryEntry;
use crate::history::{RevisionDiff, TemplateHistory};
use crate::template::form::TemplateForm;
#[cfg(feature = "ssr")]
use crate::template::model::Provider;
use crate::template::TemplateSummary;
#[cfg(feature = "ssr")]
use async_trait::async_trait;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

/// Template management as the Template Management pages need it.
#[cfg(feature = "ssr")]
#[async_trait]
pub trait TemplateAdmin: Send + Sync + 'static {
    async fn list_templates(&self, provider: Provider)
        -> Result<Vec<TemplateSummary>, PortalError>;
    async fn template_form(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<TemplateForm, PortalError>;
    /// The stored XML text of a template, for the editor.
    async fn template_text(&self, provider: Provider, key: &str) -> Result<String, PortalError>;
    /// Creates (`key` None) or edits the template through the form.
    async fn save_template(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: Option<&str>,
        form: TemplateForm,
    ) -> Result<TemplateSummary, PortalError>;
    /// Deletes the templates; one an integration uses only with `disconnect` (which
    /// disconnects it first), else a conflict naming it.
    async fn delete_templates(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        keys: &[String],
        disconnect: bool,
    ) -> Result<u64, PortalError>;
    /// The kept revisions, newest first.
    async fn template_history(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<TemplateHistory, PortalError>;
    /// The gallery's ready-made templates.
    async fn gallery(&self) -> Result<Vec<GalleryEntry>, PortalError>;
    /// Adds the gallery's template `id` to its provider's list.
    async fn add_from_gallery(
        &self,
        actor: &CurrentUser,
        id: &str,
    ) -> Result<TemplateSummary, PortalError>;
    /// Two kept revisions side by side.
    async fn revision_diff(
        &self,
        provider: Provider,
        key: &str,
        from: i32,
        to: i32,
    ) -> Result<RevisionDiff, PortalError>;
}

#[server(input = GetUrl, endpoint = "load_template_history")]
pub async fn load_template_history(
    provider: String,
    key: String,
) -> Result<TemplateHistory, PortalError> {
    with_status(async {
        require_admin_viewer()?;
        backend()?
            .templates
            .template_history(provider_param(&provider)?, &key)
            .await
    })
    .await
}

#[server(input = GetUrl, endpoint = "load_revision_diff")]
pub async fn load_revision_diff(
    provider: String,
    key: String,
    from: i32,
    to: i32,
) -> Result<RevisionDiff, PortalError> {
    with_status(async {
        require_admin_viewer()?;
        backend()?
            .templates
            .revision_diff(provider_param(&provider)?, &key, from, to)
            .await
    })
    .await
}

#[server(input = GetUrl, endpoint = "list_templates")]
pub async fn list_templates(provider: String) -> Result<Vec<TemplateSummary>, PortalError> {
    with_status(async {
        require_admin_viewer()?;
        backend()?
            .templates
            .list_templates(provider_param(&provider)?)
            .await
    })
    .await
}

#[server(input = GetUrl, endpoint = "load_template_form")]
pub async fn load_template_form(
    provider: String,
    key: String,
) -> Result<TemplateForm, PortalError> {
    with_status(async {
        require_admin_viewer()?;
        backend()?
            .templates
            .template_form(provider_param(&provider)?, &key)
            .await
    })
    .await
}

#[server(input = GetUrl, endpoint = "load_template_text")]
pub async fn load_template_text(provider: String, key: String) -> Result<String, PortalError> {
    with_status(async {
        require_admin_viewer()?;
        backend()?
            .templates
            .template_text(provider_param(&provider)?, &key)
            .await
    })
    .await
}

/// Creates (`key` absent) or edits a template through the editor's form. JSON-encoded: the
/// form is nested; the CSRF middleware reads `csrf_token` from the JSON object.
#[server(input = Json, endpoint = "save_template")]
pub async fn save_template(
    csrf_token: String,
    provider: String,
    key: Option<String>,
    form: TemplateForm,
) -> Result<TemplateSummary, PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?
            .templates
            .save_template(&actor, provider_param(&provider)?, key.as_deref(), form)
            .await
    })
    .await
}

#[server(input = Json, endpoint = "delete_templates")]
pub async fn delete_templates(
    csrf_token: String,
    provider: String,
    keys: Vec<String>,
    disconnect: bool,
) -> Result<u64, PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?
            .templates
            .delete_templates(&actor, provider_param(&provider)?, &keys, disconnect)
            .await
    })
    .await
}

#[server(input = GetUrl, endpoint = "list_gallery")]
pub async fn list_gallery() -> Result<Vec<GalleryEntry>, PortalError> {
    with_status(async {
        require_admin_viewer()?;
        backend()?.templates.gallery().await
    })
    .await
}

#[server(endpoint = "add_from_gallery")]
pub async fn add_from_gallery(
    csrf_token: String,
    id: String,
) -> Result<TemplateSummary, PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?.templates.add_from_gallery(&actor, &id).await
    })
    .await
}

/// A 3CX CRM template converted for the editor (nothing is stored: the author saves it).
#[server(endpoint = "import_3cx_template")]
pub async fn import_3cx_template(
    csrf_token: String,
    text: String,
) -> Result<crate::template::threecx::Conversion, PortalError> {
    with_status(async {
        require_admin(&csrf_token)?;
        if text.len() > crate::template::xml::MAX_TEMPLATE_BYTES {
            return Err(PortalError::Invalid {
                field: "The 3CX file".into(),
                message: format!(
                    "has {} bytes; at most {} are accepted",
                    text.len(),
                    crate::template::xml::MAX_TEMPLATE_BYTES
                ),
            });
        }
        crate::template::threecx::convert(&text).map_err(|error| PortalError::Invalid {
            field: "The 3CX file".into(),
            message: error.to_string(),
        })
    })
    .await
}
