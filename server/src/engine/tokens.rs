//! OAuth 2.0 and Bearer tokens kept usable (docs/oauth2.md; docs/template-format.md "Requests";
//! SECURITY.md "The refresh lock").
//!
//! A request goes out with the stored access token, refreshed first when it is due
//! (`core::oauth::refresh_due`). A request refused for its token (401, or a TokenErrorMap
//! match) causes one refresh and is sent once more.
//!
//! **One refresh at a time per integration, across server instances.** Every new token
//! moves the integration's `token_generation` on. A refresh names the generation it found
//! wanting; whoever finds a newer one uses it instead of refreshing again. Within a process a
//! lock per integration queues the callers; across processes a lease on the integration's
//! row (taken by one conditional UPDATE, on SQLite and PostgreSQL alike) admits one
//! refresher, and the others poll the row until the new generation appears. A lease outlives
//! its holder by at most [`TokenKeeper::lease_secs`], so a crashed instance blocks nobody
//! for long. A rotated refresh token is stored with its access token in one transaction
//! before either is used. A refresh refused with `invalid_grant` re-reads the row first
//! (another instance may have refreshed with the same refresh token a moment earlier);
//! only then is the integration marked Token invalid.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::integrations::Status;
use sea_orm::DbErr;

use super::core::auth::{AuthSettings, CLIENT_SECRET};
use super::core::oauth::{
    read_token_response, refresh_due, token_request, Grant, OAuthError, TokenClock,
    ACCESS_TOKEN_VARIABLE, REFRESH_TOKEN_VARIABLE,
};
use super::core::redact::redact;
use super::core::render::Renderer;
use super::core::request::{OutboundRequest, RequestError};
use super::core::response::{judge, Verdict};
use super::core::Variables;
use super::executor::{Exchange, Executor, Lane, SendError};
use crate::crypto::cipher::{CipherError, SecretCipher};
use crate::storage::integrations::{
    secret_owner, IntegrationRepository, RefreshedTokens, StoredSecret, TokenRecord,
    ACCESS_TOKEN_SECRET, REFRESH_TOKEN_SECRET,
};
use crate::storage::unix_now;

/// How often a caller waiting for another instance's refresh looks at the row again.
pub const LEASE_POLL: Duration = Duration::from_millis(100);
/// A lease lasts the refresh request's timeout plus this, then anyone may take it over.
pub const LEASE_MARGIN_SECS: i64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token cannot be renewed without a new authorization; the integration is marked
    /// Token invalid with this reason.
    #[error("the token was refused and cannot be refreshed: {0}")]
    Invalid(String),
    /// The refresh failed for a reason that may pass (an outage, a timeout, a 5xx).
    #[error("the token could not be refreshed: {0}")]
    Failed(String),
    #[error("another server instance is still refreshing the token")]
    Busy,
    #[error("the integration is not connected")]
    NotConnected,
    #[error("token storage failed: {0}")]
    Storage(#[from] DbErr),
    #[error("a stored token cannot be read: {0}")]
    Secret(#[from] CipherError),
}

/// Why an authorized request did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizedError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Send(#[from] SendError),
}

/// What the token logic needs of a connected integration.
pub struct Credentials {
    pub integration_id: i32,
    pub template_id: i32,
    pub auth: AuthSettings,
    /// The custom fields' values (`client_id` and `client_secret` among them) and
    /// `redirect_uri`.
    pub variables: Variables,
    pub lane: Lane,
    /// A token given from outside (`patchbay run --var AccessToken=…`): sent as it is,
    /// never refreshed, nothing stored read.
    pub fixed_access_token: Option<String>,
}

impl Credentials {
    /// Credentials not stored yet (Save's connection test, the OAuth callback, `patchbay
    /// run`): `access_token`, when given, is sent as it is; nothing stored is read or
    /// written, so there is no integration id to name.
    pub fn not_stored(
        template_id: i32,
        auth: AuthSettings,
        variables: Variables,
        lane: Lane,
        access_token: Option<String>,
    ) -> Credentials {
        Credentials {
            integration_id: NOT_STORED,
            template_id,
            auth,
            variables,
            lane,
            fixed_access_token: access_token,
        }
    }
}

