//! Server functions, the pages' calls into the server: one module per domain, each with
//! the trait its server functions call (implemented over the domain's service by the
//! adapter of the same name in `server/src/web/backend/`). A reader goes from a page to
//! `api::<domain>` (the call and what it needs, side by side) to that adapter to the service.

pub mod accounts;
pub mod agents;
pub mod api_tokens;
pub mod directory;
pub mod integrations;
pub mod notifications;
pub mod overview;
pub mod phone_system;
pub mod queue;
#[cfg(feature = "ssr")]
mod server_side;
pub mod templates;

#[cfg(feature = "ssr")]
pub use server_side::{
    backend, provider_param, require_admin, require_admin_viewer, require_signed_in,
    require_signed_in_viewer, set_status, with_status, Backend,
};
