//! CSRF tokens for visitors who have not signed in, without storing anything (the cookie
//! that carries them is `web::middleware::viewer`'s).
//!
//! The sign-in and setup forms need a token before there is a session. Storing a session
//! for every anonymous `GET /login` let anyone fill the sessions table, so an anonymous
//! visitor gets a signed token in a cookie instead (a signed double-submit cookie): the
//! form carries the same token, and the server checks that both agree and that the token
//! carries its own signature. Signed-in sessions keep their token in the session.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::keys::EncryptionKey;

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks anonymous CSRF tokens with a key derived from the encryption key, so
/// tokens survive restarts and are shared by every instance with the same key.
#[derive(Clone)]
pub struct AnonymousCsrf {
    key: [u8; 32],
}

impl std::fmt::Debug for AnonymousCsrf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnonymousCsrf(<key redacted>)")
    }
}

impl AnonymousCsrf {
    pub fn new(encryption_key: &EncryptionKey) -> Self {
        // A separate key per purpose: a signature made here is worth nothing elsewhere.
        let mut derive = HmacSha256::new_from_slice(&encryption_key.0).expect("any key length");
        derive.update(b"patchbay anonymous csrf v1");
        AnonymousCsrf {
            key: derive.finalize().into_bytes().into(),
        }
    }

    fn signature(&self, nonce: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length");
        mac.update(nonce.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A fresh token: a random nonce and its signature.
    pub fn issue(&self) -> String {
        let nonce = super::random_token();
        let signature = self.signature(&nonce);
        format!("{nonce}.{signature}")
    }

    /// Whether `token` was issued by [`AnonymousCsrf::issue`] with this key.
    pub fn is_genuine(&self, token: &str) -> bool {
        let Some((nonce, signature)) = token.split_once('.') else {
            return false;
        };
        nonce.len() == 43 && super::secrets_match(signature, &self.signature(nonce))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_are_genuine_and_forged_ones_are_not() {
        let signer = AnonymousCsrf::new(&EncryptionKey([7; 32]));
        let token = signer.issue();
        assert!(signer.is_genuine(&token));
        assert_ne!(token, signer.issue(), "each token is new");
        let (nonce, _) = token.split_once('.').unwrap();
        assert!(!signer.is_genuine(&format!("{nonce}.forged")));
        assert!(!signer.is_genuine(nonce));
        assert!(!signer.is_genuine(""));
        let other_key = AnonymousCsrf::new(&EncryptionKey([8; 32]));
        assert!(!other_key.is_genuine(&token));
    }
}
