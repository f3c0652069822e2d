//! OAuth 2.0's authorization code flow (docs/oauth2.md; SECURITY.md "OAuth 2.0").
//!
//! Save starts it: the values are checked, a `state` and a PKCE verifier are made (the
//! `oauth2` crate), and what the callback will need (the values, the verifier) is sealed
//! into an `oauth_states` row bound to the session, valid [`STATE_TTL_SECS`]. The browser
//! goes to the authorization URL. The callback spends the state once, exchanges the code,
//! proves the token with the connection test, and only then stores the values and tokens.
//! Any failure on the way stores nothing, so the tokens of an earlier authorization keep
//! working.

use std::collections::BTreeMap;

use app::template::model::Provider;
use oauth2::{CsrfToken, PkceCodeChallenge};
use serde::{Deserialize, Serialize};

use super::service::{secret_values, IntegrationError, IntegrationsService, TemplateInUse};
use super::tokens::Tokens;
use crate::crypto::fingerprint;
use crate::engine::core::auth::CLIENT_ID;
use crate::engine::core::oauth::{authorization_url, AuthorizationRequest, Grant};
use crate::engine::core::redact::{excerpt, redact};
use crate::storage::integrations::StoredSecret;
use crate::storage::oauth_states::PendingAuthorization;
use crate::storage::unix_now;

/// How long an authorization may take from Save to the callback.
pub const STATE_TTL_SECS: i64 = 10 * 60;
/// The longest `error_description` a callback page repeats.
pub const MAX_PROVIDER_MESSAGE_CHARS: usize = 300;
/// The longest `code` or `state` accepted (real ones are far shorter).
pub const MAX_CALLBACK_VALUE_CHARS: usize = 4096;

/// What the callback needs back, sealed into the state's row.
#[derive(Serialize, Deserialize)]
struct Pending {
    values: BTreeMap<String, String>,
    code_verifier: Option<String>,
}

/// The callback's query (RFC 6749 4.1.2).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CallbackQuery {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Why a callback did not connect. Each says what happened and what to do; none carries a
/// code, token, verifier or secret.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error("Sign in to Patchbay in this browser, then start the authorization again from the integration's page. Nothing was changed.")]
    NotSignedIn,
    #[error("The callback has no state, so it cannot be matched to an authorization started here. Start the authorization again from the integration's page.")]
    MissingState,
    #[error("This authorization is unknown, was already used, or has expired (they last {} minutes). Start it again from the integration's page.", STATE_TTL_SECS / 60)]
    UnknownState,
    #[error("This authorization was started in another browser session. Start it again from the integration's page in this browser.")]
    OtherSession,
    #[error("This authorization was started for another integration. Start it again from the integration's page.")]
    OtherIntegration,
    #[error("The CRM did not authorize Patchbay: {0}")]
    Denied(String),
    #[error("The CRM's callback has no authorization code.")]
    MissingCode,
    #[error(transparent)]
    Integration(#[from] IntegrationError),
}

