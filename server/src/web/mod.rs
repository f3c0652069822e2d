//! The HTTP surface: axum routes around the Leptos app.
//!
//! A request passes, outermost first: request log → security headers → session cookie →
//! viewer (who is this, may they see this page) → CSRF check → a form handler, a server
//! function, or Leptos SSR. The bundle under `/pkg/`, the favicon and `/healthz` skip the
//! session and viewer: they are the same for everyone, so they never read a session.

pub mod api;
pub mod backend;
pub mod docs;
mod favicon;
mod forms;
pub mod health;
mod idle;
pub mod listener;
pub mod middleware;
pub mod oauth_callback;

use std::sync::{Arc, OnceLock};

use app::{shell, App};
use axum::extract::DefaultBodyLimit;
use axum::http::{header, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};
use tower_http::services::ServeDir;

use self::middleware::security_headers::{self, CspNonce};
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Level;

use self::middleware::{compression, csrf, viewer};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "patchbay_session";

pub fn internal_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "The server could not complete this request. Try again later.",
    )
        .into_response()
}

pub fn router(state: AppState) -> Router {
    let backend = backend::backend(&state);
    let routes = route_list();
    let session_layer = SessionManagerLayer::new(state.sessions.clone())
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.uses_https())
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            viewer::SESSION_IDLE_SECS,
        )));
    // Only method and path are logged: query strings can hold tokens (setup links, OAuth codes).
    let trace_layer = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO));

    // The REST API and its description come from the same handlers (web/api/openapi.rs).
    let (rest_api, description) = api::routes().split_for_parts();
    let reference = Arc::new(api::openapi::Reference::new(description));
    let rest_api = rest_api
        .merge(api::openapi::page_routes())
        .layer(Extension(reference));

    let pages = Router::new()
        .route(
            "/login",
            post(forms::login).layer(DefaultBodyLimit::max(forms::MAX_SIGN_IN_FORM_BYTES)),
        )
        .route("/logout", post(forms::logout))
        .route(
            "/setup",
            post(forms::setup).layer(DefaultBodyLimit::max(forms::MAX_SIGN_IN_FORM_BYTES)),
        )
        .route(
            "/reset-password",
            post(forms::reset_password).layer(DefaultBodyLimit::max(forms::MAX_SIGN_IN_FORM_BYTES)),
        )
        .merge(rest_api)
        .merge(api::metrics::routes())
        .merge(oauth_callback::routes())
        .merge(docs::routes())
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(backend.clone());
                // The page's inline scripts carry the nonce the CSP header names.
                let nonce = use_context::<axum::http::request::Parts>()
                    .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
                if let Some(CspNonce(nonce)) = nonce {
                    provide_context(Nonce::from_value(nonce));
                }
            },
            {
                let assets = state.site_assets.clone();
                move || shell(&assets)
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>({
            let assets = state.site_assets.clone();
            move |_| shell(&assets)
        }))
        .layer(axum::middleware::from_fn(csrf::verify))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            viewer::resolve_viewer,
        ))
        .layer(session_layer)
        .layer(axum::middleware::from_fn(
            compression::keep_plain_pages_uncompressed,
        ))
        .layer(compression::pages());
    let for_everyone = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/favicon.ico", get(favicon::ico))
        .route("/favicon.svg", get(favicon::svg))
        .nest_service("/pkg", assets(&state));
    for_everyone
        .merge(pages)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security_headers::security_headers,
        ))
        .layer(trace_layer)
        .with_state(state)
}

/// The app's routes, generated once per process. Generating them renders the app with
/// resource loading suppressed by a process-wide flag (leptos_server's
/// `SuppressResourceLoad`), and a resource whose first poll fell inside that window waited
/// forever: while a second server was built in the same process (the integration tests
/// build one per test), another server's page stopped mid-body until the idle timeout
/// (leptos-rs/leptos#4773).
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The browser bundle: `.br` and `.gz` files made at build time are sent to browsers that
/// accept them (SECURITY.md: only these static files are compressed).
fn assets(state: &AppState) -> ServeDir {
    ServeDir::new(state.config.site_root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip()
}
