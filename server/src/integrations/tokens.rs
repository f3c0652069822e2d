//! Tokens a CRM issues (Bearer's client credentials, OAuth 2.0's code exchange), kept fresh
//! on a schedule, and given back when an integration is disconnected (RFC 7009).

use super::service::{lane, IntegrationError, IntegrationsService, TemplateInUse};
use crate::engine::core::oauth::{read_token_response, revocation_request, token_request, Grant};
use crate::engine::core::redact::{excerpt, redact};
use crate::engine::core::Variables;
use crate::engine::runner::QUOTED_ANSWER_CHARS;
use crate::storage::integrations::{
    StoredIntegration, ACCESS_TOKEN_SECRET as ACCESS_TOKEN, REFRESH_TOKEN_SECRET as REFRESH_TOKEN,
};
use crate::storage::unix_now;
use app::template::model::Provider;

/// Tokens a token endpoint issued.
#[derive(Default)]
pub(super) struct Tokens {
    pub(super) access: Option<String>,
    pub(super) refresh: Option<String>,
    pub(super) token_type: Option<String>,
    pub(super) expires_at: Option<i64>,
    /// The token answer's other values (`TokenResponse_instance_url`), global variables.
    pub(super) answer_values: std::collections::BTreeMap<String, String>,
}

impl Tokens {
    pub(super) fn texts(&self) -> impl Iterator<Item = String> + '_ {
        [&self.access, &self.refresh].into_iter().flatten().cloned()
    }
}

impl IntegrationsService {
    /// Asks the token endpoint for tokens (Bearer's client credentials, OAuth's code
    /// exchange). A refusal (the client or the grant) is `CredentialsRejected`; an outage,
    /// an HTML page, an answer without `access_token` is `TokenFailed`.
    pub(super) async fn obtain_tokens(
        &self,
        running: &TemplateInUse,
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
                answer_values: grant.answer_values,
            }),
            Err(refusal) if refusal.is_refusal() => Err(IntegrationError::CredentialsRejected(
                redact(&refusal.to_string(), &secrets),
            )),
            Err(refusal) => Err(fail(refusal.to_string())),
        }
    }

    /// Every connected OAuth 2.0 or Bearer integration whose token is due gets a fresh one
    /// (TokenRefreshTime, or a known expiry near). Answers how many were looked at.
    pub async fn refresh_due_tokens(&self) -> Result<usize, IntegrationError> {
        let mut looked_at = 0;
        for live in self.connected_integrations().await? {
            if !live.in_use.auth.uses_tokens() {
                continue;
            }
            looked_at += 1;
            let connected = self.ready(live).await?;
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
        let running = self.template_in_use(provider, key).await?;
        let mut message = "Disconnected. Stored secrets and tokens were removed.".to_owned();
        if let Some(integration) = &running.integration {
            if let Some(report) = self.revoke(&running, integration, provider, key).await? {
                message = format!("{message} {report}");
            }
            self.integrations.disconnect(integration.id).await?;
            self.contact_cache.clear(integration.id).await?;
            tracing::info!(%actor, provider = provider.as_str(), %key, "integration disconnected");
        }
        Ok(message)
    }

    /// RFC 7009: revokes the refresh token (or, without one, the access token).
    async fn revoke(
        &self,
        running: &TemplateInUse,
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
}
