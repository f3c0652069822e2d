//! The Patchbay server: configuration, storage, sign-in and the HTTP surface around the
//! Leptos app. `patchbay serve` (src/main.rs) runs it.

pub mod accounts;
pub mod agents;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod directory;
pub mod engine;
pub mod integrations;
pub mod metrics;
pub mod notifications;
pub mod overview;
pub mod phone_system;
pub mod queue;
pub mod shutdown;
pub mod state;
pub mod storage;
pub mod templates;
#[cfg(test)]
mod tidy;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;
use tower_sessions::ExpiredDeletion;

use crate::accounts::bootstrap::{ensure_admin, BootstrapError, BootstrapOutcome, SetupToken};
use crate::accounts::throttle::LoginThrottle;
use crate::config::Config;
use crate::state::AppState;
use crate::storage::accounts::AccountRepository;
use crate::storage::session_store::DbSessionStore;
use crate::storage::StorageError;

/// The name wasm-bindgen gives the bundle: `pkg/patchbay.js`, `pkg/patchbay_bg.wasm`.
pub const SITE_OUTPUT_NAME: &str = "patchbay";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Bootstrap(#[from] BootstrapError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
    #[error("cannot read the site's {file}: {source}")]
    SiteFile {
        file: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the site in {site_root} is not as `.ci/build-site` makes it: {source}")]
    Site {
        site_root: std::path::PathBuf,
        source: app::site_assets::SiteAssetsError,
    },
    #[error("cannot set up the HTTP client for CRM requests: {0}")]
    HttpClient(#[from] reqwest::Error),
}

/// A ready server: its router, its state, and what start-up did about the first admin.
pub struct Prepared {
    pub router: Router,
    pub state: AppState,
    pub bootstrap: BootstrapOutcome,
}

/// Opens storage, applies migrations, makes sure an admin (or a setup link) exists, and
/// builds the router. Does not listen yet.
pub async fn prepare(config: Config) -> Result<Prepared, StartError> {
    let db = storage::connect(&config.database_url).await?;
    let reads = storage::connect_reads(&config.database_url, &db).await?;
    let accounts = AccountRepository::new(db.clone());
    let setup = Arc::new(SetupToken::default());
    let bootstrap = ensure_admin(&accounts, config.initial_admin.as_ref(), &setup).await?;
    let leptos_options = site_options(&config);
    let site_assets = Arc::new(site_assets(&config.site_root)?);
    let cipher = Arc::new(crypto::cipher::SecretCipher::new(
        &config.encryption_key,
        &config.previous_keys,
    ));
    let executor = Arc::new(engine::executor::Executor::new(
        engine::executor::ExecutorSettings {
            connect_timeout: config.connect_timeout,
            request_timeout: config.request_timeout,
            policy: config.outbound.clone(),
        },
    )?);
    let renderer = engine::core::render::Renderer::new(config.time_zone.offsets());
    let integrations = storage::integrations::IntegrationRepository::new(db.clone());
    let tokens = Arc::new(engine::tokens::TokenKeeper::new(
        integrations.clone(),
        cipher.clone(),
        executor.clone(),
        renderer.clone(),
        config.request_timeout,
    ));
    let retention = config.activity;
    let queue_wake = Arc::new(tokio::sync::Notify::new());
    let state = AppState::new(state::AppStateInner {
        anonymous_csrf: crypto::anonymous_csrf::AnonymousCsrf::new(&config.encryption_key),
        recording_links: crypto::links::RecordingLinks::new(
            &config.encryption_key,
            &config.public_url,
        ),
        phone_link: phone_system::service::LinkShared::new(),
        call_feed: agents::feed::CallFeed::new(
            storage::call_feed::CallFeedRepository::new(db.clone()).with_reads(reads.clone()),
        ),
        verifier: Arc::new(accounts::password::VerifyGate::default()),
        leptos_options,
        site_assets,
        config: Arc::new(config),
        sessions: DbSessionStore::new(db.clone()),
        templates: storage::templates::TemplateRepository::new(db.clone())
            .with_reads(reads.clone()),
        api_tokens: storage::api_tokens::ApiTokenRepository::new(db.clone()),
        integrations,
        tokens,
        oauth_states: storage::oauth_states::OAuthStateRepository::new(db.clone()),
        activity: storage::activity::ActivityRepository::new(db.clone(), retention),
        user_syncs: Arc::default(),
        queue_wake: queue_wake.clone(),
        step_lanes: Arc::new(engine::executor::LaneGates::notifying(queue_wake)),
        ignored_event_types: Arc::default(),
        cipher,
        executor,
        renderer,
        db,
        reads,
        accounts,
        throttle: Arc::new(LoginThrottle::default()),
        setup,
        database_probe: web::health::DatabaseProbe::default(),
        stopping: shutdown::Stopping::default(),
    });
    Ok(Prepared {
        router: web::router(state.clone()),
        state,
        bootstrap,
    })
}

/// `.ci/build-site` names the bundle's files by their content and lists the hashes in
/// this file in the site root, so they can be cached for a year.
pub const SITE_HASH_FILE: &str = "hash.txt";

/// The options Leptos' server integration needs: where the site is.
fn site_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(SITE_OUTPUT_NAME)
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir(SITE_PKG_DIR)
        .site_addr(config.bind)
        .build()
}

/// The directory of the bundle and stylesheet under the site root, and in their URLs.
const SITE_PKG_DIR: &str = "pkg";

/// Where a page finds its script, bundle and stylesheet: the content-hashed names when the
/// site was built with them ([`SITE_HASH_FILE`]), else the plain ones; and the split
/// bundle's manifest, when there is one. Read once: every page's head is written from it.
fn site_assets(site_root: &std::path::Path) -> Result<app::site_assets::SiteAssets, StartError> {
    use app::site_assets::{split_manifest_file, SiteAssets, SiteHashes};

    let invalid = |source| StartError::Site {
        site_root: site_root.to_path_buf(),
        source,
    };
    let hashes = read_site_file(&site_root.join(SITE_HASH_FILE))?
        .map(|text| SiteHashes::parse(&text))
        .transpose()
        .map_err(invalid)?;
    let manifest = site_root
        .join(SITE_PKG_DIR)
        .join(split_manifest_file(hashes.as_ref()));
    let manifest = read_site_file(&manifest)?;
    SiteAssets::new(
        SITE_PKG_DIR,
        SITE_OUTPUT_NAME,
        hashes.as_ref(),
        manifest.as_deref(),
    )
    .map_err(invalid)
}

/// A file of the site's, or none when the site has no such file (a site built without
/// hashes or splits; the tests' servers, which have no site).
fn read_site_file(file: &std::path::Path) -> Result<Option<String>, StartError> {
    match std::fs::read_to_string(file) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StartError::SiteFile {
            file: file.to_path_buf(),
            source,
        }),
    }
}

