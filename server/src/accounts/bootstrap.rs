//! The first administrator: from configuration, or through a one-time setup link.

use std::sync::Mutex;

use app::accounts::{check_new_password, normalize_email, Role};

use crate::accounts::password::hash_password;
use crate::crypto::{random_token, secrets_match};
use crate::storage::accounts::{AccountRepository, StoredAccount};

/// The first administrator named by the configuration (`PATCHBAY_ADMIN_EMAIL`,
/// `PATCHBAY_ADMIN_PASSWORD`).
#[derive(Clone)]
pub struct InitialAdmin {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for InitialAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitialAdmin")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(
        "the initial admin from PATCHBAY_ADMIN_EMAIL / PATCHBAY_ADMIN_PASSWORD is not valid: {0}"
    )]
    InvalidAdmin(String),
    #[error("cannot create the initial admin: {0}")]
    Storage(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Password(#[from] crate::accounts::password::PasswordError),
}

/// What start-up did about the first administrator.
#[derive(Debug, PartialEq, Eq)]
pub enum BootstrapOutcome {
    AdminExists,
    CreatedFromConfig(String),
    /// No admin yet: the path (with token) of the one-time setup page.
    SetupLink(String),
}

/// The one-time setup token, held in memory: a restart prints a new link.
#[derive(Default)]
pub struct SetupToken(Mutex<Option<String>>);

impl SetupToken {
    fn issue(&self) -> String {
        let token = random_token();
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
        token
    }

    /// Takes the token if `given` matches it, so it works once.
    pub fn redeem(&self, given: &str) -> bool {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_deref() {
            Some(expected) if secrets_match(given, expected) => {
                *slot = None;
                true
            }
            _ => false,
        }
    }

    /// Puts a redeemed token back (the form it came with was invalid).
    pub fn restore(&self, token: &str) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.to_string());
    }
}

pub async fn ensure_admin(
    accounts: &AccountRepository,
    initial: Option<&InitialAdmin>,
    setup: &SetupToken,
) -> Result<BootstrapOutcome, BootstrapError> {
    if accounts.count_active_admins().await? > 0 {
        return Ok(BootstrapOutcome::AdminExists);
    }
    match initial {
        Some(admin) => {
            let created = create_admin(accounts, &admin.email, &admin.password)
                .await?
                .map_err(BootstrapError::InvalidAdmin)?;
            Ok(BootstrapOutcome::CreatedFromConfig(created.email))
        }
        None => Ok(BootstrapOutcome::SetupLink(format!(
            "/setup?token={}",
            setup.issue()
        ))),
    }
}

/// Creates an administrator; the inner error is a message for the person setting up.
pub async fn create_admin(
    accounts: &AccountRepository,
    email: &str,
    password: &str,
) -> Result<Result<StoredAccount, String>, BootstrapError> {
    let email = match normalize_email(email) {
        Ok(email) => email,
        Err(error) => return Ok(Err(error.to_string())),
    };
    if let Err(error) = check_new_password(password) {
        return Ok(Err(error.to_string()));
    }
    let hash = hash_password(password).await?;
    Ok(Ok(accounts.insert(&email, &hash, Role::Admin).await?))
}
