//! API token management behind the Accounts page's server functions.

use app::accounts::{ApiTokenSummary, CreatedApiToken, CurrentUser};
use app::backend::ApiTokenAdmin;
use app::error::PortalError;
use async_trait::async_trait;

use crate::storage::api_tokens::ApiTokenRepository;
use crate::storage::storage_failure;

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
    ) -> Result<CreatedApiToken, PortalError> {
        let (summary, token) = self
            .tokens
            .create(name, &actor.email)
            .await
            .map_err(token_storage_failure)?;
        tracing::info!(actor = %actor.email, token = %summary.prefix, name = %summary.name, "API token created");
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
