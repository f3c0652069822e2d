//! `GET /metrics` (README "Metrics"): the Prometheus text format, for a signed-in
//! administrator or an API token of scope `metrics` (a token that can do nothing else).

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::access::{Caller, Metrics};
use super::ApiError;
use crate::state::AppState;

/// Where Prometheus scrapes.
pub const METRICS_PATH: &str = "/metrics";

pub fn routes() -> Router<AppState> {
    Router::new().route(METRICS_PATH, get(scrape))
}

async fn scrape(
    _caller: Caller<Metrics>,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let snapshot = state
        .overview_service()
        .metrics_snapshot(state.call_feed.open_streams())
        .await
        .map_err(|error| ApiError::internal("reading the metrics", error))?;
    let text = crate::metrics::metrics().render(&snapshot);
    Ok(([(CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response())
}
