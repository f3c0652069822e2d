//! The link to the phone system, one per deployment: the instance holding the lease keeps
//! the Open API token fresh, runs the scheduled extension sync and, when events come that
//! way, holds the WebSocket (the vendor's "Monitor Events via WebSocket"): subscribe to
//! `30011` and `30012`, a `heartbeat` well inside the PBX's 60-second idle limit, each
//! event through the same intake as the webhook, a fresh token before the old one expires
//! (the new connection is made before the old one is closed), and after any drop a
//! reconnection with backoff and jitter. Instances without the lease wait and take over
//! once its holder stops renewing it.

use std::time::Duration;

use app::phone_system::{Delivery, LinkState};
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use tokio::time::{sleep, timeout, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::openapi::OpenApi;
use super::service::{PhoneSystemError, PhoneSystemService};
use crate::storage::unix_now;

/// The events subscribed to: Call Status Changed and New CDR.
pub const SUBSCRIBED_EVENTS: [u32; 2] = [30011, 30012];
/// The heartbeat request and the PBX's answer to it.
pub const HEARTBEAT: &str = "heartbeat";
pub const HEARTBEAT_ANSWER: &str = "heartbeat response";
/// The shortest wait before reconnecting; doubled per failure up to the settings' maximum.
pub const RECONNECT_MIN: Duration = Duration::from_secs(1);
/// How long the PBX has to answer the subscription.
pub const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest WebSocket message read (an event is under 2 KiB).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// How often stored event counts are brought up to date.
pub const TALLY_FLUSH: Duration = Duration::from_secs(2);

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Why a session ended.
#[derive(Debug)]
enum Ended {
    /// The settings changed: reconnect at once with the new ones.
    SettingsChanged,
    /// Another instance holds the lease now.
    LeaseLost,
    /// The connection failed or dropped.
    Dropped(String),
}

/// Waits between reconnections: doubling from [`RECONNECT_MIN`] to `max`, each wait
/// somewhere in its upper half so instances restarted together do not reconnect together.
pub struct Backoff {
    failures: u32,
    max: Duration,
}

impl Backoff {
    pub fn new(max: Duration) -> Self {
        Backoff { failures: 0, max }
    }

    /// The next wait, given a number in `0.0..1.0`.
    pub fn next(&mut self, jitter: f64) -> Duration {
        let ceiling = RECONNECT_MIN
            .saturating_mul(1 << self.failures.min(16))
            .min(self.max);
        self.failures = self.failures.saturating_add(1);
        ceiling.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// Starts this instance's link; it runs until the process ends.
pub fn spawn(service: PhoneSystemService) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let flusher = service.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(TALLY_FLUSH);
            loop {
                every.tick().await;
                flusher.flush_tally().await;
            }
        });
        run(service).await
    })
}

async fn run(service: PhoneSystemService) {
    let mut backoff = Backoff::new(service.link.reconnect_max);
    let poll = service.link.heartbeat.min(Duration::from_secs(5));
    loop {
        let model = match service.repo.get().await {
            Ok(model) => model,
            Err(error) => {
                tracing::warn!(%error, "cannot read the phone system's settings");
                wait(&service, poll).await;
                continue;
            }
        };
        let Some(model) = model.filter(|m| !m.base_url.is_empty() && !m.client_id.is_empty())
        else {
            let _ = service.repo.release_lease(&service.shared.instance).await;
            wait(&service, poll).await;
            continue;
        };
        if LinkState::parse(&model.status) == LinkState::Refused {
            // Refused credentials are not tried again until an administrator saves them.
            let _ = service.repo.release_lease(&service.shared.instance).await;
            wait(&service, poll).await;
            continue;
        }
        let now = unix_now();
        let until = now + service.link.lease.as_secs() as i64;
        match service
            .repo
            .try_lease(&service.shared.instance, now, until)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                wait(&service, poll).await;
                continue;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot take the phone system's lease");
                wait(&service, poll).await;
                continue;
            }
        }
        let ended = match service.access_token(true).await {
            Ok((api, access)) => {
                let delivery = Delivery::parse(&model.delivery).unwrap_or_default();
                if delivery.uses_websocket() {
                    session(&service, &api, access, model.generation).await
                } else {
                    hold(&service, model.generation).await
                }
            }
            Err(PhoneSystemError::Refused(_)) => continue,
            Err(error) => Ended::Dropped(error.to_string()),
        };
        match ended {
            Ended::SettingsChanged => backoff.reset(),
            Ended::LeaseLost => {
                tracing::info!("another instance holds the phone system's connection now");
            }
            Ended::Dropped(why) => {
                tracing::warn!(%why, "the phone system's connection dropped; reconnecting");
                let _ = service
                    .repo
                    .set_status(LinkState::Unreachable.as_str(), &why, unix_now())
                    .await;
                let pause = backoff.next(rand::thread_rng().gen());
                let _ = timeout(pause, service.shared.wake.notified()).await;
            }
        }
    }
}

