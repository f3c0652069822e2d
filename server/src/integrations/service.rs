//! The integrations service: its error, and an integration in its three stages.
//!
//! - [`TemplateInUse`]: the template an integration runs (its saved revision, or the
//!   current one before the first Save), parsed, with the stored integration if any.
//! - [`ConnectedIntegration`]: a connected integration and its template in use; nothing
//!   opened yet (the list a lookup walks, the row a queued step names).
//! - [`ReadyIntegration`]: its secrets opened, credentials and variables assembled, ready
//!   to send through the engine's [`Runner`].
//!
//! The jobs are in the sibling modules (`integrations/mod.rs` lists them).

use std::collections::BTreeMap;
use std::sync::Arc;

use app::integrations::{FeatureOptions, Status};
use app::template::model::{Provider, TemplateView};
use sea_orm::DbErr;

use crate::crypto::cipher::{CipherError, SecretCipher};
use crate::engine::core::auth::AuthSettings;
use crate::engine::core::oauth::REDIRECT_URI_VARIABLE;
use crate::engine::core::redact::redact;
use crate::engine::core::render::Renderer;
use crate::engine::core::scenarios::feature_options;
use crate::engine::core::Variables;
use crate::engine::executor::{Executor, Lane};
use crate::engine::runner::Runner;
use crate::engine::tokens::{Credentials, TokenKeeper};
use crate::storage::activity::ActivityRepository;
use crate::storage::associations::AssociationRepository;
use crate::storage::crm_users::CrmUserRepository;
use crate::storage::extensions::ExtensionRepository;
use crate::storage::integrations::{IntegrationRepository, StoredIntegration};
use crate::storage::oauth_states::OAuthStateRepository;
use crate::storage::templates::{StoredTemplate, TemplateRepository, TemplateStoreError};
use crate::storage::test_cases::{TestCaseRepository, TestCaseStoreError};
use app::test_cases::TestRun;

