//! The layers every request passes (ARCHITECTURE.md "How a request flows"): security headers,
//! who is asking (`viewer`, signing anonymous visitors' CSRF tokens with
//! `crypto::anonymous_csrf`), cross-site request forgery (`csrf`), and the
//! client's address behind trusted proxies (`client_address`); pages compressed
//! (`compression`).

pub mod client_address;
pub mod compression;
pub mod csrf;
pub mod http_metrics;
pub mod security_headers;
pub mod viewer;
