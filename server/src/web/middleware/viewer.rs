//! Resolves who is making each request, from the session cookie, before anything else
//! runs; and keeps signed-out visitors on the sign-in page.

use app::accounts::{CurrentUser, TokenScope};
use app::viewer::{mask_csrf_token, SessionCsrfToken, Viewer};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use axum::http::{header, HeaderValue};
use tower_sessions::cookie::{Cookie, SameSite};

use crate::accounts::SESSION_ACCOUNT_KEY as USER_ID_KEY;
use crate::clock::unix_now;
use crate::crypto::{random_bytes, random_token};
use crate::state::AppState;

/// The cookie that carries an anonymous visitor's CSRF token (`crypto::anonymous_csrf`).
pub const ANONYMOUS_CSRF_COOKIE: &str = "patchbay_csrf";

pub const CSRF_KEY: &str = "csrf_token";
/// When the session's account signed in (unix seconds): ends it after [`SESSION_MAX_AGE_SECS`].
pub const SIGNED_IN_AT_KEY: &str = "signed_in_at";
/// When the session was last seen in use (unix seconds), written at most once a
/// [`SESSION_REFRESH_SECS`]: each write moves the idle expiry forward.
pub const LAST_SEEN_KEY: &str = "last_seen";
/// A session unused for this long ends (the cookie's and the row's expiry).
pub const SESSION_IDLE_SECS: i64 = 12 * 60 * 60;
/// A session ends this long after sign-in, however busy.
pub const SESSION_MAX_AGE_SECS: i64 = 7 * 24 * 60 * 60;
/// Activity refreshes the idle expiry at most this often, to spare a write per request.
pub const SESSION_REFRESH_SECS: i64 = 60;

/// Marks a request authenticated by an API token rather than a session cookie. Such a
/// request carries no ambient authority a browser could be tricked into sending, so the
/// CSRF check does not apply to it.
#[derive(Clone, Debug)]
pub struct ApiClient {
    pub token_id: i32,
    /// What the token may do; each API checks the scope it needs.
    pub scope: TokenScope,
}

/// Only the REST API (and `/metrics`) accepts API tokens; pages and server functions need a
/// session.
const TOKEN_PATH_PREFIX: &str = "/api/v1/";

/// The credentials of an `Authorization: Bearer …` header (the scheme is case-insensitive);
/// empty when the header names the scheme without a token.
fn bearer_token(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(credentials.trim())
}

fn token_refused() -> Response {
    (
        axum::http::StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({"error": {"code": "auth.token", "message": "the API token is not valid, has expired or was revoked", "findings": []}})),
    )
        .into_response()
}

/// Paths anyone may load without signing in.
fn is_public(path: &str) -> bool {
    // `/pkg/`, the favicon and `/healthz` never come here (`web::router`).
    matches!(path, "/login" | "/setup" | "/reset-password")
        || path.starts_with("/api/")
        || path == crate::web::api::metrics::METRICS_PATH
        || path == "/docs"
        || path.starts_with("/docs/")
        || path.starts_with(crate::web::oauth_callback::CALLBACK_PREFIX)
}

/// The page an agent lands on (README "Agents and the call popup").
pub const AGENT_HOME: &str = "/calls";

/// What an agent may load: their calls, and what anyone may.
fn agent_may_load(path: &str) -> bool {
    path == AGENT_HOME || is_public(path)
}

/// Pages get a CSRF token even before sign-in (the sign-in form needs one); API calls do
/// not, so they never create sessions (static files never reach the viewer).
fn renders_forms(method: &Method, path: &str) -> bool {
    method == Method::GET && !path.starts_with("/api/")
}

