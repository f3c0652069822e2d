//! A stand-in Yeastar P-Series PBX on a loopback port, written from the vendor's public
//! developer guide (not from Patchbay's code): `POST get_token` (Client ID and Secret as
//! `username`/`password`, a `User-Agent` required, at most 8 valid tokens, an address
//! blocked after 5 failed authentications), `POST refresh_token`, `GET del_token`,
//! `GET extension/list` (paged: `page`, `page_size`, `total_number`, `data`),
//! `GET recording/download` (a `download_resource_url` fetched with `access_token`), and
//! the event WebSocket at `/openapi/v1.0/subscribe?access_token=…`: a `{"topic_list":[…]}`
//! subscription answered `{"errcode":0,"errmsg":"SUCCESS"}`, `heartbeat` answered
//! `heartbeat response`, and a connection with nothing from the client for the idle limit
//! (60 s on a real PBX, short here) dropped. It also signs webhook posts as the guide says.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use hmac::Mac;
use serde_json::{json, Value};
use tokio::sync::broadcast;

pub const CLIENT_ID: &str = "UEnH9Dmv6uBJEXsYcag1trNfQThYXXXX";
pub const CLIENT_SECRET: &str = "ZLcXl63S9EtMnYoHUnjbVo6sA8CbXXXX";
/// The webhook's system-generated 32-character Secret.
pub const WEBHOOK_SECRET: &str = "kX7pQ2mN9vR4tY6wZ8aB1cD3eF5gH0jL";
/// What a recording download answers.
pub const RECORDING_BYTES: &[u8] = b"RIFF\x24\x00\x00\x00WAVEfmt recording";

/// The guide's limits.
const MAX_VALID_TOKENS: usize = 8;
const FAILURES_BEFORE_BLOCK: usize = 5;

#[derive(Default)]
pub struct Ledger {
    /// Valid access tokens and when each expires.
    pub access: HashMap<String, tokio::time::Instant>,
    pub refresh: HashSet<String>,
    pub get_token_calls: usize,
    pub refresh_calls: usize,
    pub revoked: Vec<String>,
    pub failed_authentications: usize,
    pub blocked: bool,
    pub requests_without_user_agent: usize,
    /// WebSocket connections accepted, and those open now.
    pub connections: usize,
    pub open: usize,
    pub subscriptions: Vec<Vec<u64>>,
    pub heartbeats: usize,
    pub extension_pages: usize,
    pub recordings: Vec<String>,
    /// Refuse refresh requests (a refresh token the PBX no longer honours).
    pub refuse_refresh: bool,
    /// Refuse WebSocket upgrades (the PBX is down).
    pub down: bool,
    /// Announce recordings of 600 MiB (only the first bytes are sent).
    pub huge_recordings: bool,
}

#[derive(Clone)]
struct Shared {
    ledger: Arc<Mutex<Ledger>>,
    extensions: Arc<Mutex<Vec<Value>>>,
    events: broadcast::Sender<String>,
    drop_all: broadcast::Sender<()>,
    idle: Duration,
    token_lifetime: Duration,
}

pub struct StandInPbx {
    pub base: String,
    shared: Shared,
}

fn answer(body: Value) -> Response {
    Json(body).into_response()
}

fn failure(errcode: i64, errmsg: &str) -> Response {
    answer(json!({"errcode": errcode, "errmsg": errmsg}))
}

impl StandInPbx {
    /// A PBX whose access tokens live `token_lifetime` (30 minutes on a real one) and which
    /// drops a WebSocket after `idle` without a message from the client (60 s).
    pub async fn start(token_lifetime: Duration, idle: Duration) -> StandInPbx {
        let (events, _) = broadcast::channel(16_384);
        let (drop_all, _) = broadcast::channel(4);
        let shared = Shared {
            ledger: Arc::default(),
            extensions: Arc::default(),
            events,
            drop_all,
            idle,
            token_lifetime,
        };
        let app = Router::new()
            .route("/openapi/v1.0/get_token", post(get_token))
            .route("/openapi/v1.0/refresh_token", post(refresh_token))
            .route("/openapi/v1.0/del_token", get(del_token))
            .route("/openapi/v1.0/extension/list", get(extension_list))
            .route("/openapi/v1.0/recording/download", get(recording_download))
            .route("/api/download/{name}", get(download))
            .route("/openapi/v1.0/subscribe", get(subscribe))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        StandInPbx {
            base: format!("http://{address}"),
            shared,
        }
    }

