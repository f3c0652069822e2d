//! Account management behind the Accounts page's server functions, with the rules that
//! need stored state: no one disables or deletes themselves, and one active administrator
//! always remains.

use app::accounts::{AccountSummary, CurrentUser, Role};
use app::backend::AccountAdmin;
use app::error::PortalError;
use async_trait::async_trait;
use sea_orm::{DbErr, SqlErr};

use crate::auth::password::hash_password;
use crate::storage::accounts::{AccountRepository, Removal, RemovalOutcome, StoredAccount};
use crate::storage::api_tokens::ApiTokenRepository;
use crate::storage::session_store::DbSessionStore;
use crate::storage::storage_failure;

fn account_storage_failure(error: impl std::fmt::Display) -> PortalError {
    storage_failure("account", error)
}

pub struct AccountsService {
    pub accounts: AccountRepository,
    pub sessions: DbSessionStore,
    pub tokens: ApiTokenRepository,
}

impl AccountsService {
    async fn target(
        &self,
        actor: &CurrentUser,
        id: i32,
        action: &str,
    ) -> Result<StoredAccount, PortalError> {
        if actor.id == id {
            return Err(PortalError::Conflict(format!(
                "You cannot {action} your own account."
            )));
        }
        self.accounts
            .find(id)
            .await
            .map_err(account_storage_failure)?
            .ok_or_else(|| PortalError::NotFound("The account".into()))
    }

    /// Disables or deletes `id` unless it is the last active administrator (checked and
    /// done atomically by storage), then ends its sessions and revokes its API tokens.
    async fn remove(&self, id: i32, removal: Removal) -> Result<(), PortalError> {
        let outcome = self
            .accounts
            .remove_keeping_an_admin(id, removal)
            .await
            .map_err(account_storage_failure)?;
        let email = match outcome {
            RemovalOutcome::Done(email) => email,
            RemovalOutcome::NotFound => return Err(PortalError::NotFound("The account".into())),
            RemovalOutcome::LastAdmin(email) => {
                let action = match removal {
                    Removal::Disable => "disabled",
                    Removal::Delete => "deleted",
                };
                return Err(PortalError::Conflict(format!(
                    "{email} is the last active administrator and cannot be {action}."
                )));
            }
        };
        self.end_sessions(id).await?;
        let revoked = self
            .tokens
            .revoke_for_account(id)
            .await
            .map_err(account_storage_failure)?;
        if revoked > 0 {
            tracing::info!(account = %email, revoked, "API tokens of the account revoked");
        }
        Ok(())
    }

    async fn end_sessions(&self, id: i32) -> Result<(), PortalError> {
        self.sessions
            .delete_for_user(id)
            .await
            .map_err(account_storage_failure)?;
        Ok(())
    }
}

#[async_trait]
impl AccountAdmin for AccountsService {
    async fn list_accounts(&self) -> Result<Vec<AccountSummary>, PortalError> {
        let accounts = self
            .accounts
            .list()
            .await
            .map_err(account_storage_failure)?;
        Ok(accounts.iter().map(StoredAccount::summary).collect())
    }

    async fn create_account(
        &self,
        actor: &CurrentUser,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<AccountSummary, PortalError> {
        let hash = hash_password(password)
            .await
            .map_err(account_storage_failure)?;
        match self.accounts.insert(email, &hash, role).await {
            Ok(account) => {
                tracing::info!(actor = %actor.email, account = %account.email, role = role.as_str(), "account created");
                Ok(account.summary())
            }
            Err(error) if is_unique_violation(&error) => Err(PortalError::Conflict(format!(
                "An account with the e-mail {email} already exists."
            ))),
            Err(error) => Err(account_storage_failure(error)),
        }
    }

    async fn set_account_disabled(
        &self,
        actor: &CurrentUser,
        id: i32,
        disabled: bool,
    ) -> Result<(), PortalError> {
        let target = self
            .target(actor, id, if disabled { "disable" } else { "enable" })
            .await?;
        if disabled {
            self.remove(id, Removal::Disable).await?;
        } else if !self
            .accounts
            .set_disabled(id, false)
            .await
            .map_err(account_storage_failure)?
        {
            return Err(PortalError::NotFound("The account".into()));
        }
        tracing::info!(actor = %actor.email, account = %target.email, disabled, "account status changed");
        Ok(())
    }

    async fn delete_account(&self, actor: &CurrentUser, id: i32) -> Result<(), PortalError> {
        let target = self.target(actor, id, "delete").await?;
        self.remove(id, Removal::Delete).await?;
        tracing::info!(actor = %actor.email, account = %target.email, "account deleted");
        Ok(())
    }

    async fn reset_password(
        &self,
        actor: &CurrentUser,
        id: i32,
        password: &str,
    ) -> Result<(), PortalError> {
        let target = self.target(actor, id, "reset the password of").await?;
        let hash = hash_password(password)
            .await
            .map_err(account_storage_failure)?;
        if !self
            .accounts
            .set_password_hash(id, &hash)
            .await
            .map_err(account_storage_failure)?
        {
            return Err(PortalError::NotFound("The account".into()));
        }
        self.end_sessions(id).await?;
        tracing::info!(actor = %actor.email, account = %target.email, "password reset");
        Ok(())
    }
}

fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
