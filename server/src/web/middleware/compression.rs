//! Pages are compressed (brotli or gzip, as the browser accepts): the template editor's page is
//! 47 KB of HTML and 7 KB compressed, and administrators reach Patchbay over VPNs and phones.
//!
//! Compression lets an observer of response sizes read a secret that a page repeats next to
//! text a visitor can make it reflect (BREACH). What makes that safe here: the CSRF token a
//! page carries is masked afresh for every response (`app::viewer::mask_csrf_token`), and the
//! pages that carry a one-time secret in their form (sign-in, setup and password-reset links,
//! [`app::PLAIN_PAGES`]) are never compressed. API answers and server function results are
//! not HTML and stay as they are; the static bundle is compressed at build time.

use axum::extract::Request;
use axum::http::{header, Extensions, HeaderMap, StatusCode, Version};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Brotli's and gzip's level 5: most of level 11's gain on a page at a small part of its cost.
const PAGE_COMPRESSION_LEVEL: i32 = 5;

/// Marks a response that must go out as it is (a plain page's).
#[derive(Clone, Copy)]
struct Uncompressed;

/// Marks the plain pages' responses, which [`pages`] then leaves uncompressed.
pub async fn keep_plain_pages_uncompressed(request: Request, next: Next) -> Response {
    let plain = app::PLAIN_PAGES.contains(&request.uri().path());
    let mut response = next.run(request).await;
    if plain {
        response.extensions_mut().insert(Uncompressed);
    }
    response
}

fn is_compressible_page(
    _: StatusCode,
    _: Version,
    headers: &HeaderMap,
    extensions: &Extensions,
) -> bool {
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    html && extensions.get::<Uncompressed>().is_none()
}

/// The layer that compresses HTML pages but the plain ones; outside
/// [`keep_plain_pages_uncompressed`].
pub fn pages() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .quality(CompressionLevel::Precise(PAGE_COMPRESSION_LEVEL))
        .compress_when(DefaultPredicate::new().and(is_compressible_page))
}
