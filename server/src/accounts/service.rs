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

/// An API token that authenticated, with the account it acts as.
pub struct TokenViewer {
    pub user: CurrentUser,
    pub token_id: i32,
    pub scope: app::accounts::TokenScope,
}

impl AccountsService {
    /// The account a sign-in names (its password hash to verify), if any.
    pub async fn sign_in_candidate(
        &self,
        email: &str,
    ) -> Result<Option<StoredAccount>, AccountError> {
        Ok(self.accounts.find_by_email(email).await?)
    }

    /// The signed-in user behind account `id`, as the account is now: none when it was
    /// deleted or disabled since.
    pub async fn active_user(&self, id: i32) -> Result<Option<CurrentUser>, AccountError> {
        Ok(self.accounts.active_user(id).await?)
    }

    /// Who an API token acts as: its account as that account is now; none for a token
    /// that is unknown, expired or revoked, or whose account is disabled or gone.
    pub async fn token_viewer(&self, token: &str) -> Result<Option<TokenViewer>, AccountError> {
        let Some(holder) = self.tokens.authenticate(token).await? else {
            return Ok(None);
        };
        Ok(self
            .active_user(holder.account_id)
            .await?
            .map(|user| TokenViewer {
                user,
                token_id: holder.token.id,
                scope: holder.token.scope,
            }))
    }

    /// The first administrator, through the setup link: `Ok(Err(why))` when the e-mail or
    /// password is refused.
    pub async fn create_first_admin(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Result<StoredAccount, String>, crate::accounts::bootstrap::BootstrapError> {
        crate::accounts::bootstrap::create_admin(&self.accounts, email, password).await
    }

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
