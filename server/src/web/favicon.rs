//! The site's icon: an SVG for browsers that take one (named by the page's `<link rel=icon>`)
//! and `/favicon.ico` (16, 32 and 48 px) for those that ask for it by its conventional name.
//! Cached for a day (`security_headers::ICON`).

use axum::http::header;
use axum::response::IntoResponse;

const SVG: &[u8] = include_bytes!("../../assets/favicon.svg");
const ICO: &[u8] = include_bytes!("../../assets/favicon.ico");

pub async fn svg() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/svg+xml")], SVG)
}

pub async fn ico() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/x-icon")], ICO)
}
