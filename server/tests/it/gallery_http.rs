//! The template gallery: each template added through the API, connected to a stand-in of its
//! CRM's API written from the CRM's public documentation, and run through every scenario it
//! offers; the stand-in checks what Patchbay sent (paths, parameters, the auth header,
//! bodies) and answers in the shapes the documentation shows, errors included.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

on_both_databases!(
    pipedrive_finds_creates_and_logs_calls_against_its_stand_in,
    freshdesk_finds_creates_and_tickets_calls_against_its_stand_in,
    hubspot_finds_creates_and_logs_calls_against_its_stand_in,
    zendesk_finds_creates_and_tickets_calls_against_its_stand_in,
    salesforce_authorizes_and_works_at_its_instance_url,
    zoho_authorizes_and_works_at_its_api_domain,
);

/// A gallery template added through the API on a fresh server, its API requests pointed at
/// the stand-in; a script with an `admin` token and a phone system's `lookup` token.
struct Proving {
    server: TestServer,
    admin: Admin,
    script: Script,
    lookups: Script,
    /// `/api/v1/integrations/{provider}/{key}`.
    at: String,
}

/// Adds the gallery's template `id`, then points its API requests (`api_prefix`, the part of
/// its URLs before the API's paths) at `moved_to`, keeping the rest (the popup URL) as written.
async fn prove(db: Db, id: &str, provider: &str, api_prefix: &str, moved_to: &str) -> Proving {
    let server = TestServer::start_with_env(
        db,
        true,
        &[("PATCHBAY_PUBLIC_URL", "https://pbx.example.com")],
    )
    .await;
    let admin = admin(&server).await;
    let script = Script::new(&server, admin.create_token("gallery", "admin").await);
    let lookups = Script::new(&server, admin.create_token("pbx", "lookup").await);
    let (status, added) = script
        .send(Method::POST, &format!("/api/v1/gallery/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let key = added["key"].as_str().unwrap().to_owned();
    let template = format!("/api/v1/templates/{provider}/{key}");
    let (_, xml) = script.get(&format!("{template}?format=xml")).await;
    let xml = xml.as_str().unwrap().to_owned();
    assert!(
        xml.contains(api_prefix),
        "{id}: {api_prefix} not in the template"
    );
    let response = script
        .client
        .put(format!("{}{template}", server.base))
        .bearer_auth(&script.token)
        .header("content-type", "application/xml")
        .body(xml.replace(api_prefix, moved_to))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
    Proving {
        at: format!("/api/v1/integrations/{provider}/{key}"),
        server,
        admin,
        script,
        lookups,
    }
}

impl Proving {
    /// Save with `wrong` values is refused by the CRM and stores nothing; with `right`, it
    /// connects.
    async fn connect(&self, wrong: Value, right: Value) {
        let settings = format!("{}/settings", self.at);
        let (status, refused) = self.script.send(Method::PUT, &settings, Some(wrong)).await;
        assert_ne!(status, StatusCode::OK, "{refused}");
        let (status, saved) = self.script.send(Method::PUT, &settings, Some(right)).await;
        assert_eq!(
            (status, &saved["status"]),
            (StatusCode::OK, &json!("connected")),
            "{saved}"
        );
    }

    /// The lookup API's answer for the known number 5550100, after checking that the unknown
    /// 5550199 is not found.
    async fn look_up_known_and_unknown(&self) -> Value {
        let (status, missing) = self
            .lookups
            .get("/api/v1/contacts/lookup?phone=5550199")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        let (status, found) = self
            .lookups
            .get("/api/v1/contacts/lookup?phone=5550100")
            .await;
        assert_eq!(status, StatusCode::OK, "{found}");
        found
    }

    /// Save in the browser starts the authorization at the CRM's consent page (its path
    /// `consent_path`), and the CRM's redirect back with `code` connects it; answers the
    /// authorization URL's query.
    async fn authorize(
        &self,
        values: Value,
        consent_path: &str,
        code: &str,
    ) -> std::collections::HashMap<String, String> {
        let response = self
            .admin
            .browser
            .client
            .put(self.server.url(&format!("{}/settings", self.at)))
            .header("x-csrf-token", &self.admin.csrf)
            .json(&json!({ "values": values }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let started: Value = response.json().await.unwrap();
        let authorize = url::Url::parse(started["authorize_url"].as_str().unwrap()).unwrap();
        assert_eq!(authorize.path(), consent_path);
        let query: std::collections::HashMap<String, String> =
            authorize.query_pairs().into_owned().collect();
        let key = self.at.rsplit('/').next().unwrap();
        let callback = format!(
            "/integration/callback/api/crm/{key}/?code={code}&state={}",
            query["state"]
        );
        let (status, page) = self.admin.browser.get_text(&callback).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Authorization succeeded!"), "{page}");
        query
    }

    /// Runs a scenario in the test console; asserts it ran.
    async fn console(&self, input: Value) {
        let console = format!("{}/console", self.at);
        let (status, report) = self.script.send(Method::POST, &console, Some(input)).await;
        assert_eq!(status, StatusCode::OK, "{report}");
    }

    /// Creates Ada Lovelace (5550177) through the console.
    async fn create_contact(&self) {
        self.console(json!({"scenario": "CreateNewContact", "phone": "5550177",
                            "first_name": "Ada", "last_name": "Lovelace"}))
            .await;
    }

    /// Syncs the CRM's users; answers how many it listed.
    async fn sync_users(&self) -> Value {
        let sync = format!("{}/users/sync", self.at);
        let (status, synced) = self.script.send(Method::POST, &sync, None).await;
        assert_eq!(status, StatusCode::OK, "{synced}");
        synced["users"].clone()
    }

    /// Runs `scenario` (CallJournal or CreateNewTicket) in the console for an answered
    /// inbound call from 5550100 to extension 1001, associated with the CRM user `crm_user`:
    /// started 2022-12-31 23:59:59 UTC, 95 s long, 80 s talked.
    async fn write_call(&self, scenario: &str, crm_user: &str) {
        self.console(json!({"scenario": scenario, "phone": "5550100", "call": {
            "direction": "inbound", "caller_number": "5550100", "callee_number": "1001",
            "extension": {"number": "1001", "crm_user_id": crm_user},
            "start_unix": 1_672_531_199, "duration_secs": 95, "talk_secs": 80,
            "disposition": "ANSWERED"
        }}))
        .await;
    }
}

/// The JSON body of the last `method_name` request the stand-in received on `path_name`.
async fn last_body(stand_in: &MockServer, method_name: &str, path_name: &str) -> Value {
    let request = stand_in
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == method_name && r.url.path() == path_name)
        .last()
        .unwrap_or_else(|| panic!("no {method_name} {path_name}"));
    serde_json::from_slice(&request.body).unwrap()
}

/// An authorization-code exchange (RFC 6749 4.1.3, a form) that carries `fields`.
fn code_exchange(fields: &'static [(&'static str, &'static str)]) -> impl wiremock::Match {
    move |request: &Request| {
        let form: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(&request.body)
                .into_owned()
                .collect();
        form.get("grant_type").map(String::as_str) == Some("authorization_code")
            && fields
                .iter()
                .all(|(name, value)| form.get(*name).map(String::as_str) == Some(*value))
    }
}

/// The client's secret reached the stand-in only on `token_path` (the token endpoint).
async fn secret_went_only_to(stand_in: &MockServer, secret: &str, token_path: &str) {
    for request in stand_in.received_requests().await.unwrap() {
        let carries = String::from_utf8_lossy(&request.body).contains(secret)
            || request.url.as_str().contains(secret);
        assert!(
            !carries || request.url.path() == token_path,
            "{}",
            request.url
        );
    }
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

const PIPEDRIVE_TOKEN: &str = "pd-token-Numbat-3131";

/// Pipedrive's API v1 as its reference describes it: the `x-api-token` header, responses
/// wrapped in `{"success": true, "data": …}`, a search's `data.items[].item`, and 401
/// `{"success": false, "error": "unauthorized access", "errorCode": 401}` without a token.
async fn pipedrive() -> MockServer {
    let stand_in = MockServer::start().await;
    let token = || header("x-api-token", PIPEDRIVE_TOKEN);
    Mock::given(method("GET"))
        .and(path("/acme/api/v1/persons/search"))
        .and(query_param("term", "5550100"))
        .and(query_param("fields", "phone"))
        .and(query_param("exact_match", "true"))
        .and(token())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true,
            "data": {"items": [{"result_score": 1.0, "item": {
                "id": 42, "type": "person", "name": "Grace Hopper",
                "phones": ["5550100"], "emails": ["grace@navy.example"],
                "visible_to": 3, "owner": {"id": 7},
                "organization": {"id": 3, "name": "US Navy", "address": null},
                "custom_fields": [], "notes": [], "update_time": "2026-12-01 10:00:00"
            }}]},
            "additional_data": {"pagination": {"start": 0, "limit": 100, "more_items_in_collection": false}}
        })))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("GET"))
        .and(path("/acme/api/v1/persons/search"))
        .and(token())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true, "data": {"items": []},
            "additional_data": {"pagination": {"start": 0, "limit": 100, "more_items_in_collection": false}}
        })))
        .with_priority(2)
        .mount(&stand_in)
        .await;
    Mock::given(method("POST"))
        .and(path("/acme/api/v1/persons"))
        .and(token())
        .respond_with(
            ResponseTemplate::new(201).set_body_json(
                json!({"success": true, "data": {"id": 101, "name": "Ada Lovelace"}}),
            ),
        )
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("POST"))
        .and(path("/acme/api/v1/callLogs"))
        .and(token())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true,
            "data": {"id": "8a7d9b1c", "outcome": "connected", "has_recording": false}
        })))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("GET"))
        .and(path("/acme/api/v1/users"))
        .and(token())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true,
            "data": [
                {"id": 7, "name": "Ann Lee", "email": "ann@example.com", "active_flag": true},
                {"id": 8, "name": "Bob Ray", "email": "bob@example.com", "active_flag": true}
            ]
        })))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    refuse_the_rest(
        &stand_in,
        json!({
            "success": false, "error": "unauthorized access", "errorCode": 401,
            "error_info": "Please check developers.pipedrive.com"
        }),
    )
    .await;
    stand_in
}

