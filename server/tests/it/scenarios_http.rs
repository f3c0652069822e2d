//! Every scenario through the test console over real HTTP, on SQLite and PostgreSQL,
//! against a loopback `wiremock` helpdesk that records what Patchbay sends: the requests'
//! bytes, the values read back, the Features section, failures named by step, secrets
//! masked everywhere, and the Activity record bounded.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

on_both_databases!(
    every_scenario_sends_what_the_template_says_and_reads_what_comes_back,
    a_failing_step_is_named_with_why_and_secrets_stay_masked,
    features_are_checked_saved_and_used_by_lookups,
    activity_is_filtered_and_kept_within_its_retention,
    global_variables_are_read_again_at_start_up,
);

const PASSWORD: &str = "desk-Pass-Tapir-6061";

/// A helpdesk template with every scenario; its requests go to `crm`.
fn template(crm: &str) -> String {
    Fixture::load("helpdesk-every-scenario.xml").at(crm)
}

/// A helpdesk answering every scenario's requests.
async fn helpdesk() -> MockServer {
    let crm = MockServer::start().await;
    let answer = |m: &str, p: &str, body: Value| {
        Mock::given(method(m))
            .and(path(p.to_owned()))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
    };
    answer("GET", "/me", json!({"id": "u-1"})).mount(&crm).await;
    answer("GET", "/contacts", json!({"data": [{"id": 7, "first": "Bob", "phone": "+15550100"}, {"id": 8, "first": "Bo", "phone": "+15550100"}]}))
        .mount(&crm)
        .await;
    answer("GET", "/leads", json!({"items": []}))
        .mount(&crm)
        .await;
    answer("POST", "/contacts", json!({"id": "c-9"}))
        .mount(&crm)
        .await;
    answer("POST", "/calls", json!({"id": "j-1"}))
        .mount(&crm)
        .await;
    answer("POST", "/calls/j-1/recording", json!({}))
        .mount(&crm)
        .await;
    answer("POST", "/tickets", json!({"id": 55}))
        .mount(&crm)
        .await;
    answer("POST", "/tickets/55/comments", json!({"ok": true}))
        .mount(&crm)
        .await;
    answer("GET", "/stats", json!({"last": "j-1"}))
        .mount(&crm)
        .await;
    crm
}

/// The server with its admin, the template uploaded and connected.
async fn connected(db: Db, crm: &MockServer) -> (TestServer, Admin) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let (status, body) = admin
        .upload("helpdesk", &[("desk.xml", template(&crm.uri()))], &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["status"], "stored", "{body}");
    let (status, body) = admin
        .browser
        .call(
            "save_integration",
            json!({"csrf_token": admin.csrf, "provider": "helpdesk", "key": "desk",
                   "input": {"values": [["username", "ann"], ["password", PASSWORD]]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "connected", "{body}");
    (server, admin)
}

fn sample_call() -> Value {
    json!({
        "direction": "inbound",
        "extension": {"number": "1001", "crm_user_id": "agent-4"},
        "caller_number": "+15550100",
        "callee_number": "1001",
        "start_unix": 1672531199,
        "duration_secs": 95,
        "talk_secs": 80,
        "disposition": "ANSWERED",
        "recording_url": "https://pbx.example/rec/1.wav"
    })
}

async fn console(admin: &Admin, input: Value) -> (StatusCode, Value) {
    admin
        .browser
        .call(
            "run_console",
            json!({"csrf_token": admin.csrf, "provider": "helpdesk", "key": "desk", "input": input}),
        )
        .await
}

/// The requests the helpdesk received at `p`, their bodies as text.
async fn bodies(crm: &MockServer, m: &str, p: &str) -> Vec<String> {
    crm.received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r: &&Request| r.method.as_str() == m && r.url.path() == p)
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect()
}

fn steps(report: &Value) -> Vec<String> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap().to_owned())
        .collect()
}

