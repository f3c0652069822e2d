//! Account management with the rules that need stored state: no one disables or deletes
//! themselves, and one active administrator always remains. The Accounts page reaches it
//! through `web::backend::accounts`.

use app::accounts::{AccountSummary, CurrentUser, Role};
use sea_orm::{DbErr, SqlErr};

use crate::accounts::password::hash_password;
use crate::storage::accounts::{AccountRepository, Removal, RemovalOutcome, StoredAccount};
use crate::storage::api_tokens::ApiTokenRepository;
use crate::storage::session_store::DbSessionStore;

/// Why an account change was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("You cannot {action} your own account.")]
    OwnAccount { action: &'static str },
    #[error("The account was not found.")]
    NotFound,
    #[error("{email} is the last active administrator and cannot be {action}.")]
    LastAdmin { email: String, action: &'static str },
    #[error("An account with the e-mail {0} already exists.")]
    EmailTaken(String),
    #[error("account storage failed: {0}")]
    Storage(#[from] DbErr),
    #[error(transparent)]
    Password(#[from] crate::accounts::password::PasswordError),
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
        action: &'static str,
    ) -> Result<StoredAccount, AccountError> {
        if actor.id == id {
            return Err(AccountError::OwnAccount { action });
        }
        self.accounts
            .find(id)
            .await?
            .ok_or_else(|| AccountError::NotFound)
    }

    /// Disables or deletes `id` unless it is the last active administrator (checked and
    /// done atomically by storage), then ends its sessions and revokes its API tokens.
    async fn remove(&self, id: i32, removal: Removal) -> Result<(), AccountError> {
        let outcome = self.accounts.remove_keeping_an_admin(id, removal).await?;
        let email = match outcome {
            RemovalOutcome::Done(email) => email,
            RemovalOutcome::NotFound => return Err(AccountError::NotFound),
            RemovalOutcome::LastAdmin(email) => {
                let action = match removal {
                    Removal::Disable => "disabled",
                    Removal::Delete => "deleted",
                };
                return Err(AccountError::LastAdmin { email, action });
            }
        };
        self.end_sessions(id).await?;
        let revoked = self.tokens.revoke_for_account(id).await?;
        if revoked > 0 {
            tracing::info!(account = %email, revoked, "API tokens of the account revoked");
        }
        Ok(())
    }

    async fn end_sessions(&self, id: i32) -> Result<(), AccountError> {
        self.sessions.delete_for_user(id).await?;
        Ok(())
    }
}

impl AccountsService {
    pub async fn list_accounts(&self) -> Result<Vec<AccountSummary>, AccountError> {
        let accounts = self.accounts.list().await?;
        Ok(accounts.iter().map(StoredAccount::summary).collect())
    }

    pub async fn create_account(
        &self,
        actor: &CurrentUser,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<AccountSummary, AccountError> {
        let hash = hash_password(password).await?;
        match self.accounts.insert(email, &hash, role).await {
            Ok(account) => {
                tracing::info!(actor = %actor.email, account = %account.email, role = role.as_str(), "account created");
                Ok(account.summary())
            }
            Err(error) if is_unique_violation(&error) => {
                Err(AccountError::EmailTaken(email.to_owned()))
            }
            Err(error) => Err(error.into()),
        }
    }

    pub async fn set_account_disabled(
        &self,
        actor: &CurrentUser,
        id: i32,
        disabled: bool,
    ) -> Result<(), AccountError> {
        let target = self
            .target(actor, id, if disabled { "disable" } else { "enable" })
            .await?;
        if disabled {
            self.remove(id, Removal::Disable).await?;
        } else if !self.accounts.set_disabled(id, false).await? {
            return Err(AccountError::NotFound);
        }
        tracing::info!(actor = %actor.email, account = %target.email, disabled, "account status changed");
        Ok(())
    }

    pub async fn delete_account(&self, actor: &CurrentUser, id: i32) -> Result<(), AccountError> {
        let target = self.target(actor, id, "delete").await?;
        self.remove(id, Removal::Delete).await?;
        tracing::info!(actor = %actor.email, account = %target.email, "account deleted");
        Ok(())
    }

    pub async fn reset_password(
        &self,
        actor: &CurrentUser,
        id: i32,
        password: &str,
    ) -> Result<(), AccountError> {
        let target = self.target(actor, id, "reset the password of").await?;
        let hash = hash_password(password).await?;
        if !self.accounts.set_password_hash(id, &hash).await? {
            return Err(AccountError::NotFound);
        }
        self.end_sessions(id).await?;
        tracing::info!(actor = %actor.email, account = %target.email, "password reset");
        Ok(())
    }
}

fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
