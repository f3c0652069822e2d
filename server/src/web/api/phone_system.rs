//! REST API for the phone system, under `/api/v1/phone-system`, the Phone system page's
//! twin for provisioning scripts: an administrator's session (with the CSRF header on PUT
//! and POST) or an `admin` API token. Secrets are never answered: `client_secret_set`,
//! `webhook_secret_set` say whether one is stored.
//!
//! | method and path | does |
//! |---|---|
//! | `GET /api/v1/phone-system` | the settings and the status (`app::phone_system::PhoneSystemView`) |
//! | `PUT /api/v1/phone-system` | saves `{base_url, client_id, client_secret?, webhook_secret?, delivery: "webhook" \| "websocket" \| "both", sync_minutes?}`; a secret left out keeps the stored one, `""` removes it; answers the view |
//! | `POST /api/v1/phone-system/sync` | syncs the extension directory from the PBX now; answers `{listed, added, updated, removed}` |
//! | `POST /api/v1/phone-system/disconnect` | revokes the Open API token and forgets the Client Secret; webhooks go on |
//!
//! Errors are JSON `{"error": {"code", "message"}}`: `phone_system.invalid` (422, the field
//! first), `phone_system.not_configured` (409), `phone_system.refused` (409: the PBX
//! refused the Client ID and Secret, with its errcode), `phone_system.unreachable` (502),
//! `phone_system.no_token` (503), `auth.*` as everywhere.

use app::phone_system::PhoneSystemInput;
use axum::extract::{rejection::JsonRejection, State};
use axum::http::StatusCode;
use axum::Json;

use super::access::{Caller, PhoneSystem};
use super::ApiError;
use crate::phone_system::service::PhoneSystemError;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show, save))
        .routes(routes!(sync))
        .routes(routes!(disconnect))
}

impl From<PhoneSystemError> for ApiError {
    fn from(error: PhoneSystemError) -> Self {
        let (status, code) = match &error {
            PhoneSystemError::Invalid { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "phone_system.invalid")
            }
            PhoneSystemError::NotConfigured => {
                (StatusCode::CONFLICT, "phone_system.not_configured")
            }
            PhoneSystemError::Refused(_) => (StatusCode::CONFLICT, "phone_system.refused"),
            PhoneSystemError::NoToken(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "phone_system.no_token")
            }
            PhoneSystemError::OpenApi(_)
            | PhoneSystemError::RecordingStatus(_)
            | PhoneSystemError::RecordingTooLarge => {
                (StatusCode::BAD_GATEWAY, "phone_system.unreachable")
            }
            PhoneSystemError::Cipher(_) | PhoneSystemError::Storage(_) => {
                return ApiError::internal("the phone system", error);
            }
        };
        ApiError::new(status, code, error.to_string())
    }
}

#[utoipa::path(get, path = "/api/v1/phone-system", tag = "Phone system",
    responses((status = 200, description = "the settings (secrets only as `*_set`) and the status")))]
async fn show(
    State(state): State<AppState>,
    _caller: Caller<PhoneSystem>,
) -> Result<Json<app::phone_system::PhoneSystemView>, ApiError> {
    Ok(Json(state.phone_system_service().view().await?))
}

#[utoipa::path(put, path = "/api/v1/phone-system", tag = "Phone system",
    request_body(description = "`{base_url, client_id, client_secret?, webhook_secret?, delivery, sync_minutes?}`; a secret left out keeps the stored one, `\"\"` removes it", content_type = "application/json"),
    responses((status = 200, description = "the settings and status as stored")))]
async fn save(
    State(state): State<AppState>,
    caller: Caller<PhoneSystem>,
    input: Result<Json<PhoneSystemInput>, JsonRejection>,
) -> Result<Json<app::phone_system::PhoneSystemView>, ApiError> {
    let Json(input) = input.map_err(|rejection| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "phone_system.invalid",
            rejection.body_text(),
        )
    })?;
    let view = state
        .phone_system_service()
        .save(&caller.user.email, input)
        .await?;
    Ok(Json(view))
}

#[utoipa::path(post, path = "/api/v1/phone-system/sync", tag = "Phone system",
    responses((status = 200, description = "`{listed, added, updated, removed}`")))]
async fn sync(
    State(state): State<AppState>,
    _caller: Caller<PhoneSystem>,
) -> Result<Json<app::phone_system::ExtensionSyncReport>, ApiError> {
    Ok(Json(state.phone_system_service().sync_extensions().await?))
}

#[utoipa::path(post, path = "/api/v1/phone-system/disconnect", tag = "Phone system",
    responses((status = 200, description = "the Open API token revoked, the Client Secret forgotten")))]
async fn disconnect(
    State(state): State<AppState>,
    caller: Caller<PhoneSystem>,
) -> Result<Json<app::phone_system::PhoneSystemView>, ApiError> {
    Ok(Json(
        state
            .phone_system_service()
            .disconnect(&caller.user.email)
            .await?,
    ))
}