/// The integration id of credentials that are not stored: no row has it.
const NOT_STORED: i32 = 0;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessToken {
    pub value: String,
    pub generation: i32,
}

/// A request that got an answer, as it was last sent.
pub struct Sent {
    pub request: OutboundRequest,
    pub exchange: Exchange,
    /// The first answer refused the token; this is the answer with a refreshed one.
    pub refreshed: bool,
}

pub struct TokenKeeper {
    integrations: IntegrationRepository,
    cipher: Arc<SecretCipher>,
    executor: Arc<Executor>,
    renderer: Renderer,
    /// This process, as a lease holder.
    instance: String,
    lease_secs: i64,
    local: Mutex<HashMap<i32, Arc<tokio::sync::Mutex<()>>>>,
    /// Integrations this process refreshed a token for since the sweep last asked: their
    /// GetGlobalInfo and TokenRefresh follow-ups run next (docs/scenarios.md).
    refreshed: Mutex<std::collections::BTreeSet<i32>>,
}

impl TokenKeeper {
    pub fn new(
        integrations: IntegrationRepository,
        cipher: Arc<SecretCipher>,
        executor: Arc<Executor>,
        renderer: Renderer,
        request_timeout: Duration,
    ) -> TokenKeeper {
        let timeout = i64::try_from(request_timeout.as_secs()).unwrap_or(i64::MAX / 2);
        TokenKeeper {
            integrations,
            cipher,
            executor,
            renderer,
            instance: crate::crypto::random_token(),
            lease_secs: timeout.saturating_add(LEASE_MARGIN_SECS),
            local: Mutex::new(HashMap::new()),
            refreshed: Mutex::new(std::collections::BTreeSet::new()),
        }
    }

    /// A keeper for runs that never read stored tokens (templates without tokens, or a
    /// token given from outside: `patchbay run`, benchmarks, fuzzing): its storage is an
    /// empty in-memory database and its cipher a throwaway key.
    pub async fn standalone(
        executor: Arc<Executor>,
        renderer: Renderer,
        request_timeout: Duration,
    ) -> Result<TokenKeeper, DbErr> {
        let db = sea_orm::Database::connect("sqlite::memory:").await?;
        Ok(TokenKeeper::new(
            IntegrationRepository::new(db),
            Arc::new(SecretCipher::new(&crate::crypto::keys::generate_key(), &[])),
            executor,
            renderer,
            request_timeout,
        ))
    }

    /// The integrations refreshed since the last call, oldest first.
    pub fn take_refreshed(&self) -> Vec<i32> {
        std::mem::take(&mut *self.refreshed.lock().unwrap_or_else(|e| e.into_inner()))
            .into_iter()
            .collect()
    }

    pub fn lease_secs(&self) -> i64 {
        self.lease_secs
    }

    /// Sends a request rendered with the current token (`render` gets it), and when the
    /// answer refuses the token, refreshes once and sends once more. `Ok(None)`: the
    /// request's URL rendered empty, so nothing was sent.
    pub async fn send<F>(
        &self,
        credentials: &Credentials,
        render: F,
    ) -> Result<Option<Sent>, AuthorizedError>
    where
        F: Fn(Option<&str>) -> Result<Option<OutboundRequest>, RequestError>,
    {
        if let Some(fixed) = &credentials.fixed_access_token {
            let Some(request) = render(Some(fixed))? else {
                return Ok(None);
            };
            let exchange = self.executor.send(credentials.lane, &request).await?;
            return Ok(Some(Sent {
                request,
                exchange,
                refreshed: false,
            }));
        }
        let token = match credentials.auth.uses_tokens() {
            true => Some(self.current(credentials).await?),
            false => None,
        };
        let Some(request) = render(token.as_ref().map(|t| t.value.as_str()))? else {
            return Ok(None);
        };
        let exchange = self.executor.send(credentials.lane, &request).await?;
        let refused = judge(&exchange.received, &credentials.auth) == Verdict::TokenInvalid;
        let Some(seen) = token.filter(|_| refused) else {
            return Ok(Some(Sent {
                request,
                exchange,
                refreshed: false,
            }));
        };
        let fresh = self.refresh(credentials, seen.generation).await?;
        let Some(request) = render(Some(&fresh.value))? else {
            return Ok(None);
        };
        let exchange = self.executor.send(credentials.lane, &request).await?;
        Ok(Some(Sent {
            request,
            exchange,
            refreshed: true,
        }))
    }

