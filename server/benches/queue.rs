//! The call queue at size, against a real `patchbay serve` (the release binary) and a
//! loopback CRM in this process that takes 50 ms per journal:
//!
//! - **throughput**: 2,000 calls queued while the CRM holds its answers, then released; with
//!   MaxConcurrentRequest 10 and 50 ms per journal Little's law allows 200 journals/s
//!   (target: at least 95 % of it);
//! - **intake**: events acknowledged per second (each read, planned and stored with its
//!   jobs before the answer), 20 senders at once, on SQLite and (with
//!   `PATCHBAY_TEST_POSTGRES_URL`, as `.ci/with-postgres` sets it) PostgreSQL;
//! - **memory** of the server while 10,000 jobs wait.
//!
//! Run: `cargo bench -p server --bench queue` (or under `.ci/with-postgres` for both
//! databases).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::post;
use common::fixtures::Fixture;
use common::serve::Server;
use serde_json::json;
use tokio::sync::watch;

const MAX_CONCURRENT: usize = 10;
const CRM_LATENCY: Duration = Duration::from_millis(50);
const THROUGHPUT_CALLS: usize = 2_000;
const INTAKE_EVENTS: usize = 2_000;
const WAITING_JOBS: usize = 10_000;
const SENDERS: usize = 20;

/// The CRM: journals wait for the gate, then take 50 ms each; it counts them and notes
/// when the last arrived.
#[derive(Clone)]
struct Crm {
    gate: watch::Receiver<bool>,
    journals: Arc<AtomicUsize>,
    last: Arc<std::sync::Mutex<Option<Instant>>>,
}

async fn journal(axum::extract::State(crm): axum::extract::State<Crm>) -> &'static str {
    let mut gate = crm.gate.clone();
    let _ = gate.wait_for(|open| *open).await;
    tokio::time::sleep(CRM_LATENCY).await;
    crm.journals.fetch_add(1, Ordering::SeqCst);
    *crm.last.lock().unwrap() = Some(Instant::now());
    "{}"
}

async fn start_crm(gate: watch::Receiver<bool>) -> (String, Crm) {
    let crm = Crm {
        gate,
        journals: Arc::default(),
        last: Arc::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/journals", post(journal))
        .with_state(crm.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, crm)
}

fn template(crm: &str) -> String {
    Fixture::load("journal-crm.xml")
        .set("MaxConcurrentRequest", MAX_CONCURRENT.to_string())
        .at(crm)
}

/// A server with the bench CRM connected and journals on; answers it with an events token.
async fn prepared(dir: &std::path::Path, env: &[(&str, String)], crm: &str) -> (Server, String) {
    let server = Server::start(dir, env).await;
    server.connect("journal_crm", template(crm)).await;
    server
        .call(
            "save_features",
            json!({"csrf_token": server.csrf, "provider": "crm", "key": "journal_crm",
                   "features": {"journal": {"enabled": true}}}),
        )
        .await;
    let token = server
        .form(
            "create_api_token",
            &[
                ("name", "pbx"),
                ("scope", "events"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    let token = token["token"].as_str().unwrap_or_default().to_owned();
    assert!(!token.is_empty(), "no events token");
    (server, token)
}

/// Posts `count` call records from `first` on, `SENDERS` at once; answers how long it took.
async fn post_calls(server: &Server, token: &str, first: usize, count: usize) -> Duration {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(first));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..SENDERS {
        let (url, token, next) = (server.url("/api/v1/events"), token.to_owned(), next.clone());
        let client = reqwest::Client::new();
        senders.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= first + count {
                    return;
                }
                let body = json!({"event": "end", "call_id": format!("call-{n}"), "direction": "inbound",
                                  "extension": "1001", "from": n.to_string(), "to": "1001",
                                  "start": 1_700_000_000, "duration": 30, "talk_duration": 25,
                                  "status": "ANSWERED"});
                let response = client.post(&url).bearer_auth(&token).json(&body).send().await.unwrap();
                assert_eq!(response.status(), 202);
            }
        });
    }
    while let Some(done) = senders.join_next().await {
        done.unwrap();
    }
    started.elapsed()
}

/// A fresh PostgreSQL database on the server `PATCHBAY_TEST_POSTGRES_URL` names.
async fn postgres_database() -> Option<String> {
    use sea_orm::ConnectionTrait;
    let url = std::env::var("PATCHBAY_TEST_POSTGRES_URL").ok()?;
    let name = format!("bench_queue_{}", std::process::id());
    let admin = sea_orm::Database::connect(&url).await.ok()?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .ok()?;
    let (base, _) = url.rsplit_once('/')?;
    Some(format!("{base}/{name}"))
}

#[tokio::main]
async fn main() {
    // 1. Throughput.
    let (open, gate) = watch::channel(false);
    let (crm_url, crm) = start_crm(gate).await;
    let dir = tempfile::tempdir().unwrap();
    let (server, token) = prepared(dir.path(), &[], &crm_url).await;
    post_calls(&server, &token, 0, THROUGHPUT_CALLS).await;
    let released = Instant::now();
    open.send(true).unwrap();
    while crm.journals.load(Ordering::SeqCst) < THROUGHPUT_CALLS {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last = crm.last.lock().unwrap().unwrap();
    let rate = THROUGHPUT_CALLS as f64 / (last - released).as_secs_f64();
    let allowed = MAX_CONCURRENT as f64 / CRM_LATENCY.as_secs_f64();
    println!("== Queue throughput: {THROUGHPUT_CALLS} journals, MaxConcurrentRequest {MAX_CONCURRENT}, {} ms per journal ==", CRM_LATENCY.as_millis());
    println!(
        "{rate:.1} journals/s = {:.1} % of the {allowed:.0}/s Little's law allows (target: at least 95 %)",
        rate / allowed * 100.0
    );
    drop(server);

    // 2. Intake, and memory while 10,000 jobs wait (the CRM held shut).
    println!("\n== Intake: {INTAKE_EVENTS} events, {SENDERS} senders at once ==");
    let mut databases = vec![("SQLite", None)];
    match postgres_database().await {
        Some(url) => databases.push(("PostgreSQL", Some(url))),
        None => println!("PostgreSQL: skipped (run under .ci/with-postgres)"),
    }
    for (name, url) in databases {
        let (_open, gate) = watch::channel(false);
        let (crm_url, _crm) = start_crm(gate).await;
        let dir = tempfile::tempdir().unwrap();
        let env: Vec<(&str, String)> = url
            .iter()
            .map(|url| ("PATCHBAY_DATABASE_URL", url.clone()))
            .collect();
        let (server, token) = prepared(dir.path(), &env, &crm_url).await;
        let took = post_calls(&server, &token, 0, INTAKE_EVENTS).await;
        println!(
            "{name}: {:.0} events acknowledged per second ({} in {:.2} s)",
            INTAKE_EVENTS as f64 / took.as_secs_f64(),
            INTAKE_EVENTS,
            took.as_secs_f64()
        );
        if name == "SQLite" {
            let before = server.memory_kib("VmRSS:");
            post_calls(&server, &token, INTAKE_EVENTS, WAITING_JOBS - INTAKE_EVENTS).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            println!(
                "memory with {WAITING_JOBS} jobs waiting: resident {} MiB (with {INTAKE_EVENTS}: {} MiB), high-water mark {} MiB",
                server.memory_kib("VmRSS:") / 1024,
                before / 1024,
                server.memory_kib("VmHWM:") / 1024
            );
        }
    }
}