/// Serves `router` on `listener` under `limits` until the process ends: the tests' server.
/// `patchbay serve` ([`run`]) also stops on a signal.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: web::listener::ConnectionLimits,
) -> std::io::Result<()> {
    web::listener::serve(listener, router, limits, std::future::pending()).await
}

/// Deletes expired sessions every ten minutes.
pub fn spawn_session_cleanup(sessions: DbSessionStore) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(error) = sessions.delete_expired().await {
                tracing::warn!(%error, "cannot delete expired sessions");
            }
        }
    });
}

/// How often a server looks for tokens due for a refresh (TokenRefreshTime, or a known
/// expiry within a minute).
pub const TOKEN_SWEEP_INTERVAL: Duration = Duration::from_secs(30);

/// Refreshes due OAuth 2.0 and Bearer tokens in the background, so a token that expires
/// overnight is renewed before the morning's first call needs it. GetGlobalInfo runs once
/// at start-up and again for each integration whose token was refreshed.
pub fn spawn_token_refresh(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(TOKEN_SWEEP_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let service = state.integrations_service();
        if let Err(error) = service
            .refresh_global_info(None, integrations::activity::origin::STARTUP)
            .await
        {
            tracing::warn!(%error, "cannot read global variables at start-up");
        }
        loop {
            every.tick().await;
            if let Err(error) = service.refresh_due_tokens().await {
                tracing::warn!(%error, "cannot look for tokens due for a refresh");
            }
            let refreshed = state.tokens.take_refreshed();
            if !refreshed.is_empty() {
                if let Err(error) = service
                    .refresh_global_info(Some(&refreshed), integrations::activity::origin::REFRESH)
                    .await
                {
                    tracing::warn!(%error, "cannot read global variables after a token refresh");
                }
            }
        }
    });
}

