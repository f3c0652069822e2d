//! Plain HTML form posts: sign-in, sign-out and first-admin setup. They work before the
//! page has hydrated, and answer with redirects. The CSRF middleware has already checked
//! their token.

use std::net::SocketAddr;
use std::time::Instant;

use app::accounts::normalize_email;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::bootstrap::create_admin;
use crate::auth::password::verify_password;
use crate::auth::random_token;
use crate::auth::viewer::CSRF_KEY;
use crate::state::AppState;
use crate::storage::session_store::USER_ID_KEY;
use crate::web::internal_error;

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Response {
    // Unparseable addresses still count against the address and a shared bucket.
    let email = normalize_email(&form.email).unwrap_or_else(|_| form.email.trim().to_lowercase());
    let address = peer.ip();
    if let Err(wait) = state.throttle.check(&email, address, Instant::now()) {
        tracing::warn!(%address, "sign-in throttled");
        return Redirect::to(&format!(
            "/login?msg=throttled&retry={}",
            wait.as_secs().max(1)
        ))
        .into_response();
    }

    let account = match state.accounts.find_by_email(&email).await {
        Ok(account) => account,
        Err(error) => {
            tracing::error!(%error, "cannot look up the account");
            return internal_error();
        }
    };
    let hash = account.as_ref().map(|a| a.password_hash.as_str());
    let password_ok = verify_password(&form.password, hash).await;
    let account = match account {
        Some(account) if password_ok && !account.disabled => account,
        _ => {
            state
                .throttle
                .record_failure(&email, address, Instant::now());
            tracing::info!(%address, "sign-in refused");
            return Redirect::to("/login?msg=invalid").into_response();
        }
    };
    state.throttle.record_success(&email);
    if let Err(response) = start_signed_in_session(&session, account.id).await {
        return response;
    }
    tracing::info!(account = %account.email, "signed in");
    Redirect::to("/").into_response()
}

/// A fresh session id and CSRF token at sign-in, so a token or id planted before sign-in
/// is worth nothing after it.
async fn start_signed_in_session(session: &Session, user_id: i32) -> Result<(), Response> {
    let result = async {
        session.cycle_id().await?;
        session.insert(USER_ID_KEY, user_id).await?;
        session.insert(CSRF_KEY, random_token()).await
    }
    .await;
    result.map_err(|error| {
        tracing::error!(%error, "cannot start the session");
        internal_error()
    })
}

pub async fn logout(session: Session) -> Response {
    if let Err(error) = session.flush().await {
        tracing::error!(%error, "cannot end the session");
        return internal_error();
    }
    Redirect::to("/login?msg=signed_out").into_response()
}

#[derive(Deserialize)]
pub struct SetupForm {
    token: String,
    email: String,
    password: String,
}

pub async fn setup(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<SetupForm>,
) -> Response {
    let retry = |code: &str| {
        let token: String = url::form_urlencoded::byte_serialize(form.token.as_bytes()).collect();
        Redirect::to(&format!("/setup?token={token}&error={code}")).into_response()
    };
    if !state.setup.redeem(&form.token) {
        return Redirect::to("/setup?error=token").into_response();
    }
    let created = match create_admin(&state.accounts, &form.email, &form.password).await {
        Ok(Ok(account)) => account,
        Ok(Err(message)) => {
            state.setup.restore(&form.token);
            let code = if message.starts_with("email") {
                "email"
            } else {
                "password"
            };
            return retry(code);
        }
        Err(error) => {
            state.setup.restore(&form.token);
            tracing::error!(%error, "cannot create the first administrator");
            return internal_error();
        }
    };
    if let Err(response) = start_signed_in_session(&session, created.id).await {
        return response;
    }
    tracing::info!(account = %created.email, "first administrator created through the setup link");
    Redirect::to("/").into_response()
}
