//! The call popup under load, in one run against a real `patchbay serve` (the release
//! binary, SQLite) and a loopback CRM (`fixtures/crm/popup-crm.xml` on `wiremock`):
//!
//! - 200 agents, each on an extension of their own, hold their call streams open
//!   (`/api/v1/calls/stream`); the server's resident memory is read before and after, per
//!   agent;
//! - ring events are posted at 50 calls per second for 10 s, each to one agent's
//!   extension; for every call, the time from the event's HTTP answer to the `ringing`
//!   update on that agent's stream, and to the update with the contact the CRM found;
//! - beside them, the lookup's own time: the same number looked up through the lookup API.
//!
//! Run: `cargo bench -p server --bench call_popups`.

mod common;

#[path = "../tests/it/common/sse.rs"]
#[allow(dead_code)]
mod sse;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::fixtures::Fixture;
use common::serve::{ms, sign_in, Server};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AGENTS: usize = 200;
const CALLS_PER_SECOND: u64 = 50;
const SECONDS: u64 = 10;
const PASSWORD: &str = "bench-agent-Quoll-5151";

/// When each call's updates reached its agent: (ringing, contact found).
type Arrivals = Arc<Mutex<HashMap<String, (Option<Instant>, Option<Instant>)>>>;

fn ring(call_id: &str, extension: &str) -> String {
    let msg = json!({"call_id": call_id, "members": [
        {"inbound": {"from": "5550100", "to": "6001", "trunk_name": "SIP", "channel_id": "a", "member_status": "ALERT"}},
        {"extension": {"number": extension, "channel_id": "b", "member_status": "RING"}}
    ]});
    json!({"type": 30011, "sn": "3631A2124XXX", "msg": msg.to_string()}).to_string()
}

fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort();
    let index = ((times.len() as f64 - 1.0) * p).round() as usize;
    times[index]
}

/// An agent signed in on its own client, its stream read into `arrivals`.
async fn agent(server: &Server, email: &str, arrivals: Arrivals) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = sign_in(&client, &server.base, email, PASSWORD).await;
    assert_eq!(response.status(), 303, "{email} signs in");
    let response = client
        .get(server.url("/api/v1/calls/stream"))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{email}'s stream opens");
    let mut stream = sse::EventStream::new(response);
    assert_eq!(
        stream.next(Duration::from_secs(30)).await.unwrap().event,
        "ready"
    );
    tokio::spawn(async move {
        while let Some(event) = stream.next(Duration::from_secs(3_600)).await {
            if event.event != "call" {
                continue;
            }
            let now = Instant::now();
            let update: Value = serde_json::from_str(&event.data).unwrap_or_default();
            let call_id = update["call_id"].as_str().unwrap_or_default().to_owned();
            let mut arrivals = arrivals.lock().unwrap();
            let entry = arrivals.entry(call_id).or_default();
            if update["state"] == "ringing" && entry.0.is_none() {
                entry.0 = Some(now);
            }
            if update["contacts"]["found"][0]["name"].is_string() && entry.1.is_none() {
                entry.1 = Some(now);
            }
        }
    });
}

