//! Agents and the call popup over real HTTP, on SQLite and PostgreSQL: two agents on two
//! extensions, each seeing only their own calls on the live stream (`/api/v1/calls/stream`,
//! read as a browser's EventSource reads it) with the contact a loopback CRM knows; a
//! reconnection with `Last-Event-ID` that shows nothing twice and misses nothing; a
//! contact created by hand for an unknown caller; the recent calls with the journal done;
//! an agent refused everything else; and (PostgreSQL) an event taken by one `patchbay
//! serve` reaching an agent connected to another.

use std::time::Duration;

use crate::common::sse::{EventStream, SseEvent};
use crate::common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

on_both_databases!(
    each_agent_sees_the_popup_of_their_own_extensions_only,
    a_reconnection_replays_what_was_missed_and_nothing_twice,
    an_unknown_caller_is_created_by_hand_and_the_journal_shows_done,
    an_agent_is_refused_everything_but_their_calls,
);

const WAIT: Duration = Duration::from_secs(15);

/// Ada Lovelace (Acme) calls from 5550100; nobody is known at any other number.
async fn crm() -> MockServer {
    let crm = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .and(query_param("phone", "5550100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "42", "first": "Ada", "last": "Lovelace", "company": "Acme", "phone": "5550100"}
        ])))
        .with_priority(1)
        .mount(&crm)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .with_priority(5)
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/journals"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "j1"})))
        .mount(&crm)
        .await;
    crm
}

fn ring(call_id: &str, from: &str, extension: &str) -> String {
    let msg = json!({"call_id": call_id, "members": [
        {"inbound": {"from": from, "to": "6001", "trunk_name": "SIP", "channel_id": "a", "member_status": "ALERT"}},
        {"extension": {"number": extension, "channel_id": "b", "member_status": "RING"}}
    ]});
    json!({"type": 30011, "sn": "3631A2124XXX", "msg": msg.to_string()}).to_string()
}

fn answered(call_id: &str, from: &str, extension: &str) -> String {
    let msg = json!({"call_id": call_id, "members": [
        {"inbound": {"from": from, "to": "6001", "trunk_name": "SIP", "channel_id": "a", "member_status": "ANSWERED"}},
        {"extension": {"number": extension, "channel_id": "b", "member_status": "ANSWER"}}
    ]});
    json!({"type": 30011, "sn": "3631A2124XXX", "msg": msg.to_string()}).to_string()
}

fn end(call_id: &str, from: &str, extension: &str) -> String {
    let msg = json!({"call_id": call_id, "time_start": "2026-12-03 10:00:00", "call_from": from,
        "call_to": extension, "call_duration": 65, "talk_duration": 60, "status": "ANSWERED",
        "type": "Inbound", "recording": ""});
    json!({"type": 30012, "sn": "3631A2124XXX", "msg": msg.to_string()}).to_string()
}

/// A server with the popup CRM connected (journals for every external call), extensions
/// 1001 (ann@example.com) and 1002 (bob@example.com), and an `events` token.
struct Desk {
    server: TestServer,
    admin: Admin,
    events: String,
    crm: MockServer,
}

async fn desk(db: Db) -> Desk {
    desk_with(db, &[]).await
}

async fn desk_with(db: Db, env: &[(&str, &str)]) -> Desk {
    let crm = crm().await;
    let server = TestServer::start_with_env(db, true, env).await;
    let admin = admin(&server).await;
    prepare(&admin, &crm).await;
    let events = admin.create_token("pbx", "events").await;
    Desk {
        server,
        admin,
        events,
        crm,
    }
}

