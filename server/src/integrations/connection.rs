//! Connecting a template to a CRM: the settings page, Save (the values checked, proved by
//! the connection test in `connection_test`, then stored) (README "Connecting an
//! integration"). Apply and rollback are `revisions`'.

use std::collections::BTreeMap;

use app::integrations::{
    FieldKind, IntegrationCard, IntegrationSettings, NetworkInfo, SaveOutcome, SettingField,
    SettingsInput, Status,
};
use app::template::model::{AuthType, Provider};

use super::service::{
    secret_name, secret_values, IntegrationError, IntegrationsService, TemplateInUse,
};
use super::tokens::Tokens;
use crate::engine::core::auth::{CustomField, FieldEditor};
use crate::engine::core::oauth::Grant;
use crate::engine::core::url_guard;
use crate::engine::core::Variables;
/// The longest value a field accepts.
pub const MAX_FIELD_VALUE_CHARS: usize = 4096;

/// The first non-secret field whose value differs from what the integration was saved
/// with. A stored secret is bound to those values: they decide where it is sent.
fn changed_setting<'a>(
    running: &'a TemplateInUse,
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

impl IntegrationsService {
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
        let running = self.template_in_use(provider, key).await?;
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
            previous_revision: integration.and_then(|i| i.previous_template_revision),
            owner: integration.and_then(|i| i.owner.clone()),
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
        let running = self.template_in_use(provider, key).await?;
        let stored_secrets = self.decrypted_secrets(&running).await?;
        let values = merge_values(&running, input, &stored_secrets)?;
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
        self.prove_and_store(&running, &values, variables, tokens, &secrets, actor)
            .await?;
        tracing::info!(%actor, provider = provider.as_str(), %key, "integration connected");
        Ok(SaveOutcome {
            status: Status::Connected,
            message: "Connected.".to_owned(),
            authorize_url: None,
        })
    }

    /// Every REST request URL of the template, rendered with the values, must pass the URL
    /// rules: a value that breaks one is refused at Save, not at the first call.
    fn check_every_url(
        &self,
        running: &TemplateInUse,
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
}

