//! Resolves who is making each request, from the session cookie, before anything else
//! runs; and keeps signed-out visitors on the sign-in page.

use app::accounts::CurrentUser;
use app::viewer::Viewer;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::auth::random_token;
use crate::state::AppState;
use crate::storage::session_store::USER_ID_KEY;

pub const CSRF_KEY: &str = "csrf_token";

/// Marks a request authenticated by an API token rather than a session cookie. Such a
/// request carries no ambient authority a browser could be tricked into sending, so the
/// CSRF check does not apply to it.
#[derive(Clone, Debug)]
pub struct ApiClient {
    pub token_id: i32,
}

/// Only the REST API accepts API tokens; pages and server functions need a session.
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
        axum::Json(serde_json::json!({"error": {"code": "auth.token", "message": "the API token is not valid or was revoked", "findings": []}})),
    )
        .into_response()
}

/// Paths anyone may load without signing in.
fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/setup" | "/healthz" | "/favicon.ico")
        || path.starts_with("/pkg/")
        || path.starts_with("/api/")
}

/// Pages get a CSRF token even before sign-in (the sign-in form needs one); static files
/// and API calls do not, so they never create sessions.
fn renders_forms(method: &Method, path: &str) -> bool {
    method == Method::GET
        && !path.starts_with("/pkg/")
        && !path.starts_with("/api/")
        && path != "/healthz"
}

pub async fn resolve_viewer(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with(TOKEN_PATH_PREFIX) {
        if let Some(token) = bearer_token(&request) {
            return match state.api_tokens.authenticate(token).await {
                Ok(Some(client)) => {
                    let viewer = Viewer {
                        user: Some(CurrentUser {
                            id: 0,
                            email: format!("API token {}…", client.prefix),
                            role: app::accounts::Role::Admin,
                        }),
                        csrf_token: String::new(),
                    };
                    request.extensions_mut().insert(viewer);
                    request.extensions_mut().insert(ApiClient {
                        token_id: client.id,
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
    }
    let csrf_token = match session.get::<String>(CSRF_KEY).await {
        Ok(Some(token)) => token,
        _ if renders_forms(request.method(), &path) => {
            let token = random_token();
            if let Err(error) = session.insert(CSRF_KEY, &token).await {
                tracing::error!(%error, "cannot store the CSRF token in the session");
                return crate::web::internal_error();
            }
            token
        }
        _ => String::new(),
    };

    request.extensions_mut().insert(Viewer { user, csrf_token });
    next.run(request).await
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
    match state.accounts.find(user_id).await {
        Ok(Some(account)) if !account.disabled => Ok(Some(CurrentUser {
            id: account.id,
            email: account.email,
            role: account.role,
        })),
        Ok(_) => {
            let _ = session.flush().await;
            Ok(None)
        }
        Err(error) => {
            tracing::error!(%error, "cannot load the signed-in account");
            Err(crate::web::internal_error())
        }
    }
}
