//! Stopping when told to (SIGTERM from a service manager, SIGINT from Ctrl-C): the listener
//! accepts no more, streams to browsers end, running queue jobs get the grace
//! (`PATCHBAY_SHUTDOWN_GRACE_SECS`) to finish and the rest give their claims back, the phone
//! system's lease is released, and the process exits 0 (README "Stopping and restarting").

use std::time::Duration;

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Set once the server is told to stop; whatever runs until then watches it.
#[derive(Clone, Default)]
pub struct Stopping(CancellationToken);

impl Stopping {
    /// Tells everything watching that the server stops.
    pub fn stop(&self) {
        self.0.cancel();
    }

    pub fn is_stopping(&self) -> bool {
        self.0.is_cancelled()
    }

    /// Completes when the server is told to stop.
    pub async fn requested(&self) {
        self.0.cancelled().await;
    }

    /// [`Stopping::requested`] as an owned future, for a stream that must end then
    /// (`take_until`).
    pub fn requested_owned(&self) -> WaitForCancellationFutureOwned {
        self.0.clone().cancelled_owned()
    }

    /// Completes `grace` after the server was told to stop: what still runs then is given up.
    pub async fn grace_over(&self, grace: Duration) {
        self.requested().await;
        tokio::time::sleep(grace).await;
    }
}

/// Waits for SIGTERM or SIGINT and answers which came.
pub async fn signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_grace_runs_from_the_stop_not_from_the_start() {
        let stopping = Stopping::default();
        let grace = Duration::from_millis(200);
        let watcher = tokio::spawn({
            let stopping = stopping.clone();
            async move {
                stopping.grace_over(grace).await;
                std::time::Instant::now()
            }
        });
        tokio::time::sleep(grace * 2).await;
        assert!(!watcher.is_finished(), "over before the stop");
        assert!(!stopping.is_stopping());
        let stopped_at = std::time::Instant::now();
        stopping.stop();
        assert!(stopping.is_stopping());
        let over_at = watcher.await.unwrap();
        assert!(over_at - stopped_at >= grace);
    }
}