    /// The access token to send, refreshed first when it is due. A scheduled refresh that
    /// fails while the token has not expired yet keeps the token in use.
    pub async fn current(&self, credentials: &Credentials) -> Result<AccessToken, TokenError> {
        let record = self.record(credentials).await?;
        let token = self.access_token(credentials, &record)?;
        let clock = TokenClock {
            now: unix_now(),
            refreshed_at: record.refreshed_at,
            expires_at: record.expires_at,
        };
        if !refresh_due(&credentials.auth, clock) {
            return Ok(token);
        }
        match self.refresh(credentials, token.generation).await {
            Ok(fresh) => Ok(fresh),
            Err(TokenError::Failed(reason))
                if record.expires_at.is_none_or(|at| at > clock.now) =>
            {
                tracing::warn!(integration = credentials.integration_id, %reason, "a scheduled token refresh failed; the current token stays in use");
                Ok(token)
            }
            Err(error) => Err(error),
        }
    }

    /// Refreshes the token unless someone already replaced generation `seen`; either way
    /// answers the newest token.
    pub async fn refresh(
        &self,
        credentials: &Credentials,
        seen: i32,
    ) -> Result<AccessToken, TokenError> {
        let id = credentials.integration_id;
        let local = {
            let mut locks = self.local.lock().unwrap_or_else(|e| e.into_inner());
            locks.entry(id).or_default().clone()
        };
        let _turn = local.lock().await;
        let record = self.record(credentials).await?;
        if record.generation != seen {
            return self.access_token(credentials, &record);
        }
        // Another instance may hold the lease: wait for its token or for the lease to end.
        let give_up = unix_now().saturating_add(self.lease_secs.saturating_mul(2));
        let mut waited = false;
        loop {
            let now = unix_now();
            if self
                .integrations
                .try_lease(id, &self.instance, now, now.saturating_add(self.lease_secs))
                .await?
            {
                break;
            }
            if !waited {
                waited = true;
                tracing::info!(
                    integration = id,
                    "another server instance is refreshing the token; waiting for it"
                );
            }
            tokio::time::sleep(LEASE_POLL).await;
            let record = self.record(credentials).await?;
            if record.generation != seen {
                return self.access_token(credentials, &record);
            }
            if unix_now() > give_up {
                return Err(TokenError::Busy);
            }
        }
        let outcome = self.refresh_holding_lease(credentials, seen).await;
        crate::metrics::metrics().token_refresh(id, outcome.is_ok());
        if outcome.is_err() {
            if let Err(error) = self.integrations.release_lease(id, &self.instance).await {
                tracing::error!(integration = id, %error, "cannot release the refresh lease; it ends by itself");
            }
        }
        outcome
    }

