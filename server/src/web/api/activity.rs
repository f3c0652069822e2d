//! REST API for Activity and its Queue tab, the pages' own actions
//! (`app::api::integrations::IntegrationAdmin::activity`, `app::api::queue::QueueAdmin`).
//! Reading: [`ActivityRecord`] (any signed-in user, or an `admin` token); Retry and Discard:
//! [`QueueJobs`] (administrators, or an `admin` token).
//!
//! | method and path | does |
//! |---|---|
//! | `GET /api/v1/activity?integration=&scenario=&outcome=&fault=&before=` | a page of scenario runs, newest first; `more` says there are older ones (ask with `before` = the last row's id) |
//! | `GET /api/v1/queue?state=&offset=` | a page of the queue's jobs and the count in each state |
//! | `POST /api/v1/queue/{id}/retry` | a failed job due again now, its attempts counted afresh |
//! | `POST /api/v1/queue/{id}/discard` | a failed job set aside for good |

use app::activity::{ActivityFilter, ActivityPage, QueuePage};
use app::api::integrations::IntegrationAdmin;
use app::api::queue::QueueAdmin as _;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::access::{ActivityRecord, Caller, QueueJobs};
use super::integration_settings::admin;
use super::{ApiError, Codes, Params};
use crate::state::AppState;
use crate::web::backend::queue::QueueAdmin;

const ACTIVITY: Codes = Codes {
    not_found: "activity.not_found",
    invalid: "activity.invalid",
    conflict: "activity.conflict",
    upstream: "activity.upstream",
};

const QUEUE: Codes = Codes {
    not_found: "queue.not_found",
    invalid: "queue.invalid",
    conflict: "queue.conflict",
    upstream: "queue.upstream",
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(activity))
        .routes(routes!(queue))
        .routes(routes!(retry))
        .routes(routes!(discard))
}

fn queue_admin(state: &AppState) -> QueueAdmin {
    QueueAdmin {
        service: state.queue_service(),
    }
}

/// Activity's filters; each left out means "any".
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ActivityQuery {
    /// `provider/key`, as `crm/hubspot`.
    #[serde(default)]
    integration: String,
    /// A scenario's name, as `CallJournal`.
    #[serde(default)]
    scenario: String,
    /// `success`, `failure`, ….
    #[serde(default)]
    outcome: String,
    /// Where failures came from: `network`, `auth`, `crm`, `template`, ….
    #[serde(default)]
    fault: String,
    /// Only rows older than this id (the next page).
    before: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct QueueQuery {
    /// `pending`, `running`, `failed`, `done` or `discarded`; left out: pending, running
    /// and failed.
    #[serde(default)]
    state: String,
    /// Jobs to skip (50 per page).
    #[serde(default)]
    offset: u64,
}

/// A page of Activity: scenario runs, newest first, with the retention in force.
#[utoipa::path(get, path = "/api/v1/activity", tag = "Activity", params(ActivityQuery),
    responses((status = 200, body = ActivityPage)))]
async fn activity(
    State(state): State<AppState>,
    _: Caller<ActivityRecord>,
    Params(query): Params<ActivityQuery>,
) -> Result<Json<ActivityPage>, ApiError> {
    let filter = ActivityFilter {
        integration: query.integration,
        scenario: query.scenario,
        outcome: query.outcome,
        fault: query.fault,
        before: query.before,
    };
    let page = admin(&state)
        .activity(filter)
        .await
        .map_err(|e| ACTIVITY.error(e))?;
    Ok(Json(page))
}

/// A page of the queue's jobs, newest first, and how many jobs are in each state.
#[utoipa::path(get, path = "/api/v1/queue", tag = "Activity", params(QueueQuery),
    responses((status = 200, body = QueuePage)))]
async fn queue(
    State(state): State<AppState>,
    _: Caller<ActivityRecord>,
    Params(query): Params<QueueQuery>,
) -> Result<Json<QueuePage>, ApiError> {
    let page = queue_admin(&state)
        .queue(&query.state, query.offset)
        .await
        .map_err(|e| QUEUE.error(e))?;
    Ok(Json(page))
}

/// Retry: a failed job due again now, its attempts counted afresh.
#[utoipa::path(post, path = "/api/v1/queue/{id}/retry", tag = "Activity",
    params(("id" = i32, Path, description = "the job's id")),
    responses((status = 204, description = "due again")))]
async fn retry(
    State(state): State<AppState>,
    caller: Caller<QueueJobs>,
    Path(id): Path<i32>,
) -> Result<StatusCode, ApiError> {
    queue_admin(&state)
        .retry_job(&caller.user, id)
        .await
        .map_err(|e| QUEUE.error(e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Discard: a failed job set aside for good (kept, shown as discarded).
#[utoipa::path(post, path = "/api/v1/queue/{id}/discard", tag = "Activity",
    params(("id" = i32, Path, description = "the job's id")),
    responses((status = 204, description = "set aside")))]
async fn discard(
    State(state): State<AppState>,
    caller: Caller<QueueJobs>,
    Path(id): Path<i32>,
) -> Result<StatusCode, ApiError> {
    queue_admin(&state)
        .discard_job(&caller.user, id)
        .await
        .map_err(|e| QUEUE.error(e))?;
    Ok(StatusCode::NO_CONTENT)
}