async fn pipedrive_finds_creates_and_logs_calls_against_its_stand_in(db: Db) {
    let stand_in = pipedrive().await;
    let proving = prove(
        db,
        "pipedrive",
        "crm",
        "https://{{.company_domain}}.pipedrive.com/api/v1",
        &format!("{}/{{{{.company_domain}}}}/api/v1", stand_in.uri()),
    )
    .await;
    let (status, gallery) = proving.script.get("/api/v1/gallery").await;
    assert_eq!(status, StatusCode::OK, "{gallery}");
    let listed = gallery["templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "pipedrive")
        .cloned()
        .unwrap();
    assert!(
        listed["needs"].as_str().unwrap().contains("API token"),
        "{listed}"
    );
    let (status, again) = proving
        .script
        .send(Method::POST, "/api/v1/gallery/pipedrive", None)
        .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("key.duplicate")),
        "added once: {again}"
    );
    let values = |token: &str| json!({"values": {"company_domain": "acme", "api_token": token}});
    proving
        .connect(values("wrong"), values(PIPEDRIVE_TOKEN))
        .await;

    let found = proving.look_up_known_and_unknown().await;
    assert_eq!(
        (
            &found["contact"]["FirstName"],
            &found["contact"]["Company"],
            &found["contact"]["Email"]
        ),
        (
            &json!("Grace Hopper"),
            &json!("US Navy"),
            &json!("grace@navy.example")
        ),
        "{found}"
    );
    assert_eq!(
        found["popup_url"], "https://acme.pipedrive.com/person/42",
        "{found}"
    );

    proving.create_contact().await;
    let person = last_body(&stand_in, "POST", "/acme/api/v1/persons").await;
    assert_eq!(
        (&person["name"], &person["phone"][0]["value"]),
        (&json!("Ada Lovelace"), &json!("5550177"))
    );

    assert_eq!(proving.sync_users().await, 2);
    proving.write_call("CallJournal", "7").await;
    let log = last_body(&stand_in, "POST", "/acme/api/v1/callLogs").await;
    assert_eq!(
        (
            &log["outcome"],
            &log["to_phone_number"],
            &log["from_phone_number"]
        ),
        (&json!("connected"), &json!("1001"), &json!("5550100")),
        "{log}"
    );
    assert_eq!(
        (&log["start_time"], &log["end_time"], &log["duration"]),
        (
            &json!("2022-12-31 23:59:59"),
            &json!("2023-01-01 00:01:34"),
            &json!("80")
        ),
        "Pipedrive's UTC `YYYY-MM-DD HH:MM:SS`: {log}"
    );
    assert_eq!(
        (&log["person_id"], &log["user_id"]),
        (&json!(42), &json!(7)),
        "{log}"
    );

    // Every request carried the token in Pipedrive's header and nowhere else.
    for request in stand_in.received_requests().await.unwrap() {
        assert!(
            request.headers.get("x-api-token").is_some(),
            "{} {} without x-api-token",
            request.method,
            request.url
        );
        assert!(
            !request.url.as_str().contains(PIPEDRIVE_TOKEN),
            "the token in a URL"
        );
    }
}

