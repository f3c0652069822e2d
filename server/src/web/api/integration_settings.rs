//! REST API for what an integration's page does, under `/api/v1/integrations/{provider}`:
//! the list with each one's status, the settings (secrets never shown, only whether they are
//! set), Save, Features, Check connection, Disconnect, the test console and the phonebook.
//! Each endpoint runs the page's own action (`app::api::integrations::IntegrationAdmin`),
//! so it checks, refuses and records exactly as the page does. Who may call:
//! [`Integrations`] (any signed-in user, or an `admin` token); unsafe methods from a browser
//! also need the `x-csrf-token` header.
//!
//! | method and path | does |
//! |---|---|
//! | `GET /api/v1/integrations/{provider}` | every integration of the provider with its status |
//! | `GET …/{key}` | its settings page: fields (secrets as `is_set`), status, revisions, token times, Features |
//! | `PUT …/{key}/settings` `{"values": {field: value}}` | Save: checks, tests against the CRM, stores; a secret left out or empty keeps its stored value |
//! | `PUT …/{key}/features` | stores the Features section |
//! | `POST …/{key}/check` | Check connection with the stored values |
//! | `POST …/{key}/disconnect` | forgets secrets and tokens (revoking them at the CRM when the template says how) |
//! | `POST …/{key}/console` | the test console: runs a scenario with sample values, secrets masked |
//! | `GET …/{key}/contacts?search=&offset=` | a page of the phonebook (the contact cache) |
//! | `DELETE …/{key}/contacts` | empties the phonebook |
//!
//! OAuth 2.0 is authorized in a browser (the CRM's consent page comes back to the session
//! that started it), so Save of an OAuth 2.0 integration with an API token is refused
//! (`integration.oauth_browser`); everything else works with a token.

use std::collections::BTreeMap;

use app::api::integrations::IntegrationAdmin;
use app::console::{ConsoleInput, RunReport};
use app::integrations::{
    CachedContactsPage, Features, IntegrationCard, IntegrationSettings, SaveOutcome, SettingsInput,
};
use app::template::model::AuthType;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::access::{Caller, Integrations};
use super::{provider, ApiError, Body, Codes, Params};
use crate::state::AppState;
use crate::web::backend::integrations::IntegrationsAdmin;

pub(super) const INTEGRATION: Codes = Codes {
    not_found: "integration.not_found",
    invalid: "integration.invalid",
    conflict: "integration.conflict",
    upstream: "integration.upstream",
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_integrations))
        .routes(routes!(integration_settings))
        .routes(routes!(save_settings))
        .routes(routes!(save_features))
        .routes(routes!(check_connection))
        .routes(routes!(disconnect_integration))
        .routes(routes!(run_console))
        .routes(routes!(list_phonebook, clear_phonebook))
}

pub(super) fn admin(state: &AppState) -> IntegrationsAdmin {
    IntegrationsAdmin {
        service: state.integrations_service(),
    }
}

#[derive(Serialize, ToSchema)]
struct IntegrationList {
    integrations: Vec<IntegrationCard>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct Said {
    /// What happened, as the page says it.
    message: String,
}

#[derive(Deserialize, ToSchema)]
struct SettingsBody {
    /// A value per field name, as the template's Authentication section names them.
    values: BTreeMap<String, String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PageQuery {
    /// Text the rows must contain; empty: every row.
    #[serde(default)]
    pub search: String,
    /// Rows to skip (50 per page).
    #[serde(default)]
    pub offset: u64,
}

#[derive(Serialize, ToSchema)]
struct Cleared {
    /// How many phonebook entries went.
    removed: u64,
}

/// Every integration of the provider, with its status.
#[utoipa::path(get, path = "/api/v1/integrations/{provider}", tag = "Integrations",
    params(("provider" = String, Path, description = "`crm` or `helpdesk`")),
    responses((status = 200, body = IntegrationList)))]
async fn list_integrations(
    State(state): State<AppState>,
    _: Caller<Integrations>,
    Path(p): Path<String>,
) -> Result<Json<IntegrationList>, ApiError> {
    let integrations = admin(&state)
        .list_integrations(provider(&p)?)
        .await
        .map_err(|e| INTEGRATION.error(e))?;
    Ok(Json(IntegrationList { integrations }))
}

/// An integration's settings page: fields (a secret only as `is_set`), status, revisions,
/// token times and Features.
#[utoipa::path(get, path = "/api/v1/integrations/{provider}/{key}", tag = "Integrations",
    params(("provider" = String, Path), ("key" = String, Path, description = "the template's key")),
    responses((status = 200, body = IntegrationSettings)))]
async fn integration_settings(
    State(state): State<AppState>,
    _: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
) -> Result<Json<IntegrationSettings>, ApiError> {
    let settings = admin(&state)
        .integration_settings(provider(&p)?, &key)
        .await
        .map_err(|e| INTEGRATION.error(e))?;
    Ok(Json(settings))
}

