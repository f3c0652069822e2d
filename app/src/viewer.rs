//! Who is looking at the page, and the token their state-changing requests must carry.
//!
//! The server decides this per request (from the session cookie) and writes it into the
//! page head; the browser reads it back from there when it hydrates, so both render the
//! same navigation and forms without an extra round trip.
//!
//! The token a page carries is the session's token masked afresh for each response
//! ([`mask_csrf_token`]), as Django and Rails do: pages are compressed, and a page that
//! carried the same secret every time next to text a visitor can make it reflect would let
//! an observer of the compressed sizes read the secret byte by byte (BREACH). The raw token
//! stays on the server ([`SessionCsrfToken`]).

use serde::{Deserialize, Serialize};

use crate::accounts::CurrentUser;

/// Name of the `<meta>` element that carries the viewer to the browser.
pub const VIEWER_META_NAME: &str = "patchbay-viewer";
/// Name of the form field (and `x-csrf-token` header) that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// The header that carries the CSRF token on the page's own REST calls.
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user: Option<CurrentUser>,
    /// The token this page's requests carry: the session's, masked for this response.
    pub csrf_token: String,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(CurrentUser::is_admin)
    }

    /// The viewer of the request being handled (server) or of the loaded page (browser).
    pub fn current() -> Viewer {
        #[cfg(feature = "ssr")]
        {
            Self::from_request()
        }
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        {
            Self::from_document()
        }
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        {
            Viewer::default()
        }
    }

    #[cfg(feature = "ssr")]
    pub fn from_request() -> Viewer {
        request_extension()
    }

    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    fn from_document() -> Viewer {
        let selector = format!("meta[name=\"{VIEWER_META_NAME}\"]");
        leptos::prelude::document()
            .query_selector(&selector)
            .ok()
            .flatten()
            .and_then(|meta| meta.get_attribute("content"))
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default()
    }

    pub fn to_meta_content(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The session's own CSRF token, unmasked: what a request's token is checked against and
/// what binds an OAuth 2.0 authorization to the session. A request extension the server sets
/// beside the [`Viewer`], whose token is this one masked; never written into a page.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionCsrfToken(pub String);

#[cfg(feature = "ssr")]
impl SessionCsrfToken {
    /// The token of the request being handled (empty without a session or a form).
    pub fn from_request() -> SessionCsrfToken {
        request_extension()
    }
}

/// What the server's middleware put into the request being handled (the default outside a
/// request or when it put none).
#[cfg(feature = "ssr")]
fn request_extension<T: Clone + Default + Send + Sync + 'static>() -> T {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<T>().cloned())
        .unwrap_or_default()
}

/// `token` masked with `pad` (random bytes, as many as the token has): the pad, then the
/// token's bytes XOR the pad, in URL-safe base64. A fresh pad per response makes every page's
/// token different while each one unmasks to the session's.
#[cfg(feature = "ssr")]
pub fn mask_csrf_token(token: &str, pad: &[u8]) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    debug_assert_eq!(pad.len(), token.len(), "one pad byte per token byte");
    let masked: Vec<u8> = pad
        .iter()
        .copied()
        .chain(token.bytes().zip(pad).map(|(byte, pad)| byte ^ pad))
        .collect();
    URL_SAFE_NO_PAD.encode(masked)
}

/// Whether `presented` is the session's token `expected`, masked ([`mask_csrf_token`]) or as
/// it is (a page rendered before masking). Constant time in the token's bytes; never true for
/// an empty `expected`.
#[cfg(feature = "ssr")]
pub fn csrf_token_matches(presented: &str, expected: &str) -> bool {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use subtle::ConstantTimeEq;
    if expected.is_empty() {
        return false;
    }
    if presented.len() == expected.len() {
        return presented.as_bytes().ct_eq(expected.as_bytes()).into();
    }
    let Ok(masked) = URL_SAFE_NO_PAD.decode(presented) else {
        return false;
    };
    if masked.len() != 2 * expected.len() {
        return false;
    }
    let (pad, token) = masked.split_at(expected.len());
    let unmasked: Vec<u8> = token
        .iter()
        .zip(pad)
        .map(|(byte, pad)| byte ^ pad)
        .collect();
    unmasked.ct_eq(expected.as_bytes()).into()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    const TOKEN: &str = "ZmdTpHZyEgQ8vHnIwSEOsJRM3ROJzwNDrjn5NsuVCdE";

    fn pad(seed: u8) -> Vec<u8> {
        (0..TOKEN.len() as u8)
            .map(|i| seed.wrapping_mul(31).wrapping_add(i.wrapping_mul(7)))
            .collect()
    }

    #[test]
    fn a_masked_token_matches_its_session_token_and_differs_per_pad() {
        let first = mask_csrf_token(TOKEN, &pad(1));
        let second = mask_csrf_token(TOKEN, &pad(2));
        assert_ne!(first, second);
        assert!(!first.contains(TOKEN) && !second.contains(TOKEN));
        assert!(csrf_token_matches(&first, TOKEN));
        assert!(csrf_token_matches(&second, TOKEN));
        assert!(
            csrf_token_matches(TOKEN, TOKEN),
            "the raw token still matches"
        );
    }

    #[test]
    fn a_masked_token_of_another_session_or_altered_does_not_match() {
        let other = "AAAApHZyEgQ8vHnIwSEOsJRM3ROJzwNDrjn5NsuVCdE";
        let masked_other = mask_csrf_token(other, &pad(3));
        assert!(!csrf_token_matches(&masked_other, TOKEN));
        let mut altered = mask_csrf_token(TOKEN, &pad(4)).into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(!csrf_token_matches(
            std::str::from_utf8(&altered).unwrap(),
            TOKEN
        ));
        assert!(!csrf_token_matches("", TOKEN));
        assert!(!csrf_token_matches("not base64 at all!", TOKEN));
        assert!(
            !csrf_token_matches(&mask_csrf_token("", &[]), ""),
            "no session, no match"
        );
    }
}
