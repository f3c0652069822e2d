//! Call recordings for CRMs, at the links `RecordPath` carries
//! (`crypto::links::RecordingLinks`): no session or token, the link's signature is the
//! credential, valid for [`RECORDING_LINK_SECS`]. The file is fetched from the PBX through
//! its Open API and streamed, never stored.
//!
//! | method and path | does |
//! |---|---|
//! | `GET /api/v1/recordings?file=…&expires=…&signature=…` | the recording, as audio (`audio/wav`, `audio/mpeg`) |
//!
//! Errors are JSON `{"error": {"code", "message"}}`: `recording.link` (403: not a link
//! Patchbay made), `recording.expired` (410), `phone_system.*` (409, 502, 503) as the phone
//! system's API answers them.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::ApiError;
use crate::crypto::links::{LinkRefused, RECORDING_LINK_SECS};
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(recording))
}

#[derive(Deserialize)]
struct LinkQuery {
    #[serde(default)]
    file: String,
    #[serde(default)]
    expires: i64,
    #[serde(default)]
    signature: String,
}

#[utoipa::path(get, path = "/api/v1/recordings", tag = "Call events", security(()),
    params(("file" = String, Query), ("expires" = i64, Query, description = "unix seconds"),
        ("signature" = String, Query, description = "the link's own credential")),
    responses((status = 200, description = "the recording, as audio")))]
async fn recording(
    State(state): State<AppState>,
    Query(link): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let now = crate::clock::unix_now();
    state
        .recording_links
        .check(&link.file, link.expires, &link.signature, now)
        .map_err(|refused| match refused {
            LinkRefused::Forged => {
                ApiError::new(StatusCode::FORBIDDEN, "recording.link", refused.to_string())
            }
            LinkRefused::Expired => ApiError::new(
                StatusCode::GONE,
                "recording.expired",
                format!(
                    "{refused} (links are valid {} days)",
                    RECORDING_LINK_SECS / 86_400
                ),
            ),
        })?;
    let recording = state.phone_system_service().recording(&link.file).await?;
    let file_name: String = recording
        .file_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect();
    let mut response = (
        [
            (header::CONTENT_TYPE, recording.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        Body::from_stream(recording.body),
    )
        .into_response();
    if let Some(length) = recording.length {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, length.into());
    }
    Ok(response)
}
