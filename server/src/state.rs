use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;

use crate::auth::anonymous_csrf::AnonymousCsrf;
use crate::auth::bootstrap::SetupToken;
use crate::auth::password::VerifyGate;
use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::storage::accounts::AccountRepository;
use crate::storage::api_tokens::ApiTokenRepository;
use crate::storage::session_store::DbSessionStore;
use crate::storage::templates::TemplateRepository;

/// Everything a request handler may need, cheap to clone.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub accounts: AccountRepository,
    pub sessions: DbSessionStore,
    pub templates: TemplateRepository,
    pub api_tokens: ApiTokenRepository,
    pub throttle: Arc<LoginThrottle>,
    pub verifier: Arc<VerifyGate>,
    pub anonymous_csrf: AnonymousCsrf,
    pub setup: Arc<SetupToken>,
}

impl AppState {
    pub fn templates_service(&self) -> crate::templates_service::TemplatesService {
        crate::templates_service::TemplatesService {
            templates: self.templates.clone(),
        }
    }
}