    pub fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.shared.ledger.lock().unwrap()
    }

    /// The PBX's extensions: (number, caller ID name, e-mail).
    pub fn set_extensions(&self, list: &[(&str, &str, &str)]) {
        *self.shared.extensions.lock().unwrap() = list
            .iter()
            .enumerate()
            .map(|(i, (number, name, email))| {
                json!({"id": i + 1, "number": number, "caller_id_name": name, "email_addr": email,
                       "mobile_number": "", "presence_status": "available", "role_name": "Employee"})
            })
            .collect();
    }

    /// Sends an event to every connection subscribed to its type.
    pub fn push(&self, event: &str) {
        let _ = self.shared.events.send(event.to_owned());
    }

    /// Closes every open WebSocket, as a PBX restart or a network drop would.
    pub fn drop_connections(&self) {
        let _ = self.shared.drop_all.send(());
    }

    /// Waits until `check` holds on the ledger (at most `within`).
    pub async fn until(&self, within: Duration, what: &str, check: impl Fn(&Ledger) -> bool) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if check(&self.ledger()) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the stand-in PBX never saw: {what}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The signature a webhook post carries: Base64 of HMAC-SHA256 of the raw body.
pub fn sign(secret: &str, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn has_user_agent(shared: &Shared, headers: &HeaderMap) -> bool {
    let present = headers
        .get("user-agent")
        .is_some_and(|v| !v.as_bytes().is_empty());
    if !present {
        shared.ledger.lock().unwrap().requests_without_user_agent += 1;
    }
    present
}

fn issue(shared: &Shared, ledger: &mut Ledger) -> Value {
    let now = tokio::time::Instant::now();
    ledger.access.retain(|_, at| *at > now);
    let access = format!("acc{}", rand_token());
    let refresh = format!("ref{}", rand_token());
    ledger
        .access
        .insert(access.clone(), now + shared.token_lifetime);
    ledger.refresh.insert(refresh.clone());
    json!({"errcode": 0, "errmsg": "SUCCESS",
           "access_token_expire_time": shared.token_lifetime.as_secs().max(1),
           "access_token": access,
           "refresh_token_expire_time": 86400,
           "refresh_token": refresh})
}

fn rand_token() -> String {
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(29)
        .map(char::from)
        .collect()
}

async fn get_token(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Json<Value>,
) -> Response {
    if !has_user_agent(&shared, &headers) {
        return failure(10001, "FAILURE");
    }
    let mut ledger = shared.ledger.lock().unwrap();
    ledger.get_token_calls += 1;
    if ledger.blocked {
        return failure(70004, "IP BLOCKED");
    }
    if body["username"] != CLIENT_ID || body["password"] != CLIENT_SECRET {
        ledger.failed_authentications += 1;
        if ledger.failed_authentications >= FAILURES_BEFORE_BLOCK {
            ledger.blocked = true;
        }
        return failure(10004, "INVALID USERNAME OR PASSWORD");
    }
    let now = tokio::time::Instant::now();
    if ledger.access.values().filter(|at| **at > now).count() >= MAX_VALID_TOKENS {
        return failure(10005, "TOO MANY TOKENS");
    }
    answer(issue(&shared, &mut ledger))
}

async fn refresh_token(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Json<Value>,
) -> Response {
    if !has_user_agent(&shared, &headers) {
        return failure(10001, "FAILURE");
    }
    let mut ledger = shared.ledger.lock().unwrap();
    ledger.refresh_calls += 1;
    let refresh = body["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if ledger.refuse_refresh || !ledger.refresh.remove(&refresh) {
        return failure(10006, "REFRESH TOKEN INVALID");
    }
    answer(issue(&shared, &mut ledger))
}

fn valid(shared: &Shared, query: &HashMap<String, String>) -> bool {
    let now = tokio::time::Instant::now();
    let ledger = shared.ledger.lock().unwrap();
    query
        .get("access_token")
        .and_then(|t| ledger.access.get(t))
        .is_some_and(|at| *at > now)
}

async fn del_token(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut ledger = shared.ledger.lock().unwrap();
    let token = query.get("access_token").cloned().unwrap_or_default();
    if ledger.access.remove(&token).is_none() {
        return failure(10004, "ACCESS TOKEN INVALID");
    }
    ledger.revoked.push(token);
    failure(0, "SUCCESS")
}

async fn extension_list(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !has_user_agent(&shared, &headers) || !valid(&shared, &query) {
        return failure(10004, "ACCESS TOKEN INVALID");
    }
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let size: usize = query
        .get("page_size")
        .and_then(|p| p.parse().ok())
        .unwrap_or(10)
        .clamp(1, 1000);
    shared.ledger.lock().unwrap().extension_pages += 1;
    let all = shared.extensions.lock().unwrap().clone();
    let data: Vec<Value> = all
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .cloned()
        .collect();
    answer(json!({"errcode": 0, "errmsg": "SUCCESS", "total_number": all.len(), "data": data}))
}

async fn recording_download(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !valid(&shared, &query) {
        return failure(10004, "ACCESS TOKEN INVALID");
    }
    let file = query.get("file").cloned().unwrap_or_default();
    shared.ledger.lock().unwrap().recordings.push(file.clone());
    answer(json!({"errcode": 0, "errmsg": "SUCCESS", "file": file,
                  "download_resource_url": format!("/api/download/Recording-download-{}.wav", rand_token())}))
}

async fn download(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !valid(&shared, &query) {
        return (StatusCode::FORBIDDEN, "token").into_response();
    }
    if shared.ledger.lock().unwrap().huge_recordings {
        let body = axum::body::Body::new(Announced600MiB(true));
        return ([("content-type", "audio/x-wav")], body).into_response();
    }
    ([("content-type", "audio/x-wav")], RECORDING_BYTES).into_response()
}

async fn subscribe(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if shared.ledger.lock().unwrap().down {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    if !has_user_agent(&shared, &headers) || !valid(&shared, &query) {
        return (StatusCode::UNAUTHORIZED, "access token invalid").into_response();
    }
    upgrade.on_upgrade(move |socket| connection(shared, socket))
}

async fn connection(shared: Shared, mut socket: WebSocket) {
    {
        let mut ledger = shared.ledger.lock().unwrap();
        ledger.connections += 1;
        ledger.open += 1;
    }
    let mut events = shared.events.subscribe();
    let mut drop_all = shared.drop_all.subscribe();
    let mut topics: Vec<u64> = Vec::new();
    loop {
        tokio::select! {
            message = tokio::time::timeout(shared.idle, socket.recv()) => {
                let Ok(Some(Ok(message))) = message else { break };
                let Message::Text(text) = message else { continue };
                if text.as_str() == "heartbeat" {
                    shared.ledger.lock().unwrap().heartbeats += 1;
                    if socket.send(Message::text("heartbeat response")).await.is_err() { break }
                    continue;
                }
                let request: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                if let Some(list) = request["topic_list"].as_array() {
                    topics = list.iter().filter_map(Value::as_u64).collect();
                    shared.ledger.lock().unwrap().subscriptions.push(topics.clone());
                    let ok = json!({"errcode": 0, "errmsg": "SUCCESS"}).to_string();
                    if socket.send(Message::text(ok)).await.is_err() { break }
                }
            }
            event = events.recv() => {
                let Ok(event) = event else { continue };
                let kind = serde_json::from_str::<Value>(&event).ok().and_then(|v| v["type"].as_u64());
                if kind.is_some_and(|k| topics.contains(&k)) && socket.send(Message::text(event)).await.is_err() {
                    break;
                }
            }
            _ = drop_all.recv() => break,
        }
    }
    shared.ledger.lock().unwrap().open -= 1;
}

/// A body that announces 600 MiB (so the server sends that `Content-Length`) and sends a few
/// bytes: enough for a client that checks the announced size first.
struct Announced600MiB(bool);

impl http_body::Body for Announced600MiB {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        // The first bytes, then nothing more (never the end): the client decides from the
        // announced length.
        if std::mem::replace(&mut self.0, false) {
            std::task::Poll::Ready(Some(Ok(http_body::Frame::data(RECORDING_BYTES.into()))))
        } else {
            std::task::Poll::Pending
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(600 * 1024 * 1024)
    }
}
