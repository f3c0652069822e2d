//! Phone system events through both ways a Yeastar PBX delivers them, side by side in one
//! run against a real `patchbay serve` (the release binary) and the tests' stand-in PBX:
//!
//! - **webhook**: signed posts (`X-Signature`), 20 senders at once, each acknowledged once
//!   the event is stored;
//! - **WebSocket**: the same number of events pushed down the one Open API connection, in
//!   order, timed until the last is stored;
//! - **reconnection**: the PBX drops the socket; the time until an event sent after the
//!   drop is stored.
//!
//! Events concern no integration, so both measure the intake (read, planned, stored with
//! its replay key), not a CRM. Run: `cargo bench -p server --bench phone_events`.

mod common;

#[path = "../tests/it/common/pbx.rs"]
#[allow(dead_code)]
mod pbx;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::serve::Server;
use sea_orm::ConnectionTrait;
use serde_json::json;

const EVENTS: usize = 2_000;
const SENDERS: usize = 20;

fn record(n: usize) -> String {
    let msg = json!({"call_id": format!("bench-{n}"), "time_start": "2023-11-14 22:13:20",
        "call_from": "5550100", "call_to": "1001", "call_duration": 65, "talk_duration": 60,
        "status": "ANSWERED", "type": "Inbound", "recording": ""})
    .to_string();
    json!({"type": 30012, "sn": "3631A2124XXX", "msg": msg}).to_string()
}

async fn stored(db: &sea_orm::DatabaseConnection) -> usize {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM call_events",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap() as usize
}

async fn until_stored(db: &sea_orm::DatabaseConnection, count: usize) {
    while stored(db).await < count {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::main]
async fn main() {
    let pbx = pbx::StandInPbx::start(Duration::from_secs(1800), Duration::from_secs(60)).await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]).await;
    let token = server
        .form(
            "create_api_token",
            &[
                ("name", "bench"),
                ("scope", "admin"),
                ("expires_in_days", "1"),
            ],
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let settings = json!({"base_url": pbx.base, "client_id": pbx::CLIENT_ID,
        "client_secret": pbx::CLIENT_SECRET, "webhook_secret": pbx::WEBHOOK_SECRET,
        "delivery": "both", "sync_minutes": 0});
    let response = server
        .client
        .put(server.url("/api/v1/phone-system"))
        .bearer_auth(&token)
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    pbx.until(Duration::from_secs(30), "a subscription", |l| l.open == 1)
        .await;
    let db = sea_orm::Database::connect(format!(
        "sqlite://{}?mode=rw",
        dir.path().join("patchbay.db").display()
    ))
    .await
    .unwrap();

    // Webhook: SENDERS posts at a time, each answered once stored.
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..SENDERS {
        let (url, next) = (server.url("/api/v1/events/yeastar"), next.clone());
        let client = reqwest::Client::new();
        senders.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= EVENTS {
                    return;
                }
                let body = record(n);
                let response = client
                    .post(&url)
                    .header("X-Signature", pbx::sign(pbx::WEBHOOK_SECRET, &body))
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 202);
            }
        });
    }
    while let Some(done) = senders.join_next().await {
        done.unwrap();
    }
    let webhook = started.elapsed();
    until_stored(&db, EVENTS).await;

    // WebSocket: the same number down the one connection.
    let started = Instant::now();
    for n in EVENTS..2 * EVENTS {
        pbx.push(&record(n));
    }
    until_stored(&db, 2 * EVENTS).await;
    let websocket = started.elapsed();

    let rate = |took: Duration| EVENTS as f64 / took.as_secs_f64();
    println!("== Phone system events: {EVENTS} each way, SQLite, release build ==");
    println!(
        "webhook ({SENDERS} senders, signed): {:.0} events/s ({:.2} s)",
        rate(webhook),
        webhook.as_secs_f64()
    );
    println!(
        "WebSocket (one connection, in order): {:.0} events/s ({:.2} s)",
        rate(websocket),
        websocket.as_secs_f64()
    );
    println!(
        "ratio WebSocket / webhook: {:.2}",
        rate(websocket) / rate(webhook)
    );

    // Reconnection: drop the socket, then send an event every 20 ms until one is stored.
    let before = stored(&db).await;
    let dropped = Instant::now();
    pbx.drop_connections();
    let mut n = 3 * EVENTS;
    while stored(&db).await == before {
        pbx.push(&record(n));
        n += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "socket dropped by the PBX to an event stored again: {} ms (reconnection waits 0.5-1 s first)",
        dropped.elapsed().as_millis()
    );
}
