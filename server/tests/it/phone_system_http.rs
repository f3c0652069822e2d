//! The phone system as a real Yeastar P-Series talks to it, against the stand-in PBX
//! (`common::pbx`, written from the vendor's guide) and a wiremock CRM, on SQLite and
//! PostgreSQL: signed webhooks (a wrong signature stores nothing; two Secrets while
//! rotating), the Open API WebSocket (a call journaled exactly once, heartbeats keeping it
//! past the idle limit, a dropped socket reconnected, a token renewed before it expires with
//! the new connection made first), refused credentials tried once, the extension sync, a
//! journal's RecordPath opening the recording, and the attacker's view.

use std::time::{Duration, Instant};

use crate::common::pbx::{self, StandInPbx, CLIENT_ID, CLIENT_SECRET, WEBHOOK_SECRET};
use crate::common::*;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

on_both_databases!(
    a_signed_webhook_is_queued_and_a_wrong_signature_stores_nothing,
    a_call_over_the_websocket_is_journaled_exactly_once_and_survives_drops,
    refused_credentials_are_tried_once_and_the_status_says_why,
    a_token_is_renewed_before_it_expires_and_revoked_on_disconnect,
    the_extension_sync_makes_the_directory_the_pbxs_list,
    a_journals_record_path_opens_the_recording,
    a_user_account_cannot_see_or_change_the_phone_system,
    new_staff_on_the_pbx_are_associated_after_each_sync_when_asked,
    a_key_rotation_reseals_the_phone_systems_secrets,
);

const RING: &str = r#"{"type":30011,"sn":"3631A2124XXX","msg":"{\"call_id\":\"1700000000.7\",\"members\":[{\"inbound\":{\"from\":\"5550100\",\"to\":\"6001\",\"trunk_name\":\"SIP\",\"channel_id\":\"a\",\"member_status\":\"ALERT\"}},{\"extension\":{\"number\":\"1001\",\"channel_id\":\"b\",\"member_status\":\"RING\"}}]}"}"#;

fn ring(call_id: &str) -> String {
    RING.replace("1700000000.7", call_id)
}

fn end(call_id: &str, recording: &str) -> String {
    let msg =
        json!({"call_id": call_id, "time_start": "2023-11-14 22:13:20", "call_from": "5550100",
        "call_to": "1001", "call_duration": 65, "talk_duration": 60, "status": "ANSWERED",
        "type": "Inbound", "recording": recording})
        .to_string();
    json!({"type": 30012, "sn": "3631A2124XXX", "msg": msg}).to_string()
}

/// Fast link timing for tests: a heartbeat a second, the lease three.
const LINK_ENV: &[(&str, &str)] = &[
    ("PATCHBAY_PBX_HEARTBEAT_SECS", "1"),
    ("PATCHBAY_PBX_LEASE_SECS", "3"),
    ("PATCHBAY_PBX_RECONNECT_MAX_SECS", "2"),
];

async fn crm() -> MockServer {
    calls_crm(ResponseTemplate::new(201).set_body_json(json!({"id": "j1"}))).await
}

/// The calls CRM without User Association; its journal carries `RecordPath` in the query.
async fn connected(server: &TestServer, crm: &MockServer) -> Admin {
    let admin = admin(server).await;
    let template = Fixture::load("calls-crm.xml")
        .set("UserAssociation", "0")
        .without_scenario("UserAssociation")
        .parameter("CallJournal", "PlayCallRecording", "1")
        .request_attribute(
            "CallJournal",
            "CallJournal",
            "URLFormat",
            "https://crm.example.com/journals?recording={{UrlEncode .RecordPath}}",
        )
        .at(&crm.uri());
    admin.connect_crm("calls.xml", template, "calls_crm").await;
    let (status, body) = admin
        .browser
        .call(
            "save_features",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": "calls_crm", "features": {
                "journal": {"enabled": true, "calls": "external", "play_recording": true},
            }}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    admin
}

async fn journals(crm: &MockServer) -> Vec<Request> {
    crm.received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/journals")
        .collect()
}

