//! REST API for the extension directory, under `/api/v1/extensions`, for provisioning
//! scripts: an administrator's session (with the CSRF header on POST) or an `admin` API
//! token.
//!
//! | method and path | does |
//! |---|---|
//! | `GET /api/v1/extensions` | the directory as JSON: `{"extensions": [{number, first_name, last_name, email}…]}`, by number |
//! | `GET /api/v1/extensions?format=csv` | the same as CSV with the import's header, to edit and import again |
//! | `POST /api/v1/extensions/import[?preview=1]` | a `text/csv` body, header `number,first_name,last_name,email` (columns by name): every row's outcome (`new`, `changed`, `unchanged`, `refused` with its reason); applied unless `preview=1`, and only when no row is refused |
//!
//! Errors are JSON `{"error": {"code", "message", "rows"?}}`: `import.file` (400: not CSV
//! as expected, with what and where), `import.refused` (422, with every row's outcome),
//! `import.too_large` (413), `auth.required` (401), `auth.forbidden` and `auth.scope` (403).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::access::{Caller, Directory};
use super::ApiError;
use crate::directory::import::{FileError, MAX_IMPORT_BYTES};
use crate::directory::service::DirectoryError;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    let (schemas, paths, import) = routes!(import);
    OpenApiRouter::new()
        .routes(routes!(list_extensions))
        .routes((
            schemas,
            paths,
            import.layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES + 1024)),
        ))
}

fn storage_error(error: impl std::fmt::Display) -> ApiError {
    ApiError::internal("the extension directory", error)
}

#[derive(Deserialize)]
struct ListQuery {
    format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/extensions", tag = "Extensions",
    params(("format" = Option<String>, Query, description = "`csv`: the import's format")),
    responses((status = 200, description = "`{extensions: [{number, first_name, last_name, email}]}`, or CSV")))]
async fn list_extensions(
    State(state): State<AppState>,
    _caller: Caller<Directory>,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let service = state.directory_service();
    match query.format.as_deref() {
        Some("csv") => {
            let text = service.export_csv().await.map_err(storage_error)?;
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"extensions.csv\"",
                    ),
                ],
                text,
            )
                .into_response())
        }
        None | Some("json") => {
            let extensions = service.list().await.map_err(storage_error)?;
            Ok(Json(json!({ "extensions": extensions })).into_response())
        }
        Some(other) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "format.unknown",
            format!("format must be json or csv, not {other:?}"),
        )),
    }
}

#[derive(Deserialize)]
struct ImportQuery {
    preview: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/extensions/import", tag = "Extensions",
    params(("preview" = Option<String>, Query, description = "`1`: only answer every row's outcome")),
    request_body(description = "CSV with the header `number,first_name,last_name,email`", content_type = "text/csv"),
    responses((status = 200, description = "every row's outcome: `new`, `changed`, `unchanged`, `refused`")))]
async fn import(
    State(state): State<AppState>,
    caller: Caller<Directory>,
    Query(query): Query<ImportQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let actor = caller.user.email;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "import.too_large",
            FileError::TooLarge.to_string(),
        )
    };
    let body = body.map_err(|_| too_large())?;
    let preview = matches!(query.preview.as_deref(), Some("1" | "true"));
    match state
        .directory_service()
        .import(&actor, &body, preview)
        .await
    {
        Ok(report) => Ok(Json(report).into_response()),
        Err(DirectoryError::File(FileError::TooLarge)) => Err(too_large()),
        Err(DirectoryError::File(error)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "import.file",
            error.to_string(),
        )),
        Err(DirectoryError::Refused(refusal)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": {
                "code": "import.refused",
                "message": refusal.to_string(),
                "rows": refusal.results,
            }})),
        )
            .into_response()),
        Err(
            error @ (DirectoryError::Storage(_)
            | DirectoryError::Invalid { .. }
            | DirectoryError::NotFound(_)),
        ) => Err(storage_error(error)),
    }
}
