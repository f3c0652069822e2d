//! Connecting templates to CRMs (README "Connecting an integration"; docs/oauth2.md).
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

use super::scenarios::{now_ms, origin};
use crate::crypto::cipher::{CipherError, SecretCipher};
use crate::engine::core::auth::{AuthSettings, CustomField, FieldEditor};
use crate::engine::core::oauth::{
    read_token_response, revocation_request, token_request, Grant, ACCESS_TOKEN_VARIABLE,
    REDIRECT_URI_VARIABLE,
};
use crate::engine::core::redact::{excerpt, redact};
use crate::engine::core::render::Renderer;
use crate::engine::core::request::{GlobalHeaders, OutboundRequest, RequestContext, RequestError};
use crate::engine::core::response::{judge, read_outputs, Received, Verdict};
use crate::engine::core::url_guard;
use crate::engine::core::Variables;
use crate::engine::executor::{Executor, Lane};
use crate::engine::lookup::Lookup;
use crate::engine::runner::RunStats;
use crate::engine::tokens::{AuthorizedError, Credentials, TokenError, TokenKeeper};
use crate::storage::activity::ActivityRepository;
use crate::storage::integrations::{
    Connection, IntegrationRepository, StoredIntegration, StoredSecret,
};
use crate::storage::oauth_states::OAuthStateRepository;
use crate::storage::templates::{StoredTemplate, TemplateRepository, TemplateStoreError};
use crate::storage::unix_now;

/// The phone number the connection test searches for when the template has no
/// GetGlobalInfo: any answer but a refusal proves the credentials.
pub const SAMPLE_PHONE: &str = "5550100";
/// The longest value a field accepts.
pub const MAX_FIELD_VALUE_CHARS: usize = 4096;
pub use crate::engine::runner::QUOTED_ANSWER_CHARS;

use crate::storage::integrations::{
    ACCESS_TOKEN_SECRET as ACCESS_TOKEN, REFRESH_TOKEN_SECRET as REFRESH_TOKEN,
};

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
    pub crm_users: crate::storage::crm_users::CrmUserRepository,
    /// The CRM user syncs running in this process.
    pub user_syncs: Arc<super::users::UserSyncs>,
    pub extensions: crate::storage::extensions::ExtensionRepository,
    pub associations: crate::storage::associations::AssociationRepository,
}

/// The template an integration runs: its own revision once saved, else the current one.
pub(super) struct Running {
    pub(super) template: StoredTemplate,
    pub(super) integration: Option<StoredIntegration>,
    pub(super) revision: i32,
    pub(super) xml: String,
    pub(super) view: TemplateView,
    pub(super) auth: AuthSettings,
}

impl Running {
    /// The template lists CRM users (a UserAssociation scenario, not switched off): calls
    /// then run only for extensions associated with one.
    pub(super) fn lists_users(&self) -> bool {
        self.view.scenario("UserAssociation").is_some()
            && self.view.info.user_association.trim() != "0"
    }
}

pub use crate::storage::integrations::secret_owner;

fn secret_name(field: &str) -> String {
    format!("field:{field}")
}