const FRESHDESK_KEY: &str = "fd-key-Bilby-8080";

/// Freshdesk's API v2 as its reference describes it: Basic authentication with the API key
/// and `X`, the search's `{"results", "total"}`, 201 on creation, and 401
/// `{"code": "invalid_credentials", …}` for a wrong key.
async fn freshdesk() -> MockServer {
    let stand_in = MockServer::start().await;
    let basic = format!("Basic {}", base64_of(&format!("{FRESHDESK_KEY}:X")));
    let auth = || header("authorization", basic.as_str());
    Mock::given(method("GET"))
        .and(path("/acme/api/v2/search/contacts"))
        .and(query_param(
            "query",
            "\"phone:'5550100' OR mobile:'5550100'\"",
        ))
        .and(auth())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{
                "active": true, "address": null, "email": "grace@navy.example", "id": 434,
                "job_title": null, "language": "en", "mobile": "5550101", "name": "Grace Hopper",
                "phone": "5550100", "time_zone": "Eastern Time (US & Canada)",
                "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z"
            }],
            "total": 1
        })))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("GET"))
        .and(path("/acme/api/v2/search/contacts"))
        .and(auth())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [], "total": 0})))
        .with_priority(2)
        .mount(&stand_in)
        .await;
    Mock::given(method("POST"))
        .and(path("/acme/api/v2/contacts"))
        .and(auth())
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": 435, "name": "Ada Lovelace", "phone": "5550177", "active": false}),
        ))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("POST"))
        .and(path("/acme/api/v2/tickets"))
        .and(auth())
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": 77, "subject": "Incoming Call 5550100", "status": 2, "priority": 1,
            "source": 3, "requester_id": 434, "responder_id": 9, "type": null
        })))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("POST"))
        .and(path("/acme/api/v2/tickets/77/notes"))
        .and(auth())
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": 5001, "ticket_id": 77, "private": true, "incoming": false}),
        ))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("GET"))
        .and(path("/acme/api/v2/agents"))
        .and(query_param("per_page", "100"))
        .and(auth())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 9, "available": true, "occasional": false,
             "contact": {"name": "Ann Lee", "email": "ann@example.com", "active": true}},
            {"id": 10, "available": false, "occasional": true,
             "contact": {"name": "Bob Ray", "email": "bob@example.com", "active": true}}
        ])))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    refuse_the_rest(
        &stand_in,
        json!({
            "code": "invalid_credentials",
            "message": "You have to be logged in to perform this action."
        }),
    )
    .await;
    stand_in
}

