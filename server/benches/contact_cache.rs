//! The contact cache against a real `patchbay serve` (the release binary, SQLite) and a
//! loopback CRM in this process that takes 20 ms per contact search:
//!
//! - **CRM requests per 1,000 rings** of 100 distinct callers, with Always Query off (the
//!   cache answers a caller read less than an hour ago) and on (the CRM every time);
//! - **lookup latency** through the lookup API, a cache hit beside a miss, interleaved in one
//!   run, and their ratio;
//! - **the cache's size**: the bytes its rows hold per contact, and the server's memory
//!   before and after 1,000 more contacts are cached (the cache lives in the database).
//!
//! Run: `cargo bench -p server --bench contact_cache`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::routing::get;
use common::fixtures::Fixture;
use common::serve::{median, ms, Server};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{json, Value};

const CRM_LATENCY: Duration = Duration::from_millis(20);
const RINGS: usize = 1_000;
const CALLERS: usize = 100;
const LATENCY_PAIRS: usize = 200;
const FILLED: usize = 1_000;
const KEY: &str = "calls_crm";

/// Counts contact searches; every number is a contact.
async fn contacts(
    State(searches): State<Arc<AtomicUsize>>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> axum::Json<Value> {
    tokio::time::sleep(CRM_LATENCY).await;
    searches.fetch_add(1, Ordering::SeqCst);
    let phone = query.get("phone").cloned().unwrap_or_default();
    axum::Json(json!({"data": [{"id": format!("c-{phone}"), "first": format!("Caller {phone}")}]}))
}

async fn start_crm() -> (String, Arc<AtomicUsize>) {
    let searches = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/contacts", get(contacts))
        .with_state(searches.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, searches)
}

async fn token(server: &Server, scope: &str) -> String {
    let answer = server
        .form(
            "create_api_token",
            &[
                ("name", &format!("bench {scope}")),
                ("scope", scope),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    answer["token"].as_str().unwrap_or_default().to_owned()
}

async fn set_always_query(server: &Server, on: bool) {
    server
        .call(
            "save_features",
            json!({"csrf_token": server.csrf, "provider": "crm", "key": KEY, "features": {
                "journal": {"enabled": false},
                "contacts": {"always_query": on}
            }}),
        )
        .await;
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Posts `RINGS` rings of `CALLERS` callers (ids from `first`) and waits for their lookups.
async fn ring(server: &Server, db: &DatabaseConnection, token: &str, first: usize) -> Duration {
    let started = Instant::now();
    let done_before = scalar(db, "SELECT COUNT(*) FROM queue_jobs WHERE state = 'done'").await;
    for i in 0..RINGS {
        let body = json!({"event": "ring", "call_id": format!("r-{}", first + i),
            "direction": "inbound", "extension": "1001",
            "from": format!("+1555{:07}", i % CALLERS), "to": "1001"});
        let response = server
            .client
            .post(server.url("/api/v1/events"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }
    let target = done_before + RINGS as i64;
    while scalar(db, "SELECT COUNT(*) FROM queue_jobs WHERE state = 'done'").await < target {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

async fn lookup(server: &Server, token: &str, number: &str) -> Duration {
    let started = Instant::now();
    let response = server
        .client
        .get(server.url(&format!("/api/v1/contacts/lookup?phone={number}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let (crm_url, searches) = start_crm().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]).await;
    let template = Fixture::load("calls-crm.xml")
        .set("UserAssociation", "0")
        .set("CreateNewContact", "0")
        .without_scenario("UserAssociation")
        .without_scenario("CreateNewContact")
        .at(&crm_url);
    server.connect(KEY, template).await;
    let events = token(&server, "events").await;
    let lookups = token(&server, "lookup").await;
    let db = sea_orm::Database::connect(format!(
        "sqlite://{}/patchbay.db?mode=ro",
        dir.path().display()
    ))
    .await
    .unwrap();

    println!(
        "== CRM requests per {RINGS} rings of {CALLERS} callers ({} ms per search) ==",
        CRM_LATENCY.as_millis()
    );
    set_always_query(&server, false).await;
    let before = searches.load(Ordering::SeqCst);
    let off_time = ring(&server, &db, &events, 0).await;
    let off = searches.load(Ordering::SeqCst) - before;
    set_always_query(&server, true).await;
    let before = searches.load(Ordering::SeqCst);
    let on_time = ring(&server, &db, &events, RINGS).await;
    let on = searches.load(Ordering::SeqCst) - before;
    println!(
        "Always Query off: {off} CRM requests ({} for the rings)",
        ms(off_time)
    );
    println!(
        "Always Query on:  {on} CRM requests ({} for the rings)",
        ms(on_time)
    );
    println!(
        "ratio on/off: {:.1}x the requests (target: off asks once per caller, {CALLERS})",
        on as f64 / off.max(1) as f64
    );

    println!("== Lookup latency through the API, a cache hit beside a miss ==");
    set_always_query(&server, false).await;
    let mut hits = Vec::new();
    let mut misses = Vec::new();
    for i in 0..LATENCY_PAIRS {
        let number = format!("%2B1666{i:07}");
        misses.push(lookup(&server, &lookups, &number).await);
        hits.push(lookup(&server, &lookups, &number).await);
    }
    let (hit, miss) = (median(hits), median(misses));
    println!(
        "median of {LATENCY_PAIRS}: hit {} vs miss {} (the CRM takes {} ms): a hit takes {:.2}x the time of a miss",
        ms(hit),
        ms(miss),
        CRM_LATENCY.as_millis(),
        hit.as_secs_f64() / miss.as_secs_f64()
    );

    println!("== The cache's size ==");
    let rss_before = server.memory_kib("VmRSS:");
    let cached_before = scalar(&db, "SELECT COUNT(*) FROM cached_contacts").await;
    for i in 0..FILLED {
        lookup(&server, &lookups, &format!("%2B1777{i:07}")).await;
    }
    let rss_after = server.memory_kib("VmRSS:");
    let cached = scalar(&db, "SELECT COUNT(*) FROM cached_contacts").await;
    let bytes = scalar(
        &db,
        "SELECT SUM(LENGTH(number_key) + LENGTH(number) + LENGTH(contact_type) + LENGTH(name) \
         + LENGTH(fields) + COALESCE(LENGTH(popup_url), 0) + 16) FROM cached_contacts",
    )
    .await;
    println!(
        "{cached} contacts cached ({} added): {} bytes of row data, {:.0} bytes per contact (at most 10,000 per integration: about {:.1} MB)",
        cached - cached_before,
        bytes,
        bytes as f64 / cached as f64,
        bytes as f64 / cached as f64 * 10_000.0 / 1e6
    );
    println!(
        "server memory (VmRSS) {rss_before} KiB before, {rss_after} KiB after {FILLED} more contacts were cached: the cache is in the database"
    );
}