/// Checks the values against the template's fields: known names, list options, length.
/// A secret left empty keeps its stored value.
fn merge_values(
    running: &TemplateInUse,
    input: &SettingsInput,
    stored_secrets: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, IntegrationError> {
    let fields = &running.auth.custom_fields;
    for (name, _) in &input.values {
        if !fields.iter().any(|f| &f.name == name) {
            return Err(IntegrationError::invalid(
                name,
                "the template has no such field",
            ));
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
            return Err(IntegrationError::invalid(
                &field.title,
                format!("may have at most {MAX_FIELD_VALUE_CHARS} characters"),
            ));
        }
        if given.chars().any(|c| c.is_control()) {
            return Err(IntegrationError::invalid(
                &field.title,
                "may not contain control characters",
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
            return Err(IntegrationError::invalid(
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
        return Err(IntegrationError::invalid(
            &secret.title,
            format!(
                "\"{}\" changed, so enter this again: a stored secret is sent only with the settings it was saved with",
                changed.title
            ),
        ));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::service::template_in_use_of;
    use crate::storage::integrations::StoredIntegration;
    use crate::storage::templates::{StoredTemplate, TemplateRecord};

    const TEMPLATE: &str = r#"<Information Provider="crm" Name="T" Key="t" AuthType="basic">
  <Scenarios>
    <Scenario Id="AuthMethod" Type="AUTH"><Parameters>
      <Parameter Name="AuthMethod" Value="basic"/>
      <Parameter Name="Base64EncodedCredential" Value="{{.user}}:{{.password}}"/>
      <Parameter Father="CustomFieldList" Name="host" Editor="string" Title="Host"/>
      <Parameter Father="CustomFieldList" Name="user" Editor="string" Title="User"/>
      <Parameter Father="CustomFieldList" Name="password" Editor="password" Title="Password"/>
      <Parameter Father="CustomFieldList" Name="region" Editor="list" Title="Region" Value="eu,us"/>
    </Parameters></Scenario>
  </Scenarios>
</Information>"#;

    /// The template, saved earlier with `settings` when given.
    fn in_use(settings: Option<&[(&str, &str)]>) -> TemplateInUse {
        let template = StoredTemplate {
            id: 7,
            record: TemplateRecord {
                provider: Provider::Crm,
                key: "t".into(),
                name: "T".into(),
                remark: String::new(),
                version: String::new(),
                xml: TEMPLATE.into(),
                logo: None,
                warnings: Vec::new(),
            },
            created_at: 0,
            updated_at: 0,
            revision: 1,
        };
        let integration = settings.map(|settings| StoredIntegration {
            id: 3,
            template_id: 7,
            template_revision: 1,
            template_xml: TEMPLATE.into(),
            previous_template_revision: None,
            owner: None,
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            global_variables: BTreeMap::new(),
            features: Default::default(),
            token_type: None,
            token_expires_at: None,
            status: Status::Connected,
            last_error: None,
            last_error_at: None,
            connected_at: Some(1),
            token_refreshed_at: None,
            token_generation: 0,
        });
        template_in_use_of(template, integration).unwrap()
    }

    fn input(values: &[(&str, &str)]) -> SettingsInput {
        SettingsInput {
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn stored_password() -> BTreeMap<String, String> {
        BTreeMap::from([(secret_name("password"), "stored-pass".to_owned())])
    }

    fn refusal(result: Result<BTreeMap<String, String>, IntegrationError>) -> (String, String) {
        match result {
            Err(IntegrationError::Invalid { field, message }) => (field, message),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn text_is_trimmed_and_an_empty_secret_keeps_the_stored_one() {
        let template = in_use(Some(&[
            ("host", "crm.example"),
            ("user", "ann"),
            ("region", "eu"),
        ]));
        let values = merge_values(
            &template,
            &input(&[
                ("host", " crm.example "),
                ("user", "ann"),
                ("region", "eu"),
                ("password", ""),
            ]),
            &stored_password(),
        )
        .unwrap();
        assert_eq!(values["host"], "crm.example");
        assert_eq!(values["password"], "stored-pass");
    }

    #[test]
    fn a_kept_secret_is_refused_when_a_setting_it_was_saved_with_changed() {
        let template = in_use(Some(&[
            ("host", "crm.example"),
            ("user", "ann"),
            ("region", "eu"),
        ]));
        let (field, message) = refusal(merge_values(
            &template,
            &input(&[
                ("host", "elsewhere.example"),
                ("user", "ann"),
                ("region", "eu"),
            ]),
            &stored_password(),
        ));
        assert_eq!(field, "Password");
        assert!(
            message.starts_with("\"Host\" changed, so enter this again"),
            "{message}"
        );
        // Typed again, the secret goes with the new host.
        let values = merge_values(
            &template,
            &input(&[
                ("host", "elsewhere.example"),
                ("user", "ann"),
                ("region", "eu"),
                ("password", "new"),
            ]),
            &stored_password(),
        )
        .unwrap();
        assert_eq!(values["password"], "new");
    }

    #[test]
    fn unknown_fields_list_values_control_characters_and_long_values_are_refused() {
        let template = in_use(None);
        let none = BTreeMap::new();
        let (field, _) = refusal(merge_values(&template, &input(&[("other", "x")]), &none));
        assert_eq!(field, "other");
        let (field, message) = refusal(merge_values(
            &template,
            &input(&[("region", "asia")]),
            &none,
        ));
        assert_eq!(
            (field.as_str(), message.as_str()),
            ("Region", "must be one of eu, us")
        );
        let (field, _) = refusal(merge_values(
            &template,
            &input(&[("user", "a\u{7}b")]),
            &none,
        ));
        assert_eq!(field, "User");
        let long = "x".repeat(MAX_FIELD_VALUE_CHARS + 1);
        let (field, _) = refusal(merge_values(&template, &input(&[("host", &long)]), &none));
        assert_eq!(field, "Host");
        assert!(merge_values(&template, &input(&[("host", &long[1..])]), &none).is_ok());
    }

    #[test]
    fn without_a_stored_integration_nothing_counts_as_changed() {
        let template = in_use(None);
        let values = BTreeMap::from([("host".to_owned(), "crm.example".to_owned())]);
        assert!(changed_setting(&template, &values).is_none());
        let saved = in_use(Some(&[("host", "crm.example")]));
        assert!(changed_setting(&saved, &values).is_none());
        let moved = BTreeMap::from([("host".to_owned(), "other.example".to_owned())]);
        assert_eq!(
            changed_setting(&saved, &moved).map(|f| f.name.as_str()),
            Some("host")
        );
    }
}