/// Sleeps `pause`, or less when the settings change.
async fn wait(service: &PhoneSystemService, pause: Duration) {
    let _ = timeout(pause, service.shared.wake.notified()).await;
}

/// What the lease holder does at every beat, socket or not: renew the lease, notice new
/// settings, start a due extension sync.
async fn duties(service: &PhoneSystemService, generation: i32) -> Option<Ended> {
    let until = unix_now() + service.link.lease.as_secs() as i64;
    match service
        .repo
        .renew_lease(&service.shared.instance, until)
        .await
    {
        Ok(true) => {}
        Ok(false) => return Some(Ended::LeaseLost),
        Err(error) => return Some(Ended::Dropped(format!("cannot renew the lease: {error}"))),
    }
    let model = match service.repo.get().await {
        Ok(Some(model)) if model.generation == generation => model,
        Ok(_) => return Some(Ended::SettingsChanged),
        Err(error) => return Some(Ended::Dropped(format!("cannot read the settings: {error}"))),
    };
    if super::service::sync_due(&model, unix_now()) {
        let syncing = service.clone();
        // The sync marks itself done when it ends; meanwhile the beat goes on.
        let _ = service.repo.sync_finished(unix_now(), "running").await;
        tokio::spawn(async move {
            let _ = syncing.sync_extensions().await;
        });
    }
    None
}

/// Holds the lease and the token without a WebSocket (events come by webhook).
async fn hold(service: &PhoneSystemService, generation: i32) -> Ended {
    let _ = service
        .repo
        .set_status(LinkState::Connected.as_str(), "", unix_now())
        .await;
    let mut beat = tokio::time::interval(service.link.heartbeat);
    loop {
        // The first beat is at once: a due extension sync starts on connecting.
        tokio::select! {
            _ = beat.tick() => {}
            _ = service.shared.wake.notified() => {}
        }
        if let Some(ended) = duties(service, generation).await {
            return ended;
        }
        if let Err(error) = service.access_token(true).await {
            return Ended::Dropped(error.to_string());
        }
    }
}

/// Connects and subscribes.
async fn connect(
    service: &PhoneSystemService,
    api: &OpenApi,
    access: &str,
) -> Result<Socket, String> {
    let url = api.subscribe_url(access);
    let shown = crate::engine::executor::shown_url(&url);
    let stream = service
        .executor
        .connect_tcp(&url)
        .await
        .map_err(|e| e.to_string())?;
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| format!("{shown}: {e}"))?;
    request.headers_mut().insert(
        "User-Agent",
        concat!("Patchbay/", env!("CARGO_PKG_VERSION"))
            .parse()
            .expect("a valid header value"),
    );
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    let (mut socket, _) = timeout(
        service.link.heartbeat.max(SUBSCRIBE_TIMEOUT),
        tokio_tungstenite::client_async_tls_with_config(
            request,
            stream,
            Some(config),
            Some(tls_connector()),
        ),
    )
    .await
    .map_err(|_| format!("{shown} did not complete the WebSocket handshake"))?
    .map_err(|e| format!("{shown}: {e}"))?;
    let topics = serde_json::json!({ "topic_list": SUBSCRIBED_EVENTS }).to_string();
    socket
        .send(Message::text(topics))
        .await
        .map_err(|e| format!("cannot subscribe: {e}"))?;
    // The PBX answers the subscription with errcode 0; an event may come first.
    let deadline = Instant::now() + SUBSCRIBE_TIMEOUT;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .map_err(|_| "the PBX did not answer the subscription".to_owned())?;
        let text = match message {
            Some(Ok(Message::Text(text))) => text.to_string(),
            Some(Ok(Message::Close(_))) | None => {
                return Err("the PBX closed the connection at the subscription".into())
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.to_string()),
        };
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if value.get("type").is_some() {
            handle_event(service, text.as_bytes()).await;
            continue;
        }
        match value.get("errcode").and_then(|c| c.as_i64()) {
            Some(0) => return Ok(socket),
            Some(code) => {
                let message = value.get("errmsg").and_then(|m| m.as_str()).unwrap_or("");
                return Err(format!(
                    "the PBX refused the subscription (errcode {code}: {message})"
                ));
            }
            None => continue,
        }
    }
}

fn tls_connector() -> Connector {
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    Connector::Rustls(std::sync::Arc::new(config))
}

