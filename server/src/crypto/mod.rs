//! Small cryptographic helpers every layer may use: random tokens, constant-time comparison,
//! (`keys`) the encryption key, and (`cipher`) the AES-256-GCM encryption of stored secrets.
//! No I/O, no HTTP, no storage.

pub mod anonymous_csrf;
pub mod cipher;
pub mod keys;
pub mod links;

/// A random token for CSRF and setup links: 32 bytes, URL-safe base64.
pub fn random_token() -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    URL_SAFE_NO_PAD.encode(random_bytes(32))
}

/// `length` bytes from the operating system's random source.
pub fn random_bytes(length: usize) -> Vec<u8> {
    use rand::RngCore;
    let mut bytes = vec![0u8; length];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// Compares two secrets in time independent of where they differ.
pub fn secrets_match(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// SHA-256 of `text`, lowercase hex: what is stored of a value only its holder may present
/// (an OAuth state, the session that started it).
pub fn fingerprint(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
