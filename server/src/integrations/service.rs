//! Connecting templates to CRMs (PORTAL.md "Integrations"; ENGINE.md "Auth flows").
//!
//! Save checks the values, then (Basic, Bearer, None) proves them with a test request
//! before storing anything: GetGlobalInfo when the template has it, else its first contact
//! search with [`SAMPLE_PHONE`]. A refused or failed test changes nothing stored, so working
//! credentials survive a typo. OAuth 2.0 stores its settings; the authorization itself
//! is started from the settings page by the OAuth flow.

use std::collections::BTreeMap;
use std::sync::Arc;

use app::integrations::{
    FieldKind, IntegrationCard, IntegrationSettings, NetworkInfo, SaveOutcome, SettingField,
    SettingsInput, Status,
};
use app::template::model::{AuthType, Provider, RequestView, TemplateView};
use sea_orm::DbErr;

use crate::crypto::cipher::{CipherError, SecretCipher, SecretContext};
use crate::engine::core::auth::{AuthSettings, CustomField, FieldEditor};
use crate::engine::core::redact::{excerpt, redact};
use crate::engine::core::render::Renderer;
use crate::engine::core::request::{
    encode_body, GlobalHeaders, Method, OutboundRequest, RequestContext, FORM_ENCODING,
    JSON_ENCODING,
};
use crate::engine::core::response::{describe_non_json, judge, read_outputs, Verdict};
use crate::engine::core::url_guard::check_url;
use crate::engine::core::Variables;
use crate::engine::executor::{Executor, Lane, SendError};
use crate::storage::integrations::{
    Connection, IntegrationRepository, StoredIntegration, StoredSecret,
};
use crate::storage::templates::{StoredTemplate, TemplateRepository, TemplateStoreError};
use crate::storage::unix_now;

/// The phone number the connection test searches for when the template has no
/// GetGlobalInfo: any answer but a refusal proves the credentials.
pub const SAMPLE_PHONE: &str = "5550100";
/// The longest value a field accepts.
pub const MAX_FIELD_VALUE_CHARS: usize = 4096;
/// How much of a CRM's answer an error message quotes.
pub const QUOTED_ANSWER_CHARS: usize = 300;

