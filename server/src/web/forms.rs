//! Plain HTML form posts: sign-in, sign-out, first-admin setup and a reset link's new
//! password. They work before the
//! page has hydrated, and answer with redirects. The CSRF middleware has already checked
//! their token.

use std::time::{Duration, Instant};

use app::accounts::{normalize_email, MAX_PASSWORD_CHARS};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use crate::accounts::SESSION_ACCOUNT_KEY as USER_ID_KEY;
use crate::clock::unix_now;
use crate::crypto::random_token;
use crate::state::AppState;
use crate::web::internal_error;
use crate::web::middleware::client_address::ClientAddress;
use crate::web::middleware::viewer::{CSRF_KEY, LAST_SEEN_KEY, SIGNED_IN_AT_KEY};

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

/// Sign-in and setup forms larger than this are refused before they are parsed: an
/// e-mail is at most 254 characters and a password 256.
pub const MAX_SIGN_IN_FORM_BYTES: usize = 16 * 1024;

/// Every address that does not parse as an e-mail shares this one throttle counter, so
/// junk cannot mint a fresh counter (or megabytes of key) per attempt.
const UNPARSEABLE_EMAIL_BUCKET: &str = "<unparseable e-mail>";

pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Response {
    let email = normalize_email(&form.email).unwrap_or_else(|_| UNPARSEABLE_EMAIL_BUCKET.into());
    if let Err(wait) = state.throttle.reserve(&email, address, Instant::now()) {
        tracing::warn!(%address, "sign-in throttled");
        return throttled(wait);
    }
    if email == UNPARSEABLE_EMAIL_BUCKET || form.password.chars().count() > MAX_PASSWORD_CHARS {
        tracing::info!(%address, "sign-in refused: malformed e-mail or password");
        return Redirect::to("/login?msg=invalid").into_response();
    }

    let account = match state.accounts_service().sign_in_candidate(&email).await {
        Ok(account) => account,
        Err(error) => {
            tracing::error!(%error, "cannot look up the account");
            return internal_error();
        }
    };
    let hash = account.as_ref().map(|a| a.password_hash.as_str());
    let password_ok = match state.verifier.verify(&form.password, hash).await {
        Ok(ok) => ok,
        Err(busy) => {
            tracing::warn!(%address, "sign-in refused: {busy}");
            return throttled(Duration::from_secs(BUSY_RETRY_SECS));
        }
    };
    let account = match account {
        Some(account) if password_ok && !account.disabled => account,
        _ => {
            tracing::info!(%address, "sign-in refused");
            return Redirect::to("/login?msg=invalid").into_response();
        }
    };
    state.throttle.settle_success(&email, address);
    if let Err(response) = start_signed_in_session(&session, account.id).await {
        return response;
    }
    tracing::info!(account = %account.email, "signed in");
    Redirect::to("/").into_response()
}

/// How long a sign-in refused because the verifier is busy is asked to wait.
const BUSY_RETRY_SECS: u64 = 5;

/// Back to the sign-in page, which says how long to wait.
fn throttled(wait: Duration) -> Response {
    let seconds = wait.as_secs().max(1);
    Redirect::to(&format!("/login?msg=throttled&retry={seconds}")).into_response()
}

/// A fresh session id and CSRF token at sign-in, so a token or id planted before sign-in
/// is worth nothing after it.
async fn start_signed_in_session(session: &Session, user_id: i32) -> Result<(), Response> {
    let result = async {
        session.cycle_id().await?;
        session.insert(USER_ID_KEY, user_id).await?;
        let now = unix_now();
        session.insert(SIGNED_IN_AT_KEY, now).await?;
        session.insert(LAST_SEEN_KEY, now).await?;
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
pub struct ResetPasswordForm {
    token: String,
    password: String,
}

/// A reset link's form (`patchbay admin reset-password`): the new password is set and the
/// account's sessions end; the person signs in with it.
pub async fn reset_password(
    State(state): State<AppState>,
    Form(form): Form<ResetPasswordForm>,
) -> Response {
    use crate::accounts::recovery::{ResetOutcome, RESET_PATH};
    match state
        .recovery()
        .reset(&form.token, &form.password, unix_now())
        .await
    {
        Ok(ResetOutcome::PasswordSet { account_id }) => {
            tracing::info!(account = account_id, "password set through a reset link");
            Redirect::to("/login?msg=password_set").into_response()
        }
        Ok(ResetOutcome::BadLink) => {
            Redirect::to(&format!("{RESET_PATH}?error=token")).into_response()
        }
        Ok(ResetOutcome::WeakPassword(_)) => {
            let token: String =
                url::form_urlencoded::byte_serialize(form.token.as_bytes()).collect();
            Redirect::to(&format!("{RESET_PATH}?token={token}&error=password")).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "cannot set a password through a reset link");
            internal_error()
        }
    }
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
    let created = match state
        .accounts_service()
        .create_first_admin(&form.email, &form.password)
        .await
    {
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