impl IntegrationsService {
    /// Stores a new authorization for `values` and answers the URL to send the browser to.
    pub(super) async fn start_authorization(
        &self,
        actor: &str,
        session_secret: &str,
        running: &TemplateInUse,
        provider: Provider,
        key: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<String, IntegrationError> {
        let invalid = |message: String| IntegrationError::Invalid {
            field: "Authorization".into(),
            message,
        };
        let client_id = values.get(CLIENT_ID).cloned().unwrap_or_default();
        if client_id.is_empty() {
            return Err(IntegrationError::Invalid {
                field: "Client ID".into(),
                message: "is required to authorize".into(),
            });
        }
        let state = CsrfToken::new_random();
        let (challenge, verifier) = match running.auth.pkce {
            true => {
                let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
                (
                    Some(challenge.as_str().to_owned()),
                    Some(verifier.secret().clone()),
                )
            }
            false => (None, None),
        };
        let redirect_uri = self.redirect_uri(provider, key);
        let variables = self.variables(provider, key, values);
        let url = authorization_url(
            &self.renderer,
            &running.auth,
            &variables,
            &AuthorizationRequest {
                client_id: &client_id,
                redirect_uri: &redirect_uri,
                state: state.secret(),
                code_challenge: challenge.as_deref(),
            },
        )
        .map_err(|e| {
            let secrets = secret_values(&running.auth, values);
            let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
            invalid(redact(&e.to_string(), &secrets))
        })?;

        let state_hash = fingerprint(state.secret());
        let pending = serde_json::to_string(&Pending {
            values: values.clone(),
            code_verifier: verifier,
        })
        .map_err(|e| IntegrationError::Template(format!("cannot keep the authorization: {e}")))?;
        let sealed = StoredSecret::seal(
            &self.cipher,
            &super::service::secret_owner(running.template.id),
            &pending_name(&state_hash),
            &pending,
        )?;
        self.states
            .insert(PendingAuthorization {
                state_hash,
                template_id: running.template.id,
                session_hash: fingerprint(session_secret),
                actor: actor.to_owned(),
                pending: sealed.ciphertext,
                expires_at: unix_now().saturating_add(STATE_TTL_SECS),
            })
            .await?;
        Ok(url.to_string())
    }

    /// The redirect callback: checks the state, exchanges the code, tests, stores.
    /// `session_secret` is `None` when nobody is signed in; then nothing is touched, and
    /// the state stays for the browser that started it.
    pub async fn complete_authorization(
        &self,
        session_secret: Option<&str>,
        provider: Provider,
        key: &str,
        query: &CallbackQuery,
    ) -> Result<String, CallbackError> {
        let session_secret = session_secret.ok_or(CallbackError::NotSignedIn)?;
        let state = query
            .state
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(CallbackError::MissingState)?;
        if state.len() > MAX_CALLBACK_VALUE_CHARS {
            return Err(CallbackError::UnknownState);
        }
        let state_hash = fingerprint(state);
        let stored = self
            .states
            .find(&state_hash)
            .await
            .map_err(IntegrationError::from)?
            .filter(|s| s.expires_at >= unix_now())
            .ok_or(CallbackError::UnknownState)?;
        // Compared as hashes of random values: nothing to learn from the timing.
        if stored.session_hash != fingerprint(session_secret) {
            return Err(CallbackError::OtherSession);
        }
        let running = self.template_in_use(provider, key).await?;
        if stored.template_id != running.template.id {
            return Err(CallbackError::OtherIntegration);
        }
        // Spent before anything else happens: a replay finds nothing, even mid-exchange.
        if !self
            .states
            .consume(&state_hash)
            .await
            .map_err(IntegrationError::from)?
        {
            return Err(CallbackError::UnknownState);
        }
        let pending: Pending = {
            let sealed = StoredSecret {
                name: pending_name(&state_hash),
                ciphertext: stored.pending,
                key_id: String::new(),
            };
            // Sealed under a key a rotation has since retired: as good as expired.
            let text = sealed
                .open(
                    &self.cipher,
                    &super::service::secret_owner(running.template.id),
                )
                .map_err(|_| CallbackError::UnknownState)?;
            serde_json::from_str(&text).map_err(|_| CallbackError::UnknownState)?
        };
        if let Some(error) = query.error.as_deref().filter(|e| !e.is_empty()) {
            let reason = match query.error_description.as_deref().filter(|d| !d.is_empty()) {
                Some(description) => format!(
                    "{} ({})",
                    excerpt(error, 100),
                    excerpt(description, MAX_PROVIDER_MESSAGE_CHARS)
                ),
                None => excerpt(error, 100),
            };
            tracing::info!(provider = provider.as_str(), %key, actor = %stored.actor, error = %excerpt(error, 100), "OAuth authorization denied by the provider");
            return Err(CallbackError::Denied(reason));
        }
        let code = query
            .code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= MAX_CALLBACK_VALUE_CHARS)
            .ok_or(CallbackError::MissingCode)?;

        let redirect_uri = self.redirect_uri(provider, key);
        let variables = self.variables(provider, key, &pending.values);
        let mut secrets = secret_values(&running.auth, &pending.values);
        secrets.push(code.to_owned());
        secrets.extend(pending.code_verifier.clone());
        let tokens: Tokens = self
            .obtain_tokens(
                &running,
                &variables,
                &Grant::AuthorizationCode {
                    code,
                    redirect_uri: &redirect_uri,
                    code_verifier: pending.code_verifier.as_deref(),
                },
                &secrets,
            )
            .await?;
        secrets.extend(tokens.texts());
        self.prove_and_store(
            &running,
            &pending.values,
            variables,
            tokens,
            &secrets,
            &stored.actor,
        )
        .await?;
        tracing::info!(provider = provider.as_str(), %key, actor = %stored.actor, "OAuth authorization succeeded");
        Ok(running.template.record.name.clone())
    }
}

/// The name the pending values are sealed under: bound to their state.
fn pending_name(state_hash: &str) -> String {
    format!("oauth_pending:{state_hash}")
}
