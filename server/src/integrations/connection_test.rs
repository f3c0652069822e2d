//! The connection test (Save, the OAuth callback, Check connection): GetGlobalInfo when the
//! template has it (with its follow-ups), else a contact lookup of the Features' test number
//! (`ContactFeatures::test_number`), sent through the
//! engine's [`Runner`] like every other request (the token keeper, the outbound policy, the
//! judge) and written to Activity once there is an integration to file it under. A refused
//! or failed test stores nothing, so working credentials survive a typo.

use std::collections::BTreeMap;

use app::integrations::Status;
use app::template::model::Provider;

use super::activity::{origin, run_started, Run};
use super::service::{
    lane, secret_name, secret_owner, IntegrationError, IntegrationsService, TemplateInUse,
};
use super::tokens::Tokens;
use crate::engine::core::oauth::ACCESS_TOKEN_VARIABLE;
use crate::engine::core::redact::redact;
use crate::engine::core::Variables;
use crate::engine::lookup::LookupPlan;
use crate::engine::runner::{RunStats, Runner, StepError};
use crate::engine::tokens::{AuthorizedError, Credentials, TokenError};
use crate::storage::integrations::{
    Connection, StoredSecret, ACCESS_TOKEN_SECRET as ACCESS_TOKEN,
    REFRESH_TOKEN_SECRET as REFRESH_TOKEN,
};

/// Every test request rendered an empty URL: nothing proved the values.
fn nothing_sent(skipped: &[String]) -> IntegrationError {
    IntegrationError::TestFailed(format!(
        "nothing was sent: the URL of {} rendered empty with these values",
        skipped.join(", ")
    ))
}

/// What a connection test sends with and how its result is filed.
struct TestRun<'a> {
    template: &'a TemplateInUse,
    credentials: &'a Credentials,
    variables: &'a Variables,
    /// Every secret value in play, masked in every message.
    secrets: &'a [String],
}

impl IntegrationsService {
    /// Tests the values with the tokens just issued (if any), then stores them: what Save
    /// and the OAuth callback end with. A failed test stores nothing.
    pub(super) async fn prove_and_store(
        &self,
        template: &TemplateInUse,
        values: &BTreeMap<String, String>,
        mut variables: Variables,
        tokens: Tokens,
        secrets: &[String],
        actor: &str,
    ) -> Result<(), IntegrationError> {
        if let Some(access) = &tokens.access {
            variables.insert(ACCESS_TOKEN_VARIABLE.into(), access.clone());
        }
        // The test requests may already need them (Salesforce's instance_url).
        variables.extend(tokens.answer_values.clone());
        let credentials = Credentials::not_stored(
            template.template.id,
            template.auth.clone(),
            variables.clone(),
            lane(template),
            tokens.access.clone(),
        );
        let stats = RunStats::default();
        let started = run_started();
        let run = TestRun {
            template,
            credentials: &credentials,
            variables: &variables,
            secrets,
        };
        let (scenario, tested) = self.test_connection(&run, &stats).await;
        let (integration_id, outcome) = match tested {
            Ok(read) => {
                let mut globals = tokens.answer_values.clone();
                globals.extend(read);
                let stored = self
                    .store_connection(template, values, tokens, globals)
                    .await?;
                // Whoever connects it first owns it (README "Notifications").
                self.integrations.set_owner(stored, actor, true).await?;
                (Some(stored), Ok(()))
            }
            Err(error) => (template.integration.as_ref().map(|i| i.id), Err(error)),
        };
        if let Some(integration_id) = integration_id {
            self.record_run(Run {
                integration_id,
                scenario,
                origin: origin::SAVE,
                started,
                stats: &stats,
                masked_error: outcome.as_ref().err().map(ToString::to_string),
            })
            .await;
        }
        outcome
    }

