//! A way back in when an administrator's password is lost (README "When the last
//! administrator's password is lost"): whoever can run `patchbay admin reset-password EMAIL`
//! on the server's machine (and so read its database and key anyway) gets a one-time link to
//! choose a new password, as first start prints a setup link. Only the link's SHA-256 is
//! stored; it works once, within [`RESET_LINK_TTL_SECS`]; using it ends the account's
//! sessions.

use app::accounts::{check_new_password, normalize_email};

use crate::accounts::password::{hash_password, PasswordError};
use crate::crypto::{fingerprint, random_token};
use crate::storage::accounts::{AccountRepository, StoredAccount};
use crate::storage::session_store::DbSessionStore;

/// How long a reset link works.
pub const RESET_LINK_TTL_SECS: i64 = 3_600;
/// The page a reset link opens, and where its form posts.
pub const RESET_PATH: &str = "/reset-password";

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("no account has the e-mail address {0} (patchbay admin list shows them)")]
    NoAccount(String),
    #[error("storage failed: {0}")]
    Storage(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Password(#[from] PasswordError),
}

/// What using a reset link did.
#[derive(Debug, PartialEq, Eq)]
pub enum ResetOutcome {
    /// The password is set and the account's sessions ended.
    PasswordSet { account_id: i32 },
    /// The link was never issued, was used, or expired: nothing changed.
    BadLink,
    /// The new password is refused (too short or too long): nothing changed, the link still works.
    WeakPassword(String),
}

pub struct Recovery {
    pub accounts: AccountRepository,
    pub sessions: DbSessionStore,
}

impl Recovery {
    /// A new link for the account with `email` (replacing any earlier one): answers the
    /// path with its token, and the account.
    pub async fn issue_link(
        &self,
        email: &str,
        now: i64,
    ) -> Result<(String, StoredAccount), RecoveryError> {
        let normalized =
            normalize_email(email).map_err(|_| RecoveryError::NoAccount(email.to_owned()))?;
        let account = self
            .accounts
            .find_by_email(&normalized)
            .await?
            .ok_or_else(|| RecoveryError::NoAccount(email.to_owned()))?;
        let token = random_token();
        self.accounts
            .put_reset(account.id, &fingerprint(&token), now + RESET_LINK_TTL_SECS)
            .await?;
        Ok((format!("{RESET_PATH}?token={token}"), account))
    }

    /// Sets the password the link's account chose, once.
    pub async fn reset(
        &self,
        token: &str,
        password: &str,
        now: i64,
    ) -> Result<ResetOutcome, RecoveryError> {
        let hashed = fingerprint(token);
        if self.accounts.reset_for(&hashed, now).await?.is_none() {
            return Ok(ResetOutcome::BadLink);
        }
        if let Err(refused) = check_new_password(password) {
            return Ok(ResetOutcome::WeakPassword(refused.to_string()));
        }
        let password_hash = hash_password(password).await?;
        let Some(account_id) = self
            .accounts
            .redeem_reset(&hashed, now, &password_hash)
            .await?
        else {
            return Ok(ResetOutcome::BadLink);
        };
        self.sessions.delete_for_user(account_id).await?;
        Ok(ResetOutcome::PasswordSet { account_id })
    }
}
