//! The Accounts page's account calls, over [`AccountsService`].

use app::accounts::{AccountSummary, CurrentUser, Role};
use app::backend::AccountAdmin;
use app::error::PortalError;
use async_trait::async_trait;

use super::storage_failure;
use crate::accounts::service::{AccountError, AccountsService};

pub struct AccountsAdmin {
    pub service: AccountsService,
}

fn portal_error(error: AccountError) -> PortalError {
    match error {
        AccountError::OwnAccount { .. }
        | AccountError::LastAdmin { .. }
        | AccountError::EmailTaken(_) => PortalError::Conflict(error.to_string()),
        AccountError::NotFound => PortalError::NotFound("The account".into()),
        AccountError::Storage(_) | AccountError::Password(_) => storage_failure("account", error),
    }
}

#[async_trait]
impl AccountAdmin for AccountsAdmin {
    async fn list_accounts(&self) -> Result<Vec<AccountSummary>, PortalError> {
        self.service.list_accounts().await.map_err(portal_error)
    }

    async fn create_account(
        &self,
        actor: &CurrentUser,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<AccountSummary, PortalError> {
        self.service
            .create_account(actor, email, password, role)
            .await
            .map_err(portal_error)
    }

    async fn set_account_disabled(
        &self,
        actor: &CurrentUser,
        id: i32,
        disabled: bool,
    ) -> Result<(), PortalError> {
        self.service
            .set_account_disabled(actor, id, disabled)
            .await
            .map_err(portal_error)
    }

    async fn delete_account(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError> {
        self.service
            .delete_account(actor, id)
            .await
            .map_err(portal_error)
    }

    async fn reset_password(
        &self,
        actor: &CurrentUser,
        id: i32,
        password: &str,
    ) -> Result<(), PortalError> {
        self.service
            .reset_password(actor, id, password)
            .await
            .map_err(portal_error)
    }
}
