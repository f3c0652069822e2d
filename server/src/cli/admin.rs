//! `patchbay admin list` and `patchbay admin reset-password EMAIL` (README "When the last
//! administrator's password is lost"): run on the server's machine, with its settings.

use crate::accounts::recovery::{Recovery, RecoveryError, RESET_LINK_TTL_SECS};
use crate::clock::unix_now;
use crate::config::{Config, ConfigError};
use crate::storage::accounts::AccountRepository;
use crate::storage::session_store::DbSessionStore;
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("storage failed: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Recovery(#[from] RecoveryError),
}

async fn accounts() -> Result<(Config, AccountRepository, sea_orm::DatabaseConnection), AdminError>
{
    let config = Config::from_env()?;
    let db = crate::storage::connect(&config.database_url).await?;
    Ok((config, AccountRepository::new(db.clone()), db))
}

/// Every account: e-mail, role, whether it may sign in.
pub async fn list() -> Result<String, AdminError> {
    let (_, accounts, _) = accounts().await?;
    let mut lines = vec![format!("{:<40} {:<6} state", "e-mail", "role")];
    for account in accounts.list().await? {
        lines.push(format!(
            "{:<40} {:<6} {}",
            account.email,
            account.role.as_str(),
            if account.disabled {
                "disabled"
            } else {
                "active"
            }
        ));
    }
    Ok(lines.join("\n"))
}

/// A one-time link to choose a new password for the account with `email`.
pub async fn reset_password(email: &str) -> Result<String, AdminError> {
    let (config, accounts, db) = accounts().await?;
    let recovery = Recovery {
        accounts,
        sessions: DbSessionStore::new(db),
    };
    let (path, account) = recovery.issue_link(email, unix_now()).await?;
    let disabled = if account.disabled {
        "\nThe account is disabled: an administrator must enable it before it can sign in."
    } else {
        ""
    };
    Ok(format!(
        "Open this one-time link to choose a new password for {} ({}); it works once, within {} minutes, and replaces any earlier link:\n\n    {}{path}\n{disabled}",
        account.email,
        account.role.as_str(),
        RESET_LINK_TTL_SECS / 60,
        config.public_url,
    ))
}
