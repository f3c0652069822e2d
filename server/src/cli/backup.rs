//! `patchbay backup FILE` and `patchbay restore FILE` (README "Backup and restore"): the
//! SQLite database copied while the server runs, and copied back into a new data directory,
//! with the one thing a backup cannot hold said loudly: the encryption key its secrets need.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::{Config, ConfigError, KeySource, KEY_FILE_NAME};
use crate::crypto::cipher::key_id;
use crate::storage::backup::{self, BackupError, Snapshot};
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum BackupCommandError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error("the backup's secrets are encrypted with {} that this configuration does not have ({}; it has {configured}): set PATCHBAY_ENCRYPTION_KEY to the key the backup was made with (or put it in PATCHBAY_PREVIOUS_ENCRYPTION_KEYS), or copy that key's {KEY_FILE_NAME} into the data directory; nothing was restored", if .missing.len() == 1 { "a key" } else { "keys" }, .missing.join(", "))]
    KeyMissing {
        missing: Vec<String>,
        configured: String,
    },
}

/// `patchbay backup FILE`: answers the report printed for the operator.
pub async fn back_up(to: &Path) -> Result<String, BackupCommandError> {
    let config = Config::from_env()?;
    if backup::sqlite_path(&config.database_url).is_none() {
        return Err(BackupError::NotSqlite(config.database_url.clone()).into());
    }
    let db = crate::storage::connect(&config.database_url).await?;
    let snapshot = backup::back_up(&db, &config.database_url, to).await?;
    let _ = db.close().await;
    Ok(format!(
        "Backed up the database to {} ({}).\n{}",
        to.display(),
        summary(&snapshot),
        key_warning(&config, &snapshot.secrets_by_key)
    ))
}

/// `patchbay restore FILE`: into the database the configuration names, which must not exist
/// yet, and only when the configured keys can read the backup's secrets.
pub async fn restore(from: &Path) -> Result<String, BackupCommandError> {
    let config = Config::from_env()?;
    let configured: Vec<String> = std::iter::once(&config.encryption_key)
        .chain(&config.previous_keys)
        .map(key_id)
        .collect();
    let restored = match backup::restore(from, &config.database_url, &configured).await {
        Ok(restored) => restored,
        // The database is there already: a key in its data directory is not this command's.
        Err(error @ BackupError::TargetExists(_)) => return Err(error.into()),
        Err(error) => {
            forget_generated_key(&config);
            return Err(match error {
                BackupError::KeysMissing(missing) => BackupCommandError::KeyMissing {
                    missing,
                    configured: configured.join(", "),
                },
                other => other.into(),
            });
        }
    };
    let target = backup::sqlite_path(&config.database_url).unwrap_or_default();
    let generated = if config.key_source == KeySource::Generated {
        format!(
            "\nThe backup holds no secrets; a new encryption key was generated into {}: keep a copy of it.",
            config.data_dir.join(KEY_FILE_NAME).display()
        )
    } else {
        String::new()
    };
    let released = match restored.released_jobs {
        0 => String::new(),
        n => format!(
            "\n{n} queue job(s) were running when the backup was taken: they go back to the queue and run again (Activity flags them as possibly sent twice)."
        ),
    };
    Ok(format!(
        "Restored {} into {} ({}).{released}\nStart `patchbay serve` with this configuration: it brings the schema up to date.{generated}",
        from.display(),
        target.display(),
        summary(&restored),
    ))
}

fn summary(snapshot: &Snapshot) -> String {
    let rows: Vec<String> = snapshot
        .rows
        .iter()
        .map(|(what, count)| format!("{count} {what}"))
        .collect();
    format!(
        "{} bytes, schema {}: {}",
        snapshot.bytes,
        snapshot.schema,
        rows.join(", ")
    )
}

/// The backup is useless without the key its secrets are sealed with, and the key with the
/// backup gives the secrets away: said every time.
fn key_warning(config: &Config, secrets_by_key: &BTreeMap<String, u64>) -> String {
    let current = key_id(&config.encryption_key);
    let source = match config.key_source {
        KeySource::Environment => "PATCHBAY_ENCRYPTION_KEY".to_owned(),
        KeySource::ConfigFile => "the configuration file's encryption_key".to_owned(),
        KeySource::KeyFile | KeySource::Generated => {
            config.data_dir.join(KEY_FILE_NAME).display().to_string()
        }
    };
    let secrets: u64 = secrets_by_key.values().sum();
    let ids: Vec<&str> = secrets_by_key.keys().map(String::as_str).collect();
    let sealed = if secrets == 0 {
        "It holds no stored secrets yet".to_owned()
    } else {
        format!(
            "Its {secrets} stored secret(s) are encrypted with key {}",
            ids.join(", ")
        )
    };
    format!(
        "KEEP THE ENCRYPTION KEY: {sealed}; this server's key is {current} (from {source}). \
         Without the key the backup's secrets cannot be read, and with it anyone holding the \
         backup can read them: keep a copy of the key apart from the backups (a password \
         manager, or another machine)."
    )
}

/// A key the configuration generated into an empty data directory for this command only
/// (the restore did not happen): removed, so it is not mistaken for the backup's key.
fn forget_generated_key(config: &Config) {
    if config.key_source == KeySource::Generated {
        let _ = std::fs::remove_file(config.data_dir.join(KEY_FILE_NAME));
    }
}
