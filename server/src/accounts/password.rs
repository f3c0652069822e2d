//! argon2id password hashes. Hashing is deliberately slow, so it runs off the async threads.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// argon2 verifies that may run at once. Each holds 19 MiB for its whole run; without a
/// cap, a flood of sign-ins took hundreds of megabytes and every blocking thread.
pub const MAX_CONCURRENT_VERIFIES: usize = 2;
/// Sign-ins that may wait for a verify slot; the next one is told the server is busy.
pub const MAX_WAITING_VERIFIES: usize = 32;

/// The server is already verifying as many passwords as it allows, with a full queue.
#[derive(Debug, thiserror::Error)]
#[error("too many sign-ins are being checked at once")]
pub struct VerifierBusy;

/// Admits password verifies: [`MAX_CONCURRENT_VERIFIES`] at a time, [`MAX_WAITING_VERIFIES`]
/// queued behind them, the rest refused.
pub struct VerifyGate {
    slots: tokio::sync::Semaphore,
    waiting: AtomicUsize,
    running: AtomicUsize,
    peak_running: AtomicUsize,
}

impl Default for VerifyGate {
    fn default() -> Self {
        VerifyGate {
            slots: tokio::sync::Semaphore::new(MAX_CONCURRENT_VERIFIES),
            waiting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            peak_running: AtomicUsize::new(0),
        }
    }
}

impl VerifyGate {
    /// [`verify_password`] once a slot is free.
    pub async fn verify(
        &self,
        password: &str,
        stored_hash: Option<&str>,
    ) -> Result<bool, VerifierBusy> {
        let waiting = Counted::enter(&self.waiting);
        if waiting.was >= MAX_WAITING_VERIFIES {
            return Err(VerifierBusy);
        }
        let Ok(_slot) = self.slots.acquire().await else {
            return Err(VerifierBusy);
        };
        drop(waiting);
        let running = Counted::enter(&self.running);
        self.peak_running
            .fetch_max(running.was + 1, Ordering::SeqCst);
        tracing::debug!(running = running.was + 1, "password verify started");
        Ok(verify_password(password, stored_hash).await)
    }

    /// The most verifies that have run at once since start, for tests and diagnostics.
    pub fn peak_running(&self) -> usize {
        self.peak_running.load(Ordering::SeqCst)
    }
}

/// One more in a counter until dropped, so a sign-in whose client goes away while it waits
/// (its future dropped mid-way) is not counted for ever.
struct Counted<'a> {
    counter: &'a AtomicUsize,
    /// The count before this one entered.
    was: usize,
}

impl<'a> Counted<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        let was = counter.fetch_add(1, Ordering::SeqCst);
        Counted { counter, was }
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Verifies `password` against `stored_hash`. Without a stored hash (unknown account) a
/// dummy hash is verified instead, so the answer takes as long either way and does not
/// reveal which e-mail addresses have accounts. Sign-in goes through [`VerifyGate`].
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_gate_runs_two_verifies_at_once_and_refuses_past_its_queue() {
        let gate = std::sync::Arc::new(VerifyGate::default());
        let attempts: Vec<_> = (0..60)
            .map(|_| {
                let gate = gate.clone();
                tokio::spawn(async move { gate.verify("wrong password", None).await })
            })
            .collect();
        let mut refused = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(ok) => assert!(!ok),
                Err(VerifierBusy) => refused += 1,
            }
        }
        assert_eq!(gate.peak_running(), MAX_CONCURRENT_VERIFIES);
        // 60 arrive within microseconds while one verify takes milliseconds.
        assert!(refused > 0, "a full queue refuses");
    }

    #[tokio::test]
    async fn a_sign_in_abandoned_while_waiting_frees_its_place() {
        let gate = VerifyGate::default();
        let _held: Vec<_> = (0..MAX_CONCURRENT_VERIFIES)
            .map(|_| gate.slots.try_acquire().unwrap())
            .collect();
        for _ in 0..MAX_WAITING_VERIFIES * 2 {
            let waiting = gate.verify("wrong password", None);
            // Polled once (queued behind the held slots), then dropped.
            let _ = tokio::time::timeout(std::time::Duration::from_millis(1), waiting).await;
        }
        assert_eq!(gate.waiting.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn the_dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
