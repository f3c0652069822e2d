//! Accepting connections (SECURITY.md "Limits"): slow or idle clients cannot hold the
//! server. At most [`ConnectionLimits::max_connections`] are open at once (more wait in the
//! kernel's backlog, not in memory); a connection whose request headers take longer than
//! `header_timeout` is closed, and so is a keep-alive connection that waits that long for
//! its next request (hyper times both from the moment it starts reading a head); one on
//! which nothing moves either way for `idle_timeout` (a body trickled in, an answer never
//! read) is closed; a handler that takes longer than `request_timeout` is answered 408.
//!
//! Written here rather than with `axum::serve`, which sets none of these limits.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Connections served at once when `PATCHBAY_MAX_CONNECTIONS` is not set.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1_000;
/// The most `PATCHBAY_MAX_CONNECTIONS` may be.
pub const MAX_CONNECTIONS: usize = 100_000;
/// How long a client may take to send a request's headers, and how long a keep-alive
/// connection waits for its next request (`PATCHBAY_HEADER_TIMEOUT_SECS`).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a handler may take (`PATCHBAY_HANDLER_TIMEOUT_SECS`): longer than a test
/// console run of several CRM requests at their own timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How long nothing may move on a connection (`PATCHBAY_IDLE_TIMEOUT_SECS`); longer than a
/// handler may take, since nothing moves while one works.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(150);
/// How long open requests and running queue jobs get to finish when the server is told to
/// stop (`PATCHBAY_SHUTDOWN_GRACE_SECS`); a service manager's stop timeout (systemd's
/// `TimeoutStopSec`, 90 s by default) must be longer.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The pause after `accept` fails (out of file descriptors, say) before trying again.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown` completes; then it accepts
/// no more, and open connections get `limits.shutdown_grace` to finish (streams end
/// themselves when the server stops: [`crate::shutdown::Stopping`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let router = router.layer(tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        limits.request_timeout,
    ));
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(limits.header_timeout));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // Never closed, so this only waits for a connection to end.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(super::idle::IdleStream::new(stream, limits.idle_timeout));
        let router = router.clone();
        let service = hyper::service::service_fn(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(remote));
                tower::ServiceExt::oneshot(router.clone(), request)
            },
        );
        let connection = graceful.watch(
            builder
                .serve_connection_with_upgrades(io, service)
                .into_owned(),
        );
        tokio::spawn(async move {
            // A connection ends with an error whenever a client goes away or a limit
            // closes it: worth nothing in the log.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("connections still open after the grace period were closed");
        }
    }
    Ok(())
}
