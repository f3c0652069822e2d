//! REST API for the template gallery (README "The template gallery"): administrators, or an
//! `admin` token, as for templates.
//!
//! | method and path | does |
//! |---|---|
//! | `GET /api/v1/gallery` | the gallery's templates: provider, name, key, auth type, scenarios, what you need from the CRM, its API docs |
//! | `POST /api/v1/gallery/{id}` | adds that template to its provider's list; 201 with the stored template's summary; 409 `key.duplicate` when the key is taken, `limit.templates` when the list is full |

use app::gallery::GalleryEntry;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::access::{Caller, ManageTemplates};
use super::ApiError;
use crate::state::AppState;
use crate::templates::gallery;
use crate::templates::service::summary_of;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_gallery))
        .routes(routes!(add_from_gallery))
}

#[derive(Serialize, ToSchema)]
struct GalleryList {
    templates: Vec<GalleryEntry>,
}

/// The gallery's ready-made templates, each with what you need from the CRM.
#[utoipa::path(get, path = "/api/v1/gallery", tag = "Templates",
    responses((status = 200, body = GalleryList)))]
async fn list_gallery(_: Caller<ManageTemplates>) -> Json<GalleryList> {
    Json(GalleryList {
        templates: gallery::entries(),
    })
}

/// Adds a gallery template to its provider's list (it counts toward the ten).
#[utoipa::path(post, path = "/api/v1/gallery/{id}", tag = "Templates",
    params(("id" = String, Path, description = "the gallery template's id, as `pipedrive`")),
    responses((status = 201, description = "the stored template's summary, as the template list shows it")))]
async fn add_from_gallery(
    State(state): State<AppState>,
    caller: Caller<ManageTemplates>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let stored = state
        .templates_service()
        .add_from_gallery(&caller.user.email, &id)
        .await?;
    let summary = serde_json::to_value(summary_of(&stored)).unwrap_or_default();
    Ok((StatusCode::CREATED, Json(summary)))
}