impl IntegrationsService {
    pub(super) async fn running(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<Running, IntegrationError> {
        let template = self
            .templates
            .get(provider, key)
            .await?
            .ok_or_else(|| IntegrationError::NotFound { key: key.into() })?;
        let integration = self.integrations.find_by_template(template.id).await?;
        running_of(template, integration)
    }

    pub(super) fn redirect_uri(&self, provider: Provider, key: &str) -> String {
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
            token_issued_at: integration
                .filter(|i| running.auth.uses_tokens() && i.status != Status::NotConnected)
                .and_then(|i| i.token_refreshed_at),
            token_expires_at: integration
                .filter(|i| running.auth.uses_tokens() && i.status != Status::NotConnected)
                .and_then(|i| i.token_expires_at),
            feature_options: crate::engine::core::scenarios::feature_options(&running.view),
            features: integration.map(|i| i.features.clone()).unwrap_or_default(),
            user_association: running.lists_users(),
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
        // Secrets left empty, so kept as stored.
        let mut kept = Vec::new();
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
                (true, true) => match stored_secrets.get(&secret_name(&field.name)) {
                    Some(stored) => {
                        kept.push(field);
                        stored.clone()
                    }
                    None => String::new(),
                },
                _ => value,
            };
            values.insert(field.name.clone(), value);
        }
        if let (Some(secret), Some(changed)) = (kept.first(), changed_setting(running, &values)) {
            return Err(invalid(
                &secret.title,
                format!(
                    "\"{}\" changed, so enter this again: a stored secret is sent only with the settings it was saved with",
                    changed.title
                ),
            ));
        }
        Ok(values)
    }

    pub(super) async fn decrypted_secrets(
        &self,
        running: &Running,
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

    /// Save on the settings page. Basic, Bearer and None: check the values, test them
    /// against the CRM, then store. OAuth 2.0: check them, then start an authorization;
    /// nothing is stored until its callback succeeds (`integrations::oauth`).
    pub async fn save(
        &self,
        actor: &str,
        session_secret: &str,
        provider: Provider,
        key: &str,
        input: &SettingsInput,
    ) -> Result<SaveOutcome, IntegrationError> {
        let running = self.running(provider, key).await?;
        let stored_secrets = self.decrypted_secrets(&running).await?;
        let values = self.merge_values(&running, input, &stored_secrets)?;
        let variables = self.variables(provider, key, &values);
        let user_fields = running.auth.user_fields();
        self.check_every_url(&running, &variables, &user_fields)?;
        if running.auth.method == AuthType::OAuth2 {
            let url = self
                .start_authorization(actor, session_secret, &running, provider, key, &values)
                .await?;
            tracing::info!(%actor, provider = provider.as_str(), %key, "OAuth authorization started");
            return Ok(SaveOutcome {
                status: running
                    .integration
                    .as_ref()
                    .map(|i| i.status)
                    .unwrap_or_default(),
                message: "Continue at the CRM to authorize Patchbay.".into(),
                authorize_url: Some(url),
            });
        }

        let mut secrets = secret_values(&running.auth, &values);
        let mut tokens = Tokens::default();
        if running.auth.method == AuthType::Bearer {
            tokens = self
                .obtain_tokens(&running, &variables, &Grant::ClientCredentials, &secrets)
                .await?;
            secrets.extend(tokens.texts());
        }
        self.prove_and_store(&running, &values, variables, tokens, &secrets)
            .await?;
        tracing::info!(%actor, provider = provider.as_str(), %key, "integration connected");
        Ok(SaveOutcome {
            status: Status::Connected,
            message: "Connected.".to_owned(),
            authorize_url: None,
        })
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

    /// Tests the values with the tokens just issued (if any), then stores them: what Save
    /// and the OAuth callback end with. A failed test stores nothing.
    pub(super) async fn prove_and_store(
        &self,
        running: &Running,
        values: &BTreeMap<String, String>,
        mut variables: Variables,
        tokens: Tokens,
        secrets: &[String],
    ) -> Result<(), IntegrationError> {
        if let Some(access) = &tokens.access {
            variables.insert(ACCESS_TOKEN_VARIABLE.into(), access.clone());
        }
        let globals = self
            .test_connection(
                running,
                &variables,
                TokenSource::Fixed(tokens.access.as_deref()),
                secrets,
            )
            .await?;
        self.store_connection(running, values, tokens, globals)
            .await
    }

    /// Stores a proven connection: the fields (secrets sealed), the tokens, the global
    /// variables, status Connected.
    async fn store_connection(
        &self,
        running: &Running,
        values: &BTreeMap<String, String>,
        tokens: Tokens,
        global_variables: BTreeMap<String, String>,
    ) -> Result<(), IntegrationError> {
        let owner = secret_owner(running.template.id);
        let mut secrets = Vec::new();
        let mut settings = BTreeMap::new();
        for field in &running.auth.custom_fields {
            let value = values.get(&field.name).cloned().unwrap_or_default();
            if field.is_secret() {
                if !value.is_empty() {
                    secrets.push(StoredSecret::seal(
                        &self.cipher,
                        &owner,
                        &secret_name(&field.name),
                        &value,
                    )?);
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
                secrets.push(StoredSecret::seal(&self.cipher, &owner, name, token)?);
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
                status: Status::Connected,
                secrets,
            })
            .await?;
        Ok(())
    }

    /// Every REST request URL of the template, rendered with the values, must pass the URL
    /// rules: a value that breaks one is refused at Save, not at the first call.
    fn check_every_url(
        &self,
        running: &Running,
        variables: &Variables,
        user_fields: &[String],
    ) -> Result<(), IntegrationError> {
        let auth = &running.auth;
        let endpoints = [
            ("AuthEndPoint", &auth.auth_endpoint),
            ("TokenEndPoint", &auth.token_endpoint),
            ("TokenRefreshEndPoint", &auth.refresh_endpoint),
            ("TokenRevokeEndPoint", &auth.revoke_endpoint),
        ]
        .into_iter()
        .map(|(what, url)| (what.to_owned(), url));
        let requests = running
            .view
            .scenarios
            .iter()
            .filter(|s| s.kind != "AUTH")
            .flat_map(|scenario| {
                scenario.requests.iter().map(move |request| {
                    (
                        format!("the URL of request {}/{}", scenario.id, request.name),
                        &request.url_format,
                    )
                })
            });
        let refuse = |e: url_guard::UrlError| IntegrationError::Invalid {
            field: "Authentication".into(),
            message: e.to_string(),
        };
        for (what, url) in endpoints.chain(requests) {
            url_guard::check_user_values_in_host(
                &self.renderer,
                &what,
                url,
                variables,
                user_fields,
            )
            .map_err(refuse)?;
            if let Ok(rendered) = self.renderer.render(&what, url, variables) {
                url_guard::check_host_text(&what, &rendered).map_err(refuse)?;
            }
        }
        Ok(())
    }

    /// Asks the token endpoint for tokens (Bearer's client credentials, OAuth's code
    /// exchange). A refusal (the client or the grant) is `CredentialsRejected`; an outage,
    /// an HTML page, an answer without `access_token` is `TokenFailed`.
    pub(super) async fn obtain_tokens(
        &self,
        running: &Running,
        variables: &Variables,
        grant: &Grant<'_>,
        secrets: &[String],
    ) -> Result<Tokens, IntegrationError> {
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let fail = |message: String| IntegrationError::TokenFailed(redact(&message, &secrets));
        let request = token_request(&self.renderer, &running.auth, variables, grant)
            .map_err(|e| fail(e.to_string()))?;
        let exchange = self
            .executor
            .send(lane(running), &request)
            .await
            .map_err(|e| fail(e.to_string()))?;
        match read_token_response(&exchange.received) {
            Ok(grant) => Ok(Tokens {
                access: Some(grant.access_token),
                refresh: grant.refresh_token,
                token_type: grant.token_type,
                expires_at: grant
                    .expires_in
                    .map(|seconds| unix_now().saturating_add(seconds)),
            }),
            Err(refusal) if refusal.is_refusal() => Err(IntegrationError::CredentialsRejected(
                redact(&refusal.to_string(), &secrets),
            )),
            Err(refusal) => Err(fail(refusal.to_string())),
        }
    }

    /// Sends one request with a token given (a connection not stored yet) or with the
    /// stored one kept fresh by the token keeper.
    async fn send_with(
        &self,
        source: &TokenSource<'_>,
        lane: Lane,
        render: impl Fn(Option<&str>) -> Result<Option<OutboundRequest>, RequestError>,
    ) -> Result<Option<(OutboundRequest, Received)>, AuthorizedError> {
        match source {
            TokenSource::Fixed(token) => {
                let Some(request) = render(*token)? else {
                    return Ok(None);
                };
                let exchange = self.executor.send(lane, &request).await?;
                Ok(Some((request, exchange.received)))
            }
            TokenSource::Stored(credentials) => Ok(self
                .tokens
                .send(credentials, render)
                .await?
                .map(|sent| (sent.request, sent.exchange.received))),
        }
    }

    /// Runs GetGlobalInfo (its outputs become global variables) or, without it, the first
    /// contact search; a refusal or a failure is an error that stores nothing.
    async fn test_connection(
        &self,
        running: &Running,
        variables: &Variables,
        source: TokenSource<'_>,
        secrets: &[String],
    ) -> Result<BTreeMap<String, String>, IntegrationError> {
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let user_fields = running.auth.user_fields();
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
        let fail = |message: String| IntegrationError::TestFailed(redact(&message, &secrets));
        for request in requests {
            let what = format!("{scenario}/{}", request.name);
            let render = |access_token: Option<&str>| {
                RequestContext {
                    renderer: &self.renderer,
                    auth: &running.auth,
                    variables: &variables,
                    user_fields: &user_fields,
                    access_token,
                }
                .render(scenario, request, GlobalHeaders::Apply)
            };
            let received = match self.send_with(&source, lane(running), render).await {
                Ok(Some((_, received))) => received,
                Ok(None) => {
                    skipped.push(what);
                    continue;
                }
                Err(AuthorizedError::Token(TokenError::Invalid(reason))) => {
                    return Err(IntegrationError::CredentialsRejected(redact(
                        &reason, &secrets,
                    )))
                }
                Err(error) => return Err(fail(error.to_string())),
            };
            sent += 1;
            match judge(&received, &running.auth) {
                Verdict::Success => {}
                Verdict::TokenInvalid => {
                    return Err(IntegrationError::CredentialsRejected(redact(
                        &format!(
                            "{what} was answered HTTP {}: {}",
                            received.status,
                            excerpt(&received.body, QUOTED_ANSWER_CHARS)
                        ),
                        &secrets,
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

    /// A stored connection ready to send requests with its tokens kept fresh.
    pub(super) fn credentials(
        &self,
        running: &Running,
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

    /// Check connection: the test request again with the stored values and tokens (a due
    /// or refused token is refreshed on the way); GetGlobalInfo's outputs are stored anew.
    pub async fn check(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
    ) -> Result<String, IntegrationError> {
        let connected = self.connected(provider, key, "Check connection").await?;
        let (running, integration) = (&connected.running, &connected.integration);
        let outcome = self
            .test_connection(
                running,
                &connected.variables,
                TokenSource::Stored(&connected.credentials),
                &connected.secrets,
            )
            .await;
        match outcome {
            Ok(globals) => {
                if !globals.is_empty() {
                    self.integrations
                        .set_global_variables(integration.id, &globals)
                        .await?;
                }
                tracing::info!(%actor, provider = provider.as_str(), %key, "connection checked");
                Ok("Connected: the CRM answered the test request.".into())
            }
            Err(error) => {
                let (status, advice) = match (&error, running.auth.uses_tokens()) {
                    (IntegrationError::CredentialsRejected(_), true) => {
                        (Some(Status::TokenInvalid), " Reconnect to authorize again.")
                    }
                    (IntegrationError::CredentialsRejected(_), false) => (Some(Status::Error), ""),
                    _ => (None, ""),
                };
                self.integrations
                    .record_error(integration.id, status, &format!("{error}{advice}"))
                    .await?;
                Err(error)
            }
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
    pub(super) async fn live(&self) -> Result<Vec<Live>, IntegrationError> {
        let mut integrations = self.integrations.by_template().await?;
        let mut live = Vec::new();
        for provider in [Provider::Crm, Provider::Helpdesk] {
            for template in self.templates.list(provider).await? {
                let Some(integration) = integrations
                    .remove(&template.id)
                    .filter(|i| i.status == Status::Connected)
                else {
                    continue;
                };
                let key = template.record.key.clone();
                let running = running_of(template, Some(integration.clone()))?;
                live.push(Live {
                    provider,
                    key,
                    running,
                    integration,
                });
            }
        }
        Ok(live)
    }

    /// The integration `id` when it is connected, ready to prepare: its own rows only (a
    /// queued call step must not read and parse every template).
    pub(super) async fn live_one(&self, id: i32) -> Result<Option<Live>, IntegrationError> {
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
        let running = running_of(template, Some(integration.clone()))?;
        Ok(Some(Live {
            provider,
            key,
            running,
            integration,
        }))
    }

    /// Looks `phone` up in every connected integration, CRM templates first, each in its
    /// template order; the first that finds a contact answers. Failures of the others
    /// are reported (secrets masked) when none found one.
    pub async fn lookup(
        &self,
        phone: &str,
        extension: Option<&str>,
    ) -> Result<LookupAnswer, IntegrationError> {
        let mut failures = Vec::new();
        let mut skipped = Vec::new();
        for live in self.live().await? {
            let connected = self.prepare(live).await?;
            let mut variables = connected.variables.clone();
            let mut extension_user = None;
            if let Some(number) = extension {
                match self
                    .extension_user(connected.integration.id, number)
                    .await?
                {
                    Some(user) => {
                        crate::engine::core::call::extension_variables(&user, &mut variables);
                        extension_user = Some(user);
                    }
                    None if connected.running.lists_users() => {
                        skipped.push(format!(
                            "{}: extension {number} is not associated with a CRM user",
                            connected.name()
                        ));
                        continue;
                    }
                    None => crate::engine::core::call::extension_variables(
                        &app::calls::ExtensionUser {
                            number: number.to_owned(),
                            ..Default::default()
                        },
                        &mut variables,
                    ),
                }
            }
            let stats = RunStats::default();
            let runner = self.runner(&connected).counted(&stats);
            let started = (now_ms(), std::time::Instant::now());
            let selected = &connected.integration.features.contacts.contact_types;
            let result = runner.lookup(&variables, phone, selected).await;
            let error = result
                .as_ref()
                .err()
                .map(|e| connected.mask(&e.to_string()));
            self.record_activity(
                &connected,
                "SyncContactAuto",
                origin::LOOKUP,
                started,
                &stats,
                error.as_deref(),
            )
            .await;
            match result {
                Ok(Some(found)) => {
                    return Ok(LookupAnswer {
                        found: Some(Answered {
                            provider: connected.provider,
                            name: connected.name().to_owned(),
                            key: connected.key,
                            lookup: found,
                            extension_user,
                        }),
                        failures,
                        skipped,
                    })
                }
                Ok(None) => {}
                Err(_) => {
                    let message = error.unwrap_or_default();
                    tracing::warn!(provider = connected.provider.as_str(), key = %connected.key, error = %message, "contact lookup failed");
                    failures.push(format!("{}: {message}", connected.name()));
                }
            }
        }
        Ok(LookupAnswer {
            found: None,
            failures,
            skipped,
        })
    }

    /// Every connected OAuth 2.0 or Bearer integration whose token is due gets a fresh one
    /// (TokenRefreshTime, or a known expiry near). Answers how many were looked at.
    pub async fn refresh_due_tokens(&self) -> Result<usize, IntegrationError> {
        let mut looked_at = 0;
        for live in self.live().await? {
            if !live.running.auth.uses_tokens() {
                continue;
            }
            looked_at += 1;
            let connected = self.prepare(live).await?;
            if let Err(error) = self.tokens.current(&connected.credentials).await {
                tracing::warn!(provider = connected.provider.as_str(), key = %connected.key, %error, "scheduled token refresh failed");
            }
        }
        Ok(looked_at)
    }

    /// Forgets the integration's secrets and tokens; the other values stay. When the
    /// template names a TokenRevokeEndPoint, the CRM is asked to revoke the token first,
    /// and the answer says what it replied (the tokens are removed here either way).
    pub async fn disconnect(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
    ) -> Result<String, IntegrationError> {
        let running = self.running(provider, key).await?;
        let mut message = "Disconnected. Stored secrets and tokens were removed.".to_owned();
        if let Some(integration) = &running.integration {
            if let Some(report) = self.revoke(&running, integration, provider, key).await? {
                message = format!("{message} {report}");
            }
            self.integrations.disconnect(integration.id).await?;
            tracing::info!(%actor, provider = provider.as_str(), %key, "integration disconnected");
        }
        Ok(message)
    }

    /// RFC 7009: revokes the refresh token (or, without one, the access token).
    async fn revoke(
        &self,
        running: &Running,
        integration: &StoredIntegration,
        provider: Provider,
        key: &str,
    ) -> Result<Option<String>, IntegrationError> {
        let stored = self.decrypted_secrets(running).await?;
        let token = stored
            .get(REFRESH_TOKEN)
            .map(|t| (t, "refresh_token"))
            .or_else(|| stored.get(ACCESS_TOKEN).map(|t| (t, "access_token")));
        let Some((token, hint)) = token else {
            return Ok(None);
        };
        let credentials = self.credentials(running, integration, &stored, provider, key);
        let secrets: Vec<&str> = stored.values().map(String::as_str).collect();
        let request = match revocation_request(
            &self.renderer,
            &running.auth,
            &credentials.variables,
            token,
            hint,
        ) {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(None),
            Err(error) => {
                return Ok(Some(format!(
                    "The token was not revoked at the CRM: {}",
                    redact(&error.to_string(), &secrets)
                )))
            }
        };
        Ok(Some(
            match self.executor.send(lane(running), &request).await {
                Ok(exchange) if (200..300).contains(&exchange.received.status) => {
                    "The CRM revoked the token.".to_owned()
                }
                Ok(exchange) => format!(
                    "The CRM's revocation endpoint answered HTTP {}: {}",
                    exchange.received.status,
                    redact(
                        &excerpt(&exchange.received.body, QUOTED_ANSWER_CHARS),
                        &secrets
                    )
                ),
                Err(error) => format!(
                    "The token was not revoked at the CRM: {}",
                    redact(&error.to_string(), &secrets)
                ),
            },
        ))
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

/// The template an integration runs, read from its stored revision (or the template's
/// current one when nothing is stored yet).
pub(super) fn running_of(
    template: StoredTemplate,
    integration: Option<StoredIntegration>,
) -> Result<Running, IntegrationError> {
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
    Ok(Running {
        template,
        integration,
        revision,
        xml,
        view,
        auth,
    })
}

/// Tokens a token endpoint issued.
#[derive(Default)]
pub(super) struct Tokens {
    pub(super) access: Option<String>,
    pub(super) refresh: Option<String>,
    pub(super) token_type: Option<String>,
    pub(super) expires_at: Option<i64>,
}

impl Tokens {
    pub(super) fn texts(&self) -> impl Iterator<Item = String> + '_ {
        [&self.access, &self.refresh].into_iter().flatten().cloned()
    }
}

/// A connected integration with the template it runs.
pub(super) struct Live {
    pub(super) provider: Provider,
    pub(super) key: String,
    pub(super) running: Running,
    pub(super) integration: StoredIntegration,
}

/// A contact lookup across the integrations.
#[derive(Debug)]
pub struct LookupAnswer {
    pub found: Option<Answered>,
    /// Integrations that failed to answer, with why.
    pub failures: Vec<String>,
    /// Integrations not asked, with why (the extension has no CRM user there).
    pub skipped: Vec<String>,
}

/// The integration that found the contact, and what it found.
#[derive(Debug)]
pub struct Answered {
    pub provider: Provider,
    pub key: String,
    pub name: String,
    pub lookup: Lookup,
    /// The extension the lookup was for, with its CRM user there.
    pub extension_user: Option<app::calls::ExtensionUser>,
}

/// Which token a test request is sent with.
enum TokenSource<'a> {
    /// A connection not stored yet: this token (or none).
    Fixed(Option<&'a str>),
    /// A stored connection: its token, refreshed when due or refused.
    Stored(&'a Credentials),
}

pub(super) fn max_concurrent(view: &TemplateView) -> usize {
    view.info.max_concurrent_request.trim().parse().unwrap_or(1)
}

fn lane(running: &Running) -> Lane {
    Lane {
        integration_id: running.template.id,
        max_concurrent: max_concurrent(&running.view),
    }
}

/// The first non-secret field whose value differs from what the integration was saved
/// with. A stored secret is bound to those values: they decide where it is sent.
fn changed_setting<'a>(
    running: &'a Running,
    values: &BTreeMap<String, String>,
) -> Option<&'a CustomField> {
    let stored = &running.integration.as_ref()?.settings;
    running
        .auth
        .custom_fields
        .iter()
        .filter(|f| !f.is_secret())
        .find(|f| {
            values.get(&f.name).map(String::as_str).unwrap_or_default()
                != stored.get(&f.name).map(String::as_str).unwrap_or_default()
        })
}

/// The values of the secret fields, masked in every message.
pub(super) fn secret_values(auth: &AuthSettings, values: &BTreeMap<String, String>) -> Vec<String> {
    auth.custom_fields
        .iter()
        .filter(|f| f.is_secret())
        .filter_map(|f| values.get(&f.name).cloned())
        .collect()
}
