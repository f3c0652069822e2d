//! The encryption key of stored secrets: 32 bytes for AES-256-GCM, never shown. Where it
//! comes from (the environment, the key file) is the configuration's business
//! (`config`); what it encrypts is `cipher`'s.

/// 32 bytes for AES-256-GCM. Its `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptionKey(pub [u8; 32]);

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey(<redacted>)")
    }
}

/// A fresh random key.
pub fn generate_key() -> EncryptionKey {
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    EncryptionKey(key)
}
