//! The layers every request passes (ARCHITECTURE.md "How a request flows"): security headers,
//! who is asking (`viewer`), cross-site request forgery (`csrf`, `anonymous_csrf`), and the
//! client's address behind trusted proxies (`client_address`).

pub mod anonymous_csrf;
pub mod client_address;
pub mod csrf;
pub mod security_headers;
pub mod viewer;
