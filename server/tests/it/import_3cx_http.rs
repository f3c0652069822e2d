//! 3CX CRM templates converted by `patchbay template from-3cx` (and `POST /api/v1/import/3cx`),
//! then uploaded, connected to a stand-in of the CRM the 3CX file was written for, and run:
//! the stand-in checks what the converted template sends. The 3CX files are in
//! `server/tests/fixtures/3cx/` (their README says what each is written from).

use crate::common::process::patchbay;
use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

on_both_databases!(
    an_api_key_template_converts_connects_looks_up_creates_and_journals,
    a_basic_auth_template_converts_and_looks_up_with_its_query_values,
    the_api_converts_for_administrators_and_refuses_what_is_not_3cx,
);

const API_KEY: &str = "ak-3cx-test";

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/3cx/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `patchbay template from-3cx FILE`: the template (standard output) and the report.
async fn from_3cx(name: &str) -> (String, String) {
    let file = fixture(name);
    let output = patchbay(&["template", "from-3cx", &file], &[]).await;
    let report = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{report}");
    (String::from_utf8(output.stdout).unwrap(), report)
}

/// A fresh server with the converted template uploaded, its API's origin (`https://` and
/// the host field) moved to the stand-in; an `admin` script and a phone system's `lookup`
/// script.
async fn uploaded(
    db: Db,
    file: &str,
    template: String,
    origin: &str,
    stand_in: &MockServer,
) -> (TestServer, Script, Script) {
    assert!(template.contains(origin), "{origin} not in {template}");
    let template = template.replace(origin, &stand_in.uri());
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let (status, uploaded) = admin.upload("crm", &[(file, template)], &[]).await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    assert_eq!(uploaded["results"][0]["status"], "stored", "{uploaded}");
    assert_eq!(
        uploaded["results"][0]["findings"],
        json!([]),
        "no error and no warning: {uploaded}"
    );
    let script = Script::new(&server, admin.create_token("import", "admin").await);
    let lookups = Script::new(&server, admin.create_token("pbx", "lookup").await);
    (server, script, lookups)
}

async fn bodies(stand_in: &MockServer, method_name: &str, path_name: &str) -> Vec<String> {
    stand_in
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == method_name && r.url.path() == path_name)
        .map(|r| String::from_utf8(r.body).unwrap())
        .collect()
}

/// Acme's API as the 3CX file expects it: `X-Api-Key`, contacts searched by `phone` in a
/// `contacts` list, created and given activities by POST; a wrong key is 401.
async fn acme() -> MockServer {
    let stand_in = MockServer::start().await;
    let keyed = |m: &str, p: &str| {
        Mock::given(method(m))
            .and(path(format!("/v2/{p}")))
            .and(header("x-api-key", API_KEY))
    };
    keyed("GET", "contacts/search")
        .and(query_param("phone", "5550100"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"contacts": [{
            "id": "c-42", "first_name": "Grace", "last_name": "Hopper", "company": "US Navy",
            "email": "grace@navy.example", "mobile": "5550101", "phone": "5550100"}]})),
        )
        .mount(&stand_in)
        .await;
    keyed("GET", "contacts/search")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"contacts": []})))
        .with_priority(6)
        .mount(&stand_in)
        .await;
    keyed("POST", "contacts")
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "c-77"})))
        .mount(&stand_in)
        .await;
    keyed("POST", "activities")
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "a-1"})))
        .mount(&stand_in)
        .await;
    refuse_the_rest(&stand_in, json!({"error": "invalid API key"})).await;
    stand_in
}

