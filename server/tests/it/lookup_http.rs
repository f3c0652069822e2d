//! Contact lookups over real HTTP (`GET /api/v1/contacts/lookup`), on SQLite and PostgreSQL,
//! against a loopback `wiremock` CRM that checks what Patchbay sends.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

on_both_databases!(
    a_lookup_tries_the_types_in_order_and_completes_the_first_result,
    the_popup_url_can_come_from_the_contact_and_failures_are_explained,
    lookups_need_a_lookup_or_admin_token_and_a_phone_number,
);

const API_KEY: &str = "api-Key-Pangolin-4242";

/// Two contact types (Contacts, then Leads); Leads continues with the Common request Owner.
fn template(crm: &str, popup: Popup) -> String {
    let fixture = Fixture::load("lookup-crm.xml");
    match popup {
        Popup::UrlFormat => fixture,
        Popup::FromContact => fixture
            .parameter("SyncContactAuto", "ContactUrlType", "retrieve_from_contact")
            .without_parameter("SyncContactAuto", "URLFormat")
            .parameter("SyncContactAuto", "ContactFieldForUri", "items.#.link"),
    }
    .at(crm)
}

/// Where the popup's contact URL comes from (SyncContactAuto's ContactUrlType).
#[derive(Clone, Copy)]
enum Popup {
    /// `specify_url_format`, as the fixture has it.
    UrlFormat,
    /// `retrieve_from_contact`, from each result's `link`.
    FromContact,
}

fn basic() -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{API_KEY}:"))
    )
}

/// A CRM where 020 7946 0018 is no contact but two leads, the first with an owner.
async fn crm() -> MockServer {
    let crm = MockServer::start().await;
    let answer = |body: Value| ResponseTemplate::new(200).set_body_json(body);
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .and(header("authorization", basic().as_str()))
        .respond_with(answer(json!({"data": []})))
        .mount(&crm)
        .await;
    Mock::given(method("GET"))
        .and(path("/leads"))
        .and(query_param("phone", "020 7946 0018"))
        .and(header("authorization", basic().as_str()))
        .respond_with(answer(json!({"items": [
            {"lead_id": "L-7", "name": "Grace", "company": "", "tel": "020 7946 0018", "link": "https://crm.example/l/7"},
            {"lead_id": "L-8", "name": "Alan", "company": "Bletchley", "tel": "020 7946 0018", "link": "https://crm.example/l/8"}
        ]})))
        .mount(&crm)
        .await;
    Mock::given(method("GET"))
        .and(path("/leads/L-7/owner"))
        .respond_with(answer(
            json!({"company": "Navy", "email": "grace@navy.test"}),
        ))
        .mount(&crm)
        .await;
    crm
}

async fn connected(db: Db, text: String) -> (TestServer, Admin) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let (status, body) = admin.upload("crm", &[("t.xml", text)], &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, answer) = admin
        .browser
        .call(
            "save_integration",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": "lookup_crm",
                   "input": {"values": [["api_key", API_KEY]]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    (server, admin)
}

const GRACE: &str = "phone=020%207946%200018&extension=1001";

async fn a_lookup_tries_the_types_in_order_and_completes_the_first_result(db: Db) {
    let crm = crm().await;
    let (server, admin) = connected(db, template(&crm.uri(), Popup::UrlFormat)).await;
    let token = admin.create_token("pbx", "lookup").await;
    let (status, answer) = lookup(&server, &token, GRACE).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let grace = json!({
        "ContactsId": "L-7",
        "FirstName": "Grace",
        "Company": "Navy",
        "Email": "grace@navy.test",
        "BusinessNumber": "020 7946 0018",
        "OwnerUrl": "https://crm.example/l/7"
    });
    assert_eq!(
        answer,
        json!({
            "contact": grace,
            "contact_type": "Leads",
            "popup_url": "https://crm.example/Leads/L-7",
            "matches": 2,
            "candidates": [{
                "contact": grace,
                "contact_type": "Leads",
                "popup_url": "https://crm.example/Leads/L-7"
            }],
            "number": "020 7946 0018",
            "cached_at": null,
            "integration": {"provider": "crm", "key": "lookup_crm", "name": "Lookup CRM"},
            "extension": "1001",
            // The template lists no CRM users, so the extension is asked about anyway.
            "crm_user": null
        })
    );
    // Contacts first (nothing), then Leads, then the first lead's owner: in that order.
    let paths: Vec<String> = crm
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(
        paths[paths.len() - 3..],
        ["/contacts", "/leads", "/leads/L-7/owner"]
    );

    let (status, answer) = lookup(&server, &token, "phone=5550199").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["error"]["code"], "contact.not_found");
}

async fn the_popup_url_can_come_from_the_contact_and_failures_are_explained(db: Db) {
    let crm = crm().await;
    let (server, admin) = connected(db, template(&crm.uri(), Popup::FromContact)).await;
    let token = admin.create_token("pbx", "admin").await;
    let (status, answer) = lookup(&server, &token, GRACE).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["popup_url"], "https://crm.example/l/7");

    // The answer is now in the contact cache; Always Query asks the CRM every time.
    let (status, body) = admin
        .browser
        .call(
            "save_features",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": "lookup_crm",
                   "features": {"contacts": {"always_query": true}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The CRM fails: the caller learns which integration and why, without the key.
    crm.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("crashed near {API_KEY}")))
        .mount(&crm)
        .await;
    let (status, answer) = lookup(&server, &token, GRACE).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{answer}");
    assert_eq!(answer["error"]["code"], "lookup.failed");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Lookup CRM: SyncContactAuto/Contacts was answered HTTP 500"),
        "{message}"
    );
    assert!(!message.contains(API_KEY), "{message}");
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
    assert!(!logs.contains(API_KEY), "the key in the log");
}

async fn lookups_need_a_lookup_or_admin_token_and_a_phone_number(db: Db) {
    let crm = crm().await;
    let (server, admin) = connected(db, template(&crm.uri(), Popup::UrlFormat)).await;
    let events = admin.create_token("events", "events").await;
    let (status, answer) = lookup(&server, &events, GRACE).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"]["code"], "auth.scope");

    let (status, answer) = lookup(&server, "not-a-token", GRACE).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");

    // A lookup token may look up, not manage templates.
    let token = admin.create_token("pbx", "lookup").await;
    let templates = reqwest::Client::new()
        .get(server.url("/api/v1/templates/crm"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(templates.status(), StatusCode::FORBIDDEN);

    for bad in [
        "",
        "phone=",
        "phone=abc",
        "phone=1%0A2",
        &format!("phone={}", "1".repeat(65)),
        "phone=123&extension=x1",
    ] {
        let (status, answer) = lookup(&server, &token, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {answer}");
        assert_eq!(answer["error"]["code"], "lookup.phone", "{bad}");
    }
    // A signed-in browser may look up too, with its CSRF token in the header: a lookup
    // makes the CRM act, and a link on another site would carry the session cookie.
    let before = crm.received_requests().await.unwrap().len();
    let response = admin
        .browser
        .get(&format!("/api/v1/contacts/lookup?{GRACE}"))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let with_header = |token: &str| {
        admin
            .browser
            .client
            .get(
                admin
                    .browser
                    .url(&format!("/api/v1/contacts/lookup?{GRACE}")),
            )
            .header("x-csrf-token", token.to_owned())
            .send()
    };
    let forged = with_header("forged").await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(crm.received_requests().await.unwrap().len(), before);
    let response = with_header(&admin.csrf).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