pub const ACCESS_TOKEN: &str = "access_token";
pub const REFRESH_TOKEN: &str = "refresh_token";

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
    #[error("{0}")]
    Template(String),
    #[error("integration storage failed: {0}")]
    Storage(#[from] DbErr),
    #[error("template storage failed: {0}")]
    TemplateStore(#[from] TemplateStoreError),
    #[error("a stored secret cannot be read: {0}")]
    Secret(#[from] CipherError),
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
}

/// The template an integration runs: its own revision once saved, else the current one.
struct Running {
    template: StoredTemplate,
    integration: Option<StoredIntegration>,
    revision: i32,
    xml: String,
    view: TemplateView,
    auth: AuthSettings,
}

/// The owner bound into an integration's secrets: its template's id (one integration per
/// template, and known before the first save).
pub fn secret_owner(template_id: i32) -> String {
    format!("template:{template_id}")
}

fn secret_name(field: &str) -> String {
    format!("field:{field}")
}

impl IntegrationsService {
    async fn running(&self, provider: Provider, key: &str) -> Result<Running, IntegrationError> {
        let template = self
            .templates
            .get(provider, key)
            .await?
            .ok_or_else(|| IntegrationError::NotFound { key: key.into() })?;
        let integration = self.integrations.find_by_template(template.id).await?;
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
        Ok(Running {
            template,
            integration,
            revision,
            xml,
            view,
            auth,
        })
    }

    fn redirect_uri(&self, provider: Provider, key: &str) -> String {
        format!(
            "{}/integration/callback/api/{}/{key}/",
            self.public_url,
            provider.as_str()
        )
    }

    /// The provider's templates with their integrations' status, for the grid.
    pub async fn list(&self, provider: Provider) -> Result<Vec<IntegrationCard>, IntegrationError> {
        let integrations = self.integrations.by_template().await?;
        let templates = self.templates.list(provider).await?;
        Ok(templates
            .into_iter()
            .map(|t| {
                let integration = integrations.get(&t.id);
                IntegrationCard {
                    provider,
                    key: t.record.key,
                    name: t.record.name,
                    has_logo: t.record.logo.is_some(),
                    status: integration.map(|i| i.status).unwrap_or_default(),
                    last_error: integration.and_then(|i| i.last_error.clone()),
                }
            })
            .collect())
    }

    /// The settings page: fields with their non-secret values; secrets only as "set".
    pub async fn settings(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<IntegrationSettings, IntegrationError> {
        let running = self.running(provider, key).await?;
        let stored_secrets = match &running.integration {
            Some(i) => self.integrations.secrets(i.id).await?,
            None => Vec::new(),
        };
        let field = |f: &CustomField| SettingField {
            name: f.name.clone(),
            title: f.title.clone(),
            kind: match f.editor {
                FieldEditor::Text => FieldKind::Text,
                FieldEditor::Password => FieldKind::Password,
                FieldEditor::List => FieldKind::List,
            },
            options: if f.editor == FieldEditor::List {
                f.options.clone()
            } else {
                Vec::new()
            },
            value: if f.is_secret() {
                String::new()
            } else {
                running
                    .integration
                    .as_ref()
                    .and_then(|i| i.settings.get(&f.name).cloned())
                    .unwrap_or_default()
            },
            is_set: f.is_secret()
                && stored_secrets
                    .iter()
                    .any(|s| s.name == secret_name(&f.name)),
            secret: f.is_secret(),
        };
        let oauth = running.auth.method == AuthType::OAuth2;
        let is_authorization = |f: &&CustomField| {
            oauth
                && (f.name == crate::engine::core::auth::CLIENT_ID
                    || f.name == crate::engine::core::auth::CLIENT_SECRET)
        };
        let integration = running.integration.as_ref();
        Ok(IntegrationSettings {
            provider,
            key: key.to_owned(),
            name: running.template.record.name.clone(),
            auth_type: running.auth.method.as_str().to_owned(),
            status: integration.map(|i| i.status).unwrap_or_default(),
            last_error: integration.and_then(|i| i.last_error.clone()),
            last_error_at: integration.and_then(|i| i.last_error_at),
            connected_at: integration.and_then(|i| i.connected_at),
            template_revision: running.template.revision,
            running_revision: integration.map(|i| i.template_revision),
            fields: running
                .auth
                .custom_fields
                .iter()
                .filter(|f| !is_authorization(f))
                .map(field)
                .collect(),
            authorization: running
                .auth
                .custom_fields
                .iter()
                .filter(is_authorization)
                .map(field)
                .collect(),
            network: oauth.then(|| NetworkInfo {
                homepage_url: self.public_url.clone(),
                redirect_uri: self.redirect_uri(provider, key),
            }),
            global_variables: integration.map_or(0, |i| i.global_variables.len()),
        })
    }

    /// Checks the values against the template's fields: known names, list options, length.
    /// A secret left empty keeps its stored value.
    fn merge_values(
        &self,
        running: &Running,
        input: &SettingsInput,
        stored_secrets: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, IntegrationError> {
        let fields = &running.auth.custom_fields;
        let invalid = |field: &str, message: String| IntegrationError::Invalid {
            field: field.to_owned(),
            message,
        };
        for (name, _) in &input.values {
            if !fields.iter().any(|f| &f.name == name) {
                return Err(invalid(name, "the template has no such field".into()));
            }
        }
        let mut values = BTreeMap::new();
        for field in fields {
            let given = input
                .values
                .iter()
                .rev()
                .find(|(name, _)| name == &field.name)
                .map(|(_, value)| value.as_str())
                .unwrap_or_default();
            if given.chars().count() > MAX_FIELD_VALUE_CHARS {
                return Err(invalid(
                    &field.title,
                    format!("may have at most {MAX_FIELD_VALUE_CHARS} characters"),
                ));
            }
            if given.chars().any(|c| c.is_control()) {
                return Err(invalid(
                    &field.title,
                    "may not contain control characters".into(),
                ));
            }
            let value = if field.editor == FieldEditor::Text {
                given.trim().to_owned()
            } else {
                given.to_owned()
            };
            if field.editor == FieldEditor::List
                && !field.options.is_empty()
                && !value.is_empty()
                && !field.options.contains(&value)
            {
                return Err(invalid(
                    &field.title,
                    format!("must be one of {}", field.options.join(", ")),
                ));
            }
            let value = match (field.is_secret(), value.is_empty()) {
                (true, true) => stored_secrets
                    .get(&secret_name(&field.name))
                    .cloned()
                    .unwrap_or_default(),
                _ => value,
            };
            values.insert(field.name.clone(), value);
        }
        Ok(values)
    }

    async fn decrypted_secrets(
        &self,
        running: &Running,
    ) -> Result<BTreeMap<String, String>, IntegrationError> {
        let mut secrets = BTreeMap::new();
        if let Some(integration) = &running.integration {
            let owner = secret_owner(running.template.id);
            for secret in self.integrations.secrets(integration.id).await? {
                let plain = self.cipher.decrypt(
                    &secret.ciphertext,
                    SecretContext {
                        owner: &owner,
                        field: &secret.name,
                    },
                )?;
                secrets.insert(secret.name, plain.to_string());
            }
        }
        Ok(secrets)
    }

    /// Save on the settings page: check, test (Basic, Bearer, None), then store.
    pub async fn save(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
        input: &SettingsInput,
    ) -> Result<SaveOutcome, IntegrationError> {
        let running = self.running(provider, key).await?;
        let stored_secrets = self.decrypted_secrets(&running).await?;
        let values = self.merge_values(&running, input, &stored_secrets)?;
        let mut variables: Variables = values.clone();
        variables.insert("redirect_uri".into(), self.redirect_uri(provider, key));
        let user_fields: Vec<String> = running
            .auth
            .custom_fields
            .iter()
            .filter(|f| f.editor == FieldEditor::Text)
            .map(|f| f.name.clone())
            .collect();
        self.check_every_url(&running, &variables, &user_fields)?;
        let secret_values: Vec<String> = running
            .auth
            .custom_fields
            .iter()
            .filter(|f| f.is_secret())
            .filter_map(|f| values.get(&f.name).cloned())
            .collect();

        let mut tokens = Tokens::default();
        let (status, global_variables, message) = match running.auth.method {
            AuthType::OAuth2 => {
                // Tokens from an earlier authorization stay until the next one replaces them.
                tokens.access = stored_secrets.get(ACCESS_TOKEN).cloned();
                tokens.refresh = stored_secrets.get(REFRESH_TOKEN).cloned();
                let integration = running.integration.as_ref();
                tokens.token_type = integration.and_then(|i| i.token_type.clone());
                tokens.expires_at = integration.and_then(|i| i.token_expires_at);
                let status = if tokens.access.is_some() {
                    integration.map(|i| i.status).unwrap_or_default()
                } else {
                    Status::NotConnected
                };
                let globals = integration
                    .map(|i| i.global_variables.clone())
                    .unwrap_or_default();
                (
                    status,
                    globals,
                    "Settings saved. Authorize Patchbay with the CRM to connect.".to_owned(),
                )
            }
            method => {
                let mut secrets: Vec<&str> = secret_values.iter().map(String::as_str).collect();
                if method == AuthType::Bearer {
                    tokens = self.request_token(&running, &variables, &secrets).await?;
                    if let Some(access) = &tokens.access {
                        variables.insert("AccessToken".into(), access.clone());
                    }
                }
                let token_texts: Vec<String> = [&tokens.access, &tokens.refresh]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect();
                secrets.extend(token_texts.iter().map(String::as_str));
                let lane = Lane {
                    integration_id: running.template.id,
                    max_concurrent: max_concurrent(&running.view),
                };
                let globals = self
                    .test_connection(
                        &running,
                        &variables,
                        &user_fields,
                        tokens.access.as_deref(),
                        &secrets,
                        lane,
                    )
                    .await?;
                (Status::Connected, globals, "Connected.".to_owned())
            }
        };

        let owner = secret_owner(running.template.id);
        let mut secrets = Vec::new();
        let mut settings = BTreeMap::new();
        for field in &running.auth.custom_fields {
            let value = values.get(&field.name).cloned().unwrap_or_default();
            if field.is_secret() {
                if !value.is_empty() {
                    secrets.push(self.seal(&owner, &secret_name(&field.name), &value)?);
                }
            } else {
                settings.insert(field.name.clone(), value);
            }
        }
        for (name, token) in [
            (ACCESS_TOKEN, &tokens.access),
            (REFRESH_TOKEN, &tokens.refresh),
        ] {
            if let Some(token) = token {
                secrets.push(self.seal(&owner, name, token)?);
            }
        }
        self.integrations
            .save_connection(Connection {
                template_id: running.template.id,
                template_revision: running.revision,
                template_xml: running.xml.clone(),
                settings,
                global_variables,
                token_type: tokens.token_type,
                token_expires_at: tokens.expires_at,
                status,
                secrets,
            })
            .await?;
        tracing::info!(%actor, provider = provider.as_str(), %key, status = status.as_str(), "integration saved");
        Ok(SaveOutcome { status, message })
    }

    fn seal(&self, owner: &str, name: &str, value: &str) -> Result<StoredSecret, IntegrationError> {
        Ok(StoredSecret {
            name: name.to_owned(),
            ciphertext: self
                .cipher
                .encrypt(value, SecretContext { owner, field: name })?,
            key_id: self.cipher.current_key_id().to_owned(),
        })
    }

    /// Every REST request URL of the template, rendered with the values, must pass the URL
    /// rules: a value that breaks one is refused at Save, not at the first call.
    fn check_every_url(
        &self,
        running: &Running,
        variables: &Variables,
        user_fields: &[String],
    ) -> Result<(), IntegrationError> {
        for scenario in running.view.scenarios.iter().filter(|s| s.kind != "AUTH") {
            for request in &scenario.requests {
                crate::engine::core::url_guard::check_user_values_in_host(
                    &self.renderer,
                    &format!("the URL of request {}/{}", scenario.id, request.name),
                    &request.url_format,
                    variables,
                    user_fields,
                )
                .map_err(|e| IntegrationError::Invalid {
                    field: "Authentication".into(),
                    message: e.to_string(),
                })?;
            }
        }
        Ok(())
    }

    /// Bearer: asks TokenEndPoint for a token, client-credentials style.
    async fn request_token(
        &self,
        running: &Running,
        variables: &Variables,
        secrets: &[&str],
    ) -> Result<Tokens, IntegrationError> {
        let auth = &running.auth;
        let fail = |message: String| IntegrationError::TestFailed(redact(&message, secrets));
        let rendered = self
            .renderer
            .render("TokenEndPoint", &auth.token_endpoint, variables)
            .map_err(|e| fail(e.to_string()))?;
        let url = check_url("TokenEndPoint", &rendered).map_err(|e| fail(e.to_string()))?;
        let in_url = |name: &str| url.query_pairs().any(|(k, _)| k == name);
        let mut fields: Vec<(&str, String)> = Vec::new();
        if !in_url("grant_type") {
            fields.push(("grant_type", "client_credentials".into()));
        }
        for name in [
            crate::engine::core::auth::CLIENT_ID,
            crate::engine::core::auth::CLIENT_SECRET,
        ] {
            if let Some(value) = variables.get(name).filter(|v| !v.is_empty()) {
                if !in_url(name) {
                    fields.push((name, value.clone()));
                }
            }
        }
        let object: serde_json::Map<String, serde_json::Value> = fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v)))
            .collect();
        let encoding = if auth.token_body_is_json() {
            JSON_ENCODING
        } else {
            FORM_ENCODING
        };
        let body = encode_body(encoding, serde_json::Value::Object(object).to_string());
        // A literal, valid header: nothing to check.
        let headers = vec![("Accept".to_owned(), "application/json".to_owned())];
        let request = OutboundRequest {
            name: "TokenEndPoint".into(),
            method: Method::Post,
            url,
            headers,
            body,
        };
        let lane = Lane {
            integration_id: running.template.id,
            max_concurrent: max_concurrent(&running.view),
        };
        let exchange = self
            .executor
            .send(lane, &request)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let received = exchange.received;
        let answer: Option<serde_json::Value> = serde_json::from_str(&received.body).ok();
        let text = |name: &str| {
            answer.as_ref().and_then(|a| match a.get(name)? {
                serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        if !(200..300).contains(&received.status) || text("access_token").is_none() {
            let reason = match (text("error"), text("error_description")) {
                (Some(error), Some(description)) => format!("{error}: {description}"),
                (Some(error), None) => error,
                _ if answer.is_none() => describe_non_json(&received),
                _ => excerpt(&received.body, QUOTED_ANSWER_CHARS),
            };
            let message = format!(
                "the token endpoint answered HTTP {} without an access token ({reason})",
                received.status
            );
            return Err(if matches!(received.status, 400 | 401 | 403) {
                IntegrationError::CredentialsRejected(redact(&message, secrets))
            } else {
                fail(message)
            });
        }
        Ok(Tokens {
            access: text("access_token"),
            refresh: text("refresh_token"),
            token_type: text("token_type"),
            expires_at: text("expires_in")
                .and_then(|s| s.parse::<i64>().ok())
                .map(|seconds| unix_now().saturating_add(seconds)),
        })
    }

    /// Runs GetGlobalInfo (its outputs become global variables) or, without it, the first
    /// contact search; a refusal or a failure is an error that stores nothing.
    async fn test_connection(
        &self,
        running: &Running,
        variables: &Variables,
        user_fields: &[String],
        access_token: Option<&str>,
        secrets: &[&str],
        lane: Lane,
    ) -> Result<BTreeMap<String, String>, IntegrationError> {
        let mut variables = variables.clone();
        let mut globals = BTreeMap::new();
        let (scenario, requests): (&str, Vec<&RequestView>) =
            match running.view.scenario("GetGlobalInfo") {
                Some(s) if !s.requests.is_empty() => ("GetGlobalInfo", s.requests.iter().collect()),
                _ => {
                    variables.insert("Phone".into(), SAMPLE_PHONE.into());
                    (
                        "SyncContactAuto",
                        running
                            .view
                            .scenario("SyncContactAuto")
                            .and_then(|s| s.requests.first())
                            .into_iter()
                            .collect(),
                    )
                }
            };
        let mut skipped = Vec::new();
        let tested = !requests.is_empty();
        let mut sent = 0;
        for request in requests {
            let context = RequestContext {
                renderer: &self.renderer,
                auth: &running.auth,
                variables: &variables,
                user_fields,
                access_token,
            };
            let fail = |message: String| IntegrationError::TestFailed(redact(&message, secrets));
            let outbound = match context.render(scenario, request, GlobalHeaders::Apply) {
                Ok(Some(outbound)) => outbound,
                Ok(None) => {
                    skipped.push(format!("{scenario}/{}", request.name));
                    continue;
                }
                Err(e) => return Err(fail(e.to_string())),
            };
            sent += 1;
            let exchange = self
                .executor
                .send(lane, &outbound)
                .await
                .map_err(|e: SendError| fail(e.to_string()))?;
            let received = exchange.received;
            let what = format!("{scenario}/{}", request.name);
            match judge(&received, &running.auth) {
                Verdict::Success => {}
                Verdict::TokenInvalid => {
                    return Err(IntegrationError::CredentialsRejected(redact(
                        &format!(
                            "{what} was answered HTTP {}: {}",
                            received.status,
                            excerpt(&received.body, QUOTED_ANSWER_CHARS)
                        ),
                        secrets,
                    )))
                }
                Verdict::Failed { status } => {
                    return Err(fail(format!(
                        "{what} was answered HTTP {status}: {}",
                        excerpt(&received.body, QUOTED_ANSWER_CHARS)
                    )))
                }
            }
            let results =
                read_outputs(request, &received, &variables).map_err(|e| fail(e.to_string()))?;
            if scenario == "GetGlobalInfo" {
                if let Some(first) = results.into_iter().next() {
                    for (name, value) in first {
                        variables.insert(name.clone(), value.clone());
                        globals.insert(name, value);
                    }
                }
            }
        }
        if tested && sent == 0 {
            // Every test request rendered an empty URL: nothing proved the values.
            return Err(IntegrationError::TestFailed(format!(
                "nothing was sent: the URL of {} rendered empty with these values",
                skipped.join(", ")
            )));
        }
        Ok(globals)
    }

    /// Forgets the integration's secrets and tokens; the other values stay.
    pub async fn disconnect(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
    ) -> Result<(), IntegrationError> {
        let running = self.running(provider, key).await?;
        if let Some(integration) = running.integration {
            self.integrations.disconnect(integration.id).await?;
            tracing::info!(%actor, provider = provider.as_str(), %key, "integration disconnected");
        }
        Ok(())
    }

    /// Moves the integration to the template's current revision.
    pub async fn apply(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
    ) -> Result<i32, IntegrationError> {
        let running = self.running(provider, key).await?;
        let Some(integration) = running.integration else {
            return Err(IntegrationError::Invalid {
                field: "Apply".into(),
                message: format!("no integration uses the template {key}"),
            });
        };
        let template = running.template;
        self.integrations
            .apply_revision(integration.id, template.revision, &template.record.xml)
            .await?;
        tracing::info!(%actor, provider = provider.as_str(), %key, from = integration.template_revision, to = template.revision, "template applied to its integration");
        Ok(template.revision)
    }
}

#[derive(Default)]
struct Tokens {
    access: Option<String>,
    refresh: Option<String>,
    token_type: Option<String>,
    expires_at: Option<i64>,
}

fn max_concurrent(view: &TemplateView) -> usize {
    view.info.max_concurrent_request.trim().parse().unwrap_or(1)
}
