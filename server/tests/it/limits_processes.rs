//! The connection limits, the ignored-event bounds and the one-line log, against real
//! `patchbay serve` processes on SQLite (SECURITY.md "Limits"):
//! - hundreds of half-open connections (request headers never finished) while `/healthz`
//!   keeps answering, then closed by the header timeout; the connection cap holds the rest
//!   in the kernel's backlog until a place frees;
//! - an `events` token flooding new event types grows neither memory nor the log without
//!   bound;
//! - a line break in an event type or a callback path never starts a line of its own.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::process::{serve, Process};
use crate::common::*;
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn environment(dir: &Path, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("PATCHBAY_DATA_DIR", dir.display().to_string()),
        ("PATCHBAY_SITE_ROOT", dir.join("site").display().to_string()),
        ("PATCHBAY_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
        ("PATCHBAY_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("PATCHBAY_LOG", "info".to_owned()),
    ];
    env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    env
}

fn address(process: &Process) -> String {
    process.base.trim_start_matches("http://").to_owned()
}

/// A connection that sent the start of a request and never the end of its headers.
async fn half_open(address: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: patchbay\r\nX-Slow: ")
        .await
        .unwrap();
    stream
}

/// `/healthz` on a fresh connection: its status and how long it took.
async fn health(base: &str) -> (StatusCode, Duration) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let started = Instant::now();
    let status = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .map(|r| r.status())
        .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    (status, started.elapsed())
}

/// Whether the server closed `stream` (end of file or a reset) within `within`.
async fn closed(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 512];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // A 408 before closing is fine: read on to the end.
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn half_open_connections_do_not_starve_the_server_and_are_closed() {
    const HELD: usize = 600;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let env = environment(dir.path(), &[("PATCHBAY_HEADER_TIMEOUT_SECS", "3")]);
    let process = serve(&env, &log).await;
    let address = address(&process);

    let mut held = Vec::with_capacity(HELD);
    for _ in 0..HELD {
        held.push(half_open(&address).await);
    }
    let mut timings = Vec::new();
    for _ in 0..50 {
        let (status, took) = health(&process.base).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "/healthz answers beside {HELD} half-open connections"
        );
        timings.push(took);
    }
    timings.sort();
    let p99 = timings[timings.len() * 99 / 100 - 1];
    println!(
        "figure: {HELD} half-open connections held; /healthz 50 times: median {:?}, p99 {:?}",
        timings[timings.len() / 2],
        p99
    );
    assert!(p99 < Duration::from_secs(1), "p99 {p99:?}");

    // The header timeout (3 s here) closes every one of them.
    let mut closed_count = 0;
    for stream in &mut held {
        if closed(stream, Duration::from_secs(10)).await {
            closed_count += 1;
        }
    }
    assert_eq!(closed_count, HELD, "each half-open connection was closed");
    assert_eq!(health(&process.base).await.0, StatusCode::OK);
    process.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_connection_cap_holds_the_rest_until_a_place_frees() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let env = environment(
        dir.path(),
        &[
            ("PATCHBAY_MAX_CONNECTIONS", "20"),
            ("PATCHBAY_HEADER_TIMEOUT_SECS", "2"),
        ],
    );
    let process = serve(&env, &log).await;
    let address = address(&process);
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(half_open(&address).await);
    }
    // Every place is taken: the next request waits until the header timeout frees one.
    let (status, took) = health(&process.base).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        took >= Duration::from_millis(1_000),
        "it waited for a place: {took:?}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(closed(&mut held[0], Duration::from_secs(5)).await);
    process.kill().await;
}

/// Signs the admin in on `process` and makes an `events` token.
async fn events_token(process: &Process) -> String {
    let browser = Browser::new(&process.base);
    let csrf = browser.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    Admin { browser, csrf }.create_token("pbx", "events").await
}

fn resident_kib(process: &Process) -> u64 {
    let pid = process.child.id().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_new_event_types_grows_neither_memory_nor_the_log() {
    const EVENTS: usize = 3_000;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let process = serve(&environment(dir.path(), &[]), &log).await;
    let token = events_token(&process).await;
    let client = reqwest::Client::new();
    let post = |n: usize| {
        let name = format!("{n:06}{}", "x".repeat(60 * 1024));
        client
            .post(format!("{}/api/v1/events/yeastar", process.base))
            .bearer_auth(&token)
            .json(&json!({"event": name}))
            .send()
    };
    // Warm up (first allocations), then measure.
    for n in 0..50 {
        assert_eq!(post(n).await.unwrap().status(), StatusCode::ACCEPTED);
    }
    let (rss_before, log_before) = (
        resident_kib(&process),
        std::fs::metadata(&log).unwrap().len(),
    );
    for n in 50..EVENTS + 50 {
        let answer = post(n).await.unwrap();
        assert_eq!(answer.status(), StatusCode::ACCEPTED);
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(
            body["ignored"].as_str().unwrap().chars().count(),
            server::queue::service::MAX_IGNORED_TYPE_CHARS
        );
    }
    let (rss_after, log_after) = (
        resident_kib(&process),
        std::fs::metadata(&log).unwrap().len(),
    );
    println!(
        "figure: {EVENTS} new event types of 60 KiB: resident {} → {} KiB, log +{} bytes",
        rss_before,
        rss_after,
        log_after - log_before
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let logged = text.lines().filter(|l| l.contains("are ignored")).count();
    assert_eq!(logged, server::queue::service::MAX_IGNORED_TYPES_LOGGED);
    // What remains is the request log: a short line per request, never the event's body.
    let per_request = (log_after - log_before) / EVENTS as u64;
    assert!(
        per_request < 512,
        "the log grew {per_request} bytes per request"
    );
    assert!(
        rss_after < rss_before + 32 * 1024,
        "resident memory grew from {rss_before} to {rss_after} KiB"
    );
    process.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_line_break_from_outside_never_starts_a_log_line() {
    const FORGED: &str = "FORGED-LINE signed in account=admin@example.com";
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let process = serve(&environment(dir.path(), &[]), &log).await;
    let token = events_token(&process).await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/events/yeastar", process.base))
        .bearer_auth(&token)
        .json(&json!({"event": format!("x\n{FORGED}\r\n{FORGED}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    // The callback's key is a path segment: `%0A` decodes to a line break.
    let browser = Browser::new(&process.base);
    browser.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, _) = browser
        .get_text("/integration/callback/api/crm/x%0AFORGED-LINE%20signed%20in/?code=c&state=s")
        .await;
    assert!(status.is_client_error(), "{status}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("FORGED-LINE"),
        "the values were logged: {text}"
    );
    for line in text.lines() {
        assert!(
            !line.trim_start().starts_with("FORGED-LINE"),
            "a value started a line of its own: {line:?}"
        );
    }
    process.kill().await;
}
