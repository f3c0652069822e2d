//! `GET /healthz`: whether the server runs and its database answers. Load balancers and
//! monitors ask it many times a second; the database is asked at most once per
//! [`DATABASE_CHECK_INTERVAL`], and callers in between share the last answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::state::AppState;

/// How old an answer about the database `/healthz` may give.
pub const DATABASE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// The last time the database was asked, and whether it answered; checks in progress hold
/// the lock, so concurrent health checks wait for one ping rather than each sending one.
#[derive(Clone, Default)]
pub struct DatabaseProbe {
    last: Arc<Mutex<Option<(Instant, bool)>>>,
}

impl DatabaseProbe {
    async fn answers(&self, state: &AppState) -> bool {
        let mut last = self.last.lock().await;
        if let Some((at, answered)) = *last {
            if at.elapsed() < DATABASE_CHECK_INTERVAL {
                return answered;
            }
        }
        let answered = match state.database_answers().await {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(%error, "health check: database unreachable");
                false
            }
        };
        *last = Some((Instant::now(), answered));
        answered
    }
}

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if state.database_probe.answers(&state).await {
        (
            StatusCode::OK,
            Json(json!({"status": "ok", "database": "ok"})),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": "unreachable"})),
        )
    }
}