async fn every_scenario_sends_what_the_template_says_and_reads_what_comes_back(db: Db) {
    let crm = helpdesk().await;
    let (server, admin) = connected(db, &crm).await;

    // A lookup: the first type with a result wins, its first result, the popup URL.
    let (status, report) = console(
        &admin,
        json!({"scenario": "SyncContactAuto", "phone": "+15550100"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["error"], Value::Null, "{report}");
    assert_eq!(steps(&report), ["SyncContactAuto/Contacts"]);
    assert_eq!(report["contact"]["contact_type"], "Contacts");
    assert_eq!(report["contact"]["fields"]["ContactsId"], "7");
    assert_eq!(
        report["contact"]["popup_url"],
        format!("{}/ui/Contacts/7", crm.uri())
    );
    assert_eq!(report["steps"][0]["outputs"]["FirstName"], "Bob");

    // CreateNewContact: the names and number in the body, the global OwnerId from
    // GetGlobalInfo; its id read back.
    let (_, report) = console(
        &admin,
        json!({"scenario": "CreateNewContact", "phone": "+15550111", "first_name": "Ann", "last_name": "Lee"}),
    )
    .await;
    assert_eq!(report["error"], Value::Null, "{report}");
    assert_eq!(
        bodies(&crm, "POST", "/contacts").await,
        [r#"{"first":"Ann","last":"Lee","phone":"+15550111","owner":"u-1"}"#]
    );
    assert_eq!(report["outputs"]["ContactsId"], "c-9");
    assert_eq!(report["outputs"]["ContactId"], "c-9");

    // CallJournal: the vendor's single-quoted TimeFormat, the call variables in their
    // formats, the recording request that `{{if .RecordPath}}` lets through, then the
    // FollowUp its success triggers, stored as a global variable.
    let (_, report) = console(
        &admin,
        json!({"scenario": "CallJournal", "call": sample_call()}),
    )
    .await;
    assert_eq!(report["error"], Value::Null, "{report}");
    assert_eq!(
        steps(&report),
        [
            "CallJournal/CallJournal",
            "CallJournal/Recording",
            "FollowUp/Stats"
        ]
    );
    assert_eq!(
        bodies(&crm, "POST", "/calls").await,
        [
            r#"{"subject":"Extension Call","description":"Call: 2022-12-31 23:59:59 Incoming Call from +15550100 to 1001 00:01:20","start":"2022-12-31T23:59:59-Z","seconds":"80","result":"Incoming Call","owner":"u-1"}"#
        ]
    );
    assert_eq!(
        bodies(&crm, "POST", "/calls/j-1/recording").await,
        [r#"{"url":"https://pbx.example/rec/1.wav"}"#]
    );
    let stats = crm.received_requests().await.unwrap();
    assert!(stats
        .iter()
        .any(|r| r.url.path() == "/stats" && r.url.query() == Some("journal=j-1")));
    assert_eq!(report["outputs"]["LastJournal"], "j-1");
    let settings: Value = admin
        .browser
        .get("/api/integration_settings?provider=helpdesk&key=desk")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        settings["global_variables"], 2,
        "OwnerId and LastJournal: {settings}"
    );

    // Without a recording, the recording request is skipped, not sent.
    let mut call = sample_call();
    call["recording_url"] = json!("");
    let (_, report) = console(&admin, json!({"scenario": "CallJournal", "call": call})).await;
    assert_eq!(
        report["skipped"],
        json!(["CallJournal/Recording"]),
        "{report}"
    );
    assert_eq!(bodies(&crm, "POST", "/calls/j-1/recording").await.len(), 1);

    // CreateNewTicket: NeedSyncContact looks the caller up first; TicketId is kept for
    // UpdateTicket; the description is the template's (not editable).
    let (_, report) = console(
        &admin,
        json!({"scenario": "CreateNewTicket", "call": sample_call()}),
    )
    .await;
    assert_eq!(report["error"], Value::Null, "{report}");
    assert_eq!(
        steps(&report),
        [
            "SyncContactAuto/Contacts",
            "CreateNewTicket/CreateNewTicket",
            "CreateNewTicket/UpdateTicket"
        ]
    );
    assert_eq!(
        bodies(&crm, "POST", "/tickets").await,
        [
            r#"{"subject":"Inbound Completed - from +15550100 to 1001","contactId":"7","phone":"+15550100"}"#
        ]
    );
    assert_eq!(
        bodies(&crm, "POST", "/tickets/55/comments").await,
        [r#"{"content":"00:01:20 talked"}"#]
    );
    assert_eq!(report["outputs"]["TicketId"], "55");

    // A dry run renders every request and sends nothing.
    let before = crm.received_requests().await.unwrap().len();
    let (_, report) = console(
        &admin,
        json!({"scenario": "CallJournal", "call": sample_call(), "dry_run": true}),
    )
    .await;
    assert_eq!(report["error"], Value::Null, "{report}");
    assert_eq!(
        steps(&report),
        ["CallJournal/CallJournal", "CallJournal/Recording"]
    );
    assert_eq!(report["steps"][0]["response"], Value::Null);
    assert_eq!(
        report["steps"][0]["request"]["headers"][0][1],
        "Basic ••••••"
    );
    assert_eq!(crm.received_requests().await.unwrap().len(), before);

    // The console needs a session with its CSRF token, and a connected integration.
    let (status, _) = admin
        .browser
        .call(
            "run_console",
            json!({"csrf_token": "forged", "provider": "helpdesk", "key": "desk", "input": {"scenario": "GetGlobalInfo"}}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = console(&admin, json!({"scenario": "Nope"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    drop(server);
}

async fn a_failing_step_is_named_with_why_and_secrets_stay_masked(db: Db) {
    let crm = helpdesk().await;
    let (server, admin) = connected(db, &crm).await;
    crm.reset().await;
    // The CRM echoes the password; answers HTML; fails; says the session expired.
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": 1, "first": format!("echo {PASSWORD}")}]})),
        )
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/contacts"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>login</html>", "text/html"))
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/calls"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down for maintenance"))
        .mount(&crm)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "SESSION_EXPIRED"})))
        .mount(&crm)
        .await;

    let (_, lookup) = console(
        &admin,
        json!({"scenario": "SyncContactAuto", "phone": "+1"}),
    )
    .await;
    assert_eq!(
        lookup["contact"]["fields"]["FirstName"], "echo ••••••",
        "{lookup}"
    );
    let (_, created) = console(
        &admin,
        json!({"scenario": "CreateNewContact", "phone": "+1"}),
    )
    .await;
    let error = created["error"].as_str().unwrap();
    assert!(
        error.contains("CreateNewContact/Contacts") && error.contains("HTML"),
        "{error}"
    );
    assert!(
        created["steps"][0]["error"].is_string(),
        "the failed step says why: {created}"
    );
    let (_, journal) = console(
        &admin,
        json!({"scenario": "CallJournal", "call": sample_call()}),
    )
    .await;
    let error = journal["error"].as_str().unwrap();
    assert!(
        error.contains("CallJournal/CallJournal was answered HTTP 503: down for maintenance"),
        "{error}"
    );
    let (_, global) = console(&admin, json!({"scenario": "GetGlobalInfo"})).await;
    let error = global["error"].as_str().unwrap();
    assert!(
        error.contains("GetGlobalInfo/Me") && error.contains("refused the token"),
        "{error}"
    );

    // A template error at execution: Go's message and the field it came from.
    crm.reset().await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u-1"})))
        .mount(&crm)
        .await;
    let broken = template(&crm.uri()).replace(
        r#"Name="Subject" Value="Extension Call""#,
        r#"Name="Subject" Value="{{index .Phone 99}}""#,
    );
    let (status, body) = admin
        .upload("helpdesk", &[("desk.xml", broken)], &["desk"])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let applied = admin
        .browser
        .post_form(
            "/api/apply_template",
            &[
                ("csrf_token", admin.csrf.as_str()),
                ("provider", "helpdesk"),
                ("key", "desk"),
            ],
        )
        .await;
    assert_eq!(applied.status(), StatusCode::OK);
    let (_, journal) = console(
        &admin,
        json!({"scenario": "CallJournal", "call": sample_call()}),
    )
    .await;
    let error = journal["error"].as_str().unwrap();
    assert!(
        error.contains("Subject of CallJournal fails") && error.contains("index"),
        "{error}"
    );

    // The password is nowhere: not in the reports, the page, the log.
    let (_, page) = admin.browser.get_text("/integrations/helpdesk/desk").await;
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
    for text in [
        lookup.to_string(),
        created.to_string(),
        journal.to_string(),
        global.to_string(),
        page,
        logs,
    ] {
        assert!(!text.contains(PASSWORD), "the password shows in {text}");
    }
    drop(server);
}

