//! REST API for an integration's CRM users and User Association, under
//! `/api/v1/integrations/{provider}/{key}/users`: the page's own actions
//! (`app::api::integrations::IntegrationAdmin`), for [`Integrations`] callers.
//!
//! | method and path | does |
//! |---|---|
//! | `POST …/users/sync` | syncs the CRM's users (or joins the sync under way); answers what it did |
//! | `GET …/users/sync` | the sync under way: pages and users read so far |
//! | `GET …/users?search=&offset=` | a page of the CRM users with their extensions |
//! | `PUT …/users/{crm_id}/extensions` `{"extensions": ["1001"]}` | sets the user's extensions |
//! | `POST …/users/associate-automatically` `{"apply": false}` | by e-mail: what it would do, or (`apply`) does |

use app::api::integrations::IntegrationAdmin;
use app::integrations::{AutoAssociation, CrmUsersPage, UserSyncProgress, UserSyncReport};
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::access::{Caller, Integrations};
use super::integration_settings::{admin, PageQuery, INTEGRATION};
use super::{provider, ApiError, Body, Params};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sync_crm_users, crm_user_sync_progress))
        .routes(routes!(list_crm_users))
        .routes(routes!(associate_extensions))
        .routes(routes!(associate_automatically))
}

#[derive(Serialize, Deserialize, ToSchema)]
struct Extensions {
    /// Extension numbers.
    extensions: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
struct AutoBody {
    /// Do it; `false` (the default) only answers what it would do.
    #[serde(default)]
    apply: bool,
}

/// Syncs the integration's CRM users (or joins the sync under way).
#[utoipa::path(post, path = "/api/v1/integrations/{provider}/{key}/users/sync", tag = "User association",
    params(("provider" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = UserSyncReport)))]
async fn sync_crm_users(
    State(state): State<AppState>,
    caller: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
) -> Result<Json<UserSyncReport>, ApiError> {
    let report = admin(&state)
        .sync_crm_users(&caller.user, provider(&p)?, &key)
        .await
        .map_err(|e| INTEGRATION.error(e))?;
    Ok(Json(report))
}

/// The sync under way, if any: pages and users read so far.
#[utoipa::path(get, path = "/api/v1/integrations/{provider}/{key}/users/sync", tag = "User association",
    params(("provider" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = UserSyncProgress)))]
async fn crm_user_sync_progress(
    State(state): State<AppState>,
    _: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
) -> Result<Json<UserSyncProgress>, ApiError> {
    let progress = admin(&state)
        .crm_user_sync_progress(provider(&p)?, &key)
        .await
        .map_err(|e| INTEGRATION.error(e))?;
    Ok(Json(progress))
}

/// A page of the integration's CRM users, each with the extensions associated with it.
#[utoipa::path(get, path = "/api/v1/integrations/{provider}/{key}/users", tag = "User association",
    params(("provider" = String, Path), ("key" = String, Path), PageQuery),
    responses((status = 200, body = CrmUsersPage)))]
async fn list_crm_users(
    State(state): State<AppState>,
    _: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
    Params(query): Params<PageQuery>,
) -> Result<Json<CrmUsersPage>, ApiError> {
    let page = admin(&state)
        .crm_users(provider(&p)?, &key, &query.search, query.offset)
        .await
        .map_err(|e| INTEGRATION.error(e))?;
    Ok(Json(page))
}

/// Sets the extensions associated with a CRM user; answers them as stored.
#[utoipa::path(put, path = "/api/v1/integrations/{provider}/{key}/users/{crm_id}/extensions",
    tag = "User association",
    params(("provider" = String, Path), ("key" = String, Path),
        ("crm_id" = String, Path, description = "the user's id in the CRM")),
    request_body = Extensions,
    responses((status = 200, body = Extensions)))]
async fn associate_extensions(
    State(state): State<AppState>,
    caller: Caller<Integrations>,
    Path((p, key, crm_id)): Path<(String, String, String)>,
    Body(body): Body<Extensions>,
) -> Result<Json<Extensions>, ApiError> {
    let extensions = admin(&state)
        .associate(&caller.user, provider(&p)?, &key, &crm_id, &body.extensions)
        .await
        .map_err(|e| INTEGRATION.error(e))?;
    Ok(Json(Extensions { extensions }))
}

/// Associate Automatically: pairs extensions and CRM users by e-mail. Without `apply` it
/// only answers what it would do.
#[utoipa::path(post, path = "/api/v1/integrations/{provider}/{key}/users/associate-automatically",
    tag = "User association",
    params(("provider" = String, Path), ("key" = String, Path)),
    request_body = AutoBody,
    responses((status = 200, body = AutoAssociation)))]
async fn associate_automatically(
    State(state): State<AppState>,
    caller: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
    Body(body): Body<AutoBody>,
) -> Result<Json<AutoAssociation>, ApiError> {
    let outcome = admin(&state)
        .associate_automatically(&caller.user, provider(&p)?, &key, body.apply)
        .await
        .map_err(|e| INTEGRATION.error(e))?;
    Ok(Json(outcome))
}