async fn an_api_key_template_converts_connects_looks_up_creates_and_journals(db: Db) {
    let (template, report) = from_3cx("rest-json-api-key.xml").await;
    for line in [
        "rest-json-api-key.xml:11: converted: <Parameter>: \"ApiKey\" becomes the custom field ApiKey (password)",
        "rest-json-api-key.xml:93: approximated: <Scenario> in scenario \"ReportCallMissed\": sends the same request as ReportCall",
        "the converted template has 0 error(s) and 0 warning(s)",
    ] {
        assert!(report.contains(line), "{line}\n{report}");
    }
    let stand_in = acme().await;
    let (_server, script, lookups) =
        uploaded(db, "acme.xml", template, "https://{{.BaseUrl}}", &stand_in).await;
    let at = "/api/v1/integrations/crm/acme-rest-crm-3cx";
    let values = |key: &str| json!({"values": {"BaseUrl": "api.acme-crm.example", "ApiKey": key}});
    let settings = format!("{at}/settings");
    let (status, refused) = script
        .send(Method::PUT, &settings, Some(values("wrong")))
        .await;
    assert_ne!(status, StatusCode::OK, "{refused}");
    let (status, saved) = script
        .send(Method::PUT, &settings, Some(values(API_KEY)))
        .await;
    assert_eq!(saved["status"], "connected", "{status} {saved}");

    let (status, missing) = lookups.get("/api/v1/contacts/lookup?phone=5550199").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    let (status, found) = lookups.get("/api/v1/contacts/lookup?phone=5550100").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        (
            &found["contact"]["FirstName"],
            &found["contact"]["Company"],
            &found["contact"]["MobileNumber"]
        ),
        (&json!("Grace"), &json!("US Navy"), &json!("5550101")),
        "{found}"
    );
    assert_eq!(
        found["popup_url"], "https://app.acme-crm.example/contacts/c-42",
        "{found}"
    );

    let console = format!("{at}/console");
    let (status, created) = script
        .send(
            Method::POST,
            &console,
            Some(json!({"scenario": "CreateNewContact", "phone": "5550177",
                            "first_name": "Ada", "last_name": "Lovelace"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let sent: Value =
        serde_json::from_str(&bodies(&stand_in, "POST", "/v2/contacts").await[0]).unwrap();
    assert_eq!(
        sent,
        json!({"first_name": "New", "last_name": "Caller 5550177", "phone": "5550177"}),
        "the 3CX parameters' defaults, expanded"
    );

    let (status, journaled) = script
        .send(
            Method::POST,
            &console,
            Some(
                json!({"scenario": "CallJournal", "phone": "5550100", "call": {
            "direction": "inbound", "caller_number": "5550100", "callee_number": "1001",
            "extension": {"number": "1001"},
            "start_unix": 1_672_531_199, "duration_secs": 95, "talk_secs": 80,
            "disposition": "ANSWERED"}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{journaled}");
    let activities = bodies(&stand_in, "POST", "/v2/activities").await;
    assert_eq!(
        activities.len(),
        1,
        "one request per call, the chained copies folded"
    );
    let activity: Value = serde_json::from_str(&activities[0]).unwrap();
    assert_eq!(
        (
            &activity["contact_id"],
            &activity["subject"],
            &activity["kind"],
            &activity["direction"]
        ),
        (
            &json!("c-42"),
            &json!("3CX PhoneSystem Call"),
            &json!("Inbound"),
            &json!("Inbound")
        ),
        "{activity}"
    );
    assert_eq!(
        (
            &activity["duration"],
            &activity["started_at"],
            &activity["agent"]
        ),
        (
            &json!("00:01:20"),
            &json!("2022-12-31T23:59:59Z"),
            &json!("1001")
        ),
        "{activity}"
    );
    let notes = activity["notes"].as_str().unwrap();
    assert!(
        notes.ends_with(": Answered incoming call from 5550100 to 1001 (00:01:20)"),
        "the inbound text: {notes}"
    );
}

async fn a_basic_auth_template_converts_and_looks_up_with_its_query_values(db: Db) {
    let (template, report) = from_3cx("basic-auth-form.xml").await;
    for line in [
        "basic-auth-form.xml:15: converted: <Authentication>: Type=\"Basic\" becomes AuthMethod basic",
        "basic-auth-form.xml:27: no equivalent: <Rule> in scenario \"\": Type=\"Equals\"",
        "basic-auth-form.xml:44: no equivalent: <Scenario> Id=\"LookupByEmail\"",
        "basic-auth-form.xml:64: no equivalent: <Scenario> Id=\"ReportChat\"",
        "basic-auth-form.xml:68: converted: <Scenario> in scenario \"GetCompany\": chained after the lookup by Next: becomes the Common request \"GetCompany\"",
    ] {
        assert!(report.contains(line), "{line}\n{report}");
    }
    let stand_in = MockServer::start().await;
    let basic = format!("Basic {}", {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode("agent:s3cret")
    });
    Mock::given(method("GET"))
        .and(path("/api/v1/lookup"))
        .and(header("authorization", basic.as_str()))
        .and(query_param("number", "+442071838750"))
        .and(query_param("fields", "id,name,company,phone"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "ok", "result": {
            "contacts": [{"id": 7, "name": "Ada Lovelace", "company_id": 3,
                          "phone": "+442071838750", "link": "https://crm.northwind.example/c/7"}]}})))
        .mount(&stand_in)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/lookup"))
        .and(header("authorization", basic.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "ok", "result": {"contacts": []}})),
        )
        .with_priority(6)
        .mount(&stand_in)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/companies/3"))
        .and(header("authorization", basic.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"company": {"id": 3, "name": "Analytical Engines"}})),
        )
        .mount(&stand_in)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/calls"))
        .and(header("authorization", basic.as_str()))
        .and(body_string_contains("outcome=answered"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "ok"})))
        .mount(&stand_in)
        .await;
    refuse_the_rest(&stand_in, json!({"status": "denied"})).await;

    let (_server, script, lookups) = uploaded(
        db,
        "northwind.xml",
        template,
        "https://{{.ServerUrl}}",
        &stand_in,
    )
    .await;
    let at = "/api/v1/integrations/crm/northwind-helpline-3cx";
    let (status, saved) = script
        .send(
            Method::PUT,
            &format!("{at}/settings"),
            Some(json!({"values": {
            "ServerUrl": "crm.northwind.example", "Username": "agent", "Password": "s3cret"}})),
        )
        .await;
    assert_eq!(saved["status"], "connected", "{status} {saved}");
    let (status, found) = lookups
        .get("/api/v1/contacts/lookup?phone=%2B442071838750")
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        (
            &found["contact"]["FirstName"],
            &found["contact"]["Company"],
            &found["popup_url"]
        ),
        (
            &json!("Ada Lovelace"),
            &json!("Analytical Engines"),
            &json!("https://crm.northwind.example/c/7")
        ),
        "{found}"
    );
    let (status, journaled) = script
        .send(Method::POST, &format!("{at}/console"), Some(json!({"scenario": "CallJournal", "phone": "+442071838750", "call": {
            "direction": "inbound", "caller_number": "+442071838750", "caller_name": "Ada", "callee_number": "1001",
            "extension": {"number": "1001", "first_name": "Bob", "last_name": "Agent"},
            "start_unix": 1_672_531_199, "duration_secs": 95, "talk_secs": 80,
            "disposition": "ANSWERED"}})))
        .await;
    assert_eq!(status, StatusCode::OK, "{journaled}");
    let form = &bodies(&stand_in, "POST", "/api/v1/calls").await[0];
    let pairs: std::collections::BTreeMap<String, String> =
        url::form_urlencoded::parse(form.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(
        (
            pairs["contact"].as_str(),
            pairs["number"].as_str(),
            pairs["outcome"].as_str(),
            pairs["when"].as_str(),
            pairs["talked"].as_str()
        ),
        (
            "7",
            "+442071838750",
            "answered",
            "1672531199000",
            "00:01:20"
        ),
        "{form}"
    );
}

