use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;

use crate::accounts::bootstrap::SetupToken;
use crate::accounts::password::VerifyGate;
use crate::accounts::throttle::LoginThrottle;
use crate::config::Config;
use crate::crypto::anonymous_csrf::AnonymousCsrf;
use crate::storage::accounts::AccountRepository;
use crate::storage::api_tokens::ApiTokenRepository;
use crate::storage::session_store::DbSessionStore;
use crate::storage::templates::TemplateRepository;

/// Everything a request handler may need, shared: every middleware layer and handler of
/// every request takes a copy, so a copy is one reference count (a copy of thirty fields
/// was about 2 % of a busy page's time).
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl AppState {
    pub fn new(inner: AppStateInner) -> Self {
        Self(Arc::new(inner))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// Leptos' handlers find the site's options in the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// What [`AppState`] shares.
pub struct AppStateInner {
    pub leptos_options: LeptosOptions,
    /// The names of the site's files, read once at start-up.
    pub site_assets: Arc<app::site_assets::SiteAssets>,
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    /// Plain reads of the busiest pages ([`crate::storage::connect_reads`]).
    pub reads: DatabaseConnection,
    pub accounts: AccountRepository,
    pub sessions: DbSessionStore,
    pub templates: TemplateRepository,
    pub api_tokens: ApiTokenRepository,
    pub integrations: crate::storage::integrations::IntegrationRepository,
    pub cipher: Arc<crate::crypto::cipher::SecretCipher>,
    pub executor: Arc<crate::engine::executor::Executor>,
    pub renderer: crate::engine::core::render::Renderer,
    /// This process's token keeper: its per-integration locks must be shared by every
    /// request.
    pub tokens: Arc<crate::engine::tokens::TokenKeeper>,
    pub oauth_states: crate::storage::oauth_states::OAuthStateRepository,
    pub activity: crate::storage::activity::ActivityRepository,
    pub user_syncs: Arc<crate::integrations::user_syncs::UserSyncs>,
    /// Wakes this process's queue worker; shared by the intake and the worker.
    pub queue_wake: Arc<tokio::sync::Notify>,
    /// Queued call steps per integration between starting and being recorded.
    pub step_lanes: Arc<crate::engine::executor::LaneGates>,
    /// Ignored event types already logged.
    pub ignored_event_types: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
    pub throttle: Arc<LoginThrottle>,
    pub verifier: Arc<VerifyGate>,
    pub anonymous_csrf: AnonymousCsrf,
    pub setup: Arc<SetupToken>,
    pub recording_links: crate::crypto::links::RecordingLinks,
    /// The phone system's link: what this process's copies of its service share.
    pub phone_link: crate::phone_system::service::LinkShared,
    /// What agents' pages are told about calls, and this process's open streams.
    pub call_feed: crate::agents::feed::CallFeed,
    /// `/healthz`'s last word on the database, shared so a flood of checks pings it once.
    pub database_probe: crate::web::health::DatabaseProbe,
    /// Set when the server is told to stop: the queue worker and open streams watch it.
    pub stopping: crate::shutdown::Stopping,
}

impl AppState {
    /// Whether the database answers (`GET /healthz`).
    pub async fn database_answers(&self) -> Result<(), sea_orm::DbErr> {
        self.db.ping().await
    }

    pub fn api_tokens_service(&self) -> crate::accounts::api_tokens::ApiTokensService {
        crate::accounts::api_tokens::ApiTokensService {
            tokens: self.api_tokens.clone(),
        }
    }

    pub fn recovery(&self) -> crate::accounts::recovery::Recovery {
        crate::accounts::recovery::Recovery {
            accounts: self.accounts.clone(),
            sessions: self.sessions.clone(),
        }
    }

    pub fn accounts_service(&self) -> crate::accounts::service::AccountsService {
        crate::accounts::service::AccountsService {
            accounts: self.accounts.clone(),
            sessions: self.sessions.clone(),
            tokens: self.api_tokens.clone(),
        }
    }

    pub fn directory_service(&self) -> crate::directory::service::DirectoryService {
        crate::directory::service::DirectoryService {
            extensions: crate::storage::extensions::ExtensionRepository::new(self.db.clone()),
            groups: crate::storage::extension_groups::ExtensionGroupRepository::new(
                self.db.clone(),
            ),
        }
    }

    pub fn queue_service(&self) -> crate::queue::service::QueueService {
        crate::queue::service::QueueService {
            queue: crate::storage::queue::QueueRepository::new(self.db.clone()),
            integrations: self.integrations_service(),
            settings: self.config.queue.clone(),
            wake: self.queue_wake.clone(),
            zone: self.config.time_zone.zone.clone(),
            ignored_types: self.ignored_event_types.clone(),
            lanes: self.step_lanes.clone(),
            recordings: self.recording_links.clone(),
            feed: self.call_feed.clone(),
            stopping: self.stopping.clone(),
            shutdown_grace: self.config.connections.shutdown_grace,
        }
    }

    pub fn agents_service(&self) -> crate::agents::service::AgentsService {
        crate::agents::service::AgentsService {
            repo: crate::storage::agents::AgentRepository::new(self.db.clone())
                .with_reads(self.reads.clone()),
            feed: self.call_feed.clone(),
            integrations: self.integrations_service(),
            extensions: crate::storage::extensions::ExtensionRepository::new(self.db.clone()),
            accounts: self.accounts.clone(),
        }
    }

    pub fn phone_system_service(&self) -> crate::phone_system::service::PhoneSystemService {
        crate::phone_system::service::PhoneSystemService {
            repo: crate::storage::phone_system::PhoneSystemRepository::new(self.db.clone()),
            cipher: self.cipher.clone(),
            executor: self.executor.clone(),
            extensions: crate::storage::extensions::ExtensionRepository::new(self.db.clone()),
            queue: self.queue_service(),
            shared: self.phone_link.clone(),
            public_url: self.config.public_url.clone(),
            link: self.config.phone_link,
        }
    }

    pub fn templates_service(&self) -> crate::templates::service::TemplatesService {
        crate::templates::service::TemplatesService {
            templates: self.templates.clone(),
            integrations: self.integrations.clone(),
        }
    }

    pub fn notifications_service(&self) -> crate::notifications::service::NotificationsService {
        crate::notifications::service::NotificationsService {
            integrations: self.integrations_service(),
            phone_system: self.phone_system_service(),
            accounts: crate::storage::accounts::AccountRepository::new(self.db.clone()),
            sent: crate::storage::notifications::NotificationRepository::new(self.db.clone()),
            executor: self.executor.clone(),
            channels: self.config.notifications.clone(),
        }
    }

    pub fn overview_service(&self) -> crate::overview::OverviewService {
        crate::overview::OverviewService {
            integrations: self.integrations_service(),
            phone_system: self.phone_system_service(),
            queue: self.queue_service(),
            extensions: crate::storage::extensions::ExtensionRepository::new(self.db.clone()),
            associations: crate::storage::associations::AssociationRepository::new(self.db.clone()),
        }
    }

    pub fn integrations_service(&self) -> crate::integrations::service::IntegrationsService {
        crate::integrations::service::IntegrationsService {
            templates: self.templates.clone(),
            integrations: self.integrations.clone(),
            cipher: self.cipher.clone(),
            executor: self.executor.clone(),
            renderer: self.renderer.clone(),
            public_url: self.config.public_url.clone(),
            states: self.oauth_states.clone(),
            tokens: self.tokens.clone(),
            activity: self.activity.clone(),
            crm_users: crate::storage::crm_users::CrmUserRepository::new(self.db.clone()),
            user_syncs: self.user_syncs.clone(),
            extensions: crate::storage::extensions::ExtensionRepository::new(self.db.clone()),
            extension_groups: crate::storage::extension_groups::ExtensionGroupRepository::new(
                self.db.clone(),
            ),
            associations: crate::storage::associations::AssociationRepository::new(self.db.clone()),
            contact_cache: crate::storage::contact_cache::ContactCacheRepository::new(
                self.db.clone(),
            ),
            test_cases: crate::storage::test_cases::TestCaseRepository::new(self.db.clone()),
            queue: crate::storage::queue::QueueRepository::new(self.db.clone()),
        }
    }
}
