//! API token management (the Accounts page reaches it through `web::backend::api_tokens`).

use app::accounts::{ApiTokenSummary, CreatedApiToken, CurrentUser, TokenScope};
use sea_orm::DbErr;

use crate::storage::api_tokens::ApiTokenRepository;
use crate::storage::unix_now;

pub const SECONDS_PER_DAY: i64 = 24 * 60 * 60;

#[derive(Debug, thiserror::Error)]
pub enum ApiTokenError {
    #[error("The API token was not found.")]
    NotFound,
    #[error("API token storage failed: {0}")]
    Storage(#[from] DbErr),
}

pub struct ApiTokensService {
    pub tokens: ApiTokenRepository,
}

impl ApiTokensService {
    pub async fn list_tokens(&self) -> Result<Vec<ApiTokenSummary>, ApiTokenError> {
        Ok(self.tokens.list().await?)
    }

    pub async fn create_token(
        &self,
        actor: &CurrentUser,
        name: &str,
        scope: TokenScope,
        expires_in_days: Option<u32>,
    ) -> Result<CreatedApiToken, ApiTokenError> {
        let expires_at = expires_in_days.map(|days| unix_now() + i64::from(days) * SECONDS_PER_DAY);
        let (summary, token) = self
            .tokens
            .create(name, actor.id, &actor.email, scope, expires_at)
            .await?;
        tracing::info!(actor = %actor.email, token = %summary.prefix, name = %summary.name, scope = scope.as_str(), "API token created");
        Ok(CreatedApiToken { summary, token })
    }

    pub async fn revoke_token(&self, actor: &CurrentUser, id: i32) -> Result<(), ApiTokenError> {
        if !self.tokens.revoke(id).await? {
            return Err(ApiTokenError::NotFound);
        }
        tracing::info!(actor = %actor.email, id, "API token revoked");
        Ok(())
    }
}
