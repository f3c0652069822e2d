//! Template work shared by the REST API and the page's server functions: creating a
//! template from the editor's form, editing one through it, and reading its form back.
//! One place for this logic; the callers only translate errors.

use std::collections::HashSet;

use app::history::{RevisionDiff, RevisionSummary, TemplateHistory, MAX_KEPT_REVISIONS};
use app::integrations::{Status, TemplateUse};
use app::template::editor::{
    mask_password_defaults, mask_password_defaults_in_text, restore_password_defaults,
    PASSWORD_MASK,
};
use app::template::form::TemplateForm;
use app::template::model::Provider;
use app::template::xml::{parse, XmlDocument};
use app::template::TemplateSummary;

use crate::storage::integrations::IntegrationRepository;
pub use crate::storage::templates::{
    StoredTemplate, TemplateStoreError, MAX_TEMPLATES_PER_PROVIDER,
};
use crate::storage::templates::{TemplateRecord, TemplateRepository};
use crate::templates::intake::{accept, Refusal};

#[derive(Debug, thiserror::Error)]
pub enum TemplateEditError {
    #[error("{}", .0.summary())]
    Invalid(Refusal),
    #[error("{message}")]
    WrongDestination { code: &'static str, message: String },
    #[error(transparent)]
    Store(#[from] TemplateStoreError),
    #[error("the stored template \"{0}\" could not be read")]
    Unreadable(String),
    #[error("{} used by an integration; deleting disconnects it, so confirm that first", in_use_list(.0))]
    InUse(Vec<String>),
    #[error("integration storage failed: {0}")]
    Integrations(#[from] sea_orm::DbErr),
    #[error(
        "revision {revision} of the template {key} is not kept (the last {MAX_KEPT_REVISIONS} are)"
    )]
    NoSuchRevision { key: String, revision: i32 },
    #[error("the gallery has no template \"{0}\"")]
    NotInGallery(String),
}

fn in_use_list(keys: &[String]) -> String {
    match keys {
        [one] => format!("the template {one} is"),
        many => format!("the templates {} are", many.join(", ")),
    }
}

/// Whether deleting a template that an integration uses may disconnect it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InUse {
    Refuse,
    Disconnect,
}

/// A new template's Key: 32 lowercase hex characters (docs/template-format.md).
pub fn new_key() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Canonical text of a document built or edited through the form.
pub use app::template::editor::canonical_text;

/// The template's own Provider (and Key, for a replace) must match where it is sent.
pub fn check_destination(
    record: &TemplateRecord,
    provider: Provider,
    key: Option<&str>,
) -> Result<(), TemplateEditError> {
    if record.provider != provider {
        let own = record.provider.as_str();
        return Err(TemplateEditError::WrongDestination {
            code: "template.provider",
            message: format!(
                "this is a {own} template (Provider=\"{own}\"); add it to the {own} templates"
            ),
        });
    }
    if let Some(key) = key.filter(|k| *k != record.key) {
        return Err(TemplateEditError::WrongDestination {
            code: "template.key",
            message: format!("the file's Key is \"{}\", not \"{key}\"", record.key),
        });
    }
    Ok(())
}

pub fn summary_of(stored: &StoredTemplate) -> TemplateSummary {
    let record = &stored.record;
    TemplateSummary {
        provider: record.provider,
        key: record.key.clone(),
        name: record.name.clone(),
        remark: record.remark.clone(),
        version: record.version.clone(),
        revision: stored.revision,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
        has_logo: record.logo.is_some(),
        in_use: None,
        warnings: record.warnings.clone(),
    }
}

/// SECURITY.md: a browser never receives a stored secret. The text as stored, but with the
/// default values of password custom fields masked (byte for byte otherwise).
pub fn text_for_the_browser(stored: String) -> String {
    mask_password_defaults_in_text(&stored).unwrap_or(stored)
}

#[derive(Clone)]
pub struct TemplatesService {
    pub templates: TemplateRepository,
    pub integrations: IntegrationRepository,
}