/// `patchbay serve`: everything above, plus the start-up messages a person needs.
pub async fn run(config: Config) -> Result<(), StartError> {
    if config.key_source == config::KeySource::Generated {
        tracing::warn!(
            path = %config.data_dir.join("encryption.key").display(),
            "no PATCHBAY_ENCRYPTION_KEY set: generated a key into the data directory. Back it up: stored secrets cannot be read without it"
        );
    }
    let bind = config.bind;
    let public_url = config.public_url.clone();
    let prepared = prepare(config).await?;
    match &prepared.bootstrap {
        BootstrapOutcome::AdminExists => {}
        BootstrapOutcome::CreatedFromConfig(email) => {
            tracing::info!(account = %email, "created the initial administrator from the environment");
        }
        BootstrapOutcome::SetupLink(path) => {
            // Printed, not logged: the link is a one-time credential for the person at the
            // console. On standard error, so standard output holds log records only.
            eprintln!("\nNo administrator exists yet. Open this one-time link to create one:\n\n    {public_url}{path}\n");
        }
    }
    spawn_session_cleanup(prepared.state.sessions.clone());
    spawn_token_refresh(prepared.state.clone());
    let queue_worker = queue::service::spawn_worker(prepared.state.queue_service());
    notifications::service::spawn_checks(prepared.state.notifications_service());
    let phone_system = prepared.state.phone_system_service();
    let phone_link = phone_system::link::spawn(phone_system.clone());
    prepared.state.call_feed.spawn_listener(&prepared.state.db);
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|source| StartError::Bind {
            address: bind,
            source,
        })?;
    eprintln!("Patchbay is listening on {public_url} (bound to {bind})");
    tracing::info!(%public_url, %bind, "listening");
    let limits = prepared.state.config.connections;
    let stopping = prepared.state.stopping.clone();
    let told = {
        let stopping = stopping.clone();
        async move {
            let signal = shutdown::signal().await;
            tracing::info!(
                signal,
                grace_secs = limits.shutdown_grace.as_secs(),
                "stopping: no new connections or jobs; running ones get the grace to finish"
            );
            stopping.stop();
        }
    };
    // The listener and the queue stop together: connections and jobs share the grace.
    let (served, _) = tokio::join!(
        web::listener::serve(listener, prepared.router, limits, told),
        queue_worker,
    );
    phone_link.abort();
    phone_system.release_link().await;
    served.map_err(StartError::Serve)?;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod site_tests {
    use super::*;

    #[test]
    fn a_site_without_a_hash_file_is_served_by_its_plain_names() {
        let site = tempfile::tempdir().unwrap();
        let assets = site_assets(site.path()).unwrap();
        assert_eq!(assets.stylesheet, "/pkg/patchbay.css");
        assert!(assets.split.is_none());
    }

    #[test]
    fn a_broken_hash_file_or_manifest_stops_the_start_naming_the_site() {
        let site = tempfile::tempdir().unwrap();
        std::fs::write(site.path().join(SITE_HASH_FILE), "js: 0a1b\ncss = 9c9c\n").unwrap();
        let error = site_assets(site.path()).err().unwrap().to_string();
        assert!(
            error.contains(&site.path().display().to_string()),
            "{error}"
        );
        assert!(error.contains("line 2 of the site's hash file"), "{error}");

        std::fs::write(site.path().join(SITE_HASH_FILE), "manifest: 0a1b\n").unwrap();
        std::fs::create_dir_all(site.path().join(SITE_PKG_DIR)).unwrap();
        std::fs::write(
            site.path().join("pkg/__wasm_split_manifest.0a1b.json"),
            "not json",
        )
        .unwrap();
        let error = site_assets(site.path()).err().unwrap().to_string();
        assert!(error.contains("split bundle's manifest"), "{error}");
    }
}
