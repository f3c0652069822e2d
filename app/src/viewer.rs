//! Who is looking at the page, and the token their state-changing requests must carry.
//!
//! The server decides this per request (from the session cookie) and writes it into the
//! page head; the browser reads it back from there when it hydrates, so both render the
//! same navigation and forms without an extra round trip.

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
        leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Viewer>().cloned())
            .unwrap_or_default()
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