impl TemplatesService {
    async fn stored(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<StoredTemplate, TemplateEditError> {
        Ok(self.templates.get(provider, key).await?.ok_or_else(|| {
            TemplateStoreError::NotFound {
                provider,
                key: key.to_string(),
            }
        })?)
    }

    async fn stored_document(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<(StoredTemplate, XmlDocument), TemplateEditError> {
        let stored = self.stored(provider, key).await?;
        // Stored text was valid when it was stored; a failure here is a storage fault.
        let document = parse(&stored.record.xml).map_err(|e| {
            tracing::error!(%key, error = %e, "a stored template no longer parses");
            TemplateEditError::Unreadable(key.to_string())
        })?;
        Ok((stored, document))
    }

    /// The stored XML text for the editor page: as stored, but with password defaults masked.
    pub async fn stored_text(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<String, TemplateEditError> {
        let stored = self.stored(provider, key).await?;
        Ok(text_for_the_browser(stored.record.xml))
    }

    /// The stored template's form for the editor page, password defaults masked.
    pub async fn form_of(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<TemplateForm, TemplateEditError> {
        let (_, mut document) = self.stored_document(provider, key).await?;
        mask_password_defaults(&mut document);
        Ok(TemplateForm::read(&document))
    }

    /// Stores a new template built from the form alone; an empty Key gets a fresh one.
    pub async fn create_from_form(
        &self,
        author: &str,
        provider: Provider,
        mut form: TemplateForm,
    ) -> Result<StoredTemplate, TemplateEditError> {
        if form.provider.is_empty() {
            form.provider = provider.as_str().to_string();
        }
        if form.key.is_empty() {
            form.key = new_key();
        }
        let accepted =
            accept(&canonical_text(&form.to_new_document())).map_err(TemplateEditError::Invalid)?;
        check_destination(&accepted.record, provider, None)?;
        let stored = self.templates.create(accepted.record, author).await?;
        tracing::info!(%author, provider = provider.as_str(), key = %stored.record.key, "template created from the form");
        Ok(stored)
    }

    /// Applies the form to the stored template and stores the regenerated text; whatever
    /// the form does not show stays as it was.
    pub async fn edit_with_form(
        &self,
        author: &str,
        provider: Provider,
        key: &str,
        form: &TemplateForm,
    ) -> Result<StoredTemplate, TemplateEditError> {
        let (stored, original) = self.stored_document(provider, key).await?;
        let mut edited = form.apply(&original);
        // The form came from `form_of`: a default still masked keeps its stored value.
        restore_password_defaults(&mut edited, &original);
        let mut accepted = accept(&canonical_text(&edited)).map_err(TemplateEditError::Invalid)?;
        check_destination(&accepted.record, provider, Some(key))?;
        if accepted.record.logo.is_none() {
            accepted.record.logo = stored.record.logo;
        }
        let stored = self.templates.replace(accepted.record, author).await?;
        tracing::info!(%author, provider = provider.as_str(), %key, "template edited through the form");
        Ok(stored)
    }

    pub async fn list(&self, provider: Provider) -> Result<Vec<StoredTemplate>, TemplateEditError> {
        Ok(self.templates.list(provider).await?)
    }

    /// The list as Template Management shows it: each template with its integration's use.
    pub async fn summaries(
        &self,
        provider: Provider,
    ) -> Result<Vec<TemplateSummary>, TemplateEditError> {
        self.templates
            .listed(provider)
            .await
            .map_err(TemplateStoreError::from)?
            .into_iter()
            .map(|row| {
                let warnings = serde_json::from_str(&row.warnings)
                    .map_err(|_| TemplateStoreError::CorruptWarnings(row.key.clone()))?;
                let in_use = row.integration_status.zip(row.running_revision).map(
                    |(status, running_revision)| TemplateUse {
                        status: Status::parse(&status),
                        running_revision,
                    },
                );
                Ok(TemplateSummary {
                    provider,
                    key: row.key,
                    name: row.name,
                    remark: row.remark,
                    version: row.version,
                    revision: row.revision,
                    created_at: row.created_at,
                    updated_at: row.updated_at,
                    has_logo: row.has_logo,
                    warnings,
                    in_use,
                })
            })
            .collect()
    }

    pub async fn get(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<StoredTemplate, TemplateEditError> {
        self.stored(provider, key).await
    }

    /// Stores an uploaded text as a new template. A template whose key is in `confirmed`
    /// (the uploader agreed to replace it) replaces the stored one, or is stored anew if that
    /// was deleted meanwhile; any other taken key is reported, and nothing changes.
    pub async fn upload(
        &self,
        author: &str,
        provider: Provider,
        text: &str,
        confirmed: &HashSet<String>,
    ) -> Result<Uploaded, TemplateEditError> {
        let accepted = accept(text).map_err(TemplateEditError::Invalid)?;
        check_destination(&accepted.record, provider, None)?;
        let key = accepted.record.key.clone();
        let uploaded = if confirmed.contains(&key) {
            match self
                .templates
                .replace(accepted.record.clone(), author)
                .await
            {
                Err(TemplateStoreError::NotFound { .. }) => {
                    Uploaded::Stored(self.templates.create(accepted.record, author).await?)
                }
                other => Uploaded::Replaced(other?),
            }
        } else {
            match self.templates.create(accepted.record.clone(), author).await {
                Err(TemplateStoreError::DuplicateKey { .. }) => {
                    Uploaded::KeyExists(accepted.record)
                }
                other => Uploaded::Stored(other?),
            }
        };
        tracing::info!(%author, provider = provider.as_str(), %key, status = uploaded.status(), "template uploaded");
        Ok(uploaded)
    }

    /// Adds the gallery's template `id` to its provider's list, as an upload of it would
    /// (a taken key or a full list is refused; nothing is replaced).
    pub async fn add_from_gallery(
        &self,
        author: &str,
        id: &str,
    ) -> Result<StoredTemplate, TemplateEditError> {
        let item = super::gallery::item(id)
            .ok_or_else(|| TemplateEditError::NotInGallery(id.to_owned()))?;
        let accepted = super::gallery::accepted(item).map_err(TemplateEditError::Invalid)?;
        let stored = self.templates.create(accepted.record, author).await?;
        tracing::info!(%author, gallery = id, key = %stored.record.key, "template added from the gallery");
        Ok(stored)
    }

    /// Replaces a template with a whole new text (the XML view's save, `PUT` of XML). The
    /// editor shows password defaults masked; a text that still carries the mask keeps the
    /// stored values.
    pub async fn replace_text(
        &self,
        author: &str,
        provider: Provider,
        key: &str,
        mut text: String,
    ) -> Result<StoredTemplate, TemplateEditError> {
        if text.contains(PASSWORD_MASK) {
            let (_, original) = self.stored_document(provider, key).await?;
            if let Ok(mut edited) = parse(&text) {
                if restore_password_defaults(&mut edited, &original) {
                    text = canonical_text(&edited);
                }
            }
        }
        let accepted = accept(&text).map_err(TemplateEditError::Invalid)?;
        check_destination(&accepted.record, provider, Some(key))?;
        let stored = self.templates.replace(accepted.record, author).await?;
        tracing::info!(%author, provider = provider.as_str(), %key, "template replaced");
        Ok(stored)
    }

    /// The template's kept revisions, newest first, with the ones its integration runs and
    /// ran before.
    pub async fn history(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<TemplateHistory, TemplateEditError> {
        let stored = self.stored(provider, key).await?;
        let integration = self.integrations.find_by_template(stored.id).await?;
        let revisions = self
            .templates
            .revisions(stored.id)
            .await?
            .into_iter()
            .map(|r| RevisionSummary {
                revision: r.revision,
                author: r.author,
                saved_at: r.saved_at,
            })
            .collect();
        Ok(TemplateHistory {
            name: stored.record.name,
            current: stored.revision,
            running: integration.as_ref().map(|i| i.template_revision),
            previous: integration.and_then(|i| i.previous_template_revision),
            revisions,
        })
    }

    /// A kept revision's text as the browser may see it (password defaults masked).
    pub async fn revision_text(
        &self,
        provider: Provider,
        key: &str,
        revision: i32,
    ) -> Result<String, TemplateEditError> {
        let stored = self.stored(provider, key).await?;
        let (_, xml) = self.templates.revision(stored.id, revision).await?.ok_or(
            TemplateEditError::NoSuchRevision {
                key: key.to_owned(),
                revision,
            },
        )?;
        Ok(text_for_the_browser(xml))
    }

    /// Two kept revisions side by side (password defaults masked on both sides).
    pub async fn diff(
        &self,
        provider: Provider,
        key: &str,
        from: i32,
        to: i32,
    ) -> Result<RevisionDiff, TemplateEditError> {
        let old = self.revision_text(provider, key, from).await?;
        let new = self.revision_text(provider, key, to).await?;
        Ok(super::history::side_by_side(from, &old, to, &new))
    }

    /// Deletes the named templates, all or nothing: an unknown key deletes none, and a
    /// template an integration uses is deleted only with [`InUse::Disconnect`], which
    /// disconnects the integration first.
    pub async fn delete(
        &self,
        provider: Provider,
        keys: &[String],
        in_use: InUse,
    ) -> Result<u64, TemplateEditError> {
        let uses = self.integrations.by_template().await?;
        let mut used = Vec::new();
        for key in keys {
            let stored = self.stored(provider, key).await?;
            if let Some(integration) = uses.get(&stored.id) {
                used.push((key.clone(), integration.id));
            }
        }
        if !used.is_empty() && in_use == InUse::Refuse {
            return Err(TemplateEditError::InUse(
                used.into_iter().map(|(key, _)| key).collect(),
            ));
        }
        for (key, integration_id) in &used {
            self.integrations.disconnect(*integration_id).await?;
            tracing::info!(provider = provider.as_str(), %key, "integration disconnected: its template is being deleted");
        }
        let deleted = self.templates.delete(provider, keys).await?;
        tracing::info!(provider = provider.as_str(), deleted, "templates deleted");
        Ok(deleted)
    }
}

/// What an upload did with a file's template.
#[derive(Debug)]
pub enum Uploaded {
    Stored(StoredTemplate),
    Replaced(StoredTemplate),
    /// The key is taken and replacing it was not confirmed: nothing stored.
    KeyExists(TemplateRecord),
}

impl Uploaded {
    /// The upload result's status word (`app::template::UploadOutcome::status`).
    pub fn status(&self) -> &'static str {
        match self {
            Uploaded::Stored(_) => "stored",
            Uploaded::Replaced(_) => "replaced",
            Uploaded::KeyExists(_) => "exists",
        }
    }
}
