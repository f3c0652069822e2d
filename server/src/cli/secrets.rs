//! `patchbay secrets rotate` (SECURITY.md "Key rotation").
//!
//! - With the key in `PATCHBAY_ENCRYPTION_KEY`: the operator sets the new key there and the
//!   old one in `PATCHBAY_PREVIOUS_ENCRYPTION_KEYS`, restarts the servers (they read both),
//!   then runs this to re-encrypt every secret under the new key.
//! - With the key file in the data directory: this makes a new key, writes it first into the
//!   key file with the old one after it (so an interruption loses nothing: running again
//!   carries on with the same keys), re-encrypts, and then leaves only the new key in the
//!   file. Running servers must be restarted to read it.

use crate::config::{write_key_file, Config, ConfigError, KeySource};
use crate::crypto::cipher::{key_id, SecretCipher};
use crate::crypto::keys::generate_key;
use crate::integrations::rotation::{rotate, RotationError, RotationReport};
use crate::storage::integrations::IntegrationRepository;
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Rotation(#[from] RotationError),
    #[error("the phone system's secrets: {0}")]
    PhoneSystem(#[from] crate::phone_system::service::PhoneSystemError),
}

/// What a rotation did, for the operator.
#[derive(Debug)]
pub struct RotationSummary {
    pub key_id: String,
    pub report: RotationReport,
    pub key_source: KeySource,
    /// The key file was rewritten with a new key (running servers need a restart).
    pub new_key_written: bool,
}

impl std::fmt::Display for RotationSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Re-encrypted {} secret(s); {} secret(s) are now under key {}.",
            self.report.reencrypted, self.report.current, self.key_id
        )?;
        match self.key_source {
            KeySource::Environment => write!(
                f,
                "Every secret is under PATCHBAY_ENCRYPTION_KEY; PATCHBAY_PREVIOUS_ENCRYPTION_KEYS may be removed."
            ),
            KeySource::ConfigFile => write!(
                f,
                "Every secret is under the configuration file's encryption_key; previous_encryption_keys may be removed."
            ),
            _ if self.new_key_written => write!(
                f,
                "The key file holds only the new key. Restart running servers so they read it."
            ),
            _ => write!(f, "The key file holds only the current key."),
        }
    }
}

pub async fn rotate_secrets(config: &Config) -> Result<RotationSummary, SecretsError> {
    let (current, previous, new_key_written) = match config.key_source {
        KeySource::Environment | KeySource::ConfigFile => (
            config.encryption_key.clone(),
            config.previous_keys.clone(),
            false,
        ),
        KeySource::KeyFile | KeySource::Generated if !config.previous_keys.is_empty() => {
            // An earlier run was interrupted: finish it with the keys it wrote.
            (
                config.encryption_key.clone(),
                config.previous_keys.clone(),
                true,
            )
        }
        KeySource::KeyFile | KeySource::Generated => {
            let new = generate_key();
            let old = vec![config.encryption_key.clone()];
            write_key_file(&config.data_dir, &new, &old)?;
            (new, old, true)
        }
    };
    let cipher = SecretCipher::new(&current, &previous);
    let db = crate::storage::connect(&config.database_url).await?;
    let mut report = rotate(&IntegrationRepository::new(db.clone()), &cipher).await?;
    report.reencrypted += crate::phone_system::service::rotate_secrets(
        &crate::storage::phone_system::PhoneSystemRepository::new(db),
        &cipher,
    )
    .await?;
    if matches!(config.key_source, KeySource::KeyFile | KeySource::Generated) {
        write_key_file(&config.data_dir, &current, &[])?;
    }
    Ok(RotationSummary {
        key_id: key_id(&current),
        report,
        key_source: config.key_source,
        new_key_written,
    })
}
