//! API token management behind the Accounts page's server functions.

use app::accounts::{ApiTokenSummary, CreatedApiToken, CurrentUser, TokenScope};
use app::backend::ApiTokenAdmin;
use app::error::PortalError;
use async_trait::async_trait;

use crate::storage::api_tokens::ApiTokenRepository;
use crate::storage::{storage_failure, unix_now};

const SECONDS_PER_DAY: i64 = 24 * 60 * 60;

fn token_storage_failure(error: impl std::fmt::Display) -> PortalError {
    storage_failure("API token", error)
}

pub struct ApiTokensService {
    pub tokens: ApiTokenRepository,
}

#[async_trait]
impl ApiTokenAdmin for ApiTokensService {
    async fn list_tokens(&self) -> Result<Vec<ApiTokenSummary>, PortalError> {
        self.tokens.list().await.map_err(token_storage_failure)
    }

    async fn create_token(
        &self,
        actor: &CurrentUser,
        name: &str,
        scope: TokenScope,
        expires_in_days: Option<u32>,
    ) -> Result<CreatedApiToken, PortalError> {
        let expires_at = expires_in_days.map(|days| unix_now() + i64::from(days) * SECONDS_PER_DAY);
        let (summary, token) = self
            .tokens
            .create(name, actor.id, &actor.email, scope, expires_at)
            .await
            .map_err(token_storage_failure)?;
        tracing::info!(actor = %actor.email, token = %summary.prefix, name = %summary.name, scope = scope.as_str(), "API token created");
        Ok(CreatedApiToken { summary, token })
    }

    async fn revoke_token(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError> {
        if !self
            .tokens
            .revoke(id)
            .await
            .map_err(token_storage_failure)?
        {
            return Err(PortalError::NotFound("The API token".into()));
        }
        tracing::info!(actor = %actor.email, id, "API token revoked");
        Ok(())
    }
}
