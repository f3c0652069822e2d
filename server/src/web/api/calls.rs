//! The agent's calls, pushed live (README "Agents and the call popup"): a Server-Sent
//! Events stream for the signed-in account, of the calls on the extensions it answers.
//! A browser session only (no token), from a page of Patchbay itself.
//!
//! | method and path | does |
//! |---|---|
//! | `GET /api/v1/calls` | the account's Calls page as JSON (`app::agents::CallsPage`): its extensions with their popup settings, the recent calls, `last_id` |
//! | `GET /api/v1/calls/stream?after=ID` | the stream: `event: ready` once open, then `event: call` with an `id:` and an `app::agents::CallUpdate` as `data:` for every change to a call on the account's extensions; a `: heartbeat` comment every 15 s. A reconnection's `Last-Event-ID` (or `after`) replays what came since, at most 500; further behind, `event: reset` asks the page to reload its list. The stream ends after 15 minutes or when it falls 4,096 updates behind, and the browser reconnects with its `Last-Event-ID` |
//!
//! Errors are JSON `{"error": {"code", "message"}}`: `calls.origin` (403: another site's
//! page), `calls.too_many_streams` (429: 8 per account, 5,000 per server), `auth.*` as
//! everywhere (agents are let in here only).

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use app::agents::{CallUpdate, CallsPage};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::stream::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::access::{AgentCalls, Caller};
use super::ApiError;
use crate::agents::feed::{FeedError, Subscription};
use crate::agents::service::AgentError;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How often an idle stream sends a comment, so proxies keep it open (and more often
/// when `PATCHBAY_IDLE_TIMEOUT_SECS` is set below twice this: [`heartbeat`]).
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// The heartbeat for connections closed after `idle_timeout` with nothing moving: three
/// times within it, so a quiet stream is never taken for an idle connection even when a
/// busy machine delays one beat.
pub fn heartbeat(idle_timeout: Duration) -> Duration {
    HEARTBEAT
        .min(idle_timeout / 3)
        .max(Duration::from_millis(100))
}
/// How long one stream lasts before the browser reconnects (and the account's extensions
/// and session are read again).
pub const MAX_STREAM_AGE: Duration = Duration::from_secs(15 * 60);
/// How often an open stream reads its account again: a disabled or deleted account's
/// stream ends, and extensions linked or unlinked apply.
pub const RECHECK: Duration = Duration::from_secs(30);
/// What the browser waits before reconnecting.
pub const RECONNECT_AFTER: Duration = Duration::from_secs(2);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(page))
        .routes(routes!(stream))
}

impl From<AgentError> for ApiError {
    fn from(error: AgentError) -> Self {
        match error {
            AgentError::Feed(FeedError::TooMany | FeedError::TooManyForAccount) => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "calls.too_many_streams",
                error.to_string(),
            ),
            AgentError::NotYours(_) => {
                ApiError::new(StatusCode::FORBIDDEN, "auth.forbidden", error.to_string())
            }
            AgentError::Invalid { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "calls.invalid",
                error.to_string(),
            ),
            AgentError::CallNotFound { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "calls.not_found", error.to_string())
            }
            other => ApiError::internal("the agent's calls", other),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/calls", tag = "Calls", security(("session" = [])),
    responses((status = 200, description = "the account's Calls page: its extensions with their popup settings, the recent calls, `last_id`")))]
async fn page(
    caller: Caller<AgentCalls>,
    State(state): State<AppState>,
) -> Result<Json<CallsPage>, ApiError> {
    Ok(Json(
        state.agents_service().calls_page(caller.user.id).await?,
    ))
}

#[derive(serde::Deserialize)]
struct StreamQuery {
    after: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/calls/stream", tag = "Calls", security(("session" = [])),
    params(("after" = Option<i64>, Query, description = "replay what came after this id (or send `Last-Event-ID`)")),
    responses((status = 200, description = "Server-Sent Events: `ready`, then `call` for every change to a call on the account's extensions", content_type = "text/event-stream")))]
