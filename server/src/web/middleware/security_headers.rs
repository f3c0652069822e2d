//! Headers every response carries (SECURITY.md "Headers"): no MIME sniffing, no referrer to
//! other sites, HSTS when the public URL is https, and caching decided here: content-hashed
//! assets are immutable, other assets revalidate, and pages and API answers (personal data,
//! CSRF tokens, secrets) are never stored. Every response a browser could show as a document
//! also carries a Content-Security-Policy with a per-request nonce for the inline scripts
//! Leptos writes, and framing refused.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// The nonce of this request's inline scripts, handed to Leptos (see `web::router`).
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// Where the hydrated app gets everything: its own origin. `wasm-unsafe-eval` lets the
/// page compile its WebAssembly; inline scripts need this request's nonce; `data:` and
/// `blob:` images are template logos previewed before upload.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Assets whose name carries their content hash (`pkg/patchbay.<hash>.wasm`, written by
/// `.ci/build-site`) never change under that name.
pub const IMMUTABLE_ASSET: &str = "public, max-age=31536000, immutable";
/// Other assets may change under the same name: the browser asks before reusing them.
pub const REVALIDATED_ASSET: &str = "no-cache";
/// The site's icon (`/favicon.svg`, `/favicon.ico`): the same for everyone, not named by
/// its content, so kept for a day.
pub const ICON: &str = "public, max-age=86400";
/// Pages and API answers.
pub const NOT_STORED: &str = "no-store";
pub const HSTS: &str = "max-age=31536000";

/// The kinds of file `.ci/build-site` names by their content: scripts, WebAssembly, the page
/// groups' packs of WebAssembly (`bin`, sent as `application/octet-stream`), the stylesheet
/// and the packs' manifest; never a document.
const HASHED_ASSET_KINDS: [&str; 5] = ["js", "wasm", "bin", "css", "json"];

fn is_hashed_asset(path: &str) -> bool {
    let Some(name) = path.strip_prefix("/pkg/") else {
        return false;
    };
    // <name>.<16 hex>.<kind> (.br and .gz are never in the URL)
    let mut parts = name.split('.');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(_), Some(hash), Some(kind), None)
            if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
                && HASHED_ASSET_KINDS.contains(&kind)
    )
}

pub async fn security_headers(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let hashed_asset = is_hashed_asset(&path);
    // A content-hashed bundle file is a script, WebAssembly (alone or packed), a stylesheet
    // or the packs' manifest, sent with `nosniff`: no browser shows it as a document, so a
    // policy or a framing rule would only add about 430 bytes to each file a page loads.
    let nonce = (!hashed_asset).then(crate::crypto::random_token);
    if let Some(nonce) = &nonce {
        request.extensions_mut().insert(CspNonce(nonce.clone()));
    }
    let (route, method) = super::http_metrics::labels(&request);
    let mut response = next.run(request).await;
    crate::metrics::metrics().http_request(&route, method, response.status().as_u16());
    let headers = response.headers_mut();
    if let Some(nonce) = &nonce {
        set(
            headers,
            header::CONTENT_SECURITY_POLICY,
            &content_security_policy(nonce),
        );
        set(headers, header::X_FRAME_OPTIONS, "DENY");
    }
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    if state.config.uses_https() {
        set(headers, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    let cache = if hashed_asset {
        IMMUTABLE_ASSET
    } else if path.starts_with("/pkg/") {
        REVALIDATED_ASSET
    } else if matches!(path.as_str(), "/favicon.svg" | "/favicon.ico") {
        ICON
    } else {
        NOT_STORED
    };
    set(headers, header::CACHE_CONTROL, cache);
    response
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_content_hashed_names_are_immutable() {
        assert!(is_hashed_asset("/pkg/patchbay.0123456789abcdef.wasm"));
        assert!(is_hashed_asset("/pkg/chunk_9.0123456789abcdef.wasm"));
        assert!(is_hashed_asset("/pkg/patchbay.0123456789abcdef.css"));
        assert!(is_hashed_asset(
            "/pkg/pack_editor_pages.0123456789abcdef.bin"
        ));
        assert!(!is_hashed_asset("/pkg/page.0123456789abcdef.html"));
        assert!(!is_hashed_asset("/pkg/icon.0123456789abcdef.svg"));
        assert!(!is_hashed_asset("/pkg/patchbay.css"));
        assert!(!is_hashed_asset("/pkg/patchbay_bg.wasm"));
        assert!(!is_hashed_asset("/pkg/patchbay.0123456789abcdeg.js"));
        assert!(!is_hashed_asset("/accounts"));
    }
}