/// The REST import's 422 `import.invalid`, whose message says `why`.
async fn refused_as_invalid(response: reqwest::Response, why: &str) {
    let (status, body) = status_and_body(response).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "import.invalid", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains(why),
        "{body}"
    );
}

async fn the_api_converts_for_administrators_and_refuses_what_is_not_3cx(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let script = Script::new(&server, admin.create_token("import", "admin").await);
    let lookups = Script::new(&server, admin.create_token("pbx", "lookup").await);
    let text = std::fs::read_to_string(fixture("oauth-scenario-salesforce.xml")).unwrap();
    let post = |who: &Script, body: String| {
        who.client
            .post(format!("{}/api/v1/import/3cx", server.base))
            .bearer_auth(&who.token)
            .header("content-type", "application/xml")
            .body(body)
            .send()
    };
    let answer = post(&script, text.clone()).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let conversion: Value = answer.json().await.unwrap();
    assert!(
        conversion["template"]
            .as_str()
            .unwrap()
            .contains("<Information Provider=\"crm\""),
        "{conversion}"
    );
    let template = conversion["template"].as_str().unwrap();
    let search = "URLFormat=\"{{.TokenResponse_instance_url}}/services/data/v58.0/parameterizedSearch/?q={{urlquery .PhoneLastDigits}}";
    assert!(template.contains(search), "{template}");
    assert!(
        !template.contains("AccessToken"),
        "Patchbay's OAuth 2.0 sends the Authorization header itself: {template}"
    );
    let sign_in = conversion["report"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["element"] == "<Authentication>")
        .unwrap();
    assert_eq!(
        (&sign_in["outcome"], &sign_in["line"]),
        (&json!("no_equivalent"), &json!(14)),
        "{sign_in}"
    );

    // A body over the template limit is refused before it is read as XML.
    let oversized = format!(
        "<Crm Name=\"Big\"><!--{}--></Crm>",
        "x".repeat(app::template::xml::MAX_TEMPLATE_BYTES)
    );
    refused_as_invalid(post(&script, oversized).await.unwrap(), "at most 1048576").await;
    refused_as_invalid(
        post(&script, "<Information Provider=\"crm\"/>".into())
            .await
            .unwrap(),
        "<Crm>",
    )
    .await;
    let forbidden = post(&lookups, text.clone()).await.unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    // The editor's server function: administrators with the page's CSRF token only.
    let user = admin.new_user(&server, "user@example.com").await;
    for (who, csrf, expected) in [
        (&admin, admin.csrf.as_str(), StatusCode::OK),
        (&admin, "forged", StatusCode::FORBIDDEN),
        (&user, user.csrf.as_str(), StatusCode::FORBIDDEN),
    ] {
        let answer = who
            .browser
            .post_form(
                "/api/import_3cx_template",
                &[("csrf_token", csrf), ("text", text.as_str())],
            )
            .await;
        assert_eq!(answer.status(), expected, "{csrf}");
        if expected == StatusCode::OK {
            let conversion: Value = answer.json().await.unwrap();
            assert!(conversion["template"]
                .as_str()
                .unwrap()
                .contains("Key=\"salesforce-3cx\""));
        }
    }

    // The upload refuses a 3CX file and says how to convert it.
    let (_, uploaded) = admin.upload("crm", &[("3cx.xml", text)], &[]).await;
    let message = uploaded["results"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
        + &uploaded["results"][0]["findings"].to_string();
    assert!(message.contains("from-3cx"), "{uploaded}");
}
