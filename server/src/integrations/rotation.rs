//! `patchbay secrets rotate` (SECURITY.md "Key rotation"): every stored secret not under
//! the current key is decrypted with the previous key that sealed it and sealed again under
//! the current one, in batches. Each value is replaced only if it is still what was read,
//! so a connect running at the same time wins; an interrupted run is finished by running
//! it again.

use crate::crypto::cipher::{CipherError, SecretCipher, SecretContext};
use crate::storage::integrations::IntegrationRepository;

/// Secrets read per batch.
pub const ROTATION_BATCH: u64 = 100;

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("secret {name} of integration {integration_id}: {source}")]
    Secret {
        integration_id: i32,
        name: String,
        source: CipherError,
    },
    #[error("storage failed: {0}")]
    Storage(#[from] sea_orm::DbErr),
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    pub reencrypted: u64,
    /// Secrets under the current key when the run ended (all of them, after a full run).
    pub current: u64,
}

pub async fn rotate(
    integrations: &IntegrationRepository,
    cipher: &SecretCipher,
) -> Result<RotationReport, RotationError> {
    let mut report = RotationReport::default();
    loop {
        let batch = integrations
            .secrets_not_under(cipher.current_key_id(), ROTATION_BATCH)
            .await?;
        if batch.is_empty() {
            break;
        }
        let mut progressed = false;
        for item in batch {
            let owner = super::service::secret_owner(item.template_id);
            let context = SecretContext {
                owner: &owner,
                field: &item.secret.name,
            };
            let fail = |source| RotationError::Secret {
                integration_id: item.integration_id,
                name: item.secret.name.clone(),
                source,
            };
            let plain = cipher
                .decrypt(&item.secret.ciphertext, context)
                .map_err(fail)?;
            let sealed = cipher.encrypt(&plain, context).map_err(fail)?;
            if integrations
                .reencrypt_secret(
                    item.integration_id,
                    &item.secret.name,
                    &item.secret.ciphertext,
                    &sealed,
                    cipher.current_key_id(),
                )
                .await?
            {
                report.reencrypted += 1;
            }
            progressed = true;
        }
        if !progressed {
            break;
        }
    }
    report.current = integrations
        .count_by_key()
        .await?
        .get(cipher.current_key_id())
        .copied()
        .unwrap_or(0);
    Ok(report)
}