async fn freshdesk_finds_creates_and_tickets_calls_against_its_stand_in(db: Db) {
    let stand_in = freshdesk().await;
    let proving = prove(
        db,
        "freshdesk",
        "helpdesk",
        "https://{{.domain}}.freshdesk.com/api/v2",
        &format!("{}/{{{{.domain}}}}/api/v2", stand_in.uri()),
    )
    .await;
    let values = |key: &str| json!({"values": {"domain": "acme", "api_key": key}});
    proving
        .connect(values("wrong"), values(FRESHDESK_KEY))
        .await;

    let found = proving.look_up_known_and_unknown().await;
    assert_eq!(
        (
            &found["contact"]["FirstName"],
            &found["contact"]["MobileNumber"]
        ),
        (&json!("Grace Hopper"), &json!("5550101")),
        "{found}"
    );
    assert_eq!(
        found["popup_url"], "https://acme.freshdesk.com/a/contacts/434",
        "{found}"
    );

    proving.create_contact().await;
    let contact = last_body(&stand_in, "POST", "/acme/api/v2/contacts").await;
    assert_eq!(
        (&contact["name"], &contact["phone"]),
        (&json!("Ada Lovelace"), &json!("5550177"))
    );

    assert_eq!(proving.sync_users().await, 2);
    proving.write_call("CreateNewTicket", "9").await;
    let ticket = last_body(&stand_in, "POST", "/acme/api/v2/tickets").await;
    assert_eq!(
        (
            &ticket["requester_id"],
            &ticket["responder_id"],
            &ticket["source"],
            &ticket["status"]
        ),
        (&json!(434), &json!(9), &json!(3), &json!(2)),
        "a phone ticket, open, for the caller, with the agent: {ticket}"
    );
    let note = last_body(&stand_in, "POST", "/acme/api/v2/tickets/77/notes").await;
    assert_eq!(note["private"], true, "{note}");
    assert!(
        note["body"].as_str().unwrap().contains("talked 00:01:20"),
        "{note}"
    );
}

const HUBSPOT_TOKEN: &str = "pat-na1-Wallaby-6262";

/// HubSpot's CRM API v3 as its reference describes it: a private app's token as a Bearer
/// token, the search's `{"total", "results": [{"id", "properties"}]}`, 201 on creation, a
/// call associated with its contact by association type 194, and 401 with
/// `"category": "INVALID_AUTHENTICATION"`.
async fn hubspot() -> MockServer {
    let stand_in = MockServer::start().await;
    let auth = || header("authorization", format!("Bearer {HUBSPOT_TOKEN}").as_str());
    let searching = |number: &'static str| {
        move |request: &Request| {
            serde_json::from_slice::<Value>(&request.body).is_ok_and(|body| {
                body["filterGroups"][0]["filters"][0]["value"] == number
                    && body["filterGroups"][1]["filters"][0]["propertyName"] == "mobilephone"
            })
        }
    };
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/search"))
        .and(auth())
        .and(searching("5550100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 1,
            "results": [{"id": "51", "archived": false,
                "createdAt": "2026-12-01T10:00:00Z", "updatedAt": "2026-12-01T10:00:00Z",
                "properties": {"firstname": "Grace", "lastname": "Hopper", "company": "US Navy",
                    "email": "grace@navy.example", "phone": "5550100", "mobilephone": null,
                    "hs_object_id": "51"}}]
        })))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/search"))
        .and(auth())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"total": 0, "results": []})))
        .with_priority(2)
        .mount(&stand_in)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts"))
        .and(auth())
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": "52", "properties": {"firstname": "Ada"}, "archived": false}),
        ))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/calls"))
        .and(auth())
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": "9001", "properties": {"hs_call_status": "COMPLETED"}, "archived": false}),
        ))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/owners"))
        .and(auth())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [
            {"id": "7", "email": "ann@example.com", "firstName": "Ann", "lastName": "Lee", "userId": 1, "archived": false}
        ]})))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    refuse_the_rest(
        &stand_in,
        json!({
            "status": "error",
            "message": "Authentication credentials not found.",
            "correlationId": "6a1d0f2e-0000-0000-0000-000000000000",
            "category": "INVALID_AUTHENTICATION"
        }),
    )
    .await;
    stand_in
}

