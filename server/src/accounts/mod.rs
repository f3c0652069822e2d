//! Accounts and who may sign in: account management with its stored-state rules
//! (`service`), API tokens (`api_tokens`), argon2id hashes and the verify gate (`password`),
//! sign-in throttling (`throttle`), the first administrator (`bootstrap`) and the way back in
//! when a password is lost (`recovery`).

pub mod api_tokens;
pub mod bootstrap;
pub mod password;
pub mod recovery;
pub mod service;
pub mod throttle;

/// The session field that names the signed-in account (the session store reads it to end
/// an account's sessions).
pub use crate::storage::session_store::USER_ID_KEY as SESSION_ACCOUNT_KEY;
