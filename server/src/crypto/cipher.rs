//! Secrets at rest (SECURITY.md "Stored secrets"): AES-256-GCM with a fresh random 96-bit
//! nonce per value, and the owner and field of the value as associated data, so a ciphertext
//! copied to another row or field does not decrypt.
//!
//! Stored form: `pb1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`. The key id (eight hex
//! digits of a SHA-256 of the key) names the key that encrypted the value, so a value
//! encrypted under a previous key is still read during a rotation (`patchbay secrets
//! rotate`) and the rotation knows what is left to do.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, KeyInit};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::keys::EncryptionKey;

const FORMAT: &str = "pb1";
const NONCE_BYTES: usize = 12;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    #[error("the stored secret is not in Patchbay's encrypted form")]
    Malformed,
    #[error("the stored secret was encrypted under key {0}, which is not configured (PATCHBAY_ENCRYPTION_KEY, PATCHBAY_PREVIOUS_ENCRYPTION_KEYS)")]
    UnknownKey(String),
    #[error("the stored secret does not decrypt: it was altered, or belongs to another record")]
    Rejected,
    #[error("the secret is too long to encrypt")]
    TooLong,
}

/// What a secret belongs to; bound into its ciphertext as associated data.
#[derive(Clone, Copy, Debug)]
pub struct SecretContext<'a> {
    /// The owning record, e.g. `integration:12`.
    pub owner: &'a str,
    /// The value's name within the owner, e.g. `client_secret`.
    pub field: &'a str,
}

impl SecretContext<'_> {
    fn associated_data(&self) -> Vec<u8> {
        format!("patchbay/{}/{}", self.owner, self.field).into_bytes()
    }
}

struct Keyed {
    id: String,
    cipher: Aes256Gcm,
}

impl Keyed {
    fn new(key: &EncryptionKey) -> Keyed {
        Keyed {
            id: key_id(key),
            cipher: Aes256Gcm::new((&key.0).into()),
        }
    }
}

/// The eight hex digits that name a key in stored values. Not a secret: a hash of the key
/// under a fixed label, too short to help a guess at it.
pub fn key_id(key: &EncryptionKey) -> String {
    let digest = Sha256::new()
        .chain_update(b"patchbay key id\0")
        .chain_update(key.0)
        .finalize();
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// Encrypts under the current key; decrypts under the current or a previous one.
pub struct SecretCipher {
    current: Keyed,
    previous: Vec<Keyed>,
}

impl std::fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretCipher")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl SecretCipher {
    pub fn new(current: &EncryptionKey, previous: &[EncryptionKey]) -> SecretCipher {
        SecretCipher {
            current: Keyed::new(current),
            previous: previous.iter().map(Keyed::new).collect(),
        }
    }

    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    pub fn encrypt(
        &self,
        plaintext: &str,
        context: SecretContext<'_>,
    ) -> Result<String, CipherError> {
        let nonce = Aes256Gcm::generate_nonce(&mut aes_gcm::aead::OsRng);
        let aad = context.associated_data();
        // Encryption fails only for inputs beyond AES-GCM's 64 GiB limit.
        let sealed = self
            .current
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| CipherError::TooLong)?;
        let mut bytes = Vec::with_capacity(NONCE_BYTES + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(format!(
            "{FORMAT}:{}:{}",
            self.current.id,
            BASE64.encode(bytes)
        ))
    }

    pub fn decrypt(
        &self,
        stored: &str,
        context: SecretContext<'_>,
    ) -> Result<Zeroizing<String>, CipherError> {
        let (id, data) = split(stored)?;
        let keyed = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| CipherError::UnknownKey(id.to_owned()))?;
        let bytes = BASE64.decode(data).map_err(|_| CipherError::Malformed)?;
        if bytes.len() < NONCE_BYTES {
            return Err(CipherError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let aad = context.associated_data();
        let plain = keyed
            .cipher
            .decrypt(
                nonce.into(),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| CipherError::Rejected)?;
        String::from_utf8(plain)
            .map(Zeroizing::new)
            .map_err(|_| CipherError::Rejected)
    }

    /// Whether `stored` is already under the current key (a rotation skips it).
    pub fn is_current(&self, stored: &str) -> bool {
        split(stored).is_ok_and(|(id, _)| id == self.current.id)
    }
}

fn split(stored: &str) -> Result<(&str, &str), CipherError> {
    let mut parts = stored.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(FORMAT), Some(id), Some(data)) => Ok((id, data)),
        _ => Err(CipherError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> EncryptionKey {
        EncryptionKey([byte; 32])
    }

    const HERE: SecretContext<'static> = SecretContext {
        owner: "integration:1",
        field: "client_secret",
    };

    #[test]
    fn a_secret_round_trips_and_each_encryption_differs() {
        let cipher = SecretCipher::new(&key(1), &[]);
        let first = cipher.encrypt("s3cret", HERE).unwrap();
        let second = cipher.encrypt("s3cret", HERE).unwrap();
        assert_ne!(first, second, "a fresh nonce per value");
        assert!(!first.contains("s3cret"));
        assert!(first.starts_with(&format!("pb1:{}:", cipher.current_key_id())));
        assert_eq!(cipher.decrypt(&first, HERE).unwrap().as_str(), "s3cret");
    }

    #[test]
    fn a_ciphertext_moved_to_another_owner_or_field_is_refused() {
        let cipher = SecretCipher::new(&key(1), &[]);
        let stored = cipher.encrypt("s3cret", HERE).unwrap();
        let other_owner = SecretContext {
            owner: "integration:2",
            ..HERE
        };
        let other_field = SecretContext {
            field: "access_token",
            ..HERE
        };
        assert_eq!(
            cipher.decrypt(&stored, other_owner),
            Err(CipherError::Rejected)
        );
        assert_eq!(
            cipher.decrypt(&stored, other_field),
            Err(CipherError::Rejected)
        );
    }

    #[test]
    fn a_tampered_value_or_an_unknown_key_is_refused() {
        let cipher = SecretCipher::new(&key(1), &[]);
        let stored = cipher.encrypt("s3cret", HERE).unwrap();
        let mut bytes = BASE64.decode(stored.rsplit(':').next().unwrap()).unwrap();
        bytes[NONCE_BYTES] ^= 1;
        let tampered = format!("pb1:{}:{}", cipher.current_key_id(), BASE64.encode(bytes));
        assert_eq!(cipher.decrypt(&tampered, HERE), Err(CipherError::Rejected));
        let stranger = SecretCipher::new(&key(2), &[]);
        assert!(matches!(
            stranger.decrypt(&stored, HERE),
            Err(CipherError::UnknownKey(_))
        ));
        assert_eq!(
            cipher.decrypt("plain text", HERE),
            Err(CipherError::Malformed)
        );
    }

    #[test]
    fn a_previous_key_still_decrypts_and_is_not_current() {
        let old = SecretCipher::new(&key(1), &[]);
        let stored = old.encrypt("s3cret", HERE).unwrap();
        let rotated = SecretCipher::new(&key(2), &[key(1)]);
        assert!(!rotated.is_current(&stored));
        assert_eq!(rotated.decrypt(&stored, HERE).unwrap().as_str(), "s3cret");
        assert!(rotated.is_current(&rotated.encrypt("s3cret", HERE).unwrap()));
    }
}