async fn hubspot_finds_creates_and_logs_calls_against_its_stand_in(db: Db) {
    let stand_in = hubspot().await;
    let proving = prove(
        db,
        "hubspot",
        "crm",
        "https://api.hubapi.com",
        &stand_in.uri(),
    )
    .await;
    let values = |token: &str| json!({"values": {"portal_id": "24680", "access_token": token}});
    proving
        .connect(values("wrong"), values(HUBSPOT_TOKEN))
        .await;

    let found = proving.look_up_known_and_unknown().await;
    assert_eq!(
        (
            &found["contact"]["FirstName"],
            &found["contact"]["LastName"],
            &found["contact"]["Company"]
        ),
        (&json!("Grace"), &json!("Hopper"), &json!("US Navy")),
        "{found}"
    );
    assert_eq!(
        found["popup_url"],
        "https://app.hubspot.com/contacts/24680/record/0-1/51"
    );

    proving.create_contact().await;
    let contact = last_body(&stand_in, "POST", "/crm/v3/objects/contacts").await;
    assert_eq!(
        contact["properties"],
        json!({"firstname": "Ada", "lastname": "Lovelace", "phone": "5550177"})
    );

    assert_eq!(proving.sync_users().await, 1);
    proving.write_call("CallJournal", "7").await;
    let call = last_body(&stand_in, "POST", "/crm/v3/objects/calls").await;
    let properties = &call["properties"];
    assert_eq!(
        (
            &properties["hs_timestamp"],
            &properties["hs_call_duration"],
            &properties["hs_call_direction"]
        ),
        (
            &json!("2022-12-31T23:59:59Z"),
            &json!("80000"),
            &json!("INBOUND")
        ),
        "{call}"
    );
    assert_eq!(
        (
            &properties["hs_call_status"],
            &properties["hubspot_owner_id"]
        ),
        (&json!("COMPLETED"), &json!("7")),
        "{call}"
    );
    assert_eq!(call["associations"][0]["to"]["id"], "51", "{call}");
    assert_eq!(
        call["associations"][0]["types"][0]["associationTypeId"], 194,
        "{call}"
    );
}

const ZENDESK_TOKEN: &str = "zd-token-Quokka-4747";

/// Zendesk Support's API as its reference describes it: Basic authentication with
/// `{email}/token:{api_token}`, objects wrapped by their name (`{"user": …}`,
/// `{"ticket": …}`), user search's `{"users", "count"}`, and 401
/// `{"error": "Couldn't authenticate you"}`.
async fn zendesk() -> MockServer {
    let stand_in = MockServer::start().await;
    let basic = format!(
        "Basic {}",
        base64_of(&format!("agent@acme.example/token:{ZENDESK_TOKEN}"))
    );
    let auth = || header("authorization", basic.as_str());
    Mock::given(method("GET"))
        .and(path("/acme/api/v2/users/search"))
        .and(query_param("query", "5550100"))
        .and(auth())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "users": [{"id": 35436, "name": "Grace Hopper", "email": "grace@navy.example",
                       "phone": "5550100", "role": "end-user", "active": true}],
            "next_page": null, "previous_page": null, "count": 1
        })))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("GET"))
        .and(path("/acme/api/v2/users/search"))
        .and(auth())
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"users": [], "next_page": null, "previous_page": null, "count": 0}),
        ))
        .with_priority(2)
        .mount(&stand_in)
        .await;
    Mock::given(method("POST"))
        .and(path("/acme/api/v2/users"))
        .and(auth())
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"user": {"id": 35437, "name": "Ada Lovelace", "role": "end-user"}}),
        ))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("POST"))
        .and(path("/acme/api/v2/tickets"))
        .and(auth())
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"ticket": {"id": 8080, "status": "new", "requester_id": 35436, "assignee_id": 21}}),
        ))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("PUT"))
        .and(path("/acme/api/v2/tickets/8080"))
        .and(auth())
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"ticket": {"id": 8080, "status": "open"}, "audit": {"id": 1, "events": []}}),
        ))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("GET"))
        .and(path("/acme/api/v2/users"))
        .and(query_param("role", "agent"))
        .and(auth())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "users": [{"id": 21, "name": "Ann Lee", "email": "ann@example.com", "role": "agent"}],
            "next_page": null, "previous_page": null, "count": 1
        })))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    refuse_the_rest(&stand_in, json!({"error": "Couldn't authenticate you"})).await;
    stand_in
}