async fn stream(
    caller: Caller<AgentCalls>,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Result<Response, ApiError> {
    same_origin(&headers, &state.config.public_url)?;
    let service = state.agents_service();
    let extensions = service.extensions_of(caller.user.id).await?;
    // Subscribed before the replay is read: what is written meanwhile comes live.
    let subscription = service
        .feed
        .subscribe(caller.user.id)
        .map_err(AgentError::from)?;
    let after = last_event_id(&headers).or(query.after);
    let (replay, complete) = match after {
        Some(after) => service
            .feed
            .replay(&extensions, after)
            .await
            .map_err(AgentError::from)?,
        None => (Vec::new(), true),
    };
    let events = updates(
        Account {
            id: caller.user.id,
            service,
        },
        subscription,
        extensions,
        replay,
        complete,
    )
    // A stream never ends by itself: when the server stops it ends here, so the browser
    // reconnects (to another server, or this one started again) from its last event id.
    .take_until(state.stopping.requested_owned());
    let mut response = Sse::new(events)
        .keep_alive(
            KeepAlive::new()
                .interval(heartbeat(state.config.connections.idle_timeout))
                .text("heartbeat"),
        )
        .into_response();
    // nginx would hold the stream back in its buffer otherwise.
    response.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    Ok(response)
}

/// Refuses a request another site's page made: browsers say where a request comes from
/// (`Sec-Fetch-Site`, `Origin`); a client that says nothing is not a page of another site.
fn same_origin(headers: &HeaderMap, public_url: &str) -> Result<(), ApiError> {
    let refused = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "calls.origin",
            "the call stream is for Patchbay's own pages",
        )
    };
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.to_str(), Ok("same-origin") | Ok("none")) {
            return Err(refused());
        }
    }
    if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
        let ours = url::Url::parse(public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        if origin.to_str().ok() != Some(ours.as_str()) {
            return Err(refused());
        }
    }
    Ok(())
}

fn last_event_id(headers: &HeaderMap) -> Option<i64> {
    headers
        .get("last-event-id")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Whose stream it is, read again every [`RECHECK`].
struct Account {
    id: i32,
    service: crate::agents::service::AgentsService,
}

/// A stream once its replay is sent: the live updates of the account's extensions.
struct Live {
    account: Account,
    recheck: tokio::time::Interval,
    subscription: Subscription,
    extensions: HashSet<String>,
    /// Sent by the replay: not sent again when they come live.
    replayed: HashSet<i64>,
    deadline: tokio::time::Instant,
}

/// `ready`, the replay, then the live updates; or, when the replay was cut short
/// (`complete` false), `reset` after it and the end.
fn updates(
    account: Account,
    subscription: Subscription,
    extensions: Vec<String>,
    replay: Vec<CallUpdate>,
    complete: bool,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let ready = Event::default()
        .event("ready")
        .retry(RECONNECT_AFTER)
        .data("{}");
    let replayed = replay.iter().map(|u| u.id).collect();
    let head = std::iter::once(ready)
        .chain(replay.iter().map(call_event))
        .collect::<Vec<_>>();
    let tail = if complete {
        let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let live = Live {
            account,
            recheck,
            subscription,
            extensions: extensions.into_iter().collect(),
            replayed,
            deadline: tokio::time::Instant::now() + MAX_STREAM_AGE,
        };
        futures_util::stream::unfold(live, |mut live| async move {
            let event = next_live(&mut live).await?;
            Some((event, live))
        })
        .left_stream()
    } else {
        futures_util::stream::iter([Event::default().event("reset").data("{}")]).right_stream()
    };
    futures_util::stream::iter(head).chain(tail).map(Ok)
}

/// The next live update of the account's extensions; `None` ends the stream (its age, the
/// account disabled or deleted, fallen behind).
async fn next_live(live: &mut Live) -> Option<Event> {
    loop {
        let received = tokio::select! {
            received = live.subscription.updates.recv() => received,
            _ = tokio::time::sleep_until(live.deadline) => return None,
            _ = live.recheck.tick() => {
                match live.account.service.still_answers(live.account.id).await {
                    Ok(Some(extensions)) => live.extensions = extensions.into_iter().collect(),
                    Ok(None) => return None,
                    Err(error) => tracing::warn!(%error, "cannot read a call stream's account again"),
                }
                continue;
            }
        };
        match received {
            Ok(update) => {
                if live.extensions.contains(&update.extension)
                    && !live.replayed.contains(&update.id)
                {
                    return Some(call_event(&update));
                }
            }
            // Fallen behind: the stream ends, and the page reconnects from its last id
            // and catches up from the stored feed.
            Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
        }
    }
}

fn call_event(update: &CallUpdate) -> Event {
    Event::default()
        .event("call")
        .id(update.id.to_string())
        .data(serde_json::to_string(update).unwrap_or_default())
}