/// One event from the socket into the queue; a storage failure is tried again briefly
/// (the PBX does not send it again).
async fn handle_event(service: &PhoneSystemService, body: &[u8]) {
    for attempt in 0..3 {
        match service.accept(body, "websocket").await {
            Ok(_) => return,
            Err(crate::queue::service::IntakeError::Event(error)) => {
                tracing::warn!(%error, "an event from the PBX's WebSocket is refused");
                return;
            }
            Err(error) if attempt < 2 => {
                tracing::warn!(%error, "cannot queue an event from the PBX; trying again");
                sleep(Duration::from_millis(200)).await;
            }
            Err(error) => tracing::error!(%error, "an event from the PBX's WebSocket is lost"),
        }
    }
}

/// Holds the WebSocket until it drops, the settings change or the lease is lost.
async fn session(
    service: &PhoneSystemService,
    api: &OpenApi,
    mut access: String,
    generation: i32,
) -> Ended {
    let _ = service
        .repo
        .set_status(LinkState::Connecting.as_str(), "", unix_now())
        .await;
    let mut socket = match connect(service, api, &access).await {
        Ok(socket) => socket,
        Err(why) => return Ended::Dropped(why),
    };
    let _ = service
        .repo
        .set_status(LinkState::Connected.as_str(), "", unix_now())
        .await;
    tracing::info!("connected to the PBX's event WebSocket");
    // On connecting: a due extension sync (the first one) starts now, not a beat later.
    if let Some(ended) = duties(service, generation).await {
        let _ = socket.close(None).await;
        return ended;
    }
    let heartbeat = service.link.heartbeat;
    let mut beat = tokio::time::interval(heartbeat);
    beat.tick().await;
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            message = socket.next() => {
                match message {
                    Some(Ok(Message::Text(text))) => {
                        last_heard = Instant::now();
                        if text.as_str() == HEARTBEAT_ANSWER {
                            let _ = service.repo.heartbeat(unix_now()).await;
                        } else {
                            handle_event(service, text.as_bytes()).await;
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => {
                        return Ended::Dropped("the PBX closed the WebSocket".into())
                    }
                    Some(Ok(_)) => last_heard = Instant::now(),
                    Some(Err(error)) => return Ended::Dropped(format!("the WebSocket failed: {error}")),
                }
            }
            _ = beat.tick() => {
                if last_heard.elapsed() > heartbeat * 3 {
                    return Ended::Dropped("the PBX stopped answering heartbeats".into());
                }
                if let Err(error) = socket.send(Message::text(HEARTBEAT)).await {
                    return Ended::Dropped(format!("cannot send a heartbeat: {error}"));
                }
                if let Some(ended) = duties(service, generation).await {
                    let _ = socket.close(None).await;
                    return ended;
                }
                match renew_connection(service, &access).await {
                    Ok(None) => {}
                    Ok(Some((fresh, token))) => {
                        // Made before the old one is closed: an event on either is kept,
                        // one seen on both is queued once (the replay key).
                        let mut old = std::mem::replace(&mut socket, fresh);
                        let _ = old.close(None).await;
                        access = token;
                        last_heard = Instant::now();
                        tracing::info!("reconnected to the PBX's WebSocket with a fresh token");
                    }
                    Err(why) => return Ended::Dropped(why),
                }
            }
            _ = service.shared.wake.notified() => {
                if let Some(ended) = duties(service, generation).await {
                    let _ = socket.close(None).await;
                    return ended;
                }
            }
        }
    }
}

/// A new connection when the token was renewed (fewer than
/// [`super::service::TOKEN_RENEW_LEFT_SECS`] left on the old one).
async fn renew_connection(
    service: &PhoneSystemService,
    current: &str,
) -> Result<Option<(Socket, String)>, String> {
    let (api, access) = service
        .access_token(true)
        .await
        .map_err(|e| e.to_string())?;
    if access == current {
        return Ok(None);
    }
    connect(service, &api, &access)
        .await
        .map(|socket| Some((socket, access)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_its_maximum() {
        let mut backoff = Backoff::new(Duration::from_secs(60));
        let waits: Vec<Duration> = (0..10).map(|_| backoff.next(1.0)).collect();
        assert_eq!(waits[0], Duration::from_secs(1));
        assert_eq!(waits[1], Duration::from_secs(2));
        assert_eq!(waits[5], Duration::from_secs(32));
        assert_eq!(waits[9], Duration::from_secs(60));
        assert_eq!(
            backoff.next(0.0),
            Duration::from_secs(30),
            "the lower half of the ceiling"
        );
        backoff.reset();
        assert_eq!(backoff.next(0.0), Duration::from_millis(500));
    }
}