async fn zendesk_finds_creates_and_tickets_calls_against_its_stand_in(db: Db) {
    let stand_in = zendesk().await;
    let proving = prove(
        db,
        "zendesk",
        "helpdesk",
        "https://{{.subdomain}}.zendesk.com/api/v2",
        &format!("{}/{{{{.subdomain}}}}/api/v2", stand_in.uri()),
    )
    .await;
    let values = |token: &str| json!({"values": {"subdomain": "acme", "email": "agent@acme.example", "api_token": token}});
    proving
        .connect(values("wrong"), values(ZENDESK_TOKEN))
        .await;

    let found = proving.look_up_known_and_unknown().await;
    assert_eq!(found["contact"]["FirstName"], "Grace Hopper", "{found}");
    assert_eq!(
        found["popup_url"],
        "https://acme.zendesk.com/agent/users/35436"
    );

    proving.create_contact().await;
    let user = last_body(&stand_in, "POST", "/acme/api/v2/users").await;
    assert_eq!(
        user["user"],
        json!({"name": "Ada Lovelace", "phone": "5550177", "role": "end-user"})
    );

    assert_eq!(proving.sync_users().await, 1);
    proving.write_call("CreateNewTicket", "21").await;
    let ticket = last_body(&stand_in, "POST", "/acme/api/v2/tickets").await;
    assert_eq!(
        (
            &ticket["ticket"]["requester_id"],
            &ticket["ticket"]["assignee_id"]
        ),
        (&json!(35436), &json!(21)),
        "{ticket}"
    );
    assert_eq!(ticket["ticket"]["comment"]["public"], false, "{ticket}");
    let update = last_body(&stand_in, "PUT", "/acme/api/v2/tickets/8080").await;
    assert!(
        update["ticket"]["comment"]["body"]
            .as_str()
            .unwrap()
            .contains("talked 00:01:20"),
        "{update}"
    );
}

const SALESFORCE_ACCESS: &str = "00Dxx0000001gPL!AQ4AQ-access-Kea";
const SALESFORCE_SECRET: &str = "sf-consumer-Secret-Takahe-2121";

/// Salesforce as its REST API and OAuth 2.0 web server flow describe it: the token answer
/// names the org's `instance_url` (here the stand-in itself) and no `expires_in`; the API
/// takes the access token as a Bearer token and answers 401
/// `[{"errorCode": "INVALID_SESSION_ID"}]` without it; a search answers `searchRecords`, a
/// query `records`, a creation 201 `{"id", "success", "errors"}`.
async fn salesforce() -> MockServer {
    let stand_in = MockServer::start().await;
    let instance = stand_in.uri();
    let auth = || {
        header(
            "authorization",
            format!("Bearer {SALESFORCE_ACCESS}").as_str(),
        )
    };
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .and(code_exchange(&[("code", "aPrx-code-Weka")]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": SALESFORCE_ACCESS,
            "refresh_token": "5Aep861-refresh-Kakapo",
            "signature": "c2lnbmF0dXJl",
            "scope": "refresh_token api",
            "instance_url": instance,
            "id": "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
            "token_type": "Bearer",
            "issued_at": "1672531199000"
        })))
        .mount(&stand_in)
        .await;
    Mock::given(method("GET"))
        .and(path("/services/data/v61.0/parameterizedSearch/"))
        .and(query_param("q", "5550100"))
        .and(query_param("sobject", "Contact"))
        .and(query_param("in", "PHONE"))
        .and(auth())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"searchRecords": [{
            "attributes": {"type": "Contact", "url": "/services/data/v61.0/sobjects/Contact/003xx000004TmiQAAS"},
            "Id": "003xx000004TmiQAAS", "FirstName": "Grace", "LastName": "Hopper",
            "Email": "grace@navy.example", "Phone": "5550100", "MobilePhone": null,
            "Account": {"attributes": {"type": "Account"}, "Name": "US Navy"}
        }]})))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    Mock::given(method("GET"))
        .and(path("/services/data/v61.0/parameterizedSearch/"))
        .and(auth())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"searchRecords": []})))
        .with_priority(2)
        .mount(&stand_in)
        .await;
    for (object, id) in [
        ("Contact", "003xx000004TmiRAAS"),
        ("Task", "00Txx000001AbcDEAS"),
    ] {
        Mock::given(method("POST"))
            .and(path(format!("/services/data/v61.0/sobjects/{object}")))
            .and(auth())
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(json!({"id": id, "success": true, "errors": []})),
            )
            .with_priority(1)
            .mount(&stand_in)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/services/data/v61.0/query"))
        .and(query_param(
            "q",
            "SELECT Id,FirstName,LastName,Email FROM User WHERE IsActive=true AND UserType='Standard'",
        ))
        .and(auth())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 1, "done": true,
            "records": [{"attributes": {"type": "User"}, "Id": "005xx000001SwiUAAS",
                         "FirstName": "Ann", "LastName": "Lee", "Email": "ann@example.com"}]
        })))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    refuse_the_rest(
        &stand_in,
        json!([
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
        ]),
    )
    .await;
    stand_in
}

