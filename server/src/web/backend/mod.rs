//! The server's side of the pages' server functions: one thin adapter per `app::api::<domain>`
//! trait over a domain service. Adapters translate domain errors into [`PortalError`], the
//! only place those two meet; failures with internals are logged here and reach the page as
//! a message without them.

pub mod accounts;
pub mod agents;
pub mod api_tokens;
pub mod directory;
pub mod integrations;
pub mod notifications;
pub mod overview;
pub mod phone_system;
pub mod queue;
pub mod templates;

use std::sync::Arc;

use app::api::Backend;
use app::error::PortalError;

use crate::state::AppState;

/// Logs a storage failure (`what`: "account", "API token", …) and gives the page a
/// message without internals.
pub fn storage_failure(what: &str, error: impl std::fmt::Display) -> PortalError {
    tracing::error!(%error, "{what} storage failed");
    PortalError::Internal("storage".into())
}

/// The adapters over this server's services, handed to every page as Leptos context.
pub fn backend(state: &AppState) -> Backend {
    Backend {
        accounts: Arc::new(accounts::AccountsAdmin {
            service: state.accounts_service(),
        }),
        api_tokens: Arc::new(api_tokens::ApiTokensAdmin {
            service: state.api_tokens_service(),
        }),
        templates: Arc::new(templates::TemplatesAdmin {
            service: state.templates_service(),
        }),
        integrations: Arc::new(integrations::IntegrationsAdmin {
            service: state.integrations_service(),
        }),
        directory: Arc::new(directory::DirectoryAdmin {
            service: state.directory_service(),
        }),
        queue: Arc::new(queue::QueueAdmin {
            service: state.queue_service(),
        }),
        phone_system: Arc::new(phone_system::PhoneSystemAdmin {
            service: state.phone_system_service(),
        }),
        agents: Arc::new(agents::AgentAdmin {
            service: state.agents_service(),
        }),
        overview: Arc::new(overview::OverviewAdmin {
            service: state.overview_service(),
        }),
        notifications: Arc::new(notifications::NotificationsAdmin {
            service: state.notifications_service(),
        }),
    }
}
