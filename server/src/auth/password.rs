//! argon2id password hashes. Hashing is deliberately slow, so it runs off the async threads.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("the hashing task failed: {0}")]
    Task(String),
}

/// argon2id with the crate's defaults (19 MiB, 2 passes), OWASP's minimum recommendation.
pub async fn hash_password(password: &str) -> Result<String, PasswordError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| PasswordError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| PasswordError::Task(e.to_string()))?
}

/// Verifies `password` against `stored_hash`. Without a stored hash (unknown account) a
/// dummy hash is verified instead, so the answer takes as long either way and does not
/// reveal which e-mail addresses have accounts.
pub async fn verify_password(password: &str, stored_hash: Option<&str>) -> bool {
    let password = password.to_string();
    let stored = stored_hash.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let hash_text = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        let Ok(hash) = PasswordHash::new(&hash_text) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok();
        ok && hash_text != DUMMY_HASH
    })
    .await
    .unwrap_or(false)
}

/// The hash of a random password nobody knows, with the same parameters as real hashes.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7bTVIZv8G+pfMOTe8s5p8ZRgSaHOgCo0u8C6Cq9wuhc";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse battery"));
        assert!(verify_password("correct horse battery", Some(&hash)).await);
        assert!(!verify_password("wrong horse battery", Some(&hash)).await);
    }

    #[tokio::test]
    async fn unknown_accounts_and_garbage_hashes_never_verify() {
        assert!(!verify_password("anything", None).await);
        assert!(!verify_password("anything", Some("not a hash")).await);
    }

    #[test]
    fn the_dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
