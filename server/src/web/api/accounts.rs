//! REST API for the Accounts page: accounts and API tokens, the page's own actions
//! (`app::api::accounts::AccountAdmin`, `app::api::api_tokens::ApiTokenAdmin`), for
//! [`Accounts`] callers (administrators, or an `admin` token).
//!
//! | method and path | does |
//! |---|---|
//! | `GET /api/v1/accounts` | every account |
//! | `POST /api/v1/accounts` `{email, password, role}` | adds one; 201 with it |
//! | `PATCH /api/v1/accounts/{id}` `{"disabled": true}` | disables (signed out everywhere) or enables it |
//! | `DELETE /api/v1/accounts/{id}` | deletes it |
//! | `PUT /api/v1/accounts/{id}/password` `{password}` | sets a new password |
//! | `GET /api/v1/tokens` | every API token (never the token itself) |
//! | `POST /api/v1/tokens` `{name, scope, expires_in_days}` | creates one; 201 with the token, shown this once |
//! | `DELETE /api/v1/tokens/{id}` | revokes it |
//!
//! The page's rules hold (the last administrator stays, nobody disables themselves). One
//! more for tokens: a token created with a token expires no later than the token that
//! created it, so a leaked token cannot make itself a longer-lived successor.

use app::accounts::{AccountSummary, ApiTokenSummary, CreatedApiToken, Role, TokenScope};
use app::api::accounts::AccountAdmin as _;
use app::api::api_tokens::ApiTokenAdmin as _;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::access::{Accounts, Caller};
use super::{ApiError, Body, Codes};
use crate::accounts::api_tokens::SECONDS_PER_DAY;
use crate::clock::unix_now;
use crate::state::AppState;
use crate::web::backend::accounts::AccountsAdmin;
use crate::web::backend::api_tokens::ApiTokensAdmin;

const ACCOUNT: Codes = Codes {
    not_found: "account.not_found",
    invalid: "account.invalid",
    conflict: "account.conflict",
    upstream: "account.upstream",
};

const TOKEN: Codes = Codes {
    not_found: "token.not_found",
    invalid: "token.invalid",
    conflict: "token.conflict",
    upstream: "token.upstream",
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_accounts, create_account))
        .routes(routes!(change_account, delete_account))
        .routes(routes!(set_password))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

fn accounts(state: &AppState) -> AccountsAdmin {
    AccountsAdmin {
        service: state.accounts_service(),
    }
}

fn tokens(state: &AppState) -> ApiTokensAdmin {
    ApiTokensAdmin {
        service: state.api_tokens_service(),
    }
}

#[derive(Serialize, ToSchema)]
struct AccountList {
    accounts: Vec<AccountSummary>,
}

#[derive(Deserialize, ToSchema)]
struct NewAccount {
    email: String,
    /// At least 12 characters.
    password: String,
    role: Role,
}

#[derive(Deserialize, ToSchema)]
struct AccountChange {
    /// Disabled accounts cannot sign in, and their sessions end.
    disabled: bool,
}

#[derive(Deserialize, ToSchema)]
struct NewPassword {
    /// At least 12 characters.
    password: String,
}

#[derive(Serialize, ToSchema)]
struct TokenList {
    tokens: Vec<ApiTokenSummary>,
}

#[derive(Deserialize, ToSchema)]
struct NewToken {
    name: String,
    scope: TokenScope,
    /// Days until it expires (1 to 3650); left out or null: never (not for a token created
    /// with a token).
    expires_in_days: Option<u32>,
}

/// Every account.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "Accounts",
    responses((status = 200, body = AccountList)))]
async fn list_accounts(
    State(state): State<AppState>,
    _: Caller<Accounts>,
) -> Result<Json<AccountList>, ApiError> {
    let accounts = accounts(&state)
        .list_accounts()
        .await
        .map_err(|e| ACCOUNT.error(e))?;
    Ok(Json(AccountList { accounts }))
}

/// Adds an account.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "Accounts", request_body = NewAccount,
    responses((status = 201, body = AccountSummary)))]
async fn create_account(
    State(state): State<AppState>,
    caller: Caller<Accounts>,
    Body(new): Body<NewAccount>,
) -> Result<(StatusCode, Json<AccountSummary>), ApiError> {
    let account = accounts(&state)
        .create_account(&caller.user, &new.email, &new.password, new.role)
        .await
        .map_err(|e| ACCOUNT.error(e))?;
    Ok((StatusCode::CREATED, Json(account)))
}

/// Disables or enables an account.
#[utoipa::path(patch, path = "/api/v1/accounts/{id}", tag = "Accounts",
    params(("id" = i32, Path)), request_body = AccountChange,
    responses((status = 204, description = "changed")))]