/// Save: checks the values, tests them against the CRM (None, Basic, Bearer), then stores
/// them. A secret left out or empty keeps its stored value. OAuth 2.0 answers the CRM's
/// consent page in `authorize_url`, for the browser of the session that saved.
#[utoipa::path(put, path = "/api/v1/integrations/{provider}/{key}/settings", tag = "Integrations",
    params(("provider" = String, Path), ("key" = String, Path)),
    request_body = SettingsBody,
    responses((status = 200, body = SaveOutcome)))]
async fn save_settings(
    State(state): State<AppState>,
    caller: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
    Body(body): Body<SettingsBody>,
) -> Result<Json<SaveOutcome>, ApiError> {
    let provider = provider(&p)?;
    let admin = admin(&state);
    if caller.token.is_some() {
        let current = admin
            .integration_settings(provider, &key)
            .await
            .map_err(|e| INTEGRATION.error(e))?;
        if current.auth_type == AuthType::OAuth2.as_str() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "integration.oauth_browser",
                "an OAuth 2.0 integration is authorized in a browser: save its settings on \
                 the integration's page, signed in",
            ));
        }
    }
    let input = SettingsInput {
        values: body.values.into_iter().collect(),
    };
    let outcome = admin
        .save_integration(&caller.user, &caller.session_secret, provider, &key, input)
        .await
        .map_err(|e| INTEGRATION.error(e))?;
    Ok(Json(outcome))
}

/// Stores the Features section (what runs on calls: lookups, contacts, journals, tickets,
/// users, the pilot rollout).
#[utoipa::path(put, path = "/api/v1/integrations/{provider}/{key}/features", tag = "Integrations",
    params(("provider" = String, Path), ("key" = String, Path)),
    request_body = Features,
    responses((status = 204, description = "stored")))]
async fn save_features(
    State(state): State<AppState>,
    caller: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
    Body(features): Body<Features>,
) -> Result<StatusCode, ApiError> {
    admin(&state)
        .save_features(&caller.user, provider(&p)?, &key, features)
        .await
        .map_err(|e| INTEGRATION.error(e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Check connection: sends the connection test with the stored values and tokens.
#[utoipa::path(post, path = "/api/v1/integrations/{provider}/{key}/check", tag = "Integrations",
    params(("provider" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = Said)))]
async fn check_connection(
    State(state): State<AppState>,
    caller: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
) -> Result<Json<Said>, ApiError> {
    let message = admin(&state)
        .check_integration(&caller.user, provider(&p)?, &key)
        .await
        .map_err(|e| INTEGRATION.error(e))?;
    Ok(Json(Said { message }))
}

/// Disconnect: forgets the secrets and tokens, revoking them at the CRM when the template
/// says how.
#[utoipa::path(post, path = "/api/v1/integrations/{provider}/{key}/disconnect", tag = "Integrations",
    params(("provider" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = Said)))]
async fn disconnect_integration(
    State(state): State<AppState>,
    caller: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
) -> Result<Json<Said>, ApiError> {
    let message = admin(&state)
        .disconnect_integration(&caller.user, provider(&p)?, &key)
        .await
        .map_err(|e| INTEGRATION.error(e))?;
    Ok(Json(Said { message }))
}

/// The test console: runs one scenario with sample values (or only renders it, `dry_run`)
/// and answers every request and response, secrets masked.
#[utoipa::path(post, path = "/api/v1/integrations/{provider}/{key}/console", tag = "Integrations",
    params(("provider" = String, Path), ("key" = String, Path)),
    request_body = ConsoleInput,
    responses((status = 200, body = RunReport)))]
async fn run_console(
    State(state): State<AppState>,
    caller: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
    Body(input): Body<ConsoleInput>,
) -> Result<Json<RunReport>, ApiError> {
    let report = admin(&state)
        .run_console(&caller.user, provider(&p)?, &key, input)
        .await
        .map_err(|e| INTEGRATION.error(e))?;
    Ok(Json(report))
}

/// A page of the integration's phonebook (its contact cache), newest first.
#[utoipa::path(get, path = "/api/v1/integrations/{provider}/{key}/contacts", tag = "Integrations",
    params(("provider" = String, Path), ("key" = String, Path), PageQuery),
    responses((status = 200, body = CachedContactsPage)))]
async fn list_phonebook(
    State(state): State<AppState>,
    _: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
    Params(query): Params<PageQuery>,
) -> Result<Json<CachedContactsPage>, ApiError> {
    let page = admin(&state)
        .cached_contacts(provider(&p)?, &key, &query.search, query.offset)
        .await
        .map_err(|e| INTEGRATION.error(e))?;
    Ok(Json(page))
}

/// Empties the phonebook: the next call asks the CRM.
#[utoipa::path(delete, path = "/api/v1/integrations/{provider}/{key}/contacts", tag = "Integrations",
    params(("provider" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = Cleared)))]
async fn clear_phonebook(
    State(state): State<AppState>,
    caller: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
) -> Result<Json<Cleared>, ApiError> {
    let removed = admin(&state)
        .clear_contact_cache(&caller.user, provider(&p)?, &key)
        .await
        .map_err(|e| INTEGRATION.error(e))?;
    Ok(Json(Cleared { removed }))
}