async fn salesforce_authorizes_and_works_at_its_instance_url(db: Db) {
    let stand_in = salesforce().await;
    let proving = prove(
        db,
        "salesforce",
        "crm",
        "https://login.salesforce.com",
        &stand_in.uri(),
    )
    .await;

    let query = proving
        .authorize(
            json!({"client_id": "3MVG9-consumer-key", "client_secret": SALESFORCE_SECRET}),
            "/services/oauth2/authorize",
            "aPrx-code-Weka",
        )
        .await;
    assert_eq!(
        (
            query["client_id"].as_str(),
            query["response_type"].as_str(),
            query["scope"].as_str()
        ),
        ("3MVG9-consumer-key", "code", "api refresh_token")
    );

    let found = proving.look_up_known_and_unknown().await;
    assert_eq!(
        (&found["contact"]["LastName"], &found["contact"]["Company"]),
        (&json!("Hopper"), &json!("US Navy")),
        "{found}"
    );
    assert_eq!(
        found["popup_url"],
        format!(
            "{}/lightning/r/Contact/003xx000004TmiQAAS/view",
            stand_in.uri()
        )
    );

    proving
        .console(json!({"scenario": "CreateNewContact", "phone": "5550177", "first_name": "Ada"}))
        .await;
    let contact = last_body(&stand_in, "POST", "/services/data/v61.0/sobjects/Contact").await;
    assert_eq!(
        contact,
        json!({"FirstName": "Ada", "LastName": "Ada", "Phone": "5550177"}),
        "LastName is required: the name when there is no last name"
    );
    assert_eq!(proving.sync_users().await, 1);
    proving
        .write_call("CallJournal", "005xx000001SwiUAAS")
        .await;
    let task = last_body(&stand_in, "POST", "/services/data/v61.0/sobjects/Task").await;
    assert_eq!(
        (
            &task["TaskSubtype"],
            &task["CallType"],
            &task["CallDurationInSeconds"]
        ),
        (&json!("Call"), &json!("Inbound"), &json!(80)),
        "{task}"
    );
    assert_eq!(
        (&task["WhoId"], &task["OwnerId"], &task["ActivityDate"]),
        (
            &json!("003xx000004TmiQAAS"),
            &json!("005xx000001SwiUAAS"),
            &json!("2022-12-31")
        ),
        "{task}"
    );
    // The consumer secret went to the token endpoint only.
    secret_went_only_to(&stand_in, SALESFORCE_SECRET, "/services/oauth2/token").await;
}

const ZOHO_ACCESS: &str = "1000.zoho-access.Takahe";
const ZOHO_SECRET: &str = "zoho-client-secret-Kea";
const ZOHO_USER: &str = "4150868000000225013";

/// Zoho CRM's API v2 as its documentation shows it: the token answer names the api_domain,
/// every call carries `Authorization: Zoho-oauthtoken …`, a search without a match answers
/// 204 with no body, inserts answer `data[0].details.id`, an invalid token 401 INVALID_TOKEN.
async fn zoho() -> MockServer {
    let stand_in = MockServer::start().await;
    let api_domain = stand_in.uri();
    let auth = || {
        header(
            "authorization",
            format!("Zoho-oauthtoken {ZOHO_ACCESS}").as_str(),
        )
    };
    Mock::given(method("POST"))
        .and(path("/oauth/v2/token"))
        .and(code_exchange(&[
            ("code", "1000.zoho-code"),
            ("client_secret", ZOHO_SECRET),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ZOHO_ACCESS,
            "refresh_token": "1000.zoho-refresh.Moa",
            "api_domain": api_domain,
            "token_type": "Bearer",
            "expires_in": 3600
        })))
        .mount(&stand_in)
        .await;
    for (module, phone, record) in [
        (
            "Contacts",
            "5550100",
            json!({"id": "4150868000000624001", "First_Name": "Grace", "Last_Name": "Hopper",
                   "Full_Name": "Grace Hopper", "Email": "grace@navy.example", "Phone": "5550100",
                   "Mobile": null, "Account_Name": {"name": "US Navy", "id": "4150868000000624900"}}),
        ),
        (
            "Leads",
            "5550155",
            json!({"id": "4150868000000731002", "First_Name": "Alan", "Last_Name": "Turing",
                   "Company": "Bletchley Park", "Email": "alan@bletchley.example", "Phone": "5550155"}),
        ),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/crm/v2/{module}/search")))
            .and(query_param("phone", phone))
            .and(auth())
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [record],
                "info": {"per_page": 200, "count": 1, "page": 1, "more_records": false}
            })))
            .with_priority(1)
            .mount(&stand_in)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/crm/v2/{module}/search")))
            .and(auth())
            .respond_with(ResponseTemplate::new(204))
            .with_priority(2)
            .mount(&stand_in)
            .await;
    }
    for (module, id) in [
        ("Contacts", "4150868000000977001"),
        ("Calls", "4150868000000988001"),
    ] {
        Mock::given(method("POST"))
            .and(path(format!("/crm/v2/{module}")))
            .and(auth())
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": [{
                "code": "SUCCESS",
                "details": {"Modified_Time": "2022-12-31T23:59:59+00:00", "id": id},
                "message": "record added", "status": "success"
            }]})))
            .with_priority(1)
            .mount(&stand_in)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/crm/v2/users"))
        .and(query_param("type", "ActiveUsers"))
        .and(auth())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "users": [{"id": ZOHO_USER, "first_name": "Patricia", "last_name": "Boyle",
                       "full_name": "Patricia Boyle", "email": "patricia.b@zohocorp.example",
                       "status": "active"}],
            "info": {"per_page": 200, "count": 1, "page": 1, "more_records": false}
        })))
        .with_priority(1)
        .mount(&stand_in)
        .await;
    refuse_the_rest(&stand_in, json!({
            "code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"
        })).await;
    stand_in
}