    /// Stores a proven connection: the fields (secrets sealed), the tokens, the global
    /// variables, status Connected. Answers the integration's id.
    async fn store_connection(
        &self,
        template: &TemplateInUse,
        values: &BTreeMap<String, String>,
        tokens: Tokens,
        global_variables: BTreeMap<String, String>,
    ) -> Result<i32, IntegrationError> {
        let owner = secret_owner(template.template.id);
        let mut secrets = Vec::new();
        let mut settings = BTreeMap::new();
        for field in &template.auth.custom_fields {
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
        let stored = self
            .integrations
            .save_connection(Connection {
                template_id: template.template.id,
                template_revision: template.revision,
                template_xml: template.xml.clone(),
                settings,
                global_variables,
                token_type: tokens.token_type,
                token_expires_at: tokens.expires_at,
                status: Status::Connected,
                secrets,
            })
            .await?;
        Ok(stored.id)
    }

    /// Runs GetGlobalInfo (its outputs become global variables) or, without it, the first
    /// contact search. Answers the scenario it ran, with the globals it read or why the
    /// values are not proved (secrets masked).
    async fn test_connection(
        &self,
        run: &TestRun<'_>,
        stats: &RunStats,
    ) -> (
        &'static str,
        Result<BTreeMap<String, String>, IntegrationError>,
    ) {
        let template = run.template;
        let user_fields = template.auth.user_fields();
        let runner = Runner::new(
            &self.tokens,
            &self.renderer,
            run.credentials,
            &template.view,
            &user_fields,
        )
        .counted(stats);
        let has_global_info = template
            .view
            .scenario("GetGlobalInfo")
            .is_some_and(|s| !s.requests.is_empty());
        let mask = |error: &StepError| {
            let secrets: Vec<&str> = run.secrets.iter().map(String::as_str).collect();
            test_error(error, &|m| redact(m, &secrets))
        };
        if has_global_info {
            // GetGlobalInfo with its follow-ups, as at start-up: a session a follow-up opens
            // is part of what the connection needs.
            let outcome = match runner.global_info(run.variables).await {
                Ok(outcome) => outcome,
                Err(error) => return ("GetGlobalInfo", Err(mask(&error))),
            };
            if stats.requests() == 0 {
                return ("GetGlobalInfo", Err(nothing_sent(&outcome.skipped)));
            }
            return ("GetGlobalInfo", Ok(outcome.globals));
        }
        // No GetGlobalInfo: a contact search, judged as the lookup judges it (a 404 is "no
        // such contact", which proves the credentials as well as a match does).
        let features = template
            .integration
            .as_ref()
            .map(|i| i.features.contacts.clone())
            .unwrap_or_default();
        let number = features.test_number();
        // A template that neither reads globals nor searches contacts has nothing to test.
        let has_search = template
            .view
            .scenario("SyncContactAuto")
            .is_some_and(|s| !s.requests.is_empty());
        let mut variables = run.variables.clone();
        crate::engine::core::call::asked_number_variables(number, &mut variables);
        match runner
            .lookup(&variables, &LookupPlan::new(&features, number))
            .await
        {
            Ok(_) if stats.requests() == 0 && has_search => (
                "SyncContactAuto",
                Err(nothing_sent(&[format!(
                    "every contact search (Phone = {number})"
                )])),
            ),
            Ok(_) => ("SyncContactAuto", Ok(BTreeMap::new())),
            Err(error) => ("SyncContactAuto", Err(mask(&error))),
        }
    }

    /// Check connection: the test request again with the stored values and tokens (a due
    /// or refused token is refreshed on the way); GetGlobalInfo's outputs are merged into the stored ones.
    pub async fn check(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
    ) -> Result<String, IntegrationError> {
        let ready = self
            .ready_integration(provider, key, "Check connection")
            .await?;
        let (template, integration) = (&ready.in_use, &ready.integration);
        let stats = RunStats::default();
        let started = run_started();
        let run = TestRun {
            template,
            credentials: &ready.credentials,
            variables: &ready.variables,
            secrets: &ready.secrets,
        };
        let (scenario, tested) = self.test_connection(&run, &stats).await;
        self.record_run(Run {
            integration_id: integration.id,
            scenario,
            origin: origin::CHECK,
            started,
            stats: &stats,
            masked_error: tested.as_ref().err().map(ToString::to_string),
        })
        .await;
        match tested {
            Ok(globals) => {
                // Merged into what is stored: a value only a TokenRefresh follow-up reads
                // stays until that follow-up runs again.
                self.store_globals(&ready, &globals).await?;
                tracing::info!(%actor, provider = provider.as_str(), %key, "connection checked");
                Ok("Connected: the CRM answered the test request.".into())
            }
            Err(error) => {
                let (status, advice) = match (&error, template.auth.uses_tokens()) {
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
}

/// Why a test request did not prove the values: a refusal (of the credentials, the token,
/// the grant) is `CredentialsRejected`; anything else (the network, another status, a
/// template error) is `TestFailed`.
fn test_error(error: &StepError, mask: &impl Fn(&str) -> String) -> IntegrationError {
    match error {
        StepError::Send {
            source: AuthorizedError::Token(TokenError::Invalid(reason)),
            ..
        } => IntegrationError::CredentialsRejected(mask(reason)),
        StepError::TokenRefused {
            step,
            status,
            excerpt,
        } => IntegrationError::CredentialsRejected(mask(&format!(
            "{step} was answered HTTP {status}: {excerpt}"
        ))),
        other => IntegrationError::TestFailed(mask(&other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::executor::SendError;

    fn mask(text: &str) -> String {
        redact(text, &["pa55"])
    }

    #[test]
    fn a_refused_token_or_grant_rejects_the_credentials_and_the_rest_fails_the_test() {
        let refused = StepError::TokenRefused {
            step: "GetGlobalInfo/Me".into(),
            status: 401,
            excerpt: "bad password pa55".into(),
        };
        match test_error(&refused, &mask) {
            IntegrationError::CredentialsRejected(message) => {
                assert!(
                    message.starts_with("GetGlobalInfo/Me was answered HTTP 401: bad password"),
                    "{message}"
                );
                assert!(!message.contains("pa55"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let grant = StepError::Send {
            step: "GetGlobalInfo/Me".into(),
            source: AuthorizedError::Token(TokenError::Invalid("invalid_grant pa55".into())),
        };
        assert!(
            matches!(test_error(&grant, &mask), IntegrationError::CredentialsRejected(m) if !m.contains("pa55"))
        );
        let answer = StepError::Answer {
            step: "GetGlobalInfo/Me".into(),
            status: 500,
            excerpt: "down".into(),
            retry_after_secs: None,
        };
        assert!(
            matches!(test_error(&answer, &mask), IntegrationError::TestFailed(m) if m == "GetGlobalInfo/Me was answered HTTP 500: down")
        );
        let network = StepError::Send {
            step: "GetGlobalInfo/Me".into(),
            source: AuthorizedError::Send(SendError::Timeout {
                url: "https://crm.example/me".into(),
                seconds: 15,
            }),
        };
        assert!(matches!(
            test_error(&network, &mask),
            IntegrationError::TestFailed(_)
        ));
    }
}