/// Connects the popup CRM at `crm` (journals for every external call, contacts created by
/// hand only) and imports extensions 1001 (ann@example.com) and 1002 (bob@example.com).
async fn prepare(admin: &Admin, crm: &MockServer) {
    admin
        .connect_crm(
            "popup.xml",
            Fixture::load("popup-crm.xml").at(&crm.uri()),
            "popup_crm",
        )
        .await;
    let (status, body) = admin
        .browser
        .call(
            "save_features",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": "popup_crm", "features": {
                "journal": {"enabled": true, "calls": "external"},
                // Created by hand only: neither direction automatically.
                "create_contact": {"contact_type": "Contacts"}
            }}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin
        .import_extensions(
            "number,first_name,last_name,email\n1001,Ann,Lee,ann@example.com\n1002,Bob,Chan,bob@example.com\n",
            false,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

impl Desk {
    /// An agent account answering `numbers` (set by the administrator).
    async fn agent(&self, email: &str, numbers: &[&str]) -> Admin {
        let agent = self
            .admin
            .new_account(&self.server.base, email, "agent")
            .await;
        let id = self
            .server
            .scalar(&format!(
                "SELECT CAST(id AS BIGINT) FROM accounts WHERE email = '{email}'"
            ))
            .await;
        if !numbers.is_empty() {
            let (status, body) = self
                .admin
                .browser
                .call(
                    "set_account_extensions",
                    json!({"csrf_token": self.admin.csrf, "account_id": id, "numbers": numbers}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        agent
    }

    async fn post(&self, body: String) {
        let response = reqwest::Client::new()
            .post(self.server.url("/api/v1/events/yeastar"))
            .bearer_auth(&self.events)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
}

/// Opens `agent`'s stream as a page of Patchbay does and waits until it is open.
async fn open_stream(agent: &Admin, last_event_id: Option<&str>) -> EventStream {
    let mut request = agent
        .browser
        .client
        .get(agent.browser.url("/api/v1/calls/stream"))
        .header("accept", "text/event-stream")
        .header("sec-fetch-site", "same-origin");
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut stream = EventStream::new(response);
    let ready = stream.next(WAIT).await.expect("the stream opens");
    assert_eq!(ready.event, "ready");
    stream
}

/// Reads `stream` until `wanted` holds of the call it folds, or fails.
async fn until(stream: &mut EventStream, wanted: impl Fn(&Value) -> bool) -> Vec<SseEvent> {
    let mut seen = Vec::new();
    let mut call = app::agents::AgentCall::default();
    loop {
        let event = stream
            .next_call(WAIT)
            .await
            .unwrap_or_else(|| panic!("the stream stopped before the call was complete: {seen:?}"));
        let mut update: app::agents::CallUpdate = serde_json::from_str(&event.data).unwrap();
        update.id = event.id.parse().unwrap();
        if call.call_id.is_empty() {
            call = app::agents::AgentCall::starting(&update);
        } else {
            call.apply(&update);
        }
        seen.push(event);
        if wanted(&serde_json::to_value(&call).unwrap()) {
            return seen;
        }
    }
}

fn contact_name(call: &Value) -> Option<&str> {
    call["contacts"][0]["found"][0]["name"].as_str()
}

async fn each_agent_sees_the_popup_of_their_own_extensions_only(db: Db) {
    let desk = desk(db).await;
    let ann = desk.agent("ann@example.com", &["1001"]).await;
    // Bob is linked by his e-mail address, as Find matches proposes.
    let bob = desk.agent("bob@example.com", &[]).await;
    let (status, matches) = desk
        .admin
        .browser
        .get_json("/api/account_extension_matches")
        .await;
    assert_eq!(status, StatusCode::OK, "{matches}");
    assert_eq!(
        matches,
        json!([{"account_id": desk.server.scalar("SELECT CAST(id AS BIGINT) FROM accounts WHERE email = 'bob@example.com'").await,
                "email": "bob@example.com", "numbers": ["1002"]}]),
        "ann already answers 1001; bob's 1002 is proposed"
    );
    let (status, linked) = desk
        .admin
        .browser
        .post_form(
            "/api/link_matched_extensions",
            &[("csrf_token", desk.admin.csrf.as_str())],
        )
        .await
        .json::<Value>()
        .await
        .map(|v| (StatusCode::OK, v))
        .unwrap();
    assert_eq!((status, linked), (StatusCode::OK, json!(1)));

    let mut ann_stream = open_stream(&ann, None).await;
    let mut bob_stream = open_stream(&bob, None).await;
    desk.post(ring("c-ann", "5550100", "1001")).await;
    let seen = until(&mut ann_stream, |call| contact_name(call).is_some()).await;
    let first: Value = seen[0].json();
    assert_eq!(first["extension"], "1001");
    assert_eq!(first["state"], "ringing");
    assert_eq!(first["party_number"], "5550100");
    let call = {
        let mut folded = app::agents::AgentCall::default();
        for event in &seen {
            let mut update: app::agents::CallUpdate = serde_json::from_str(&event.data).unwrap();
            update.id = event.id.parse().unwrap();
            if folded.call_id.is_empty() {
                folded = app::agents::AgentCall::starting(&update);
            } else {
                folded.apply(&update);
            }
        }
        folded
    };
    let found = &call.contacts[0];
    assert_eq!(found.integration, "Popup CRM");
    assert_eq!(found.found.len(), 1);
    assert_eq!(found.found[0].name, "Ada Lovelace");
    assert_eq!(found.found[0].company, "Acme");
    assert_eq!(found.found[0].contact_type, "Contacts");
    assert_eq!(
        found.found[0].popup_url.as_deref(),
        Some(format!("{}/contacts/42", desk.crm.uri()).as_str())
    );

    // Bob's call comes to Bob; Ann's never did.
    desk.post(ring("c-bob", "5550199", "1002")).await;
    let bob_first = bob_stream.next_call(WAIT).await.expect("bob's call");
    assert_eq!(bob_first.json()["call_id"], "c-bob");
    let rest = bob_stream
        .calls_until_quiet(Duration::from_millis(800))
        .await;
    for event in rest.iter().chain([&bob_first]) {
        assert_eq!(event.json()["extension"], "1002", "{event:?}");
        assert!(!event.data.contains("c-ann") && !event.data.contains("5550100"));
    }
    // And Ann's stream says nothing of Bob's.
    for event in ann_stream
        .calls_until_quiet(Duration::from_millis(800))
        .await
    {
        assert_eq!(event.json()["extension"], "1001", "{event:?}");
    }
    // Each agent's recent calls are their own.
    let (status, page) = bob.browser.get_json("/api/load_calls").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let calls: Vec<&str> = page["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(calls, ["c-bob"]);
}

async fn a_reconnection_replays_what_was_missed_and_nothing_twice(db: Db) {
    let desk = desk(db).await;
    let ann = desk.agent("ann@example.com", &["1001"]).await;
    let mut stream = open_stream(&ann, None).await;
    desk.post(ring("c1", "5550100", "1001")).await;
    let seen = until(&mut stream, |call| contact_name(call).is_some()).await;
    let last_seen = seen.last().unwrap().id.clone();
    drop(stream);
    // While the page is away, the call is answered and ends.
    desk.post(answered("c1", "5550100", "1001")).await;
    desk.post(end("c1", "5550100", "1001")).await;
    settled(&desk.server).await;

    let mut again = open_stream(&ann, Some(&last_seen)).await;
    let replayed = again.calls_until_quiet(Duration::from_millis(800)).await;
    let ids: Vec<i64> = replayed.iter().map(|e| e.id.parse().unwrap()).collect();
    let before: Vec<i64> = seen.iter().map(|e| e.id.parse().unwrap()).collect();
    assert!(!replayed.is_empty(), "what was missed is replayed");
    assert!(
        ids.iter().all(|id| !before.contains(id)),
        "{ids:?} after {before:?}"
    );
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
    let states: Vec<Value> = replayed.iter().map(|e| e.json()["state"].clone()).collect();
    assert!(states.contains(&json!("talking")), "{states:?}");
    assert!(states.contains(&json!("ended")), "{states:?}");
    let journal = replayed
        .iter()
        .map(|e| e.json())
        .find(|u| u["work"]["step"] == "journal" && u["work"]["state"] == "done");
    assert!(journal.is_some(), "{replayed:?}");

    // Further behind than 500 updates: the first 500, then `reset`, and the stream ends.
    let rows: Vec<String> = (0..600)
        .map(|n| {
            format!(
                "('1001', 'flood-{n}', 1, '{{\"call_id\":\"flood-{n}\",\"extension\":\"1001\",\"state\":\"ringing\"}}')"
            )
        })
        .collect();
    desk.server
        .execute(&format!(
            "INSERT INTO call_feed (extension, call_id, at_ms, body) VALUES {}",
            rows.join(", ")
        ))
        .await;
    let mut behind = open_stream(&ann, Some(ids.last().unwrap().to_string().as_str())).await;
    let mut replayed_calls = 0;
    let mut last = None;
    while let Some(event) = behind.next(WAIT).await {
        if event.event == "call" {
            replayed_calls += 1;
        }
        last = Some(event.event);
    }
    assert_eq!((replayed_calls, last.as_deref()), (500, Some("reset")));

    // The `after` parameter of a fresh page does the same as the header.
    let (_, page) = ann.browser.get_json("/api/load_calls").await;
    let last = page["last_id"].as_i64().unwrap();
    assert!(last >= *ids.last().unwrap());
    let response = ann
        .browser
        .client
        .get(
            ann.browser
                .url(&format!("/api/v1/calls/stream?after={last}")),
        )
        .send()
        .await
        .unwrap();
    let mut fresh = EventStream::new(response);
    assert_eq!(fresh.next(WAIT).await.unwrap().event, "ready");
    assert!(fresh
        .calls_until_quiet(Duration::from_millis(500))
        .await
        .is_empty());
}

async fn an_unknown_caller_is_created_by_hand_and_the_journal_shows_done(db: Db) {
    let desk = desk(db).await;
    // Once created, the CRM knows the caller.
    Mock::given(method("POST"))
        .and(path("/contacts"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "77"})))
        .mount(&desk.crm)
        .await;
    let ann = desk.agent("ann@example.com", &["1001"]).await;
    let mut stream = open_stream(&ann, None).await;
    desk.post(ring("c2", "5550177", "1001")).await;
    let seen = until(&mut stream, |call| {
        call["contacts"][0]["integration"].is_string()
    })
    .await;
    let lookup = seen
        .iter()
        .map(|e| e.json())
        .find(|u| u["contacts"].is_object())
        .unwrap();
    assert_eq!(lookup["contacts"]["found"], json!([]));
    assert_eq!(lookup["contacts"]["creatable"], json!(["Contacts"]));
    let integration_id = lookup["contacts"]["integration_id"].as_i64().unwrap();

    // Ann types the name; the CRM then finds Grace at that number.
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .and(query_param("phone", "5550177"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "77", "first": "Grace", "last": "Hopper", "company": "", "phone": "5550177"}
        ])))
        .with_priority(1)
        .mount(&desk.crm)
        .await;
    let (status, created) = ann
        .browser
        .call(
            "create_call_contact",
            json!({"csrf_token": ann.csrf, "input": {"call_id": "c2", "extension": "1001",
                "integration_id": integration_id, "contact_type": "Contacts",
                "number": "999 ignored", "first_name": "Grace", "last_name": "Hopper"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["found"][0]["name"], "Grace Hopper");
    let posted: Vec<Value> = desk
        .crm
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/contacts")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        posted,
        [json!({"phone": "5550177", "first": "Grace", "last": "Hopper", "company": ""})],
        "the call's number, not one typed"
    );
    // The popup learns it live.
    until(&mut stream, |call| {
        contact_name(call) == Some("Grace Hopper")
    })
    .await;
    assert_eq!(
        desk.server
            .scalar("SELECT COUNT(*) FROM activity WHERE origin = 'agent' AND scenario = 'CreateNewContact'")
            .await,
        1
    );

    desk.post(answered("c2", "5550177", "1001")).await;
    desk.post(end("c2", "5550177", "1001")).await;
    settled(&desk.server).await;
    let (status, page) = ann.browser.get_json("/api/load_calls").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let call = &page["calls"][0];
    assert_eq!(call["call_id"], "c2");
    assert_eq!(call["state"], "ended");
    let journal: Vec<&Value> = call["work"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["step"] == "journal")
        .collect();
    assert_eq!(journal.len(), 1, "{call}");
    assert_eq!(journal[0]["state"], "done");
}

async fn an_agent_is_refused_everything_but_their_calls(db: Db) {
    let desk = desk(db).await;
    let ann = desk.agent("ann@example.com", &["1001"]).await;
    let bob = desk.agent("bob@example.com", &["1002"]).await;
    // Pages: every one but Calls sends the agent to Calls.
    for page in [
        "/",
        "/templates/crm",
        "/integrations/crm",
        "/activity",
        "/accounts",
        "/extensions",
    ] {
        let response = ann.browser.get(page).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{page}");
        assert_eq!(location(&response), "/calls", "{page}");
    }
    let (status, html) = ann.browser.get_text("/calls").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Calls") && !html.contains("CRM templates"),
        "agents see only Calls in the navigation"
    );
    // Server functions and REST endpoints of everything else.
    let (status, _) = ann
        .browser
        .get_json("/api/list_integrations?provider=crm")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = ann
        .browser
        .get_json("/api/list_queue?state=failed&offset=0")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = ann.browser.get_json("/api/v1/templates/crm").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("auth.forbidden"))
    );
    let response = ann
        .browser
        .client
        .get(ann.browser.url("/api/v1/contacts/lookup?number=5550100"))
        .header("x-csrf-token", &ann.csrf)
        .send()
        .await
        .unwrap();
    let (status, body): (StatusCode, Value) =
        (response.status(), response.json().await.unwrap_or_default());
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("auth.forbidden"))
    );
    let (status, _) = ann
        .browser
        .call(
            "save_features",
            json!({"csrf_token": ann.csrf, "provider": "crm", "key": "popup_crm", "features": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Another agent's extension and call.
    let (status, body) = ann
        .browser
        .call(
            "save_popup_settings",
            json!({"csrf_token": ann.csrf, "settings": {"extension": "1002", "method": "automatic", "trigger": "ring"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    desk.post(ring("c-bob", "5550177", "1002")).await;
    settled(&desk.server).await;
    let (status, body) = ann
        .browser
        .call(
            "create_call_contact",
            json!({"csrf_token": ann.csrf, "input": {"call_id": "c-bob", "extension": "1002",
                "integration_id": 1, "contact_type": "Contacts", "first_name": "X"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = ann
        .browser
        .call(
            "create_call_contact",
            json!({"csrf_token": ann.csrf, "input": {"call_id": "c-bob", "extension": "1001",
                "integration_id": 1, "contact_type": "Contacts", "first_name": "X"}}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a call of another extension is no call of hers: {body}"
    );
    let (status, body) = ann
        .browser
        .call(
            "save_popup_settings",
            json!({"csrf_token": "forged", "settings": {"extension": "1001", "method": "automatic", "trigger": "ring"}}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "CSRF: {body}");
    // Linking: at most 20 extensions, each in the directory; names bounded.
    let ann_id = desk
        .server
        .scalar("SELECT CAST(id AS BIGINT) FROM accounts WHERE email = 'ann@example.com'")
        .await;
    let many: Vec<String> = (0..21).map(|n| format!("{}", 3000 + n)).collect();
    for (numbers, wanted) in [
        (many, "at most 20 extensions"),
        (
            vec!["1001".to_owned(), "9999".to_owned()],
            "extension 9999 is not in the directory",
        ),
    ] {
        let (status, body) = desk
            .admin
            .browser
            .call(
                "set_account_extensions",
                json!({"csrf_token": desk.admin.csrf, "account_id": ann_id, "numbers": numbers}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains(wanted), "{body}");
    }
    let (_, page) = ann.browser.get_json("/api/load_calls").await;
    assert_eq!(
        page["extensions"][0]["extension"], "1001",
        "a refused change changes nothing"
    );
    let (status, _) = ann
        .browser
        .call(
            "set_account_extensions",
            json!({"csrf_token": ann.csrf, "account_id": ann_id, "numbers": ["1002"]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an agent links nothing");
    desk.post(ring("c-ann", "5550177", "1001")).await;
    settled(&desk.server).await;
    let (status, body) = ann
        .browser
        .call(
            "create_call_contact",
            json!({"csrf_token": ann.csrf, "input": {"call_id": "c-ann", "extension": "1001",
                "integration_id": 1, "contact_type": "Contacts", "first_name": "x".repeat(101)}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.to_string().contains("at most 100 characters"),
        "{body}"
    );

    let (status, body) = bob
        .browser
        .call(
            "save_popup_settings",
            json!({"csrf_token": bob.csrf, "settings": {"extension": "1002", "method": "automatic", "trigger": "answered"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, page) = bob.browser.get_json("/api/load_calls").await;
    assert_eq!(
        page["extensions"],
        json!([{"extension": "1002", "method": "automatic", "trigger": "answered"}])
    );

    // A `user` account (connects integrations) cannot give itself an agent's extension,
    // and its stream carries nobody's calls.
    let carol = desk
        .admin
        .new_account(&desk.server.base, "carol@example.com", "user")
        .await;
    let carol_id = desk
        .server
        .scalar("SELECT CAST(id AS BIGINT) FROM accounts WHERE email = 'carol@example.com'")
        .await;
    let (status, _) = carol
        .browser
        .call(
            "set_account_extensions",
            json!({"csrf_token": carol.csrf, "account_id": carol_id, "numbers": ["1001"]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let response = carol
        .browser
        .post_form(
            "/api/link_matched_extensions",
            &[("csrf_token", carol.csrf.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let mut carol_stream = open_stream(&carol, None).await;
    desk.post(ring("c-ann-2", "5550100", "1001")).await;
    settled(&desk.server).await;
    assert!(carol_stream
        .calls_until_quiet(Duration::from_millis(800))
        .await
        .is_empty());
    let (_, page) = carol.browser.get_json("/api/load_calls").await;
    assert_eq!(page["calls"], json!([]));

    // The stream: another site's page, a token, nobody.
    let stream = |headers: &[(&str, &str)]| {
        let mut request = ann
            .browser
            .client
            .get(ann.browser.url("/api/v1/calls/stream"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    for headers in [
        &[("sec-fetch-site", "cross-site")][..],
        &[("origin", "http://evil.example")][..],
    ] {
        let response = stream(headers).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "calls.origin");
    }
    let token = desk.admin.create_token("script", "admin").await;
    let response = reqwest::Client::new()
        .get(desk.server.url("/api/v1/calls/stream"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = reqwest::Client::new()
        .get(desk.server.url("/api/v1/calls/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // At most 8 streams an account.
    let mut open = Vec::new();
    for _ in 0..8 {
        open.push(open_stream(&ann, None).await);
    }
    let response = stream(&[]).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "calls.too_many_streams");
    drop(open);
    tokio::time::sleep(Duration::from_millis(200)).await;
    open_stream(&ann, None).await;
}

/// Two real `patchbay serve` processes on one PostgreSQL database: an agent signed in to
/// the second sees the popup of a call the first took, through LISTEN/NOTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: `make test` runs it"]
async fn an_event_taken_by_one_instance_reaches_an_agent_on_another() {
    use crate::common::process::{instance_env, serve};
    let crm = crm().await;
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(Db::Postgres, dir.path()).await;
    let env = instance_env(dir.path(), &database_url, 9, &[]);
    let first = serve(&env, &dir.path().join("first.log")).await;
    let second = serve(&env, &dir.path().join("second.log")).await;

    let browser = Browser::new(&first.base);
    let csrf = browser.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = Admin { browser, csrf };
    prepare(&admin, &crm).await;
    // Ann signs in to the second instance.
    let ann = admin
        .new_account(&second.base, "ann@example.com", "agent")
        .await;
    let (status, body) = admin
        .browser
        .post_form(
            "/api/link_matched_extensions",
            &[("csrf_token", admin.csrf.as_str())],
        )
        .await
        .json::<Value>()
        .await
        .map(|v| (StatusCode::OK, v))
        .unwrap();
    assert_eq!((status, body), (StatusCode::OK, json!(1)));
    let mut stream = open_stream(&ann, None).await;
    let events = admin.create_token("pbx", "events").await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/events/yeastar", first.base))
        .bearer_auth(&events)
        .header("content-type", "application/json")
        .body(ring("c-far", "5550100", "1001"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let seen = until(&mut stream, |call| {
        contact_name(call) == Some("Ada Lovelace")
    })
    .await;
    assert_eq!(seen[0].json()["call_id"], "c-far");
    let ids: Vec<&str> = seen.iter().map(|e| e.id.as_str()).collect();
    let unique: std::collections::HashSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "each update once: {ids:?}");
}

/// A stream is a long answer to one request: the connection's idle timeout (nothing read
/// from the client) must not end it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stream_outlives_the_connections_idle_timeout() {
    let desk = desk_with(
        Db::Sqlite,
        &[
            ("PATCHBAY_HANDLER_TIMEOUT_SECS", "1"),
            ("PATCHBAY_IDLE_TIMEOUT_SECS", "3"),
        ],
    )
    .await;
    let ann = desk.agent("ann@example.com", &["1001"]).await;
    let mut stream = open_stream(&ann, None).await;
    tokio::time::sleep(Duration::from_secs(7)).await;
    desk.post(ring("c-late", "5550100", "1001")).await;
    let event = stream
        .next_call(WAIT)
        .await
        .expect("the stream is still open");
    assert_eq!(event.json()["call_id"], "c-late");
}
