//! Call events over real HTTP into the durable queue, worked against a loopback `wiremock`
//! CRM, on SQLite and PostgreSQL: a ring then its record (lookup, contact, journal), a
//! replay, a record before its ring, 429 with Retry-After and 5xx retried, a step failing
//! for good kept as Failed, bad events answered clearly with nothing written, and User
//! Association deciding which extensions count.

use std::time::{Duration, Instant};

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

on_both_databases!(
    a_ring_then_its_record_look_up_create_and_journal_once,
    a_record_before_its_ring_gets_exactly_one_journal,
    network_errors_retry_after_and_server_errors_are_retried_until_the_journal_arrives,
    a_step_that_keeps_failing_is_failed_and_kept,
    an_outage_delays_every_journal_and_loses_none_in_order,
    a_ticket_made_when_it_rings_is_updated_when_it_ends_and_internal_calls_follow_their_options,
    bad_events_get_a_clear_answer_and_nothing_is_written,
    with_user_association_only_associated_extensions_count,
    a_ring_sees_the_call_and_by_default_only_calls_with_contacts_are_journaled,
    a_number_several_contacts_match_is_not_created_again,
    missed_records_are_dropped_only_for_agents_of_a_group,
);

/// The calls CRM (`fixtures/crm/calls-crm.xml`), with User Association when asked.
fn template(crm: &str, user_association: bool) -> String {
    let fixture = Fixture::load("calls-crm.xml");
    if user_association {
        fixture.at(crm)
    } else {
        fixture
            .set("UserAssociation", "0")
            .without_scenario("UserAssociation")
            .at(crm)
    }
}

/// The same calls as a helpdesk's, with tickets (CreateNewTicket and UpdateTicket).
fn helpdesk_template(crm: &str) -> String {
    Fixture::load("calls-helpdesk.xml").at(crm)
}

const RING: &str = r#"{"type":30011,"sn":"3631A2124XXX","msg":"{\"call_id\":\"1700000000.7\",\"members\":[{\"inbound\":{\"from\":\"5550100\",\"to\":\"6001\",\"trunk_name\":\"SIP\",\"channel_id\":\"a\",\"member_status\":\"ALERT\"}},{\"extension\":{\"number\":\"1001\",\"channel_id\":\"b\",\"member_status\":\"RING\"}}]}"}"#;
const END: &str = r#"{"type":30012,"sn":"3631A2124XXX","msg":"{\"call_id\":\"1700000000.7\",\"time_start\":\"2023-11-14 22:13:20\",\"call_from\":\"5550100\",\"call_to\":\"1001\",\"call_duration\":65,\"talk_duration\":60,\"status\":\"ANSWERED\",\"type\":\"Inbound\",\"recording\":\"\"}"}"#;

fn ok() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({"id": "j1"}))
}

/// A server with the CRM connected, journals and inbound contact creation on, and an
/// `events` token.
async fn connected(
    db: Db,
    crm: &MockServer,
    user_association: bool,
    env: &[(&str, &str)],
) -> (TestServer, Admin, String) {
    let server = TestServer::start_with_env(db, true, env).await;
    let admin = admin(&server).await;
    admin
        .connect_crm(
            "calls.xml",
            template(&crm.uri(), user_association),
            "calls_crm",
        )
        .await;
    let (status, body) = admin
        .browser
        .call(
            "save_features",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": "calls_crm", "features": {
                // Unknown numbers are journaled too (the vendor's default: contacts only).
                "journal": {"enabled": true, "calls": "external"},
                "create_contact": {"contact_type": "Contacts", "on_inbound": true}
            }}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = admin.create_token("pbx", "events").await;
    (server, admin, token)
}

