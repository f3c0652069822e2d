//! REST API for running integrations in production, under
//! `/api/v1/integrations/{provider}/{key}` (README "Test cases", "Revisions and rollback",
//! "Health"). Test cases and health: any signed-in user or an `admin` token; Apply and
//! Roll back: administrators or an `admin` token. Unsafe methods from a browser also need
//! the `x-csrf-token` header.
//!
//! | method and path | does |
//! |---|---|
//! | `GET …/test-cases` | the cases, each with its last result |
//! | `POST …/test-cases` | saves `{name, input, expect}` (`app::test_cases::NewTestCase`); 201 with the case |
//! | `PUT …/test-cases/{id}` | replaces a case's content |
//! | `DELETE …/test-cases/{id}` | deletes it |
//! | `POST …/test-cases/run` | runs them all against the revision the integration runs; 200 with `app::test_cases::TestRun` (`passed` says whether all did) |
//! | `POST …/apply` `{"anyway": false}` | runs the cases against the template's newest revision, then moves the integration to it; 409 `apply.tests_failed` with `tests` when a case fails and `anyway` is not true |
//! | `POST …/rollback` | returns the integration to the revision it ran before; answers `{revision}` |
//! | `GET …/health` | the last 24 hours: successes, failures by layer, CRM latency, the queue, the last success |
//! | `GET …/runbook` | the integration's runbook, `text/markdown`, as a download |
//!
//! Errors are JSON `{"error": {"code", "message"}}`: `integration.not_found` (404),
//! `integration.invalid` (422, the field first), `integration.conflict` (409),
//! `test_case.limit` (409), `test_case.not_found` (404), `auth.*` as everywhere.

use app::test_cases::NewTestCase;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::access::{Caller, IntegrationRevisions, Integrations};
use super::{provider, ApiError};
use crate::integrations::service::IntegrationError;
use crate::integrations::test_cases::Revision;
use crate::integrations::test_cases::TestCaseStoreError;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cases, create_case))
        .routes(routes!(run_cases))
        .routes(routes!(update_case, delete_case))
        .routes(routes!(apply))
        .routes(routes!(roll_back))
        .routes(routes!(health))
        .routes(routes!(runbook))
}

impl From<IntegrationError> for ApiError {
    fn from(error: IntegrationError) -> Self {
        let message = error.to_string();
        match error {
            IntegrationError::NotFound { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "integration.not_found", message)
            }
            IntegrationError::Invalid { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "integration.invalid",
                message,
            ),
            IntegrationError::Conflict(_) => {
                ApiError::new(StatusCode::CONFLICT, "integration.conflict", message)
            }
            IntegrationError::CredentialsRejected(_)
            | IntegrationError::TestFailed(_)
            | IntegrationError::TokenFailed(_)
            | IntegrationError::Template(_) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "integration.upstream", message)
            }
            IntegrationError::TestCases(TestCaseStoreError::LimitReached) => {
                ApiError::new(StatusCode::CONFLICT, "test_case.limit", message)
            }
            IntegrationError::TestCases(TestCaseStoreError::NotFound(_)) => {
                ApiError::new(StatusCode::NOT_FOUND, "test_case.not_found", message)
            }
            IntegrationError::TestCasesFailed(_) => {
                ApiError::new(StatusCode::CONFLICT, "apply.tests_failed", message)
            }
            IntegrationError::Storage(_)
            | IntegrationError::TemplateStore(_)
            | IntegrationError::Secret(_)
            | IntegrationError::TestCases(_) => ApiError::internal("integration storage", error),
        }
    }
}

fn case_from(
    body: Result<Json<NewTestCase>, axum::extract::rejection::JsonRejection>,
) -> Result<NewTestCase, ApiError> {
    body.map(|Json(case)| case).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "integration.invalid",
            format!("the test case is not readable: {}", e.body_text()),
        )
    })
}

#[utoipa::path(get, path = "/api/v1/integrations/{provider}/{key}/test-cases", tag = "Integrations", params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key")),
    responses((status = 200, description = "`{test_cases: [...]}`, each with its last result")))]
async fn list_cases(
    State(state): State<AppState>,
    _: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let cases = state
        .integrations_service()
        .test_cases(provider(&p)?, &key)
        .await?;
    Ok(Json(json!({ "test_cases": cases })).into_response())
}

#[utoipa::path(post, path = "/api/v1/integrations/{provider}/{key}/test-cases", tag = "Integrations", params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key")),
    request_body = app::test_cases::NewTestCase,
    responses((status = 201, body = app::test_cases::TestCase)))]
async fn create_case(
    State(state): State<AppState>,
    caller: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
    body: Result<Json<NewTestCase>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let case = case_from(body)?;
    let saved = state
        .integrations_service()
        .save_test_case(&caller.user.email, provider(&p)?, &key, None, &case)
        .await?;
    Ok((StatusCode::CREATED, Json(saved)).into_response())
}