pub async fn resolve_viewer(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path.starts_with(TOKEN_PATH_PREFIX) || path == crate::web::api::metrics::METRICS_PATH {
        if let Some(token) = bearer_token(&request) {
            // The token acts as its account, as that account is now.
            return match state.accounts_service().token_viewer(token).await {
                Ok(Some(holder)) => {
                    let viewer = Viewer {
                        user: Some(holder.user),
                        csrf_token: String::new(),
                    };
                    request.extensions_mut().insert(viewer);
                    request.extensions_mut().insert(SessionCsrfToken::default());
                    request.extensions_mut().insert(ApiClient {
                        token_id: holder.token_id,
                        scope: holder.scope,
                    });
                    next.run(request).await
                }
                Ok(None) => token_refused(),
                Err(error) => {
                    tracing::error!(%error, "cannot check the API token");
                    crate::web::internal_error()
                }
            };
        }
    }
    let user = match signed_in_user(&state, &session).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let path = request.uri().path().to_string();
    if request.method() == Method::GET {
        if user.is_none() && !is_public(&path) {
            return Redirect::to("/login").into_response();
        }
        if user.is_some() && path == "/login" {
            return Redirect::to("/").into_response();
        }
        // An agent's one page is their calls; every other page would only refuse them.
        if user.as_ref().is_some_and(CurrentUser::is_agent) && !agent_may_load(&path) {
            return Redirect::to(AGENT_HOME).into_response();
        }
    }
    let forms = renders_forms(request.method(), &path);
    let mut new_cookie = None;
    let csrf_token = if user.is_some() {
        match session.get::<String>(CSRF_KEY).await {
            Ok(Some(token)) => token,
            _ => {
                let token = random_token();
                if let Err(error) = session.insert(CSRF_KEY, &token).await {
                    tracing::error!(%error, "cannot store the CSRF token in the session");
                    return crate::web::internal_error();
                }
                token
            }
        }
    } else {
        match anonymous_token(&state, &request) {
            Some(token) => token,
            None if forms => {
                let token = state.anonymous_csrf.issue();
                new_cookie = Some(anonymous_cookie(&token, state.config.uses_https()));
                token
            }
            None => String::new(),
        }
    };

    // The page gets the token masked afresh (app::viewer: pages are compressed); the raw
    // one stays here for the checks.
    let page_token = if csrf_token.is_empty() {
        String::new()
    } else {
        mask_csrf_token(&csrf_token, &random_bytes(csrf_token.len()))
    };
    request
        .extensions_mut()
        .insert(SessionCsrfToken(csrf_token));
    request.extensions_mut().insert(Viewer {
        user,
        csrf_token: page_token,
    });
    let mut response = next.run(request).await;
    if let Some(cookie) = new_cookie {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The anonymous visitor's CSRF token from its cookie, if it carries our signature.
fn anonymous_token(state: &AppState, request: &Request) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == ANONYMOUS_CSRF_COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|token| state.anonymous_csrf.is_genuine(token))
}

fn anonymous_cookie(token: &str, secure: bool) -> String {
    Cookie::build((ANONYMOUS_CSRF_COOKIE, token.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
        .to_string()
}

/// The session's account, if it still exists and is enabled. A session whose account was
/// disabled or deleted in the meantime is signed out here.
async fn signed_in_user(
    state: &AppState,
    session: &Session,
) -> Result<Option<CurrentUser>, Response> {
    let user_id = match session.get::<i32>(USER_ID_KEY).await {
        Ok(id) => id,
        Err(error) => {
            tracing::error!(%error, "cannot load the session");
            return Err(crate::web::internal_error());
        }
    };
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    let now = unix_now();
    let signed_in_at = session_time(session, SIGNED_IN_AT_KEY).await;
    if now.saturating_sub(signed_in_at) >= SESSION_MAX_AGE_SECS {
        let _ = session.flush().await;
        return Ok(None);
    }
    match state.accounts_service().active_user(user_id).await {
        Ok(Some(user)) => {
            let last_seen = session_time(session, LAST_SEEN_KEY).await;
            if now.saturating_sub(last_seen) >= SESSION_REFRESH_SECS {
                // Changing the session makes the store save it with a new idle expiry.
                if let Err(error) = session.insert(LAST_SEEN_KEY, now).await {
                    tracing::warn!(%error, "cannot refresh the session");
                }
            }
            Ok(Some(user))
        }
        Ok(None) => {
            let _ = session.flush().await;
            Ok(None)
        }
        Err(error) => {
            tracing::error!(%error, "cannot load the signed-in account");
            Err(crate::web::internal_error())
        }
    }
}

/// A unix time kept in the session; 0 (long ago) when it is missing, so a session from
/// before these keys existed counts as expired rather than as fresh.
async fn session_time(session: &Session, key: &str) -> i64 {
    session.get::<i64>(key).await.ok().flatten().unwrap_or(0)
}
