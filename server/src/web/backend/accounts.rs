//! The Accounts page's account calls, over [`AccountsService`].

use app::accounts::{check_new_password, normalize_email, AccountSummary, CurrentUser, Role};
use app::api::accounts::AccountAdmin;
use app::error::PortalError;
use async_trait::async_trait;

use super::storage_failure;
use crate::accounts::service::{AccountError, AccountsService};

pub struct AccountsAdmin {
    pub service: AccountsService,
}

impl From<AccountError> for PortalError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::OwnAccount { .. }
            | AccountError::LastAdmin { .. }
            | AccountError::EmailTaken(_) => PortalError::Conflict(error.to_string()),
            AccountError::NotFound => PortalError::NotFound("The account".into()),
            AccountError::Storage(_) | AccountError::Password(_) => {
                storage_failure("account", error)
            }
        }
    }
}

#[async_trait]
impl AccountAdmin for AccountsAdmin {
    async fn list_accounts(&self) -> Result<Vec<AccountSummary>, PortalError> {
        Ok(self.service.list_accounts().await?)
    }

    async fn create_account(
        &self,
        actor: &CurrentUser,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<AccountSummary, PortalError> {
        let email = normalize_email(email)?;
        check_new_password(password)?;
        Ok(self
            .service
            .create_account(actor, &email, password, role)
            .await?)
    }

    async fn set_account_disabled(
        &self,
        actor: &CurrentUser,
        id: i32,
        disabled: bool,
    ) -> Result<(), PortalError> {
        Ok(self
            .service
            .set_account_disabled(actor, id, disabled)
            .await?)
    }

    async fn delete_account(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError> {
        Ok(self.service.delete_account(actor, id).await?)
    }

    async fn reset_password(
        &self,
        actor: &CurrentUser,
        id: i32,
        password: &str,
    ) -> Result<(), PortalError> {
        check_new_password(password)?;
        Ok(self.service.reset_password(actor, id, password).await?)
    }
}