async fn zoho_authorizes_and_works_at_its_api_domain(db: Db) {
    let stand_in = zoho().await;
    let proving = prove(
        db,
        "zoho",
        "crm",
        "https://accounts.zoho.com",
        &stand_in.uri(),
    )
    .await;

    let query = proving
        .authorize(
            json!({"client_id": "1000.ZOHOCLIENT", "client_secret": ZOHO_SECRET}),
            "/oauth/v2/auth",
            "1000.zoho-code",
        )
        .await;
    assert_eq!(
        (
            query["client_id"].as_str(),
            query["response_type"].as_str(),
            query["scope"].as_str(),
            query["access_type"].as_str()
        ),
        (
            "1000.ZOHOCLIENT",
            "code",
            "ZohoCRM.modules.contacts.ALL,ZohoCRM.modules.leads.READ,ZohoCRM.modules.calls.CREATE,ZohoCRM.users.READ",
            "offline"
        ),
        "a refresh token needs offline access"
    );

    let found = proving.look_up_known_and_unknown().await;
    assert_eq!(
        (
            &found["contact"]["LastName"],
            &found["contact"]["Company"],
            &found["contact_type"]
        ),
        (&json!("Hopper"), &json!("US Navy"), &json!("Contacts")),
        "{found}"
    );
    assert_eq!(
        found["popup_url"],
        "https://crm.zoho.com/crm/tab/Contacts/4150868000000624001"
    );
    let (status, lead) = proving
        .lookups
        .get("/api/v1/contacts/lookup?phone=5550155")
        .await;
    assert_eq!(status, StatusCode::OK, "{lead}");
    assert_eq!(
        (&lead["contact"]["Company"], &lead["popup_url"]),
        (
            &json!("Bletchley Park"),
            &json!("https://crm.zoho.com/crm/tab/Leads/4150868000000731002")
        ),
        "a lead when no contact has the number: {lead}"
    );

    proving.create_contact().await;
    let contact = last_body(&stand_in, "POST", "/crm/v2/Contacts").await;
    assert_eq!(
        contact,
        json!({"data": [{"First_Name": "Ada", "Last_Name": "Lovelace", "Phone": "5550177"}]})
    );
    assert_eq!(proving.sync_users().await, 1);
    proving.write_call("CallJournal", ZOHO_USER).await;
    let call = last_body(&stand_in, "POST", "/crm/v2/Calls").await["data"][0].clone();
    assert_eq!(
        (
            &call["Call_Type"],
            &call["Call_Duration"],
            &call["Who_Id"],
            &call["Owner"]
        ),
        (
            &json!("Inbound"),
            &json!("01:20"),
            &json!("4150868000000624001"),
            &json!({"id": ZOHO_USER})
        ),
        "{call}"
    );
    let start = call["Call_Start_Time"].as_str().unwrap();
    let offset = start.get(19..).unwrap_or_default();
    assert!(
        start.len() == 25
            && start.as_bytes()[10] == b'T'
            && (offset.starts_with('+') || offset.starts_with('-')),
        "ISO 8601 with an offset, as Zoho's examples: {start}"
    );
    // A missed call from the lead is logged on the lead.
    proving
        .console(
            json!({"scenario": "CallJournal", "phone": "5550155", "call": {
                "direction": "inbound", "caller_number": "5550155", "callee_number": "1001",
                "extension": {"number": "1001", "crm_user_id": ZOHO_USER},
                "start_unix": 1_672_531_199, "duration_secs": 20, "talk_secs": 0,
                "disposition": "NO ANSWER"
            }}),
        )
        .await;
    let missed = last_body(&stand_in, "POST", "/crm/v2/Calls").await["data"][0].clone();
    assert_eq!(
        (
            &missed["Call_Type"],
            &missed["What_Id"],
            &missed["$se_module"],
            &missed["Call_Duration"]
        ),
        (
            &json!("Missed"),
            &json!("4150868000000731002"),
            &json!("Leads"),
            &json!("00:00")
        ),
        "{missed}"
    );
    assert!(missed.get("Who_Id").is_none(), "{missed}");
    // The client secret went to the token endpoint only.
    secret_went_only_to(&stand_in, ZOHO_SECRET, "/oauth/v2/token").await;
}