async fn post(
    server: &TestServer,
    token: Option<&str>,
    path: &str,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(server.url(path))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn yeastar(server: &TestServer, token: &str, body: &str) -> Value {
    let (status, answer) = post(
        server,
        Some(token),
        "/api/v1/events/yeastar",
        body.to_owned(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    answer
}

async fn journals(crm: &MockServer) -> Vec<Value> {
    crm.received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r: &&Request| r.method.as_str() == "POST" && r.url.path() == "/journals")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

async fn a_ring_then_its_record_look_up_create_and_journal_once(db: Db) {
    let crm = calls_crm(ok()).await;
    let (server, _admin, token) = connected(db, &crm, false, &[]).await;

    let answer = yeastar(&server, &token, RING).await;
    assert_eq!(answer, json!({"replay": false, "jobs": 1}), "a lookup");
    let answer = yeastar(&server, &token, END).await;
    assert_eq!(
        answer,
        json!({"replay": false, "jobs": 2}),
        "contact and journal"
    );
    settled(&server).await;

    let sent = journals(&crm).await;
    assert_eq!(
        sent,
        [
            json!({"call": "5550100", "to": "1001", "contact": "c-new", "ext": "1001", "owner": "",
                "talk": "60", "start": "1700000000", "subject": "Call Incoming Call"})
        ]
    );
    // The phone system sends both again (a retry on its side): nothing new.
    assert_eq!(
        yeastar(&server, &token, RING).await,
        json!({"replay": true, "jobs": 0})
    );
    assert_eq!(
        yeastar(&server, &token, END).await,
        json!({"replay": true, "jobs": 0})
    );
    settled(&server).await;
    assert_eq!(journals(&crm).await.len(), 1);
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM queue_jobs WHERE state = 'done'")
            .await,
        3
    );
    // Each step is a row in Activity.
    let steps = server
        .scalar("SELECT COUNT(*) FROM activity WHERE origin = 'call'")
        .await;
    assert_eq!(steps, 3);

    // The history goes after PATCHBAY_QUEUE_KEEP_DAYS (30): the events, the done jobs and
    // what the call carried.
    let now = server::storage::unix_now_ms();
    let month = 31 * 86_400_000_i64;
    let service = server.state.queue_service();
    assert_eq!(
        service.prune(now).await.unwrap(),
        Default::default(),
        "nothing old yet"
    );
    for table in [
        "call_events SET received_at",
        "queue_jobs SET updated_at",
        "queue_calls SET updated_at",
    ] {
        server
            .execute(&format!("UPDATE {table} = {}", now - month))
            .await;
    }
    let pruned = service.prune(now).await.unwrap();
    assert_eq!((pruned.events, pruned.jobs, pruned.calls), (2, 3, 1));
    assert_eq!(server.scalar("SELECT COUNT(*) FROM queue_jobs").await, 0);
}

async fn a_record_before_its_ring_gets_exactly_one_journal(db: Db) {
    let crm = calls_crm(ok()).await;
    let (server, _admin, token) = connected(db, &crm, false, &[]).await;
    // The record first; the late ring still looks the caller up, and nothing is journaled
    // twice.
    yeastar(&server, &token, END).await;
    settled(&server).await;
    yeastar(&server, &token, RING).await;
    settled(&server).await;
    assert_eq!(journals(&crm).await.len(), 1);
    // Another call: ring and record at once, the journal waits for the lookup.
    let ring = RING.replace("1700000000.7", "1700000001.8");
    let end = END.replace("1700000000.7", "1700000001.8");
    let (a, b) = tokio::join!(
        yeastar(&server, &token, &ring),
        yeastar(&server, &token, &end)
    );
    assert_eq!((a["jobs"].as_u64(), b["jobs"].as_u64()), (Some(1), Some(2)));
    settled(&server).await;
    assert_eq!(journals(&crm).await.len(), 2);
    let order: Vec<String> = crm
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    let last_lookup = order.iter().rposition(|r| r == "GET /contacts").unwrap();
    let last_journal = order.iter().rposition(|r| r == "POST /journals").unwrap();
    assert!(last_lookup < last_journal, "{order:?}");
}

/// Answers `first` in turn, then 201.
struct Sequence {
    answers: std::sync::Mutex<Vec<ResponseTemplate>>,
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut answers = self.answers.lock().unwrap();
        if answers.is_empty() {
            ok()
        } else {
            answers.remove(0)
        }
    }
}

async fn network_errors_retry_after_and_server_errors_are_retried_until_the_journal_arrives(
    db: Db,
) {
    let crm = calls_crm(Sequence {
        answers: std::sync::Mutex::new(vec![
            // No answer within the request timeout: a network error.
            ok().set_delay(Duration::from_millis(1_500)),
            ResponseTemplate::new(429).insert_header("retry-after", "1"),
            ResponseTemplate::new(503).set_body_string("down for maintenance"),
            ResponseTemplate::new(502),
        ]),
    })
    .await;
    let (server, _admin, token) = connected(
        db,
        &crm,
        false,
        &[
            ("PATCHBAY_QUEUE_RETRY_BASE_MS", "50"),
            ("PATCHBAY_REQUEST_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    let started = Instant::now();
    yeastar(&server, &token, END).await;
    settled(&server).await;
    // The 429's `Retry-After: 1` held the second attempt back (50 ms backoff otherwise).
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let times = crm
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/journals")
        .count();
    assert_eq!(times, 5, "a timeout, 429, 503, 502, then stored");
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM queue_jobs WHERE step = 'journal' AND state = 'done' AND attempts = 5")
            .await,
        1
    );
}

async fn a_step_that_keeps_failing_is_failed_and_kept(db: Db) {
    let crm = calls_crm(ResponseTemplate::new(503).set_body_string("down")).await;
    let (server, admin, token) = connected(
        db,
        &crm,
        false,
        &[
            ("PATCHBAY_QUEUE_RETRY_BASE_MS", "20"),
            ("PATCHBAY_QUEUE_MAX_ATTEMPTS", "3"),
        ],
    )
    .await;
    yeastar(&server, &token, END).await;
    settled(&server).await;
    assert_eq!(journals(&crm).await.len(), 3);
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM queue_jobs WHERE step = 'journal' AND state = 'failed' AND attempts = 3 AND last_error LIKE '%HTTP 503%' AND fault = 'crm_failed'")
            .await,
        1
    );
    // A refusal that waiting cannot fix (400) fails at once.
    crm.reset().await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": "c1"}]})))
        .mount(&crm)
        .await;
    Mock::given(path("/journals"))
        .respond_with(ResponseTemplate::new(400).set_body_string("bad subject"))
        .mount(&crm)
        .await;
    yeastar(
        &server,
        &token,
        &END.replace("1700000000.7", "1700000002.9"),
    )
    .await;
    settled(&server).await;
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM queue_jobs WHERE step = 'journal' AND state = 'failed' AND attempts = 1 AND fault = 'crm_refused'")
            .await,
        1
    );

    // However old, a failed job is kept (with what its call carried).
    let now = server::storage::unix_now_ms();
    for table in [
        "call_events SET received_at",
        "queue_jobs SET updated_at",
        "queue_calls SET updated_at",
    ] {
        server
            .execute(&format!("UPDATE {table} = {}", now - 31 * 86_400_000_i64))
            .await;
    }
    let pruned = server.state.queue_service().prune(now).await.unwrap();
    assert_eq!((pruned.events, pruned.calls), (2, 0));
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM queue_jobs WHERE state = 'failed'")
            .await,
        2
    );

    // Activity › Queue lists both with their errors; the CRM is back: one is retried and
    // arrives, the other discarded. Only administrators may.
    let (status, page) = admin.browser.get_json("/api/list_queue").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["total"], 2, "{page}");
    assert!(
        page["counts"].to_string().contains(r#"["failed",2]"#),
        "{page}"
    );
    let jobs = page["jobs"].as_array().unwrap();
    let newest = &jobs[0];
    assert_eq!(
        (&newest["step"], &newest["state"]),
        (&json!("journal"), &json!("failed"))
    );
    assert!(
        newest["last_error"].as_str().unwrap().contains("HTTP 400"),
        "{newest}"
    );
    assert_eq!(newest["call"], "Inbound 5550100 → 1001 (extension 1001)");
    let (older, newer) = (jobs[1]["id"].to_string(), newest["id"].to_string());
    crm.reset().await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": "c1"}]})))
        .mount(&crm)
        .await;
    Mock::given(path("/journals"))
        .respond_with(ok())
        .mount(&crm)
        .await;
    let user = admin.new_user(&server, "agent@example.com").await;
    assert_eq!(
        act(&user.browser, &user.csrf, "retry_queue_job", &older).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        act(&admin.browser, &admin.csrf, "retry_queue_job", &older).await,
        StatusCode::OK
    );
    assert_eq!(
        act(&admin.browser, &admin.csrf, "retry_queue_job", &older).await,
        StatusCode::NOT_FOUND,
        "not failed any more"
    );
    assert_eq!(
        act(&admin.browser, &admin.csrf, "discard_queue_job", &newer).await,
        StatusCode::OK
    );
    settled(&server).await;
    assert_eq!(journals(&crm).await.len(), 1, "the retried journal arrived");
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM queue_jobs WHERE state = 'discarded'")
            .await,
        1
    );
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM queue_jobs WHERE state = 'failed'")
            .await,
        0
    );
}