async fn change_account(
    State(state): State<AppState>,
    caller: Caller<Accounts>,
    Path(id): Path<i32>,
    Body(change): Body<AccountChange>,
) -> Result<StatusCode, ApiError> {
    accounts(&state)
        .set_account_disabled(&caller.user, id, change.disabled)
        .await
        .map_err(|e| ACCOUNT.error(e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes an account.
#[utoipa::path(delete, path = "/api/v1/accounts/{id}", tag = "Accounts",
    params(("id" = i32, Path)),
    responses((status = 204, description = "deleted")))]
async fn delete_account(
    State(state): State<AppState>,
    caller: Caller<Accounts>,
    Path(id): Path<i32>,
) -> Result<StatusCode, ApiError> {
    accounts(&state)
        .delete_account(&caller.user, id)
        .await
        .map_err(|e| ACCOUNT.error(e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets an account's password.
#[utoipa::path(put, path = "/api/v1/accounts/{id}/password", tag = "Accounts",
    params(("id" = i32, Path)), request_body = NewPassword,
    responses((status = 204, description = "set")))]
async fn set_password(
    State(state): State<AppState>,
    caller: Caller<Accounts>,
    Path(id): Path<i32>,
    Body(new): Body<NewPassword>,
) -> Result<StatusCode, ApiError> {
    accounts(&state)
        .reset_password(&caller.user, id, &new.password)
        .await
        .map_err(|e| ACCOUNT.error(e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every API token: name, prefix, scope, who made it, when it was last used and expires.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "Accounts",
    responses((status = 200, body = TokenList)))]
async fn list_tokens(
    State(state): State<AppState>,
    _: Caller<Accounts>,
) -> Result<Json<TokenList>, ApiError> {
    let tokens = tokens(&state)
        .list_tokens()
        .await
        .map_err(|e| TOKEN.error(e))?;
    Ok(Json(TokenList { tokens }))
}

/// Creates an API token acting as the caller, limited to its scope; the answer holds the
/// token, shown this once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "Accounts", request_body = NewToken,
    responses((status = 201, body = CreatedApiToken)))]
async fn create_token(
    State(state): State<AppState>,
    caller: Caller<Accounts>,
    Body(new): Body<NewToken>,
) -> Result<(StatusCode, Json<CreatedApiToken>), ApiError> {
    let admin = tokens(&state);
    if let Some(client) = &caller.token {
        let listed = admin.list_tokens().await.map_err(|e| TOKEN.error(e))?;
        let own_expiry = listed
            .iter()
            .find(|token| token.id == client.token_id)
            .and_then(|token| token.expires_at);
        outlives_check(own_expiry, new.expires_in_days, unix_now())?;
    }
    let created = admin
        .create_token(&caller.user, &new.name, new.scope, new.expires_in_days)
        .await
        .map_err(|e| TOKEN.error(e))?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes an API token: it is refused from now on.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "Accounts",
    params(("id" = i32, Path)),
    responses((status = 204, description = "revoked")))]
async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller<Accounts>,
    Path(id): Path<i32>,
) -> Result<StatusCode, ApiError> {
    tokens(&state)
        .revoke_token(&caller.user, id)
        .await
        .map_err(|e| TOKEN.error(e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses a token, asked for with a token expiring at `own_expiry` (unix seconds; `None`:
/// never), that would outlive it.
fn outlives_check(own_expiry: Option<i64>, days: Option<u32>, now: i64) -> Result<(), ApiError> {
    let Some(own_expiry) = own_expiry else {
        return Ok(());
    };
    let fits = days.is_some_and(|days| now + i64::from(days) * SECONDS_PER_DAY <= own_expiry);
    if fits {
        return Ok(());
    }
    let days_left = (own_expiry - now).max(0) / SECONDS_PER_DAY;
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "token.outlives",
        format!(
            "expires_in_days: a token created with a token expires no later than it; this \
             one expires in {days_left} days"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = SECONDS_PER_DAY;

    #[test]
    fn a_token_made_with_a_token_expires_no_later_than_it() {
        let now = 1_000 * DAY;
        assert!(
            outlives_check(None, None, now).is_ok(),
            "a token that never expires"
        );
        assert!(outlives_check(Some(now + 30 * DAY), Some(30), now).is_ok());
        let longer = outlives_check(Some(now + 30 * DAY), Some(31), now).unwrap_err();
        assert_eq!(longer.code, "token.outlives");
        assert!(
            longer.message.contains("expires in 30 days"),
            "{}",
            longer.message
        );
        let forever = outlives_check(Some(now + 30 * DAY), None, now).unwrap_err();
        assert_eq!(forever.code, "token.outlives");
    }
}
