//! REST API for importing other systems' templates (docs/import-3cx.md): administrators, or
//! an `admin` token, as for templates. Nothing is stored: the answer is the converted
//! template, to upload or edit.
//!
//! | method and path | does |
//! |---|---|
//! | `POST /api/v1/import/3cx` | a 3CX CRM template (the XML as the body) converted: `{"template", "report"}`, each report line with its outcome, 3CX element, line and message; 422 `import.invalid` when the body is not a 3CX template |

use app::template::threecx::{convert, Conversion};
use app::template::xml::MAX_TEMPLATE_BYTES;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::access::{Caller, ManageTemplates};
use super::ApiError;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import_3cx))
}

/// Converts a 3CX CRM template (root `<Crm>`) into the vendor's format.
#[utoipa::path(post, path = "/api/v1/import/3cx", tag = "Templates",
    request_body(description = "the 3CX template's XML, at most 1 MiB", content_type = "application/xml", content = String),
    responses((status = 200, body = Conversion), (status = 422, description = "`import.invalid`: not well-formed XML, or not a 3CX template")))]
async fn import_3cx(
    _: Caller<ManageTemplates>,
    body: String,
) -> Result<Json<Conversion>, ApiError> {
    let invalid = |message: String| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "import.invalid", message)
    };
    if body.len() > MAX_TEMPLATE_BYTES {
        return Err(invalid(format!(
            "the body has {} bytes; at most {MAX_TEMPLATE_BYTES} are accepted",
            body.len()
        )));
    }
    convert(&body)
        .map(Json)
        .map_err(|error| invalid(error.to_string()))
}