#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    #[error("The template {key} was not found.")]
    NotFound { key: String },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("The CRM refused the credentials: {0}")]
    CredentialsRejected(String),
    #[error("The connection test failed: {0}")]
    TestFailed(String),
    #[error("No token was issued: {0}")]
    TokenFailed(String),
    #[error("{0}")]
    Template(String),
    /// The change would undo something else (an extension another user has).
    #[error("{0}")]
    Conflict(String),
    #[error("integration storage failed: {0}")]
    Storage(#[from] DbErr),
    #[error("template storage failed: {0}")]
    TemplateStore(#[from] TemplateStoreError),
    #[error("a stored secret cannot be read: {0}")]
    Secret(#[from] CipherError),
    #[error(transparent)]
    TestCases(#[from] TestCaseStoreError),
    /// Apply stopped: test cases failed against the new revision.
    #[error("{} of {} test cases failed against revision {}; fix the template, or apply anyway", .0.failed(), .0.results.len(), .0.revision)]
    TestCasesFailed(TestRun),
}

impl IntegrationError {
    /// A value refused: `field` names it as the page does.
    pub fn invalid(field: &str, message: impl Into<String>) -> IntegrationError {
        IntegrationError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Clone)]
pub struct IntegrationsService {
    pub templates: TemplateRepository,
    pub integrations: IntegrationRepository,
    pub cipher: Arc<SecretCipher>,
    pub executor: Arc<Executor>,
    pub renderer: Renderer,
    /// The public base URL, for the OAuth redirect URI.
    pub public_url: String,
    pub states: OAuthStateRepository,
    pub tokens: Arc<TokenKeeper>,
    pub activity: ActivityRepository,
    pub crm_users: CrmUserRepository,
    /// The CRM user syncs running in this process.
    pub user_syncs: Arc<super::user_syncs::UserSyncs>,
    pub extensions: ExtensionRepository,
    pub extension_groups: crate::storage::extension_groups::ExtensionGroupRepository,
    pub associations: AssociationRepository,
    /// Patchbay's phonebook: the contacts lookups found (`integrations::contacts`).
    pub contact_cache: crate::storage::contact_cache::ContactCacheRepository,
    pub test_cases: TestCaseRepository,
    /// The queue's rows, read for the health card (the queue runs them).
    pub queue: crate::storage::queue::QueueRepository,
}

/// The template an integration runs: its own revision once saved, else the current one.
pub(super) struct TemplateInUse {
    /// The template as stored (its current revision, its name and key).
    pub(super) template: StoredTemplate,
    pub(super) integration: Option<StoredIntegration>,
    /// The revision run, and its text: the integration's own once saved.
    pub(super) revision: i32,
    pub(super) xml: String,
    pub(super) view: TemplateView,
    pub(super) auth: AuthSettings,
}

impl TemplateInUse {
    /// The template lists CRM users (a UserAssociation scenario, not switched off): calls
    /// then run only for extensions associated with one.
    pub(super) fn lists_users(&self) -> bool {
        crate::engine::core::scenarios::feature_options(&self.view).lists_users
    }
}

pub use crate::storage::integrations::secret_owner;

/// The name a secret field's value is stored under.
pub(super) fn secret_name(field: &str) -> String {
    format!("field:{field}")
}

impl IntegrationsService {
    /// The template of `provider`/`key`, or NotFound.
    pub(super) async fn template_of(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<StoredTemplate, IntegrationError> {
        self.templates
            .get(provider, key)
            .await?
            .ok_or_else(|| IntegrationError::NotFound { key: key.into() })
    }

    pub(super) async fn template_in_use(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<TemplateInUse, IntegrationError> {
        let template = self.template_of(provider, key).await?;
        let integration = self.integrations.find_by_template(template.id).await?;
        template_in_use_of(template, integration)
    }

    pub(super) fn redirect_uri(&self, provider: Provider, key: &str) -> String {
        format!(
            "{}/integration/callback/api/{}/{key}/",
            self.public_url,
            provider.as_str()
        )
    }

    pub(super) async fn decrypted_secrets(
        &self,
        running: &TemplateInUse,
    ) -> Result<BTreeMap<String, String>, IntegrationError> {
        let mut secrets = BTreeMap::new();
        if let Some(integration) = &running.integration {
            let owner = secret_owner(running.template.id);
            for secret in self.integrations.secrets(integration.id).await? {
                let plain = secret.open(&self.cipher, &owner)?;
                secrets.insert(secret.name, plain);
            }
        }
        Ok(secrets)
    }

    /// The variables a connection's requests render with: the field values and the
    /// redirect URI.
    pub(super) fn variables(
        &self,
        provider: Provider,
        key: &str,
        values: &BTreeMap<String, String>,
    ) -> Variables {
        let mut variables: Variables = values.clone();
        variables.insert(
            REDIRECT_URI_VARIABLE.into(),
            self.redirect_uri(provider, key),
        );
        variables
    }

    /// A stored connection ready to send requests with its tokens kept fresh.
    pub(super) fn credentials(
        &self,
        running: &TemplateInUse,
        integration: &StoredIntegration,
        secrets: &BTreeMap<String, String>,
        provider: Provider,
        key: &str,
    ) -> Credentials {
        let mut values = integration.settings.clone();
        for field in running.auth.custom_fields.iter().filter(|f| f.is_secret()) {
            if let Some(value) = secrets.get(&secret_name(&field.name)) {
                values.insert(field.name.clone(), value.clone());
            }
        }
        Credentials {
            integration_id: integration.id,
            template_id: running.template.id,
            auth: running.auth.clone(),
            variables: self.variables(provider, key, &values),
            lane: lane(running),
            fixed_access_token: None,
        }
    }

    /// Every integration's name (its template's), by integration id.
    pub async fn names(&self) -> Result<BTreeMap<i32, String>, IntegrationError> {
        let integrations = self.integrations.by_template().await?;
        let mut names = BTreeMap::new();
        for provider in [Provider::Crm, Provider::Helpdesk] {
            for template in self.templates.list(provider).await? {
                if let Some(integration) = integrations.get(&template.id) {
                    names.insert(integration.id, template.record.name.clone());
                }
            }
        }
        Ok(names)
    }

    /// Every connected integration, CRM templates first, each provider's in its template
    /// order.
    pub(super) async fn connected_integrations(
        &self,
    ) -> Result<Vec<ConnectedIntegration>, IntegrationError> {
        let mut integrations = self.integrations.by_template().await?;
        let mut connected = Vec::new();
        for provider in [Provider::Crm, Provider::Helpdesk] {
            for template in self.templates.list(provider).await? {
                let Some(integration) = integrations
                    .remove(&template.id)
                    .filter(|i| i.status == Status::Connected)
                else {
                    continue;
                };
                let key = template.record.key.clone();
                let in_use = template_in_use_of(template, Some(integration.clone()))?;
                connected.push(ConnectedIntegration {
                    provider,
                    key,
                    in_use,
                    integration,
                });
            }
        }
        Ok(connected)
    }

    /// The integration `id` when it is connected: its own rows only (a
    /// queued call step must not read and parse every template).
    pub(super) async fn connected_integration(
        &self,
        id: i32,
    ) -> Result<Option<ConnectedIntegration>, IntegrationError> {
        let Some(integration) = self
            .integrations
            .find(id)
            .await?
            .filter(|i| i.status == Status::Connected)
        else {
            return Ok(None);
        };
        let Some(template) = self.templates.by_id(integration.template_id).await? else {
            return Ok(None);
        };
        let (provider, key) = (template.record.provider, template.record.key.clone());
        let in_use = template_in_use_of(template, Some(integration.clone()))?;
        Ok(Some(ConnectedIntegration {
            provider,
            key,
            in_use,
            integration,
        }))
    }

    /// `connected` with its secrets opened and its variables assembled.
    pub(super) async fn ready(
        &self,
        connected: ConnectedIntegration,
    ) -> Result<ReadyIntegration, IntegrationError> {
        let ConnectedIntegration {
            provider,
            key,
            in_use,
            integration,
        } = connected;
        let stored = self.decrypted_secrets(&in_use).await?;
        let credentials = self.credentials(&in_use, &integration, &stored, provider, &key);
        let mut variables = credentials.variables.clone();
        for (name, value) in &integration.global_variables {
            variables
                .entry(name.clone())
                .or_insert_with(|| value.clone());
        }
        Ok(ReadyIntegration {
            provider,
            key,
            user_fields: in_use.auth.user_fields(),
            secrets: stored.into_values().collect(),
            in_use,
            integration,
            credentials,
            variables,
        })
    }

    /// A runner for `connected`'s requests through this process's token keeper.
    pub(super) fn runner<'a>(&'a self, connected: &'a ReadyIntegration) -> Runner<'a> {
        Runner::new(
            &self.tokens,
            &self.renderer,
            &connected.credentials,
            &connected.in_use.view,
            &connected.user_fields,
        )
    }

    /// The stored integration of `provider`/`key` when it is connected, with its template;
    /// nothing parsed or opened (for what needs only its rows).
    pub(super) async fn connected_rows(
        &self,
        provider: Provider,
        key: &str,
        what: &str,
    ) -> Result<(StoredTemplate, StoredIntegration), IntegrationError> {
        let template = self.template_of(provider, key).await?;
        let integration = self
            .integrations
            .find_by_template(template.id)
            .await?
            .filter(|i| i.status != Status::NotConnected)
            .ok_or_else(|| {
                IntegrationError::invalid(what, "the integration is not connected yet")
            })?;
        Ok((template, integration))
    }

    /// The integration of `provider`/`key` when it is connected, ready to run.
    pub(super) async fn ready_integration(
        &self,
        provider: Provider,
        key: &str,
        what: &str,
    ) -> Result<ReadyIntegration, IntegrationError> {
        let (template, integration) = self.connected_rows(provider, key, what).await?;
        let in_use = template_in_use_of(template, Some(integration.clone()))?;
        self.ready(ConnectedIntegration {
            provider,
            key: key.to_owned(),
            in_use,
            integration,
        })
        .await
    }
}

/// The template an integration runs, read from its stored revision (or the template's
/// current one when nothing is stored yet).
pub(super) fn template_in_use_of(
    template: StoredTemplate,
    integration: Option<StoredIntegration>,
) -> Result<TemplateInUse, IntegrationError> {
    let key = template.record.key.clone();
    let (revision, xml) = match &integration {
        Some(i) => (i.template_revision, i.template_xml.clone()),
        None => (template.revision, template.record.xml.clone()),
    };
    let document = app::template::xml::parse(&xml).map_err(|e| {
        tracing::error!(%key, error = %e, "a stored template no longer parses");
        IntegrationError::Template(format!("The stored template {key} cannot be read."))
    })?;
    let view = TemplateView::read(&document);
    let auth = AuthSettings::read(&view);
    Ok(TemplateInUse {
        template,
        integration,
        revision,
        xml,
        view,
        auth,
    })
}

/// A connected integration with the template it runs.
pub(super) struct ConnectedIntegration {
    pub(super) provider: Provider,
    pub(super) key: String,
    pub(super) in_use: TemplateInUse,
    pub(super) integration: StoredIntegration,
}

/// The template's MaxConcurrentRequest (1 when unreadable).
pub(super) fn max_concurrent(view: &TemplateView) -> usize {
    view.info.max_concurrent_request.trim().parse().unwrap_or(1)
}

/// The executor lane of the integration: its template's MaxConcurrentRequest at once.
pub(super) fn lane(running: &TemplateInUse) -> Lane {
    Lane {
        integration_id: running.template.id,
        max_concurrent: max_concurrent(&running.view),
    }
}

/// The values of the secret fields, masked in every message.
pub(super) fn secret_values(auth: &AuthSettings, values: &BTreeMap<String, String>) -> Vec<String> {
    auth.custom_fields
        .iter()
        .filter(|f| f.is_secret())
        .filter_map(|f| values.get(&f.name).cloned())
        .collect()
}

/// A connected integration ready to run: its credentials, its variables (fields and
/// global variables), the secret values to mask.
pub(super) struct ReadyIntegration {
    pub(super) provider: Provider,
    pub(super) key: String,
    pub(super) in_use: TemplateInUse,
    pub(super) integration: StoredIntegration,
    pub(super) credentials: Credentials,
    pub(super) variables: Variables,
    pub(super) secrets: Vec<String>,
    pub(super) user_fields: Vec<String>,
}

impl ReadyIntegration {
    pub(super) fn name(&self) -> &str {
        &self.in_use.template.record.name
    }

    pub(super) fn options(&self) -> FeatureOptions {
        feature_options(&self.in_use.view)
    }

    pub(super) fn mask(&self, text: &str) -> String {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        redact(text, &secrets)
    }
}
