//! The Accounts page's API token calls, over [`ApiTokensService`].

use app::accounts::{
    check_token_lifetime, check_token_name, ApiTokenSummary, CreatedApiToken, CurrentUser,
    TokenScope,
};
use app::api::api_tokens::ApiTokenAdmin;
use app::error::PortalError;
use async_trait::async_trait;

use super::storage_failure;
use crate::accounts::api_tokens::{ApiTokenError, ApiTokensService};

pub struct ApiTokensAdmin {
    pub service: ApiTokensService,
}

impl From<ApiTokenError> for PortalError {
    fn from(error: ApiTokenError) -> Self {
        match error {
            ApiTokenError::NotFound => PortalError::NotFound("The API token".into()),
            ApiTokenError::Storage(_) => storage_failure("API token", error),
        }
    }
}

#[async_trait]
impl ApiTokenAdmin for ApiTokensAdmin {
    async fn list_tokens(&self) -> Result<Vec<ApiTokenSummary>, PortalError> {
        self.service.list_tokens().await.map_err(PortalError::from)
    }

    async fn create_token(
        &self,
        actor: &CurrentUser,
        name: &str,
        scope: TokenScope,
        expires_in_days: Option<u32>,
    ) -> Result<CreatedApiToken, PortalError> {
        let name = check_token_name(name)?;
        let expires_in_days = check_token_lifetime(expires_in_days)?;
        Ok(self
            .service
            .create_token(actor, &name, scope, expires_in_days)
            .await?)
    }

    async fn revoke_token(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError> {
        Ok(self.service.revoke_token(actor, id).await?)
    }
}
