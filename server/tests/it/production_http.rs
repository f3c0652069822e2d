//! Running integrations in production (README "Revisions and rollback", "Test cases",
//! "Faults", "Health"), over real HTTP on SQLite and PostgreSQL against a loopback
//! `wiremock` CRM that records what Patchbay sent.

use crate::common::*;
use app::console::{ConsoleInput, RunReport};
use app::test_cases::NewTestCase;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

on_both_databases!(
    revisions_are_kept_with_their_author_bounded_and_compared_side_by_side,
    apply_runs_the_test_cases_first_and_roll_back_returns_to_the_revision_before,
    failures_are_named_by_layer_filtered_and_counted_for_the_health_card,
    the_command_line_runs_the_cases_and_fails_when_one_does,
    a_field_the_crm_renamed_is_flagged_as_drift_until_it_reads_again,
    a_pilot_takes_only_its_extensions_calls_and_shadow_mode_writes_nothing,
    a_refused_token_is_notified_to_the_owner_by_mail_and_signed_webhook_once_an_hour,
);

const KEY: &str = "calls_crm";
const ANN: &str = "5550100";

/// The calls CRM (`fixtures/crm/calls-crm.xml`) without user association, at `crm`.
fn fixture() -> Fixture {
    Fixture::load("calls-crm.xml")
        .set("UserAssociation", "0")
        .without_scenario("UserAssociation")
}

/// The same template, version `version` (a new revision when uploaded again).
fn version(crm: &str, version: &str) -> String {
    fixture().set("Version", version).at(crm)
}

/// A revision whose lookup asks a path the CRM does not have.
fn broken(crm: &str) -> String {
    fixture()
        .set("Version", "2.0.0")
        .request_attribute(
            "SyncContactAuto",
            "Contacts",
            "URLFormat",
            &format!("{crm}/people?phone={{{{UrlEncode .Phone}}}}"),
        )
        .at(crm)
}

/// A CRM where 5550100 is Ann (id 7) and journals are taken.
async fn crm() -> MockServer {
    let crm = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .and(query_param("phone", ANN))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": "7", "first": "Ann"}]})),
        )
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/journals"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "j1"})))
        .mount(&crm)
        .await;
    crm
}

/// A REST call from the admin's (or a user's) browser session, with the CSRF header.
async fn rest(who: &Admin, verb: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = who
        .browser
        .client
        .request(verb.parse().unwrap(), who.browser.url(path))
        .header("x-csrf-token", &who.csrf);
    if let Some(body) = body {
        request = request.json(&body);
    }
    status_and_body(request.send().await.unwrap()).await
}

fn at(tail: &str) -> String {
    format!("/api/v1/integrations/crm/{KEY}{tail}")
}