/// Calls a Queue action (`retry_queue_job`, `discard_queue_job`) on job `id`.
async fn act(browser: &Browser, csrf: &str, function: &str, id: &str) -> StatusCode {
    browser
        .post_form(
            &format!("/api/{function}"),
            &[("csrf_token", csrf), ("id", id)],
        )
        .await
        .status()
}

async fn a_ticket_made_when_it_rings_is_updated_when_it_ends_and_internal_calls_follow_their_options(
    db: Db,
) {
    let crm = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": "c1", "first": "Grace"}]})),
        )
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/tickets"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "t-9"})))
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/tickets/t-9/comments"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/journals"))
        .respond_with(ok())
        .mount(&crm)
        .await;
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let (status, body) = admin
        .upload(
            "helpdesk",
            &[("desk.xml", helpdesk_template(&crm.uri()))],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin
        .browser
        .call(
            "save_integration",
            json!({"csrf_token": admin.csrf, "provider": "helpdesk", "key": "calls_crm", "input": {"values": []}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin
        .browser
        .call(
            "save_features",
            json!({"csrf_token": admin.csrf, "provider": "helpdesk", "key": "calls_crm", "features": {
                "journal": {"enabled": true, "calls": "all"},
                "create_contact": {"contact_type": "Contacts", "on_inbound": true},
                "ticket": {"when": "before_call", "call_types": ["inbound"]}
            }}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = admin.create_token("pbx", "events").await;

    assert_eq!(
        yeastar(&server, &token, RING).await["jobs"],
        2,
        "lookup, ticket"
    );
    assert_eq!(
        yeastar(&server, &token, END).await["jobs"],
        3,
        "contact (known: nothing created), journal, ticket update"
    );
    settled(&server).await;
    let bodies = |p: &'static str| {
        let crm = &crm;
        async move {
            crm.received_requests()
                .await
                .unwrap()
                .iter()
                .filter(|r| r.method.as_str() == "POST" && r.url.path() == p)
                .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        bodies("/tickets").await,
        // The phone system sent no name: the contact found at the ring names the caller.
        [json!({"subject": "Inbound call from Grace <5550100>", "contact": "c1"})]
    );
    assert_eq!(
        bodies("/tickets/t-9/comments").await,
        [json!({"content": "talked 60 s"})],
        "the ticket made before the call is updated with the call's details"
    );
    assert!(
        bodies("/contacts").await.is_empty(),
        "a known caller is not created"
    );
    assert_eq!(journals(&crm).await[0]["contact"], "c1");

    // An internal call: no lookup, no contact, no ticket (inbound only): its journal.
    let internal = r#"{"event":"end","call_id":"i-1","direction":"internal","extension":"1001","from":"1001","to":"1002","start":1700000000,"duration":20,"talk_duration":15,"status":"ANSWERED"}"#;
    let (status, answer) = post(&server, Some(&token), "/api/v1/events", internal).await;
    assert_eq!(
        (status, answer["jobs"].as_u64()),
        (StatusCode::ACCEPTED, Some(1))
    );
    let ring = r#"{"event":"ring","call_id":"i-1","direction":"internal","extension":"1001","from":"1001","to":"1002"}"#;
    let (_, answer) = post(&server, Some(&token), "/api/v1/events", ring).await;
    assert_eq!(answer["jobs"], 0);
    settled(&server).await;
    assert_eq!(journals(&crm).await.len(), 2);
}

/// 503 until the shared instant (none: up), then the usual answer.
struct DownUntil {
    until: std::sync::Arc<std::sync::Mutex<Option<Instant>>>,
    then: ResponseTemplate,
}

impl Respond for DownUntil {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        if self
            .until
            .lock()
            .unwrap()
            .is_some_and(|until| Instant::now() < until)
        {
            ResponseTemplate::new(503).set_body_string("maintenance")
        } else {
            self.then.clone()
        }
    }
}

async fn an_outage_delays_every_journal_and_loses_none_in_order(db: Db) {
    let crm = MockServer::start().await;
    let outage = std::sync::Arc::new(std::sync::Mutex::new(None));
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(DownUntil {
            until: outage.clone(),
            then: ResponseTemplate::new(200).set_body_json(json!({"data": []})),
        })
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/contacts"))
        .respond_with(DownUntil {
            until: outage.clone(),
            then: ResponseTemplate::new(201).set_body_json(json!({"id": "c-new"})),
        })
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/journals"))
        .respond_with(DownUntil {
            until: outage.clone(),
            then: ok(),
        })
        .mount(&crm)
        .await;
    let (server, _admin, token) =
        connected(db, &crm, false, &[("PATCHBAY_QUEUE_RETRY_BASE_MS", "100")]).await;
    let until = Instant::now() + Duration::from_millis(1500);
    *outage.lock().unwrap() = Some(until);
    // 20 calls ring and end while the CRM is down.
    for n in 0..20 {
        let id = format!("1700000100.{n}");
        let from = format!("55501{n:02}");
        yeastar(
            &server,
            &token,
            &RING.replace("1700000000.7", &id).replace("5550100", &from),
        )
        .await;
        yeastar(
            &server,
            &token,
            &END.replace("1700000000.7", &id).replace("5550100", &from),
        )
        .await;
    }
    settled(&server).await;
    assert!(Instant::now() >= until);
    let sent = journals(&crm).await;
    let delivered: Vec<&Value> = sent.iter().filter(|j| j["contact"] == "c-new").collect();
    assert_eq!(
        delivered.len(),
        20,
        "every call's journal, with its new contact"
    );
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM queue_jobs WHERE state = 'done'")
            .await,
        60
    );
    // Per call: the lookup, then the contact, then the journal, each only after the one
    // before succeeded.
    let requests = crm.received_requests().await.unwrap();
    for n in 0..20 {
        let number = format!("55501{n:02}");
        let sent: Vec<String> = requests
            .iter()
            .filter(|r| {
                let body = String::from_utf8_lossy(&r.body);
                r.url.query().unwrap_or_default().contains(&number) || body.contains(&number)
            })
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .collect();
        let last_get = sent.iter().rposition(|r| r == "GET /contacts").unwrap();
        let last_create = sent.iter().rposition(|r| r == "POST /contacts").unwrap();
        let first_journal = sent.iter().position(|r| r == "POST /journals").unwrap();
        assert!(
            last_get < last_create && last_create < first_journal,
            "{number}: {sent:?}"
        );
    }
}

async fn bad_events_get_a_clear_answer_and_nothing_is_written(db: Db) {
    let crm = calls_crm(ok()).await;
    let (server, admin, token) = connected(db, &crm, false, &[]).await;
    let (status, answer) = post(&server, None, "/api/v1/events/yeastar", END).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    let lookup = admin.create_token("softphone", "lookup").await;
    let (status, answer) = post(&server, Some(&lookup), "/api/v1/events/yeastar", END).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("auth.scope"))
    );
    let every = admin.create_token("ops", "admin").await;
    let (status, _) = post(&server, Some(&every), "/api/v1/events", END).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an admin token is not an events token"
    );
    let (status, _) = post(&server, Some("pb_not-a-token"), "/api/v1/events", END).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    for (body, message) in [
        ("not json", "the body is not JSON"),
        (
            r#"{"type":30012,"msg":{"call_id":"1"}}"#,
            "msg.time_start is missing",
        ),
        (
            r#"{"type":30012,"msg":{"call_id":"1","time_start":"t","call_from":"1","call_to":"2","call_duration":"long","status":"ANSWERED","type":"Inbound"}}"#,
            "msg.call_duration must be whole seconds",
        ),
        (
            r#"{"type":30011,"msg":"{not json"}"#,
            "msg: the string is not a JSON document",
        ),
    ] {
        let (status, answer) = post(&server, Some(&token), "/api/v1/events/yeastar", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"]["code"], "event.invalid");
        let text = answer["error"]["message"].as_str().unwrap();
        assert!(text.starts_with(message), "{text}");
    }
    let (status, answer) = post(
        &server,
        Some(&token),
        "/api/v1/events",
        r#"{"event":"end","call_id":"c"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let huge = format!(r#"{{"type":30012,"msg":"{}"}}"#, "x".repeat(70 * 1024));
    let (status, answer) = post(&server, Some(&token), "/api/v1/events/yeastar", huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(server.scalar("SELECT COUNT(*) FROM call_events").await, 0);
    assert_eq!(server.scalar("SELECT COUNT(*) FROM queue_jobs").await, 0);

    // A type Patchbay does not act on is acknowledged and ignored.
    let (status, answer) = post(
        &server,
        Some(&token),
        "/api/v1/events/yeastar",
        r#"{"type":30008,"sn":"X","msg":"{}"}"#,
    )
    .await;
    assert_eq!(
        (status, answer),
        (
            StatusCode::ACCEPTED,
            json!({"replay": false, "jobs": 0, "ignored": "30008"})
        )
    );
    // Patchbay's own form works the same call.
    let (status, answer) = post(
        &server,
        Some(&token),
        "/api/v1/events",
        r#"{"event":"end","call_id":"g-1","direction":"outbound","extension":"1002","from":"1002","to":"5550199","start":"1700000000","duration":30,"talk_duration":25,"status":"ANSWERED"}"#,
    )
    .await;
    assert_eq!(
        (status, answer["jobs"].as_u64()),
        (StatusCode::ACCEPTED, Some(1)),
        "a journal (no contact for outbound)"
    );
    settled(&server).await;
    assert_eq!(journals(&crm).await[0]["subject"], "Call Outgoing Call");
}

async fn with_user_association_only_associated_extensions_count(db: Db) {
    let crm = calls_crm(ok()).await;
    let (server, admin, token) = connected(db, &crm, true, &[]).await;
    let (status, report) = admin.sync_crm_users("calls_crm").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let (status, body) = admin
        .import_extensions(
            "number,first_name,last_name,email\n1001,Ann,Lee,ann@example.com\n1002,Bo,Chan,\n",
            false,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin.associate_automatically("calls_crm", true).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // 1002 has no CRM user: its call is not this integration's.
    let other = END
        .replace("1700000000.7", "1700000003.1")
        .replace(r#"\"call_to\":\"1001\""#, r#"\"call_to\":\"1002\""#);
    assert_eq!(yeastar(&server, &token, &other).await["jobs"], 0);
    assert_eq!(yeastar(&server, &token, END).await["jobs"], 2);
    settled(&server).await;
    let sent = journals(&crm).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (&sent[0]["owner"], &sent[0]["ext"]),
        (&json!("u1"), &json!("1001"))
    );
}

/// The ring's lookup renders with the call's variables (a search by `CallerNumber`, the
/// ring's time and status); by default (the vendor's) a call whose number matches no CRM
/// contact gets no journal, and Activity says why; a known caller's journal names them.
async fn a_ring_sees_the_call_and_by_default_only_calls_with_contacts_are_journaled(db: Db) {
    let crm = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .and(wiremock::matchers::query_param("phone", "5550100"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": "c-7", "first": "Grace"}]})),
        )
        .with_priority(1)
        .mount(&crm)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/journals"))
        .respond_with(ok())
        .mount(&crm)
        .await;
    let text = Fixture::load("calls-crm.xml")
        .set("UserAssociation", "0")
        .set("CreateNewContact", "0")
        .without_scenario("UserAssociation")
        .without_scenario("CreateNewContact")
        .request_attribute(
            "SyncContactAuto",
            "Contacts",
            "URLFormat",
            "https://crm.example.com/contacts?phone={{urlquery .CallerNumber}}&status={{.Call_Status}}&at={{.StartTimeUnix}}",
        )
        .at(&crm.uri());
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    admin.connect_crm("calls.xml", text, "calls_crm").await;
    let token = admin.create_token("pbx", "events").await;
    let before = server::storage::unix_now();
    let (status, answer) = post(&server, Some(&token), "/api/v1/events/yeastar", RING).await;
    assert_eq!(
        (status, answer["jobs"].as_u64()),
        (StatusCode::ACCEPTED, Some(1))
    );
    settled(&server).await;
    let searches: Vec<Vec<(String, String)>> = crm
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .map(|r| r.url.query_pairs().into_owned().collect())
        .collect();
    // The last search: the connection test of Save came first.
    let ring = searches.last().unwrap();
    assert!(
        ring.contains(&("phone".to_owned(), "5550100".to_owned())),
        "{ring:?}"
    );
    assert!(
        ring.contains(&("status".to_owned(), "Ringing".to_owned())),
        "{ring:?}"
    );
    let at: i64 = ring
        .iter()
        .find(|(k, _)| k == "at")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert!(at >= before, "the ring's time, not 1970: {at}");

    // A known caller: the journal names them; an unknown one gets none.
    let (status, _) = post(&server, Some(&token), "/api/v1/events/yeastar", END).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let unknown = END
        .replace("1700000000.7", "1700000000.8")
        .replace("5550100", "5550999");
    let (status, _) = post(&server, Some(&token), "/api/v1/events/yeastar", unknown).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    settled(&server).await;
    let written = journals(&crm).await;
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(written[0]["contact"], "c-7");
    assert_eq!(written[0]["call"], "Grace <5550100>");
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM activity WHERE scenario = 'CallJournal' AND detail LIKE 'no CRM contact%'")
            .await,
        1
    );
}

/// With the rule "refuse when several match", a number two contacts share finds none, yet
/// automatic creation must not add a third: the journal goes without a contact.
async fn a_number_several_contacts_match_is_not_created_again(db: Db) {
    let crm = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": [{"id": "c-1", "first": "Ada"}, {"id": "c-2", "first": "Augusta"}]}),
        ))
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/contacts"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "c-new"})))
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/journals"))
        .respond_with(ok())
        .mount(&crm)
        .await;
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    admin
        .connect_crm("calls.xml", template(&crm.uri(), false), "calls_crm")
        .await;
    let (status, body) = admin
        .browser
        .call(
            "save_features",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": "calls_crm", "features": {
                "contacts": {"several_matches": "refuse"},
                "journal": {"enabled": true, "calls": "external"},
                "create_contact": {"contact_type": "Contacts", "on_inbound": true}
            }}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = admin.create_token("pbx", "events").await;
    let (status, _) = post(&server, Some(&token), "/api/v1/events/yeastar", END).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    settled(&server).await;
    let created = crm
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/contacts")
        .count();
    assert_eq!(created, 0, "no duplicate contact");
    let written = journals(&crm).await;
    assert_eq!(written.len(), 1);
    assert_eq!(written[0]["contact"], "", "no contact chosen");
}

/// DisableMissedCallRecords as the vendor means it ("in unanswered agents"): the missed record
/// of an agent rung through a queue or ring group gets no journal; a missed call straight to
/// the extension does.
async fn missed_records_are_dropped_only_for_agents_of_a_group(db: Db) {
    let crm = calls_crm(ok()).await;
    let text = Fixture::load("calls-crm.xml")
        .set("UserAssociation", "0")
        .without_scenario("UserAssociation")
        .parameter("CallJournal", "DisableMissedCallRecords", "1")
        .at(&crm.uri());
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    admin.connect_crm("calls.xml", text, "calls_crm").await;
    let (status, body) = admin
        .browser
        .call(
            "save_features",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": "calls_crm",
                   "features": {"journal": {"enabled": true, "calls": "external"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = admin.create_token("pbx", "events").await;
    let missed = |call: &str, group: &str| {
        format!(
            r#"{{"event":"end","call_id":"{call}","direction":"inbound","extension":"1002","from":"5550100","to":"1002","start":1700000000,"duration":20,"talk_duration":0,"status":"NO ANSWER","group":"{group}"}}"#
        )
    };
    let (status, answer) = post(
        &server,
        Some(&token),
        "/api/v1/events",
        missed("q-1", "6400"),
    )
    .await;
    assert_eq!(
        (status, answer["jobs"].as_u64()),
        (StatusCode::ACCEPTED, Some(0)),
        "{answer}"
    );
    let (status, answer) = post(&server, Some(&token), "/api/v1/events", missed("d-1", "")).await;
    assert_eq!(
        (status, answer["jobs"].as_u64()),
        (StatusCode::ACCEPTED, Some(1)),
        "{answer}"
    );
    settled(&server).await;
    let written = journals(&crm).await;
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(written[0]["subject"], "Call Missed Call");
}