async fn put(server: &TestServer, token: &str, body: Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .put(server.url("/api/v1/phone-system"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let answer = response.json().await.unwrap_or(Value::Null);
    if status.is_server_error() {
        let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
        let errors: Vec<&str> = logs.lines().filter(|l| l.contains("ERROR")).collect();
        panic!("{status} {answer}: {errors:?}");
    }
    (status, answer)
}

async fn api(server: &TestServer, token: &str, verb: &str, path: &str) -> (StatusCode, Value) {
    let client = reqwest::Client::new();
    let request = if verb == "GET" {
        client.get(server.url(path))
    } else {
        client.post(server.url(path))
    };
    let response = request.bearer_auth(token).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn view(server: &TestServer, token: &str) -> Value {
    let (status, body) = api(server, token, "GET", "/api/v1/phone-system").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Waits until the phone system's status is `state` (at most `within`).
async fn status_becomes(server: &TestServer, token: &str, state: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let current = view(server, token).await;
        if current["status"] == state {
            return current;
        }
        assert!(
            Instant::now() < deadline,
            "status never became {state}: {current}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn webhook(
    server: &TestServer,
    signature: Option<&str>,
    body: &str,
    get: bool,
) -> (StatusCode, Value) {
    let client = reqwest::Client::new();
    let url = server.url("/api/v1/events/yeastar");
    let mut request = if get {
        client.get(url)
    } else {
        client.post(url)
    }
    .header("content-type", "application/json")
    .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("X-Signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn open_api_settings(pbx: &StandInPbx, delivery: &str) -> Value {
    json!({"base_url": pbx.base, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
           "webhook_secret": WEBHOOK_SECRET, "delivery": delivery, "sync_minutes": 0})
}

async fn a_signed_webhook_is_queued_and_a_wrong_signature_stores_nothing(db: Db) {
    let server = TestServer::start(db).await;
    let crm = crm().await;
    let admin = connected(&server, &crm).await;
    let token = admin.create_token("provisioning", "admin").await;
    let record = end("1700000000.7", "");

    // Before a Secret is saved, a signed post cannot be checked.
    let (status, answer) = webhook(
        &server,
        Some(&pbx::sign(WEBHOOK_SECRET, &record)),
        &record,
        false,
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("auth.signature"))
    );

    let (status, saved) = put(
        &server,
        &token,
        json!({"webhook_secret": WEBHOOK_SECRET, "delivery": "webhook"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["webhook_secret_set"], true);
    assert_eq!(saved["status"], "webhook_only");
    assert!(
        !saved.to_string().contains(WEBHOOK_SECRET),
        "the Secret never comes back"
    );

    for (signature, what) in [
        (
            Some(pbx::sign("another-secret-another-secret-32", &record)),
            "another Secret",
        ),
        (
            Some(pbx::sign(WEBHOOK_SECRET, &end("other", ""))),
            "another body",
        ),
        (Some("bm90IGEgc2lnbmF0dXJl".to_owned()), "garbage"),
        (None, "no signature"),
    ] {
        let (status, answer) = webhook(&server, signature.as_deref(), &record, false).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {answer}");
    }
    assert_eq!(
        server.scalar("SELECT COUNT(*) FROM call_events").await,
        0,
        "nothing stored"
    );

    let (status, answer) = webhook(
        &server,
        Some(&pbx::sign(WEBHOOK_SECRET, &record)),
        &record,
        false,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["jobs"], 1, "the journal: {answer}");
    // The same event again (the PBX retrying) queues nothing.
    let (_, again) = webhook(
        &server,
        Some(&pbx::sign(WEBHOOK_SECRET, &record)),
        &record,
        false,
    )
    .await;
    assert_eq!(again["replay"], true);
    settled(&server).await;
    assert_eq!(journals(&crm).await.len(), 1);

    // Rotating: the new Secret and the one it replaced both verify until the grace ends.
    let rotated = "Nw7pQ2mN9vR4tY6wZ8aB1cD3eF5gH0jZ";
    let (status, saved) = put(
        &server,
        &token,
        json!({"webhook_secret": rotated, "delivery": "webhook"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert!(
        saved["previous_webhook_secret_until"].as_i64().is_some(),
        "{saved}"
    );
    let second = end("1700000001.1", "");
    let (status, _) = webhook(
        &server,
        Some(&pbx::sign(WEBHOOK_SECRET, &second)),
        &second,
        false,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "the old Secret while the PBX changes over"
    );
    let third = end("1700000002.1", "");
    let (status, _) = webhook(&server, Some(&pbx::sign(rotated, &third)), &third, true).await;
    assert_eq!(status, StatusCode::ACCEPTED, "the new Secret, by GET too");
    server
        .execute("UPDATE phone_system SET previous_webhook_until = 1")
        .await;
    let fourth = end("1700000003.1", "");
    let (status, _) = webhook(
        &server,
        Some(&pbx::sign(WEBHOOK_SECRET, &fourth)),
        &fourth,
        false,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old Secret after the grace"
    );

    // The status counts what came and how (the counts are stored every 2 s).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let status = view(&server, &token).await;
    assert_eq!(status["last_event_type"], "30012", "{status}");
    assert_eq!(status["last_event_channel"], "webhook");
    let today = &status["events_today"][0];
    assert_eq!(
        (
            today["event_type"].as_str(),
            today["name"].as_str(),
            today["count"].as_i64()
        ),
        (Some("30012"), Some("New CDR"), Some(4)),
        "{status}"
    );
    // The webhook Secret is sealed at rest.
    let sealed = server
        .scalar(&format!(
            "SELECT COUNT(*) FROM phone_system_secrets WHERE ciphertext LIKE '%{rotated}%'"
        ))
        .await;
    assert_eq!(sealed, 0);
}

async fn a_call_over_the_websocket_is_journaled_exactly_once_and_survives_drops(db: Db) {
    let pbx = StandInPbx::start(Duration::from_secs(1800), Duration::from_secs(2)).await;
    // Down at start: Patchbay says so and keeps trying.
    pbx.ledger().down = true;
    let server = TestServer::start_with_env(db, true, LINK_ENV).await;
    let crm = crm().await;
    let admin = connected(&server, &crm).await;
    let token = admin.create_token("provisioning", "admin").await;
    let (status, saved) = put(&server, &token, open_api_settings(&pbx, "websocket")).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let down = status_becomes(&server, &token, "unreachable", Duration::from_secs(10)).await;
    assert!(
        down["status_detail"].as_str().unwrap().contains("503"),
        "{down}"
    );
    pbx.ledger().down = false;
    status_becomes(&server, &token, "connected", Duration::from_secs(10)).await;
    assert_eq!(
        pbx.ledger().subscriptions.last().unwrap(),
        &vec![30011, 30012]
    );
    assert_eq!(
        pbx.ledger().requests_without_user_agent,
        0,
        "every request names Patchbay"
    );

    // Heartbeats keep the socket past the PBX's idle limit (2 s here).
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(pbx.ledger().connections, 1, "no reconnection was needed");
    assert!(pbx.ledger().heartbeats >= 3);
    assert!(view(&server, &token).await["last_heartbeat_at"]
        .as_i64()
        .is_some());

    pbx.push(RING);
    pbx.push(&ring("1700000009.9")); // rings now, ends after the socket drops
    pbx.push(&end("1700000000.7", ""));
    pbx.push(&end("1700000000.7", "")); // sent twice: worked once
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.scalar("SELECT COUNT(*) FROM call_events").await < 3 {
        assert!(Instant::now() < deadline, "the events never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    settled(&server).await;
    assert_eq!(journals(&crm).await.len(), 1, "exactly one journal");

    // The PBX drops the socket: Patchbay reconnects and receives again.
    let dropped = Instant::now();
    pbx.drop_connections();
    pbx.until(Duration::from_secs(10), "a second subscription", |l| {
        l.subscriptions.len() >= 2 && l.open == 1
    })
    .await;
    println!(
        "socket drop to subscribed again: {} ms",
        dropped.elapsed().as_millis()
    );
    // The call that rang before the drop ends after it, and the PBX re-sends the first
    // call's record: the one is journaled, the other not again.
    pbx.push(&end("1700000000.7", ""));
    pbx.push(&end("1700000009.9", ""));
    let deadline = Instant::now() + Duration::from_secs(10);
    while journals(&crm).await.len() < 2 {
        settled(&server).await;
        assert!(
            Instant::now() < deadline,
            "the call after the drop was not journaled"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    settled(&server).await;
    assert_eq!(journals(&crm).await.len(), 2, "no duplicate work");
    let status = view(&server, &token).await;
    assert_eq!(status["last_event_channel"], "websocket", "{status}");
    assert_eq!(
        pbx.ledger().get_token_calls,
        1,
        "one token for the whole session"
    );

    // A message over 64 KiB is not read: the connection is made again, and goes on.
    let huge = json!({"type": 30012, "sn": "x", "msg": "y".repeat(70 * 1024)}).to_string();
    pbx.push(&huge);
    pbx.until(Duration::from_secs(10), "a third subscription", |l| {
        l.subscriptions.len() >= 3 && l.open == 1
    })
    .await;
    let before = server.scalar("SELECT COUNT(*) FROM call_events").await;
    pbx.push(&end("1700000010.1", ""));
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.scalar("SELECT COUNT(*) FROM call_events").await == before {
        assert!(
            Instant::now() < deadline,
            "nothing received after the oversized message"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn refused_credentials_are_tried_once_and_the_status_says_why(db: Db) {
    let pbx = StandInPbx::start(Duration::from_secs(1800), Duration::from_secs(60)).await;
    let server = TestServer::start_with_env(db, true, LINK_ENV).await;
    let admin = admin(&server).await;
    let token = admin.create_token("provisioning", "admin").await;
    let mut settings = open_api_settings(&pbx, "websocket");
    settings["client_secret"] = json!("wrong-secret");
    let (status, saved) = put(&server, &token, settings).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let refused = status_becomes(&server, &token, "refused", Duration::from_secs(10)).await;
    assert!(
        refused["status_detail"]
            .as_str()
            .unwrap()
            .contains("errcode 10004"),
        "{refused}"
    );
    // Several heartbeats later: still one attempt, far from the PBX's block after 5.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(pbx.ledger().failed_authentications, 1);
    let (status, answer) = api(&server, &token, "POST", "/api/v1/phone-system/sync").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("phone_system.refused"))
    );
    assert_eq!(
        pbx.ledger().failed_authentications,
        1,
        "the sync did not try again either"
    );
    assert!(!pbx.ledger().blocked);

    // The Secret is bound to the address: changing it alone is refused, nothing changes.
    let (status, answer) = put(
        &server,
        &token,
        json!({"base_url": "http://127.0.0.1:9", "client_id": CLIENT_ID,
        "delivery": "websocket"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("client_secret"),
        "{answer}"
    );
    assert_eq!(view(&server, &token).await["base_url"], pbx.base.as_str());

    let (status, _) = put(&server, &token, open_api_settings(&pbx, "websocket")).await;
    assert_eq!(status, StatusCode::OK);
    status_becomes(&server, &token, "connected", Duration::from_secs(10)).await;
}

async fn a_token_is_renewed_before_it_expires_and_revoked_on_disconnect(db: Db) {
    // Tokens of 303 s are renewed when under 300 s are left: after about 3 s.
    let pbx = StandInPbx::start(Duration::from_secs(303), Duration::from_secs(60)).await;
    pbx.ledger().refuse_refresh = true;
    let server = TestServer::start_with_env(db, true, LINK_ENV).await;
    let admin = admin(&server).await;
    let token = admin.create_token("provisioning", "admin").await;
    let (status, _) = put(&server, &token, open_api_settings(&pbx, "websocket")).await;
    assert_eq!(status, StatusCode::OK);
    status_becomes(&server, &token, "connected", Duration::from_secs(10)).await;
    // The refresh is refused: one new token instead, and a new socket made before the old
    // one closes.
    pbx.until(Duration::from_secs(15), "a renewed connection", |l| {
        l.connections >= 2 && l.refresh_calls >= 1
    })
    .await;
    {
        let ledger = pbx.ledger();
        assert_eq!(
            ledger.get_token_calls, 2,
            "one token, then one more when the refresh was refused"
        );
        assert_eq!(ledger.failed_authentications, 0);
    }
    pbx.until(Duration::from_secs(5), "the old socket closed", |l| {
        l.open == 1
    })
    .await;

    let (status, after) = api(&server, &token, "POST", "/api/v1/phone-system/disconnect").await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(
        (
            after["client_secret_set"].as_bool(),
            after["status"].as_str()
        ),
        (Some(false), Some("webhook_only"))
    );
    assert_eq!(
        pbx.ledger().revoked.len(),
        1,
        "the token is given back to the PBX"
    );
    pbx.until(Duration::from_secs(10), "the socket closed", |l| {
        l.open == 0
    })
    .await;
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM phone_system_secrets WHERE name LIKE '%token'")
            .await,
        0
    );
}

async fn the_extension_sync_makes_the_directory_the_pbxs_list(db: Db) {
    let pbx = StandInPbx::start(Duration::from_secs(1800), Duration::from_secs(60)).await;
    let numbers: Vec<String> = (0..150).map(|n| format!("{}", 2000 + n)).collect();
    let list: Vec<(&str, &str, &str)> = numbers
        .iter()
        .map(|n| (n.as_str(), "Ann Van Dyke", "Ann@Example.com"))
        .collect();
    pbx.set_extensions(&list);
    let server = TestServer::start_with_env(db, true, LINK_ENV).await;
    let admin = admin(&server).await;
    let (status, imported) = admin
        .import_extensions(
            "number,first_name,last_name,email\n1999,Old,Desk,old@example.com\n2000,Typed,ByHand,\n",
            false,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    let token = admin.create_token("provisioning", "admin").await;
    let (status, _) = put(&server, &token, open_api_settings(&pbx, "webhook")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, report) = api(&server, &token, "POST", "/api/v1/phone-system/sync").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        report,
        json!({"listed": 150, "added": 149, "updated": 1, "removed": 1})
    );
    assert_eq!(pbx.ledger().extension_pages, 2, "two pages of 100");
    let (_, directory) = api(&server, &token, "GET", "/api/v1/extensions").await;
    let listed: Vec<&str> = directory["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["number"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        numbers.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let first = &directory["extensions"][0];
    assert_eq!(
        (
            first["first_name"].as_str(),
            first["last_name"].as_str(),
            first["email"].as_str(),
            first["source"].as_str()
        ),
        (
            Some("Ann"),
            Some("Van Dyke"),
            Some("ann@example.com"),
            Some("pbx")
        )
    );

    // Staff change on the PBX: one leaves, one is renamed.
    let mut changed = list.clone();
    changed.remove(3);
    changed[0].1 = "Bea Lee";
    pbx.set_extensions(&changed);
    let (_, report) = api(&server, &token, "POST", "/api/v1/phone-system/sync").await;
    assert_eq!(
        report,
        json!({"listed": 149, "added": 0, "updated": 1, "removed": 1})
    );
    let status = view(&server, &token).await;
    assert!(
        status["last_sync_result"]
            .as_str()
            .unwrap()
            .contains("1 removed"),
        "{status}"
    );

    // On a schedule too: a sync every 5 minutes, the last one long ago.
    let mut scheduled = open_api_settings(&pbx, "webhook");
    scheduled["sync_minutes"] = json!(5);
    put(&server, &token, scheduled).await;
    server
        .execute("UPDATE phone_system SET last_sync_at = 1")
        .await;
    let pages = pbx.ledger().extension_pages;
    pbx.until(Duration::from_secs(10), "a scheduled sync", |l| {
        l.extension_pages > pages
    })
    .await;
}

async fn a_journals_record_path_opens_the_recording(db: Db) {
    let pbx = StandInPbx::start(Duration::from_secs(1800), Duration::from_secs(60)).await;
    let server = TestServer::start_with_env(db, true, LINK_ENV).await;
    let crm = crm().await;
    let admin = connected(&server, &crm).await;
    let token = admin.create_token("provisioning", "admin").await;
    let (status, _) = put(&server, &token, open_api_settings(&pbx, "webhook")).await;
    assert_eq!(status, StatusCode::OK);
    let file = "20231114221320-1700000000.7-5550100-1001-Inbound.wav";
    let record = end("1700000000.7", file);
    let (status, answer) = webhook(
        &server,
        Some(&pbx::sign(WEBHOOK_SECRET, &record)),
        &record,
        false,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    settled(&server).await;
    let journal = journals(&crm).await.pop().expect("a journal");
    // The template's UrlEncode left the link's own `&` as they are: read it whole.
    let raw = journal
        .url
        .query()
        .unwrap()
        .strip_prefix("recording=")
        .unwrap();
    let link = percent_decoded(raw);
    assert!(
        link.starts_with("http://127.0.0.1"),
        "a Patchbay URL: {link}"
    );
    assert!(link.contains("/api/v1/recordings?file="), "{link}");
    // The CRM opens it without any credential of its own.
    let link = link.replacen(&link[..link.find("/api/").unwrap()], &server.base, 1);
    let response = reqwest::get(&link).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{link}");
    assert_eq!(response.headers()["content-type"], "audio/x-wav");
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        pbx::RECORDING_BYTES
    );
    assert_eq!(pbx.ledger().recordings, vec![file.to_owned()]);
    // A link Patchbay did not make opens nothing, and asks the PBX for nothing.
    for forged in [
        link.replace("Inbound.wav", "Outbound.wav"),
        link.replace("signature=", "signature=x"),
        link.replace("expires=", "expires=9"),
    ] {
        let response = reqwest::get(&forged).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{forged}");
    }
    assert_eq!(pbx.ledger().recordings.len(), 1);
    // A recording over the 512 MiB cap is refused before its body is read.
    pbx.ledger().huge_recordings = true;
    let response = reqwest::get(&link).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than 512 MiB"),
        "{answer}"
    );
}

async fn new_staff_on_the_pbx_are_associated_after_each_sync_when_asked(db: Db) {
    let pbx = StandInPbx::start(Duration::from_secs(1800), Duration::from_secs(60)).await;
    pbx.set_extensions(&[("1001", "Bob Stone", "bob@example.com")]);
    let crm = crm().await;
    Mock::given(path("/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"users": [
            {"id": "u1", "email": "ann@example.com"}, {"id": "u2", "email": "bob@example.com"}]})))
        .with_priority(1)
        .mount(&crm)
        .await;
    let server = TestServer::start_with_env(db, true, LINK_ENV).await;
    let admin = admin(&server).await;
    admin.connect_calls_crm(&crm.uri()).await;
    let token = admin.create_token("provisioning", "admin").await;
    put(&server, &token, open_api_settings(&pbx, "webhook")).await;
    let sync = || async {
        api(&server, &token, "POST", "/api/v1/phone-system/sync")
            .await
            .1
    };
    // Not asked: the directory changes, the association does not.
    assert!(sync().await.get("users").is_none());
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM crm_user_extensions")
            .await,
        0
    );

    let (status, body) = admin
        .browser
        .call(
            "save_features",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": "calls_crm",
                   "features": {"users": {"after_extension_sync": true}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Ann joins the PBX: the next sync reads the CRM's users and associates her and Bob.
    pbx.set_extensions(&[
        ("1001", "Bob Stone", "bob@example.com"),
        ("1002", "Ann Lee", "ann@example.com"),
    ]);
    let report = sync().await;
    assert_eq!(report["added"], 1, "{report}");
    assert_eq!(
        report["users"],
        json!(["calls_crm: users synced, 2 extension(s) associated"])
    );
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM crm_user_extensions")
            .await,
        2
    );
    // Ann leaves: her extension goes, and her association with it.
    pbx.set_extensions(&[("1001", "Bob Stone", "bob@example.com")]);
    let report = sync().await;
    assert_eq!(report["removed"], 1, "{report}");
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM crm_user_extensions")
            .await,
        1
    );
}

async fn a_key_rotation_reseals_the_phone_systems_secrets(db: Db) {
    use server::crypto::cipher::SecretCipher;
    use server::storage::phone_system::PhoneSystemRepository;
    let pbx = StandInPbx::start(Duration::from_secs(1800), Duration::from_secs(60)).await;
    let server = TestServer::start_with_env(db, true, LINK_ENV).await;
    let admin = admin(&server).await;
    let token = admin.create_token("provisioning", "admin").await;
    put(&server, &token, open_api_settings(&pbx, "webhook")).await;
    status_becomes(&server, &token, "connected", Duration::from_secs(10)).await;
    let stored = server
        .scalar("SELECT COUNT(*) FROM phone_system_secrets")
        .await;
    assert_eq!(
        stored, 4,
        "Client Secret, webhook Secret, access and refresh tokens"
    );

    let old = server.state.config.encryption_key.clone();
    let new = server::crypto::keys::generate_key();
    let rotating = SecretCipher::new(&new, std::slice::from_ref(&old));
    let repository = PhoneSystemRepository::new(server.state.db.clone());
    let rotated = server::phone_system::service::rotate_secrets(&repository, &rotating)
        .await
        .unwrap();
    assert_eq!(rotated, 4);
    let again = server::phone_system::service::rotate_secrets(&repository, &rotating)
        .await
        .unwrap();
    assert_eq!(again, 0, "a second run finds nothing left");
    // Under the new key alone the webhook Secret still verifies a signed post.
    let service = server::phone_system::service::PhoneSystemService {
        cipher: std::sync::Arc::new(SecretCipher::new(&new, &[])),
        ..server.state.phone_system_service()
    };
    let record = end("1700000000.7", "");
    let accepted = service
        .accept_signed(&pbx::sign(WEBHOOK_SECRET, &record), record.as_bytes())
        .await
        .unwrap();
    assert!(!accepted.replay);
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

async fn a_user_account_cannot_see_or_change_the_phone_system(db: Db) {
    let pbx = StandInPbx::start(Duration::from_secs(1800), Duration::from_secs(60)).await;
    let server = TestServer::start_with_env(db, true, LINK_ENV).await;
    let admin = admin(&server).await;
    let token = admin.create_token("provisioning", "admin").await;
    put(&server, &token, open_api_settings(&pbx, "webhook")).await;
    let user = admin.new_user(&server, "mallory@example.com").await;
    // The pages' calls and the REST API refuse a `user` account.
    let (status, answer) = user.browser.get_json("/api/phone_system").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let (status, _) = user
        .browser
        .call("save_phone_system", json!({"csrf_token": user.csrf, "input": {"base_url": "http://127.0.0.1:1", "delivery": "webhook"}}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for function in ["sync_pbx_extensions", "disconnect_phone_system"] {
        let response = user
            .browser
            .post_form(
                &format!("/api/{function}"),
                &[("csrf_token", user.csrf.as_str())],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{function}");
    }
    let (status, _) = user.browser.get_json("/api/v1/phone-system").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A token of another scope is refused too, and an events token cannot read settings.
    let events = admin.create_token("pbx", "events").await;
    let (status, answer) = api(&server, &events, "GET", "/api/v1/phone-system").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("auth.scope"))
    );
    // An admin's session without the CSRF header cannot change it.
    let response = admin
        .browser
        .client
        .put(admin.browser.url("/api/v1/phone-system"))
        .json(&json!({"delivery": "webhook"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Nothing anyone reads carries a secret.
    let shown = view(&server, &token).await.to_string();
    for secret in [CLIENT_SECRET, WEBHOOK_SECRET] {
        assert!(!shown.contains(secret));
        let stored = server
            .scalar(&format!(
                "SELECT COUNT(*) FROM phone_system_secrets WHERE ciphertext LIKE '%{secret}%'"
            ))
            .await;
        assert_eq!(stored, 0, "sealed at rest");
    }
    assert!(!String::from_utf8_lossy(&captured_logs().lock().unwrap()).contains(CLIENT_SECRET));
    // The settings did not change.
    assert_eq!(view(&server, &token).await["base_url"], pbx.base.as_str());
}

/// Two real `patchbay serve` processes on one PostgreSQL database: exactly one holds the
/// PBX's WebSocket (the lease); SIGKILL it and the other takes over within the lease, and
/// a call sent after the takeover is journaled once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: `make test` runs it"]
async fn two_instances_hold_one_websocket_and_the_survivor_takes_over() {
    use crate::common::process::{instance_env, serve};
    let pbx = StandInPbx::start(Duration::from_secs(1800), Duration::from_secs(60)).await;
    let crm = crm().await;
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(Db::Postgres, dir.path()).await;
    let env = instance_env(
        dir.path(),
        &database_url,
        9,
        &[
            ("PATCHBAY_PBX_HEARTBEAT_SECS", "1".to_string()),
            ("PATCHBAY_PBX_LEASE_SECS", "3".to_string()),
            ("PATCHBAY_PBX_RECONNECT_MAX_SECS", "2".to_string()),
        ],
    );
    let first = serve(&env, &dir.path().join("first.log")).await;
    let second = serve(&env, &dir.path().join("second.log")).await;

    let browser = Browser::new(&first.base);
    let csrf = browser.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = Admin { browser, csrf };
    let template = Fixture::load("calls-crm.xml")
        .set("UserAssociation", "0")
        .without_scenario("UserAssociation")
        .at(&crm.uri());
    admin.connect_crm("calls.xml", template, "calls_crm").await;
    let (status, body) = admin
        .browser
        .call(
            "save_features",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": "calls_crm",
                   "features": {"journal": {"enabled": true, "calls": "external"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = admin.create_token("provisioning", "admin").await;
    let response = reqwest::Client::new()
        .put(format!("{}/api/v1/phone-system", first.base))
        .bearer_auth(&token)
        .json(&open_api_settings(&pbx, "websocket"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    pbx.until(Duration::from_secs(15), "a subscription", |l| l.open == 1)
        .await;
    // Several lease periods later, still exactly one socket and one token.
    tokio::time::sleep(Duration::from_secs(7)).await;
    {
        let ledger = pbx.ledger();
        assert_eq!(
            (ledger.open, ledger.connections, ledger.get_token_calls),
            (1, 1, 1),
            "one socket, one token"
        );
    }
    let db = sea_orm::Database::connect(&database_url).await.unwrap();
    let holder = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT lease_owner FROM phone_system",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<String>(0)
        .unwrap();
    // Kill whichever holds it: the one whose log says it connected.
    let first_log = std::fs::read_to_string(dir.path().join("first.log")).unwrap();
    let (victim, survivor) = if first_log.contains("connected to the PBX's event WebSocket") {
        (first, second)
    } else {
        (second, first)
    };
    let killed = Instant::now();
    victim.kill().await;
    pbx.until(
        Duration::from_secs(15),
        "the survivor's subscription",
        |l| l.connections >= 2 && l.open >= 1,
    )
    .await;
    println!(
        "takeover after SIGKILL: {} ms (lease 3 s)",
        killed.elapsed().as_millis()
    );
    let new_holder = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT lease_owner FROM phone_system",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<String>(0)
        .unwrap();
    assert_ne!(holder, new_holder);
    pbx.push(&end("1700000077.7", ""));
    // Not a latency bound: alone this takes about a second, but in the full suite beside the
    // other process tests on two cores it once took over 20 s.
    let deadline = Instant::now() + Duration::from_secs(60);
    while journals(&crm).await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the call after the takeover was not journaled"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(journals(&crm).await.len(), 1);
    drop(survivor);
}