#[utoipa::path(put, path = "/api/v1/integrations/{provider}/{key}/test-cases/{id}", tag = "Integrations", params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key"), ("id" = i32, Path)),
    request_body = app::test_cases::NewTestCase,
    responses((status = 200, body = app::test_cases::TestCase)))]
async fn update_case(
    State(state): State<AppState>,
    caller: Caller<Integrations>,
    Path((p, key, id)): Path<(String, String, i32)>,
    body: Result<Json<NewTestCase>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let case = case_from(body)?;
    let saved = state
        .integrations_service()
        .save_test_case(&caller.user.email, provider(&p)?, &key, Some(id), &case)
        .await?;
    Ok(Json(saved).into_response())
}

#[utoipa::path(delete, path = "/api/v1/integrations/{provider}/{key}/test-cases/{id}", tag = "Integrations", params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key"), ("id" = i32, Path)),
    responses((status = 204, description = "deleted")))]
async fn delete_case(
    State(state): State<AppState>,
    caller: Caller<Integrations>,
    Path((p, key, id)): Path<(String, String, i32)>,
) -> Result<Response, ApiError> {
    state
        .integrations_service()
        .delete_test_case(&caller.user.email, provider(&p)?, &key, id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/api/v1/integrations/{provider}/{key}/test-cases/run", tag = "Integrations", params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key")),
    responses((status = 200, description = "`{passed, run}`: whether all passed, and each case's result")))]
async fn run_cases(
    State(state): State<AppState>,
    caller: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let run = state
        .integrations_service()
        .run_test_cases(&caller.user.email, provider(&p)?, &key, Revision::Running)
        .await?;
    let passed = run.passed();
    Ok(Json(json!({"passed": passed, "run": run})).into_response())
}

#[derive(Deserialize, Default)]
struct ApplyBody {
    #[serde(default)]
    anyway: bool,
}

#[utoipa::path(post, path = "/api/v1/integrations/{provider}/{key}/apply", tag = "Integrations", params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key")),
    request_body(description = "`{\"anyway\": false}`: apply even when a test case fails", content_type = "application/json"),
    responses((status = 200, description = "`{revision, tests, overridden}`"), (status = 409, description = "`apply.tests_failed`, with `tests`")))]
async fn apply(
    State(state): State<AppState>,
    caller: Caller<IntegrationRevisions>,
    Path((p, key)): Path<(String, String)>,
    body: Option<Json<ApplyBody>>,
) -> Result<Response, ApiError> {
    let anyway = body.map(|Json(b)| b.anyway).unwrap_or_default();
    match state
        .integrations_service()
        .apply(&caller.user.email, provider(&p)?, &key, anyway)
        .await
    {
        Ok(applied) => Ok(Json(json!({
            "revision": applied.revision,
            "tests": applied.tests,
            "overridden": applied.overridden,
        }))
        .into_response()),
        Err(IntegrationError::TestCasesFailed(run)) => {
            let message = IntegrationError::TestCasesFailed(run.clone()).to_string();
            Ok((
                StatusCode::CONFLICT,
                Json(json!({
                    "error": {"code": "apply.tests_failed", "message": message, "findings": []},
                    "tests": run,
                })),
            )
                .into_response())
        }
        Err(error) => Err(error.into()),
    }
}

#[utoipa::path(post, path = "/api/v1/integrations/{provider}/{key}/rollback", tag = "Integrations", params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key")),
    responses((status = 200, description = "`{revision}`: the revision it runs now")))]
async fn roll_back(
    State(state): State<AppState>,
    caller: Caller<IntegrationRevisions>,
    Path((p, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let revision = state
        .integrations_service()
        .roll_back(&caller.user.email, provider(&p)?, &key)
        .await?;
    Ok(Json(json!({ "revision": revision })).into_response())
}

#[utoipa::path(get, path = "/api/v1/integrations/{provider}/{key}/health", tag = "Integrations", params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key")),
    responses((status = 200, body = app::activity::IntegrationHealth)))]
async fn health(
    State(state): State<AppState>,
    _: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let health = state
        .integrations_service()
        .health(provider(&p)?, &key)
        .await?;
    Ok(Json(health).into_response())
}

#[utoipa::path(get, path = "/api/v1/integrations/{provider}/{key}/runbook", tag = "Integrations", params(("provider" = String, Path, description = "`crm` or `helpdesk`"), ("key" = String, Path, description = "the template's key")),
    responses((status = 200, description = "the integration's runbook, as a download", content_type = "text/markdown")))]
async fn runbook(
    State(state): State<AppState>,
    _: Caller<Integrations>,
    Path((p, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let text = state
        .integrations_service()
        .runbook(provider(&p)?, &key)
        .await?;
    // The key is the template's: letters, digits, `_` and `-` (the validator's rule).
    let file: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .collect();
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"runbook-{file}.md\""),
            ),
        ],
        text,
    )
        .into_response())
}