async fn save_features(admin: &Admin, features: Value) -> (StatusCode, Value) {
    admin
        .browser
        .call(
            "save_features",
            json!({"csrf_token": admin.csrf, "provider": "helpdesk", "key": "desk", "features": features}),
        )
        .await
}

async fn features_are_checked_saved_and_used_by_lookups(db: Db) {
    let crm = helpdesk().await;
    let (server, admin) = connected(db, &crm).await;
    let settings: Value = admin
        .browser
        .get("/api/integration_settings?provider=helpdesk&key=desk")
        .await
        .json()
        .await
        .unwrap();
    let options = &settings["feature_options"];
    assert_eq!(options["contact_types"], json!(["Contacts", "Leads"]));
    assert_eq!(options["creatable_types"], json!(["Contacts"]));
    assert_eq!(
        options["journal"]["subject"],
        json!({"editable": true, "default": "Extension Call"})
    );
    assert_eq!(
        options["journal"]["play_recording"],
        json!({"editable": true, "default": true})
    );
    assert_eq!(options["ticket"]["description"]["editable"], false);
    assert_eq!(options["ticket"]["updates"], true);

    // Refused: a type the template lacks, a type it cannot create, a subject that does not
    // parse. Nothing changes.
    for (features, field) in [
        (
            json!({"contacts": {"contact_types": ["Deals"]}}),
            "Contact types",
        ),
        (
            json!({"create_contact": {"contact_type": "Leads"}}),
            "Create New Contact",
        ),
        (
            json!({"journal": {"enabled": true, "subject": "{{.Broken"}}),
            "Call Journal subject",
        ),
    ] {
        let (status, body) = save_features(&admin, features).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains(field), "{body}");
    }

    let (status, body) = save_features(
        &admin,
        json!({"contacts": {"contact_types": ["Leads"], "phonebook": "CRM"},
               "journal": {"enabled": true, "subject": "Call with {{.CallerNumber}}"},
               "ticket": {"when": "after_call", "call_types": ["inbound"]}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let settings: Value = admin
        .browser
        .get("/api/integration_settings?provider=helpdesk&key=desk")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        settings["features"]["contacts"]["contact_types"],
        json!(["Leads"])
    );
    assert_eq!(settings["features"]["ticket"]["when"], "after_call");

    // A sample value past its limit is refused before anything is sent.
    let long = "5".repeat(server::integrations::scenarios::MAX_CONSOLE_VALUE_CHARS + 1);
    let (status, body) = console(
        &admin,
        json!({"scenario": "SyncContactAuto", "phone": long}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("Phone"), "{body}");

    // The lookup searches the chosen type only; the journal takes the user's subject.
    let (_, report) = console(
        &admin,
        json!({"scenario": "SyncContactAuto", "phone": "+15550100"}),
    )
    .await;
    assert_eq!(steps(&report), ["SyncContactAuto/Leads"], "{report}");
    assert_eq!(report["contact"], Value::Null);
    let (_, report) = console(
        &admin,
        json!({"scenario": "CallJournal", "call": sample_call()}),
    )
    .await;
    assert_eq!(report["error"], Value::Null, "{report}");
    let journal = bodies(&crm, "POST", "/calls").await;
    assert!(
        journal[0].starts_with(r#"{"subject":"Call with +15550100","#),
        "{journal:?}"
    );
    drop(server);
}

async fn activity_is_filtered_and_kept_within_its_retention(db: Db) {
    let crm = helpdesk().await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .and(query_param("phone", "5550199"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(1)
        .mount(&crm)
        .await;
    let server = TestServer::start_with_env(db, true, &[("PATCHBAY_ACTIVITY_KEEP", "4")]).await;
    let admin = admin(&server).await;
    admin
        .upload("helpdesk", &[("desk.xml", template(&crm.uri()))], &[])
        .await;
    let (_, body) = admin
        .browser
        .call(
            "save_integration",
            json!({"csrf_token": admin.csrf, "provider": "helpdesk", "key": "desk",
                   "input": {"values": [["username", "ann"], ["password", PASSWORD]]}}),
        )
        .await;
    assert_eq!(body["status"], "connected", "{body}");
    for phone in ["+15550100", "5550199", "+15550100"] {
        console(
            &admin,
            json!({"scenario": "SyncContactAuto", "phone": phone}),
        )
        .await;
    }
    let activity = |query: &'static str| {
        let browser = &admin.browser;
        async move {
            let response = browser.get(&format!("/api/list_activity?{query}")).await;
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    let page = activity("").await;
    // Save's connection test, then the three console runs, newest first.
    assert_eq!(page["rows"].as_array().unwrap().len(), 4, "{page}");
    assert_eq!(page["rows"][0]["origin"], "console");
    assert_eq!(page["rows"][3]["origin"], "save");
    assert_eq!(page["rows"][3]["scenario"], "GetGlobalInfo");
    assert_eq!(page["rows"][3]["outcome"], "success");
    assert_eq!(page["keep_rows"], 4);
    let failed = activity("outcome=failed").await;
    assert_eq!(failed["rows"].as_array().unwrap().len(), 1, "{failed}");
    assert_eq!(failed["rows"][0]["status"], 500);
    assert!(failed["rows"][0]["error"]
        .as_str()
        .unwrap()
        .contains("HTTP 500"));
    let other = activity("scenario=CallJournal").await;
    assert_eq!(other["rows"], json!([]));
    let refused = admin.browser.get("/api/list_activity?outcome=maybe").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Past the retention the oldest rows go.
    for _ in 0..5 {
        console(&admin, json!({"scenario": "GetGlobalInfo"})).await;
    }
    assert_eq!(server.scalar("SELECT COUNT(*) FROM activity").await, 4);
    let page = activity("").await;
    assert!(page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["scenario"] == "GetGlobalInfo"));
    // An error is kept up to its limit.
    let integration_id = server
        .scalar("SELECT CAST(id AS BIGINT) FROM integrations")
        .await;
    server
        .state
        .activity
        .record(server::storage::activity::NewActivity {
            integration_id: i32::try_from(integration_id).unwrap(),
            at_ms: i64::MAX / 2,
            scenario: "CallJournal".into(),
            origin: "console",
            outcome: "failed",
            status: Some(500),
            duration_ms: 1,
            requests: 1,
            error: Some("x".repeat(5_000)),
            detail: None,
            fault: Some(app::activity::Fault::CrmFailed),
            crm_ms: Some(1),
            observations: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(
        server
            .scalar("SELECT CAST(MAX(LENGTH(error)) AS BIGINT) FROM activity")
            .await,
        i64::try_from(server::storage::activity::MAX_ACTIVITY_ERROR_CHARS).unwrap()
    );
}

async fn global_variables_are_read_again_at_start_up(db: Db) {
    let crm = helpdesk().await;
    let (server, admin) = connected(db, &crm).await;
    crm.reset().await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u-2"})))
        .mount(&crm)
        .await;
    let service = server.state.integrations_service();
    let ran = service
        .refresh_global_info(None, server::integrations::activity::origin::STARTUP)
        .await
        .unwrap();
    assert_eq!(ran, 1);
    // The new owner is in the next request's body.
    let (_, report) = console(
        &admin,
        json!({"scenario": "CreateNewContact", "phone": "5550100", "dry_run": true}),
    )
    .await;
    let body = report["steps"][0]["request"]["body"].as_str().unwrap();
    assert!(body.contains(r#""owner":"u-2""#), "{body}");
    let response = admin
        .browser
        .get("/api/list_activity?scenario=GetGlobalInfo")
        .await;
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["rows"][0]["origin"], "startup", "{page}");
    assert_eq!(page["rows"][0]["outcome"], "success");
}