async fn console(admin: &Admin, input: &ConsoleInput) -> RunReport {
    let (status, report) = admin
        .browser
        .call(
            "run_console",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": KEY, "input": input}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    serde_json::from_value(report).unwrap()
}

async fn activity(admin: &Admin, query: &str) -> Vec<Value> {
    let (status, page) = admin
        .browser
        .get_json(&format!("/api/list_activity?{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["rows"].as_array().cloned().unwrap_or_default()
}

async fn revisions_are_kept_with_their_author_bounded_and_compared_side_by_side(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let stand_in = self::crm().await;
    let crm = &stand_in.uri();
    admin.connect_crm("t.xml", version(crm, "1.0.0"), KEY).await;
    for v in ["1.0.1", "1.0.2"] {
        let (status, body) = admin
            .upload("crm", &[("t.xml", version(crm, v))], &[KEY])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, history) = rest(
        &admin,
        "GET",
        &format!("/api/v1/templates/crm/{KEY}/revisions"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert_eq!(history["current"], 3);
    assert_eq!(history["running"], 1);
    let numbers: Vec<i64> = history["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1], "newest first");
    assert!(history["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["author"] == ADMIN_EMAIL));

    let (status, text) = rest(
        &admin,
        "GET",
        &format!("/api/v1/templates/crm/{KEY}/revisions/1"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.as_str().unwrap().contains("Version=\"1.0.0\""),
        "{text}"
    );
    let (status, diff) = rest(
        &admin,
        "GET",
        &format!("/api/v1/templates/crm/{KEY}/revisions/1/diff/3"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{diff}");
    assert_eq!(
        (diff["added"].as_u64(), diff["removed"].as_u64()),
        (Some(1), Some(1))
    );
    let changed = diff["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["change"] == "changed")
        .unwrap()
        .clone();
    assert!(
        changed["left"][1].as_str().unwrap().contains("1.0.0"),
        "{changed}"
    );
    assert!(
        changed["right"][1].as_str().unwrap().contains("1.0.2"),
        "{changed}"
    );
    let (status, error) = rest(
        &admin,
        "GET",
        &format!("/api/v1/templates/crm/{KEY}/revisions/9"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error"]["code"], "revision.not_found");

    // A user account sees no revision.
    let user = admin.new_user(&server, "user@example.com").await;
    let (status, error) = rest(
        &user,
        "GET",
        &format!("/api/v1/templates/crm/{KEY}/revisions"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");

    // Bounded: the newest 50 are kept, and the one the integration runs (1) however old.
    for n in 0..50 {
        let (status, body) = admin
            .upload(
                "crm",
                &[("t.xml", version(crm, &format!("1.1.{n}")))],
                &[KEY],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, history) = rest(
        &admin,
        "GET",
        &format!("/api/v1/templates/crm/{KEY}/revisions"),
        None,
    )
    .await;
    let numbers: Vec<i64> = history["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers.len(), 51, "{numbers:?}");
    assert_eq!(numbers[0], 53);
    assert_eq!(numbers[49], 4);
    assert_eq!(numbers[50], 1, "the running revision stays");
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM template_revisions")
            .await,
        51
    );
}

async fn apply_runs_the_test_cases_first_and_roll_back_returns_to_the_revision_before(db: Db) {
    let crm = crm().await;
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    admin
        .connect_crm("t.xml", version(&crm.uri(), "1.0.0"), KEY)
        .await;

    // Saved from console runs, as the page's "Save as test case" does.
    let lookup = ConsoleInput {
        scenario: "SyncContactAuto".into(),
        phone: ANN.into(),
        ..ConsoleInput::default()
    };
    let found = console(&admin, &lookup).await;
    let journal = ConsoleInput {
        scenario: "CallJournal".into(),
        dry_run: true,
        call: serde_json::from_value(
            json!({"caller_number": ANN, "callee_number": "1001", "status": "ANSWERED"}),
        )
        .unwrap(),
        ..ConsoleInput::default()
    };
    let rendered = console(&admin, &journal).await;
    for case in [
        NewTestCase::from_run("Ann is found".into(), &lookup, &found),
        NewTestCase::from_run("The journal names the caller".into(), &journal, &rendered),
    ] {
        assert!(case.expect.len() > 1, "{case:?}");
        let (status, saved) = rest(&admin, "POST", &at("/test-cases"), Some(json!(case))).await;
        assert_eq!(status, StatusCode::CREATED, "{saved}");
    }
    let journals_before = journal_posts(&crm).await;
    let (status, ran) = rest(&admin, "POST", &at("/test-cases/run"), None).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    assert_eq!(ran["passed"], true, "{ran}");
    assert_eq!(ran["run"]["results"][1]["dry_run"], true);
    assert_eq!(
        journal_posts(&crm).await,
        journals_before,
        "a writing case runs dry"
    );
    assert_eq!(
        activity(&admin, "scenario=SyncContactAuto").await[0]["origin"],
        "test"
    );

    // A user runs the cases but does not apply.
    let user = admin.new_user(&server, "user@example.com").await;
    let (status, _) = rest(&user, "POST", &at("/test-cases/run"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = rest(&user, "POST", &at("/apply"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A revision that breaks the lookup is stopped, with what was expected and got.
    let (status, body) = admin
        .upload("crm", &[("t.xml", broken(&crm.uri()))], &[KEY])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, stopped) = rest(&admin, "POST", &at("/apply"), Some(json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{stopped}");
    assert_eq!(stopped["error"]["code"], "apply.tests_failed");
    assert_eq!(stopped["tests"]["revision"], 2);
    assert_eq!(stopped["tests"]["results"][0]["passed"], false);
    assert_eq!(stopped["tests"]["results"][1]["passed"], true);
    let got = stopped["tests"]["results"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["passed"] == false)
        .unwrap()["got"]
        .clone();
    assert_eq!(got, "found nobody");
    let running = || async {
        server
            .scalar("SELECT CAST(template_revision AS BIGINT) FROM integrations")
            .await
    };
    assert_eq!(running().await, 1, "nothing applied");

    // Applied anyway, recorded; then rolled back.
    let (status, applied) =
        rest(&admin, "POST", &at("/apply"), Some(json!({"anyway": true}))).await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert_eq!(
        (
            applied["revision"].as_i64(),
            applied["overridden"].as_bool()
        ),
        (Some(2), Some(true))
    );
    assert_eq!(running().await, 2);
    let rows = activity(&admin, "scenario=Apply").await;
    let detail = rows[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("applied by admin@example.com although 1 of 2 test cases failed"),
        "{detail}"
    );
    let (status, back) = rest(&admin, "POST", &at("/rollback"), None).await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back["revision"], 1);
    assert_eq!(running().await, 1);
    assert!(activity(&admin, "scenario=Rollback").await[0]["detail"]
        .as_str()
        .unwrap()
        .contains("revision 2 \u{2192} 1 rolled back by admin@example.com"));
    let (_, ran) = rest(&admin, "POST", &at("/test-cases/run"), None).await;
    assert_eq!(ran["passed"], true, "the old revision passes again: {ran}");

    // The case list keeps each case's last result; a case is refused naming the field.
    let (_, listed) = rest(&admin, "GET", &at("/test-cases"), None).await;
    assert_eq!(listed["test_cases"][0]["last"]["passed"], true);
    let (status, refused) = rest(
        &admin,
        "POST",
        &at("/test-cases"),
        Some(json!({"name": "", "input": {"scenario": "SyncContactAuto"}, "expect": [{"kind": "succeeds"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Name"),
        "{refused}"
    );
    // The runbook: what a successor needs, for a user too.
    let response = user
        .browser
        .client
        .get(user.browser.url(&at("/runbook")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/markdown"));
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("runbook-calls_crm.md"));
    let runbook = response.text().await.unwrap();
    for expected in [
        "# Runbook: Calls CRM",
        "- Runs revision 1 of 2; ran revision 2 before (Roll back returns to it)",
        &format!("- `{}`", crm.uri()),
        "| SyncContactAuto | Contacts | `GET ",
        "ContactsId \u{2190} `data.#.id`",
        "- **Ann is found** (SyncContactAuto, number `5550100`; passed against revision 1)",
        "patchbay integration test crm/calls_crm",
    ] {
        assert!(
            runbook.contains(expected),
            "{expected:?} not in:\n{runbook}"
        );
    }
    let id = listed["test_cases"][1]["id"].as_i64().unwrap();
    let (status, _) = rest(&admin, "DELETE", &at(&format!("/test-cases/{id}")), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = rest(&admin, "DELETE", &at(&format!("/test-cases/{id}")), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn journal_posts(crm: &MockServer) -> usize {
    crm.received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/journals")
        .count()
}

async fn failures_are_named_by_layer_filtered_and_counted_for_the_health_card(db: Db) {
    let crm = crm().await;
    for (phone, status) in [("1", 500), ("2", 429), ("3", 400)] {
        Mock::given(method("GET"))
            .and(path("/contacts"))
            .and(query_param("phone", phone))
            .respond_with(ResponseTemplate::new(status).set_body_string("no"))
            .mount(&crm)
            .await;
    }
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    admin
        .connect_crm("t.xml", version(&crm.uri(), "1.0.0"), KEY)
        .await;
    for phone in [ANN, "1", "2", "3"] {
        console(
            &admin,
            &ConsoleInput {
                scenario: "SyncContactAuto".into(),
                phone: phone.into(),
                ..ConsoleInput::default()
            },
        )
        .await;
    }
    let rows = activity(&admin, "scenario=SyncContactAuto").await;
    let faults: Vec<&Value> = rows
        .iter()
        .filter(|r| r["origin"] == "console")
        .map(|r| &r["fault"])
        .collect();
    assert_eq!(
        faults,
        [
            &json!("crm_refused"),
            &json!("rate_limited"),
            &json!("crm_failed"),
            &Value::Null
        ]
    );
    let only = activity(&admin, "fault=rate_limited").await;
    assert_eq!(only.len(), 1);
    let (status, refused) = admin
        .browser
        .get_json("/api/list_activity?fault=gremlins")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");

    // A CRM nobody answers for is the network's.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (status, body) = admin
        .upload("crm", &[("t.xml", version(&nowhere, "1.0.1"))], &[KEY])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = rest(&admin, "POST", &at("/apply"), None).await;
    assert_eq!(status, StatusCode::OK);
    console(
        &admin,
        &ConsoleInput {
            scenario: "SyncContactAuto".into(),
            phone: ANN.into(),
            ..ConsoleInput::default()
        },
    )
    .await;
    assert_eq!(
        activity(&admin, "scenario=SyncContactAuto").await[0]["fault"],
        "network"
    );

    let (status, health) = rest(&admin, "GET", &at("/health"), None).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    // Ann found by the console, and by Save's connection test.
    assert_eq!(health["successes"], 2, "{health}");
    let failures: Vec<(String, u64)> = serde_json::from_value(health["failures"].clone()).unwrap();
    assert_eq!(failures.iter().map(|(_, n)| n).sum::<u64>(), 4, "{health}");
    for fault in ["crm_failed", "rate_limited", "crm_refused", "network"] {
        assert!(
            failures.iter().any(|(f, n)| f == fault && *n == 1),
            "{fault}: {health}"
        );
    }
    assert!(health["median_ms"].as_u64().is_some(), "{health}");
    assert!(health["last_success_at"].as_i64().is_some(), "{health}");
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM integration_counters WHERE name = 'failed:crm_failed'")
            .await,
        1,
        "one row per counter and hour"
    );

    // The Overview: the checklist where this deployment stands, the integration's card.
    let (status, overview) = admin.browser.get_json("/api/load_overview").await;
    assert_eq!(status, StatusCode::OK, "{overview}");
    let steps: Vec<(String, bool)> = overview["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["title"].as_str().unwrap().to_owned(),
                s["done"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("Connect the phone system".to_owned(), false),
            ("Upload a template".into(), true),
            ("Connect an integration".into(), true),
            ("Add the extensions".into(), false),
            ("Associate users with extensions".into(), true),
            ("Save test cases that pass".into(), false),
            ("See a first call".into(), false),
        ]
    );
    assert_eq!(overview["steps"][5]["detail"], "no test case: Calls CRM");
    assert_eq!(overview["cards"][0]["health"]["successes"], 2);
}

async fn the_command_line_runs_the_cases_and_fails_when_one_does(db: Db) {
    let crm = crm().await;
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    admin
        .connect_crm("t.xml", version(&crm.uri(), "1.0.0"), KEY)
        .await;
    let cli = |newest: bool| {
        let config = &server.state.config;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_patchbay"));
        command
            .args(["integration", "test", &format!("crm/{KEY}")])
            .env("PATCHBAY_DATA_DIR", &config.data_dir)
            .env("PATCHBAY_DATABASE_URL", &config.database_url)
            .env("PATCHBAY_SITE_ROOT", config.data_dir.join("site"));
        if newest {
            command.arg("--newest");
        }
        command.output().unwrap()
    };
    let output = cli(false);
    assert_eq!(output.status.code(), Some(2), "no cases yet");
    assert!(String::from_utf8_lossy(&output.stderr).contains("no test cases"));

    let case = json!({"name": "Ann is found", "input": {"scenario": "SyncContactAuto", "phone": ANN},
                      "expect": [{"kind": "output", "name": "ContactsId", "value": "7"}]});
    let (status, body) = rest(&admin, "POST", &at("/test-cases"), Some(case)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let output = cli(false);
    let report = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("pass  Ann is found [SyncContactAuto]"),
        "{report}"
    );

    let (status, body) = admin
        .upload("crm", &[("t.xml", broken(&crm.uri()))], &[KEY])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let output = cli(true);
    let report = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("FAIL  Ann is found"), "{report}");
    assert!(
        report.contains("expected: ContactsId is \u{201c}7\u{201d}"),
        "{report}"
    );
    assert!(
        report.contains("0 of 1 passed against revision 2"),
        "{report}"
    );
}

async fn a_field_the_crm_renamed_is_flagged_as_drift_until_it_reads_again(db: Db) {
    let crm = MockServer::start().await;
    let answers =
        |contact: Value| ResponseTemplate::new(200).set_body_json(json!({"data": [contact]}));
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(answers(json!({"id": "7", "first": "Ann"})))
        .up_to_n_times(5)
        .with_priority(1)
        .mount(&crm)
        .await;
    // Then the CRM renames `first`.
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(answers(json!({"id": "7", "given_name": "Ann"})))
        .with_priority(2)
        .mount(&crm)
        .await;
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    // Save's connection test reads the first answer.
    admin
        .connect_crm("t.xml", version(&crm.uri(), "1.0.0"), KEY)
        .await;
    let lookup = ConsoleInput {
        scenario: "SyncContactAuto".into(),
        phone: ANN.into(),
        ..ConsoleInput::default()
    };
    let drift = || async {
        let (status, health) = rest(&admin, "GET", &at("/health"), None).await;
        assert_eq!(status, StatusCode::OK, "{health}");
        health["drift"].as_array().cloned().unwrap_or_default()
    };
    for _ in 0..4 {
        console(&admin, &lookup).await;
    }
    for n in 1..=20 {
        assert!(
            drift().await.is_empty(),
            "flagged after {} empty answers",
            n - 1
        );
        console(&admin, &lookup).await;
    }
    let flags = drift().await;
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(flags[0]["output"], "FirstName");
    assert_eq!(flags[0]["step"], "SyncContactAuto/Contacts");
    assert_eq!(
        (
            flags[0]["streak"].as_u64(),
            flags[0]["share_before"].as_u64()
        ),
        (Some(20), Some(100))
    );
    // A lookup that finds nobody says nothing about drift; a value read again clears it.
    crm.reset().await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(answers(json!({"id": "7", "first": "Ann"})))
        .mount(&crm)
        .await;
    console(&admin, &lookup).await;
    assert!(drift().await.is_empty());
}

const END_1001: &str = r#"{"type":30012,"sn":"3631A2124XXX","msg":"{\"call_id\":\"CALL\",\"time_start\":\"2023-11-14 22:13:20\",\"call_from\":\"5550100\",\"call_to\":\"EXT\",\"call_duration\":65,\"talk_duration\":60,\"status\":\"ANSWERED\",\"type\":\"Inbound\",\"recording\":\"\"}"}"#;

async fn a_pilot_takes_only_its_extensions_calls_and_shadow_mode_writes_nothing(db: Db) {
    let crm = crm().await;
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let (status, body) = admin
        .import_extensions(
            "number,first_name,last_name,email\n1001,Ann,Lee,ann@example.com\n1002,Bob,Chan,bob@example.com\n",
            false,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    admin
        .connect_crm("t.xml", version(&crm.uri(), "1.0.0"), KEY)
        .await;
    let features = |rollout: Value| {
        json!({"csrf_token": admin.csrf, "provider": "crm", "key": KEY, "features": {
            "journal": {"enabled": true, "calls": "external"},
            "rollout": rollout,
        }})
    };
    // A pilot names extensions of the directory only.
    let (status, refused) = admin
        .browser
        .call("save_features", features(json!({"extensions": ["4242"]})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.to_string().contains("4242"), "{refused}");
    let (status, body) = admin
        .browser
        .call(
            "save_features",
            features(json!({"extensions": ["1001"], "shadow": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = admin.create_token("pbx", "events").await;
    let call = |id: &str, extension: &str| END_1001.replace("CALL", id).replace("EXT", extension);
    let post = |body: String| {
        let token = token.clone();
        let url = server.url("/api/v1/events/yeastar");
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::ACCEPTED);
        }
    };
    post(call("1700000000.1", "1001")).await;
    post(call("1700000000.2", "1002")).await;
    settled(&server).await;
    assert_eq!(journal_posts(&crm).await, 0, "shadow mode writes nothing");
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM queue_jobs WHERE call_id = '1700000000.2'")
            .await,
        0,
        "1002 is not in the pilot"
    );
    let rows = activity(&admin, "scenario=CallJournal").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["outcome"], "skipped");
    let detail = rows[0]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(&format!(
            "Shadow mode, not sent: POST {}/journals {{",
            crm.uri()
        )),
        "{detail}"
    );
    assert!(detail.contains(r#""call":"5550100""#), "{detail}");

    // Out of shadow mode, the pilot's calls are journaled.
    let (status, body) = admin
        .browser
        .call("save_features", features(json!({"extensions": ["1001"]})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    post(call("1700000000.3", "1001")).await;
    settled(&server).await;
    assert_eq!(journal_posts(&crm).await, 1);
}

/// A stand-in SMTP server (RFC 5321's commands, no TLS): keeps every message's envelope and
/// data.
async fn smtp_stand_in() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mail = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = mail.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 stand-in ready\r\n").await.unwrap();
                let mut message = String::new();
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            kept.lock().unwrap().push(std::mem::take(&mut message));
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            message.push_str(&line);
                            message.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 stand-in\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => {
                            message.push_str(&line);
                            message.push('\n');
                            b"250 OK\r\n"
                        }
                    };
                    write.write_all(answer).await.unwrap();
                }
            });
        }
    });
    (port, mail)
}

async fn a_refused_token_is_notified_to_the_owner_by_mail_and_signed_webhook_once_an_hour(db: Db) {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let crm = crm().await;
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/patchbay"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&hooks)
        .await;
    let (smtp_port, mail) = smtp_stand_in().await;
    const SECRET: &str = "notify-Secret-Jerboa-7070";
    let server = TestServer::start_with_env(
        db,
        true,
        &[
            (
                "PATCHBAY_NOTIFY_WEBHOOK_URL",
                &format!("{}/hooks/patchbay", hooks.uri()),
            ),
            ("PATCHBAY_NOTIFY_WEBHOOK_SECRET", SECRET),
            (
                "PATCHBAY_SMTP_URL",
                &format!("smtp://127.0.0.1:{smtp_port}"),
            ),
            ("PATCHBAY_SMTP_FROM", "Patchbay <patchbay@example.com>"),
        ],
    )
    .await;
    let admin = admin(&server).await;
    let user = admin.new_user(&server, "owner@example.com").await;
    // The user connects it, so the user owns it.
    let (status, body) = admin
        .upload("crm", &[("t.xml", version(&crm.uri(), "1.0.0"))], &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = user
        .browser
        .call(
            "save_integration",
            json!({"csrf_token": user.csrf, "provider": "crm", "key": KEY, "input": {"values": []}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let notifications = server.state.notifications_service();
    assert_eq!(
        notifications.check().await.unwrap(),
        0,
        "nothing to say yet"
    );

    server
        .execute("UPDATE integrations SET status = 'token_invalid'")
        .await;
    assert_eq!(notifications.check().await.unwrap(), 1);
    assert_eq!(notifications.check().await.unwrap(), 0, "once an hour");

    let received = hooks.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let signature = received[0].headers["x-signature"].to_str().unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&received[0].body);
    assert_eq!(
        signature,
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    let hook: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(hook["condition"], "token_refused");
    assert_eq!(hook["integration"], "Calls CRM");
    let sent = mail.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("<owner@example.com>"), "{}", sent[0]);
    assert!(
        sent[0].contains("Subject: Patchbay: Calls CRM"),
        "{}",
        sent[0]
    );
    assert!(sent[0].contains("the CRM refused the token"), "{}", sent[0]);

    // Listed on the integration's page, with where it went.
    let (status, listed) = admin
        .browser
        .get_json(&format!("/api/load_notifications?provider=crm&key={KEY}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let delivery = listed["recent"][0]["delivery"].as_str().unwrap();
    assert_eq!(delivery, "e-mail to owner@example.com; webhook HTTP 204");
    assert_eq!(listed["channels"].as_array().unwrap().len(), 2, "{listed}");

    // An administrator moves the ownership (to an active account); a user may not; a test
    // goes everywhere.
    assert_eq!(
        set_owner(&user, "owner@example.com").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        set_owner(&admin, "nobody@example.com").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(set_owner(&admin, ADMIN_EMAIL).await, StatusCode::OK);
    let response = admin
        .browser
        .post_form(
            "/api/send_test_notification",
            &[("csrf_token", admin.csrf.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(hooks.received_requests().await.unwrap().len(), 2);
    assert_eq!(mail.lock().unwrap().len(), 2);
}

/// Presses Change owner on the integration's page.
async fn set_owner(who: &Admin, email: &str) -> StatusCode {
    who.browser
        .post_form(
            "/api/set_integration_owner",
            &[
                ("csrf_token", who.csrf.as_str()),
                ("provider", "crm"),
                ("key", KEY),
                ("email", email),
            ],
        )
        .await
        .status()
}