    async fn refresh_holding_lease(
        &self,
        credentials: &Credentials,
        seen: i32,
    ) -> Result<AccessToken, TokenError> {
        let id = credentials.integration_id;
        // The previous holder may have finished between our last look and the lease.
        let record = self.record(credentials).await?;
        if record.generation != seen {
            self.integrations.release_lease(id, &self.instance).await?;
            return self.access_token(credentials, &record);
        }
        let access = self.open(credentials, record.access.as_ref())?;
        let refresh = self.open(credentials, record.refresh.as_ref())?;
        let mut variables = credentials.variables.clone();
        if let Some(access) = &access {
            variables.insert(ACCESS_TOKEN_VARIABLE.into(), access.clone());
        }
        if let Some(refresh) = &refresh {
            variables.insert(REFRESH_TOKEN_VARIABLE.into(), refresh.clone());
        }
        let secrets: Vec<&str> = [access.as_deref(), refresh.as_deref()]
            .into_iter()
            .flatten()
            .chain(credentials.variables.get(CLIENT_SECRET).map(String::as_str))
            .collect();
        let grant = match (&refresh, credentials.auth.method) {
            (Some(refresh_token), _) => Grant::Refresh { refresh_token },
            (None, app::template::model::AuthType::Bearer) => Grant::ClientCredentials,
            (None, _) => {
                return self
                    .invalid(id, OAuthError::NoRefreshToken.to_string())
                    .await
            }
        };
        let request = token_request(&self.renderer, &credentials.auth, &variables, &grant)
            .map_err(|e| TokenError::Failed(redact(&e.to_string(), &secrets)))?;
        let answer = match self.executor.send(credentials.lane, &request).await {
            Ok(exchange) => read_token_response(&exchange.received),
            Err(error) => {
                let reason = redact(&error.to_string(), &secrets);
                self.integrations
                    .record_error(id, None, &format!("Token refresh: {reason}"))
                    .await?;
                return Err(TokenError::Failed(reason));
            }
        };
        match answer {
            Ok(grant) => {
                let owner = secret_owner(credentials.template_id);
                let tokens = RefreshedTokens {
                    access: StoredSecret::seal(
                        &self.cipher,
                        &owner,
                        ACCESS_TOKEN_SECRET,
                        &grant.access_token,
                    )?,
                    refresh: grant
                        .refresh_token
                        .as_deref()
                        .map(|token| {
                            StoredSecret::seal(&self.cipher, &owner, REFRESH_TOKEN_SECRET, token)
                        })
                        .transpose()?,
                    token_type: grant.token_type,
                    expires_at: grant
                        .expires_in
                        .map(|seconds| unix_now().saturating_add(seconds)),
                    answer_values: grant.answer_values,
                };
                self.integrations
                    .store_refreshed(id, &self.instance, tokens)
                    .await?;
                tracing::info!(integration = id, generation = seen + 1, "token refreshed");
                self.refreshed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id);
                Ok(AccessToken {
                    value: grant.access_token,
                    generation: seen.wrapping_add(1),
                })
            }
            Err(refusal) => {
                let reason = redact(&refusal.to_string(), &secrets);
                if refusal.is_invalid_grant() {
                    // Someone may have refreshed with this refresh token just before us.
                    let record = self.record(credentials).await?;
                    if record.generation != seen {
                        self.integrations.release_lease(id, &self.instance).await?;
                        return self.access_token(credentials, &record);
                    }
                    return self.invalid(id, reason).await;
                }
                self.integrations
                    .record_error(id, None, &format!("Token refresh: {reason}"))
                    .await?;
                Err(TokenError::Failed(reason))
            }
        }
    }

    async fn invalid(&self, id: i32, reason: String) -> Result<AccessToken, TokenError> {
        self.integrations
            .record_error(
                id,
                Some(Status::TokenInvalid),
                &format!("Token refresh: {reason}. Reconnect to authorize again."),
            )
            .await?;
        tracing::warn!(integration = id, %reason, "token invalid");
        Err(TokenError::Invalid(reason))
    }

    async fn record(&self, credentials: &Credentials) -> Result<TokenRecord, TokenError> {
        self.integrations
            .token_record(credentials.integration_id)
            .await?
            .ok_or(TokenError::NotConnected)
    }

    fn access_token(
        &self,
        credentials: &Credentials,
        record: &TokenRecord,
    ) -> Result<AccessToken, TokenError> {
        if record.status == Status::TokenInvalid {
            return Err(TokenError::Invalid(
                "the integration needs a new authorization".into(),
            ));
        }
        match self.open(credentials, record.access.as_ref())? {
            Some(value) => Ok(AccessToken {
                value,
                generation: record.generation,
            }),
            None => Err(TokenError::NotConnected),
        }
    }

    fn open(
        &self,
        credentials: &Credentials,
        secret: Option<&StoredSecret>,
    ) -> Result<Option<String>, TokenError> {
        let owner = secret_owner(credentials.template_id);
        Ok(secret
            .map(|secret| secret.open(&self.cipher, &owner))
            .transpose()?)
    }
}