#[tokio::main]
async fn main() {
    let crm = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "42", "first": "Ada", "last": "Lovelace", "company": "Acme", "phone": "5550100"}
        ])))
        .mount(&crm)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]).await;
    server
        .connect("popup_crm", Fixture::load("popup-crm.xml").at(&crm.uri()))
        .await;
    // Every ring is looked up in the CRM, as the first ring of a caller is.
    server
        .call(
            "save_features",
            json!({"csrf_token": server.csrf, "provider": "crm", "key": "popup_crm",
                   "features": {"contacts": {"sync": true, "always_query": true}}}),
        )
        .await;
    let mut csv = String::from("number,first_name,last_name,email\n");
    for n in 0..AGENTS {
        csv.push_str(&format!("{},Agent,{n},agent{n}@example.com\n", 2000 + n));
    }
    server.import(&csv, false).await;
    for n in 0..AGENTS {
        server
            .form(
                "create_account",
                &[
                    ("email", &format!("agent{n}@example.com")),
                    ("password", PASSWORD),
                    ("role", "agent"),
                ],
            )
            .await;
    }
    let linked = server.form("link_matched_extensions", &[]).await;
    assert_eq!(linked, json!(AGENTS), "each agent linked by e-mail");
    let token = server
        .form(
            "create_api_token",
            &[
                ("name", "pbx"),
                ("scope", "events"),
                ("expires_in_days", "1"),
            ],
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let lookup_token = server
        .form(
            "create_api_token",
            &[
                ("name", "lookup"),
                ("scope", "lookup"),
                ("expires_in_days", "1"),
            ],
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let arrivals: Arrivals = Arc::default();
    let before = server.memory_kib("VmRSS:");
    for n in 0..AGENTS {
        agent(&server, &format!("agent{n}@example.com"), arrivals.clone()).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = server.memory_kib("VmRSS:");

    let poster = reqwest::Client::new();
    let mut answered: Vec<(String, Instant)> = Vec::new();
    let mut every = tokio::time::interval(Duration::from_micros(1_000_000 / CALLS_PER_SECOND));
    let mut sends = Vec::new();
    for n in 0..(CALLS_PER_SECOND * SECONDS) as usize {
        every.tick().await;
        let call_id = format!("bench-{n}");
        let body = ring(&call_id, &(2000 + n % AGENTS).to_string());
        let request = poster
            .post(server.url("/api/v1/events/yeastar"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body);
        sends.push(tokio::spawn(async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 202);
            (call_id, Instant::now())
        }));
    }
    for send in sends {
        answered.push(send.await.unwrap());
    }
    tokio::time::sleep(Duration::from_secs(5)).await;

    let mut to_ringing = Vec::new();
    let mut to_contact = Vec::new();
    let mut missing = 0;
    {
        let arrivals = arrivals.lock().unwrap();
        for (call_id, at) in &answered {
            match arrivals.get(call_id) {
                Some((Some(ringing), Some(contact))) => {
                    // The update can beat the answer to the client: counted as no wait.
                    to_ringing.push(ringing.saturating_duration_since(*at));
                    to_contact.push(contact.saturating_duration_since(*at));
                }
                _ => missing += 1,
            }
        }
    }
    let mut lookups = Vec::new();
    for _ in 0..200 {
        let start = Instant::now();
        let response = poster
            .get(server.url("/api/v1/contacts/lookup?phone=5550100"))
            .bearer_auth(&lookup_token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        lookups.push(start.elapsed());
    }

    println!(
        "call popups: {AGENTS} agents streaming, {CALLS_PER_SECOND} calls/s for {SECONDS} s ({} calls, {missing} without both updates)",
        answered.len()
    );
    println!("| from the event's HTTP answer to | p50 | p99 |");
    println!("|---|---|---|");
    println!(
        "| the ringing update on the agent's stream | {} | {} |",
        ms(percentile(&mut to_ringing, 0.5)),
        ms(percentile(&mut to_ringing, 0.99))
    );
    println!(
        "| the update with the CRM's contact | {} | {} |",
        ms(percentile(&mut to_contact, 0.5)),
        ms(percentile(&mut to_contact, 0.99))
    );
    println!(
        "| (the lookup alone, through the lookup API) | {} | {} |",
        ms(percentile(&mut lookups, 0.5)),
        ms(percentile(&mut lookups, 0.99))
    );
    println!(
        "memory: {before} KiB before the streams, {after} KiB with {AGENTS} open: {:.1} KiB per connected agent",
        (after.saturating_sub(before)) as f64 / AGENTS as f64
    );
    assert_eq!(missing, 0, "every call reached its agent with its contact");
}
