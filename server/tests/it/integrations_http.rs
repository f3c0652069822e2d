//! Connecting templates to CRMs over real HTTP, on SQLite and PostgreSQL. The CRM and its
//! token endpoint are loopback `wiremock` servers that check what Patchbay sends.

use crate::common::*;
use base64::Engine;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

on_both_databases!(
    basic_connects_after_a_test_request_and_keeps_the_password_encrypted,
    a_refused_password_changes_nothing_and_the_stored_one_keeps_working,
    bearer_asks_the_token_endpoint_then_tests_with_the_token,
    none_tests_with_the_first_contact_search_and_a_sample_number,
    bad_crm_answers_are_explained_and_store_nothing,
    a_user_value_in_a_urls_host_must_be_a_host_name,
    oauth2_settings_show_the_network_section_and_save_starts_an_authorization,
    a_user_connects_and_disconnects_but_only_an_admin_applies,
    an_edited_template_is_applied_and_deleting_it_disconnects_first,
    a_key_rotation_reencrypts_every_secret,
    field_values_are_bounded_and_unknown_fields_refused,
    save_and_check_run_through_the_runner_and_are_in_activity,
);

const PASSWORD: &str = "crm-Pass-Narwhal-5150";
const CLIENT_SECRET: &str = "client-Secret-Okapi-8080";
const ACCESS_TOKEN: &str = "access-Token-Quetzal-2323";

/// A template whose requests go to `crm`. `auth` is `basic`, `bearer` or `none`;
/// `global_info` adds a GetGlobalInfo request to `{crm}/me`.
fn template(key: &str, auth: &str, crm: &str, global_info: bool) -> String {
    let fields = match auth {
        "basic" => r#"<Parameter Name="CredentialType" Value="username_password"/>
          <Parameter Name="Base64EncodedCredential" Value="{{.username}}:{{.password}}"/>
          <Parameter Father="CustomFieldList" Name="username" Editor="string" Title="User name"/>
          <Parameter Father="CustomFieldList" Name="password" Editor="password" Title="Password"/>"#
            .to_string(),
        "bearer" => format!(
            r#"<Parameter Name="TokenEndPoint" Value="{crm}/oauth/token"/>
          <Parameter Name="TokenContentType" Value="application/x-www-form-urlencoded"/>
          <Parameter Father="CustomFieldList" Name="client_id" Editor="string" Title="Client ID"/>
          <Parameter Father="CustomFieldList" Name="client_secret" Editor="password" Title="Client secret"/>"#
        ),
        "oauth2" => format!(
            r#"<Parameter Name="AuthEndPoint" Value="{crm}/oauth/authorize"/>
          <Parameter Name="TokenEndPoint" Value="{crm}/oauth/token"/>
          <Parameter Father="CustomFieldList" Name="client_id" Editor="string" Title="Client ID"/>
          <Parameter Father="CustomFieldList" Name="client_secret" Editor="password" Title="Client Secret"/>
          <Parameter Father="CustomFieldList" Name="region" Editor="list" Title="Region" Value="eu,us"/>"#
        ),
        _ => String::new(),
    };
    let global = if global_info {
        format!(
            r#"<Scenario Id="GetGlobalInfo" Type="REST"><Requests>
      <Request Name="Me" Method="GET" ResponseType="application/json" RequestEncoding="" URLFormat="{crm}/me">
        <Outputs><Output Name="OwnerId" Path="id" Type=""/><Output Name="OrgName" Path="org.name" Type=""/></Outputs>
      </Request></Requests></Scenario>"#
        )
    } else {
        String::new()
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Information Provider="crm" Name="Test {key}" Key="{key}" Remark="" Version="1.0.0" AuthType="{auth}" MaxConcurrentRequest="2" UserAssociation="0" CallJournal="0" CreateNewContact="0">
  <Scenarios>
    <Scenario Id="AuthMethod" Type="AUTH">
      <Parameters>
        <Parameter Name="AuthMethod" Value="{auth}"/>
        {fields}
        <Parameter Father="PopulateTemplateString" Type="Header" Name="X-Client" Value="patchbay"/>
      </Parameters>
    </Scenario>
    {global}
    <Scenario Id="SyncContactAuto" Type="REST">
      <Parameters>
        <Parameter Name="ContactUrlType" Value="specify_url_format"/>
        <Parameter Name="URLFormat" Value="{crm}/contacts/{{{{.ContactId}}}}"/>
        <Parameter Name="BusinessNumberEnable" Value="1"/>
      </Parameters>
      <Requests>
        <Request Name="Contacts" Method="GET" ResponseType="application/json" RequestEncoding="" URLFormat="{crm}/contacts?phone={{{{.Phone}}}}">
          <Outputs>
            <Output Name="ContactsId" Path="data.#.id" Type=""/>
            <Output Name="FirstName" Path="data.#.first" Type=""/>
            <Output Name="BusinessNumber" Path="data.#.phone" Type=""/>
          </Outputs>
        </Request>
      </Requests>
    </Scenario>
  </Scenarios>
</Information>
"#
    )
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// An administrator's action on the CRM integration `key` (`apply_template`,
/// `check_integration`, …).
async fn crm_action(admin: &Admin, action: &str, key: &str) -> reqwest::Response {
    admin.crm_action(action, key).await
}

async fn save(admin: &Admin, key: &str, values: &[(&str, &str)]) -> (StatusCode, Value) {
    save_as(&admin.browser, &admin.csrf, key, values).await
}

async fn save_as(
    browser: &Browser,
    csrf: &str,
    key: &str,
    values: &[(&str, &str)],
) -> (StatusCode, Value) {
    browser
        .call(
            "save_integration",
            json!({"csrf_token": csrf, "provider": "crm", "key": key, "input": {"values": values}}),
        )
        .await
}

async fn settings(browser: &Browser, key: &str) -> Value {
    browser
        .get(&format!("/api/integration_settings?provider=crm&key={key}"))
        .await
        .json()
        .await
        .unwrap()
}

async fn uploaded(admin: &Admin, key: &str, text: String) {
    let (status, body) = admin
        .upload("crm", &[(&format!("{key}.xml"), text)], &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["status"], "stored", "{body}");
}

/// Uploads `text` as `key` and saves it with Ann's credentials; answers the status and
/// the answer's text.
async fn upload_and_save(admin: &Admin, key: &str, text: String) -> (StatusCode, String) {
    uploaded(admin, key, text).await;
    let (status, answer) = save(admin, key, &[("username", "ann"), ("password", PASSWORD)]).await;
    (status, answer.to_string())
}

/// A server with its admin signed in and one template uploaded.
async fn portal_with(db: Db, key: &str, text: String) -> (TestServer, Admin) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    uploaded(&admin, key, text).await;
    (server, admin)
}

/// A CRM whose `/me` answers every request that reaches it.
async fn crm_that_answers_me() -> MockServer {
    let crm = MockServer::start().await;
    Mock::given(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .mount(&crm)
        .await;
    crm
}

/// No secret of these tests may be in a page, an answer or the log.
fn assert_nowhere(texts: &[&str]) {
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
    for secret in [PASSWORD, CLIENT_SECRET, ACCESS_TOKEN] {
        assert!(!logs.contains(secret), "{secret} in the log");
        for text in texts {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

async fn basic_connects_after_a_test_request_and_keeps_the_password_encrypted(db: Db) {
    let crm = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .and(header("authorization", basic("ann", PASSWORD).as_str()))
        .and(header("x-client", "patchbay"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "u-1", "org": {"name": "Acme"}})),
        )
        .expect(1)
        .mount(&crm)
        .await;
    let (server, admin) =
        portal_with(db, "basic1", template("basic1", "basic", &crm.uri(), true)).await;

    let (status, saved) = save(
        &admin,
        "basic1",
        &[("username", "ann"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["status"], "connected");

    let shown = settings(&admin.browser, "basic1").await;
    assert_eq!(shown["status"], "connected");
    assert_eq!(shown["global_variables"], 2);
    let password = &shown["fields"][1];
    assert_eq!(
        (
            password["name"].as_str(),
            password["is_set"].as_bool(),
            password["value"].as_str()
        ),
        (Some("password"), Some(true), Some(""))
    );
    assert_eq!(shown["fields"][0]["value"], "ann");

    let stored: Vec<String> = {
        let db = &server.state.db;
        db.query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT ciphertext FROM integration_secrets",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect()
    };
    assert_eq!(stored.len(), 1);
    assert!(stored[0].starts_with("pb1:"), "{}", stored[0]);

    let (_, page) = admin.browser.get_text("/integrations/crm/basic1").await;
    assert!(page.contains("Connected"), "the page shows the status");
    let (_, grid) = admin.browser.get_text("/integrations/crm").await;
    assert!(grid.contains("Test basic1"));
    assert_nowhere(&[&page, &grid, &shown.to_string(), &stored[0]]);
}

/// A CRM whose `/me` answers ann with [`PASSWORD`], and anything else with `refusal`.
async fn crm_accepting_ann(refusal: ResponseTemplate) -> MockServer {
    let crm = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .and(header("authorization", basic("ann", PASSWORD).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u-1"})))
        .mount(&crm)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(refusal)
        .mount(&crm)
        .await;
    crm
}

async fn a_refused_password_changes_nothing_and_the_stored_one_keeps_working(db: Db) {
    let crm = crm_accepting_ann(
        ResponseTemplate::new(401).set_body_json(json!({"error": "bad credentials"})),
    )
    .await;
    let (server, admin) =
        portal_with(db, "basic2", template("basic2", "basic", &crm.uri(), true)).await;

    let (status, refused) = save(
        &admin,
        "basic2",
        &[("username", "ann"), ("password", "wrong-one")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused.to_string().contains("refused the credentials"),
        "{refused}"
    );
    assert_eq!(
        server.scalar("SELECT COUNT(*) FROM integrations").await,
        0,
        "nothing stored"
    );

    assert_eq!(
        save(
            &admin,
            "basic2",
            &[("username", "ann"), ("password", PASSWORD)]
        )
        .await
        .0,
        StatusCode::OK
    );
    let (status, _) = save(
        &admin,
        "basic2",
        &[("username", "ann"), ("password", "wrong-again")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        settings(&admin.browser, "basic2").await["status"],
        "connected"
    );
    // An empty password keeps the stored one, which still decrypts and still works.
    let (status, kept) = save(&admin, "basic2", &[("username", "ann"), ("password", "")]).await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_nowhere(&[&refused.to_string(), &kept.to_string()]);
}

async fn bearer_asks_the_token_endpoint_then_tests_with_the_token(db: Db) {
    let crm = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_id=cid-1"))
        .and(body_string_contains(
            format!("client_secret={CLIENT_SECRET}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600}),
        ))
        .expect(1)
        .mount(&crm)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .and(header(
            "authorization",
            format!("Bearer {ACCESS_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "svc"})))
        .expect(1)
        .mount(&crm)
        .await;
    let (server, admin) = portal_with(
        db,
        "bearer1",
        template("bearer1", "bearer", &crm.uri(), true),
    )
    .await;
    let (status, saved) = save(
        &admin,
        "bearer1",
        &[("client_id", "cid-1"), ("client_secret", CLIENT_SECRET)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        server.scalar("SELECT COUNT(*) FROM integration_secrets WHERE name IN ('access_token', 'field:client_secret')").await,
        2
    );
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM integrations WHERE token_expires_at IS NOT NULL")
            .await,
        1
    );
    assert_nowhere(&[
        &saved.to_string(),
        &settings(&admin.browser, "bearer1").await.to_string(),
    ]);
}

async fn none_tests_with_the_first_contact_search_and_a_sample_number(db: Db) {
    let crm = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .and(query_param("phone", app::integrations::SAMPLE_PHONE))
        .and(header("x-client", "patchbay"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .expect(1)
        .mount(&crm)
        .await;
    let (_server, admin) =
        portal_with(db, "none1", template("none1", "none", &crm.uri(), false)).await;
    let (status, saved) = save(&admin, "none1", &[]).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let requests = crm.received_requests().await.unwrap();
    assert!(
        requests[0].headers.get("authorization").is_none(),
        "none sends no Authorization"
    );
}

async fn bad_crm_answers_are_explained_and_store_nothing(db: Db) {
    let crm = MockServer::start().await;
    let other_host = MockServer::start().await;
    let html = "<html><body>Please sign in</body></html>";
    let cases: Vec<(&str, ResponseTemplate, &str)> = vec![
        (
            "html",
            ResponseTemplate::new(200).set_body_raw(html, "text/html"),
            "not JSON (HTML, text/html)",
        ),
        (
            "invalid",
            ResponseTemplate::new(200).set_body_raw("{\"id\": ", "application/json"),
            "invalid JSON",
        ),
        (
            "error",
            ResponseTemplate::new(500).set_body_string("database down"),
            "HTTP 500: database down",
        ),
        (
            "huge",
            ResponseTemplate::new(200)
                .set_body_raw(vec![b' '; 11 * 1024 * 1024], "application/json"),
            "larger than 10 MiB",
        ),
        (
            "slow",
            ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(3)),
            "did not answer within 1 s",
        ),
        (
            "loop",
            ResponseTemplate::new(302).insert_header("location", "/loop/me"),
            "redirected more than 5 times",
        ),
        // Not followed: the redirect itself is the answer, and it is not a success.
        (
            "file",
            ResponseTemplate::new(302).insert_header("location", "file:///etc/passwd"),
            "answered HTTP 302",
        ),
    ];
    for (prefix, response, _) in &cases {
        Mock::given(path(format!("/{prefix}/me")))
            .respond_with(response.clone())
            .mount(&crm)
            .await;
    }
    // A redirect to another origin is not followed: the request's headers stay home.
    Mock::given(path("/away/me"))
        .respond_with(
            ResponseTemplate::new(307).insert_header(
                "location",
                format!(
                    "{}/landing",
                    other_host.uri().replace("127.0.0.1", "localhost")
                )
                .as_str(),
            ),
        )
        .mount(&crm)
        .await;
    Mock::given(path("/landing"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&other_host)
        .await;

    let server =
        TestServer::start_with_env(db, true, &[("PATCHBAY_REQUEST_TIMEOUT_SECS", "1")]).await;
    let admin = admin(&server).await;
    for (prefix, _, expected) in &cases {
        let key = format!("bad_{prefix}");
        let text = template(&key, "basic", &format!("{}/{prefix}", crm.uri()), true);
        let (status, answer) = upload_and_save(&admin, &key, text).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{prefix}: {answer}");
        assert!(answer.contains(expected), "{prefix}: {answer}");
    }
    let text = template("bad_away", "basic", &format!("{}/away", crm.uri()), true);
    let (status, answer) = upload_and_save(&admin, "bad_away", text).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{answer}");
    assert!(answer.contains("another origin"), "{answer}");
    assert!(answer.contains("/landing"), "{answer}");
    assert!(
        other_host.received_requests().await.unwrap().is_empty(),
        "the request (and its headers) left the CRM's origin"
    );

    // A URL that renders to another scheme is never requested.
    let file_template = template("bad_scheme", "basic", &crm.uri(), true)
        .replace(&format!("{}/me", crm.uri()), "file:///etc/passwd");
    let (status, answer) = upload_and_save(&admin, "bad_scheme", file_template).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{answer}");
    assert!(
        answer.contains("only http and https requests are sent"),
        "{answer}"
    );

    // A test request whose URL renders empty proves nothing.
    let empty = template("bad_empty", "basic", &crm.uri(), true).replace(
        &format!("URLFormat=\"{}/me\"", crm.uri()),
        "URLFormat=\"{{if .nothing}}https://crm.example/me{{end}}\"",
    );
    let (status, answer) = upload_and_save(&admin, "bad_empty", empty).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{answer}");
    assert!(
        answer.contains("GetGlobalInfo/Me rendered empty"),
        "{answer}"
    );

    assert_eq!(server.scalar("SELECT COUNT(*) FROM integrations").await, 0);
    assert_nowhere(&[]);
}

async fn a_user_value_in_a_urls_host_must_be_a_host_name(db: Db) {
    let crm = crm_that_answers_me().await;
    let port = crm.address().port();
    let text = template(
        "hosted",
        "basic",
        &format!("http://{{{{.host}}}}:{port}"),
        true,
    )
    .replace(
        r#"<Parameter Father="CustomFieldList" Name="username""#,
        r#"<Parameter Father="CustomFieldList" Name="host" Editor="string" Title="CRM host"/>
          <Parameter Father="CustomFieldList" Name="username""#,
    );
    let (_server, admin) = portal_with(db, "hosted", text).await;
    for evil in ["evil.example/#", "user@evil.example", "evil.example:81"] {
        let (status, answer) = save(
            &admin,
            "hosted",
            &[("host", evil), ("username", "ann"), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{evil}: {answer}");
        assert!(answer.to_string().contains("plain host name"), "{answer}");
    }
    assert!(
        crm.received_requests().await.unwrap().is_empty(),
        "nothing was sent"
    );
    let (status, answer) = save(
        &admin,
        "hosted",
        &[
            ("host", "127.0.0.1"),
            ("username", "ann"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn oauth2_settings_show_the_network_section_and_save_starts_an_authorization(db: Db) {
    let server = TestServer::start_with_env(
        db,
        true,
        &[("PATCHBAY_PUBLIC_URL", "https://pbx.example.com")],
    )
    .await;
    let admin = admin(&server).await;
    uploaded(
        &admin,
        "oauth1",
        template("oauth1", "oauth2", "https://crm.example", true),
    )
    .await;
    let shown = settings(&admin.browser, "oauth1").await;
    assert_eq!(
        shown["network"]["redirect_uri"],
        "https://pbx.example.com/integration/callback/api/crm/oauth1/"
    );
    assert_eq!(shown["network"]["homepage_url"], "https://pbx.example.com");
    let authorization: Vec<&str> = shown["authorization"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(authorization, ["client_id", "client_secret"]);
    assert_eq!(shown["fields"][0]["options"], json!(["eu", "us"]));

    let (status, answer) = save(
        &admin,
        "oauth1",
        &[
            ("client_id", "cid"),
            ("client_secret", CLIENT_SECRET),
            ("region", "mars"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer.to_string().contains("must be one of eu, us"),
        "{answer}"
    );
    let (status, answer) = save(
        &admin,
        "oauth1",
        &[
            ("client_id", "cid"),
            ("client_secret", CLIENT_SECRET),
            ("region", "eu"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "not_connected");
    let authorize = url::Url::parse(answer["authorize_url"].as_str().unwrap()).unwrap();
    assert_eq!(authorize.path(), "/oauth/authorize");
    let query: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], "cid");
    assert_eq!(
        query["redirect_uri"],
        "https://pbx.example.com/integration/callback/api/crm/oauth1/"
    );
    assert_eq!(query["code_challenge_method"], "S256");
    // Nothing is stored until the callback succeeds.
    let shown = settings(&admin.browser, "oauth1").await;
    assert_eq!(shown["authorization"][1]["is_set"], false);
    assert_eq!(server.scalar("SELECT COUNT(*) FROM integrations").await, 0);
    assert_eq!(server.scalar("SELECT COUNT(*) FROM oauth_states").await, 1);
    assert_nowhere(&[&shown.to_string(), &answer.to_string()]);
}

async fn a_user_connects_and_disconnects_but_only_an_admin_applies(db: Db) {
    let crm = crm_that_answers_me().await;
    let (server, _admin) =
        portal_with(db, "shared", template("shared", "basic", &crm.uri(), true)).await;
    let hash = server::accounts::password::hash_password(USER_PASSWORD)
        .await
        .unwrap();
    server
        .state
        .accounts
        .insert("user@example.com", &hash, app::accounts::Role::User)
        .await
        .unwrap();
    let user = server.browser();
    let csrf = user.login_ok("user@example.com", USER_PASSWORD).await;

    let (status, _) = save_as(
        &user,
        "not-the-token",
        "shared",
        &[("username", "u"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "CSRF is checked");
    let (status, answer) = save_as(
        &user,
        &csrf,
        "shared",
        &[("username", "u"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("provider", "crm"),
        ("key", "shared"),
    ];
    let status = user
        .post_form("/api/apply_template", &fields)
        .await
        .status();
    assert_eq!(status, StatusCode::FORBIDDEN);
    let status = user
        .post_form("/api/disconnect_integration", &fields)
        .await
        .status();
    assert_eq!(status, StatusCode::OK);
    let shown = settings(&user, "shared").await;
    assert_eq!(shown["status"], "not_connected");
    assert_eq!(shown["fields"][1]["is_set"], false, "the password is gone");
    assert_eq!(shown["fields"][0]["value"], "u", "other values stay");
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM integration_secrets")
            .await,
        0
    );
}

async fn an_edited_template_is_applied_and_deleting_it_disconnects_first(db: Db) {
    let crm = crm_that_answers_me().await;
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let text = template("applied", "basic", &crm.uri(), true);
    uploaded(&admin, "applied", text.clone()).await;
    assert_eq!(
        save(
            &admin,
            "applied",
            &[("username", "ann"), ("password", PASSWORD)]
        )
        .await
        .0,
        StatusCode::OK
    );
    let (status, _) = admin
        .upload(
            "crm",
            &[(
                "applied.xml",
                text.replace("Version=\"1.0.0\"", "Version=\"1.1.0\""),
            )],
            &["applied"],
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let listed = &admin.list("crm").await["templates"][0];
    assert_eq!(listed["revision"], 2);
    assert_eq!(
        listed["in_use"],
        json!({"status": "connected", "running_revision": 1})
    );
    let applied = crm_action(&admin, "apply_template", "applied").await;
    assert_eq!(applied.status(), StatusCode::OK);
    // No test cases: nothing ran first.
    assert_eq!(
        applied.json::<Value>().await.unwrap(),
        json!({"applied": 2, "tests": null, "overridden": false})
    );
    assert_eq!(
        admin.list("crm").await["templates"][0]["in_use"]["running_revision"],
        2
    );

    let (status, refused) = admin.delete("/api/v1/templates/crm/applied").await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["code"], "template.in_use");
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM integration_secrets")
            .await,
        1,
        "nothing changed"
    );
    let (status, _) = admin
        .delete("/api/v1/templates/crm/applied?disconnect=true")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(server.scalar("SELECT COUNT(*) FROM integrations").await, 0);
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM integration_secrets")
            .await,
        0
    );
}

async fn a_key_rotation_reencrypts_every_secret(db: Db) {
    use server::crypto::cipher::{key_id, SecretCipher};
    let crm = MockServer::start().await;
    Mock::given(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .expect(2)
        .mount(&crm)
        .await;
    let (server, admin) = portal_with(
        db,
        "rotated",
        template("rotated", "basic", &crm.uri(), true),
    )
    .await;
    assert_eq!(
        save(
            &admin,
            "rotated",
            &[("username", "ann"), ("password", PASSWORD)]
        )
        .await
        .0,
        StatusCode::OK
    );

    let old = server.state.config.encryption_key.clone();
    let new = server::crypto::keys::generate_key();
    let rotating = SecretCipher::new(&new, std::slice::from_ref(&old));
    let repository = server.state.integrations.clone();
    let report = server::integrations::rotation::rotate(&repository, &rotating)
        .await
        .unwrap();
    assert_eq!((report.reencrypted, report.current), (1, 1));
    let again = server::integrations::rotation::rotate(&repository, &rotating)
        .await
        .unwrap();
    assert_eq!(again.reencrypted, 0, "a second run finds nothing left");
    assert_eq!(
        server
            .scalar(&format!(
                "SELECT COUNT(*) FROM integration_secrets WHERE key_id = '{}'",
                key_id(&new)
            ))
            .await,
        1
    );

    // The running server holds only the old key now: the stored password no longer reads.
    let (status, _) = save(&admin, "rotated", &[("username", "ann"), ("password", "")]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    // With the new key it does, and still proves itself against the CRM.
    let service = server::integrations::service::IntegrationsService {
        cipher: std::sync::Arc::new(SecretCipher::new(&new, &[])),
        ..server.state.integrations_service()
    };
    let outcome = service
        .save(
            "test",
            "session-secret",
            app::template::model::Provider::Crm,
            "rotated",
            &app::integrations::SettingsInput {
                values: vec![("username".into(), "ann".into())],
            },
        )
        .await
        .unwrap();
    assert_eq!(outcome.status, app::integrations::Status::Connected);

    // `patchbay secrets rotate` with the key file: a new key, every secret under it, the
    // file left with that key alone.
    let config = (*server.state.config).clone();
    let key_file = config.data_dir.join(server::config::KEY_FILE_NAME);
    let summary = server::cli::secrets::rotate_secrets(&server::config::Config {
        encryption_key: new.clone(),
        key_source: server::config::KeySource::KeyFile,
        ..config.clone()
    })
    .await
    .unwrap();
    assert_eq!(summary.report.reencrypted, 1);
    let written = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(written.lines().count(), 1, "only the new key stays");
    let newest = summary.key_id.clone();
    assert_ne!(newest, key_id(&new));
    assert_eq!(
        server
            .scalar(&format!(
                "SELECT COUNT(*) FROM integration_secrets WHERE key_id = '{newest}'"
            ))
            .await,
        1
    );
    // A run interrupted after writing "next key, then current key" is finished by the next.
    let reload = || {
        server::config::Config::load(&|name| match name {
            "PATCHBAY_DATA_DIR" => Some(config.data_dir.display().to_string()),
            "PATCHBAY_DATABASE_URL" => Some(config.database_url.clone()),
            _ => None,
        })
        .unwrap()
    };
    let (current, next) = (
        reload().encryption_key,
        server::crypto::keys::generate_key(),
    );
    server::config::write_key_file(&config.data_dir, &next, std::slice::from_ref(&current))
        .unwrap();
    let resumed = reload();
    assert_eq!(resumed.previous_keys.len(), 1);
    let summary = server::cli::secrets::rotate_secrets(&resumed)
        .await
        .unwrap();
    assert_eq!(
        (summary.key_id, summary.report.reencrypted),
        (key_id(&next), 1)
    );
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap().lines().count(),
        1
    );
}

async fn field_values_are_bounded_and_unknown_fields_refused(db: Db) {
    use server::integrations::connection::MAX_FIELD_VALUE_CHARS;
    let crm = MockServer::start().await;
    let (server, admin) = portal_with(
        db,
        "bounded",
        template("bounded", "basic", &crm.uri(), true),
    )
    .await;
    let long = "x".repeat(MAX_FIELD_VALUE_CHARS + 1);
    for (values, expected) in [
        (
            vec![("username", long.as_str()), ("password", PASSWORD)],
            "at most 4096 characters",
        ),
        (
            vec![("username", "ann\u{7}"), ("password", PASSWORD)],
            "control characters",
        ),
        (
            vec![("username", "ann"), ("password", PASSWORD), ("extra", "x")],
            "no such field",
        ),
    ] {
        let (status, answer) = save(&admin, "bounded", &values).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(
            answer.to_string().contains(expected),
            "{expected}: {answer}"
        );
    }
    assert!(crm.received_requests().await.unwrap().is_empty());
    assert_eq!(server.scalar("SELECT COUNT(*) FROM integrations").await, 0);
}

/// Save's and Check connection's test requests are runs like any other: in Activity
/// (origin `save`, `check`) with their status and error, secrets masked; a first Save that
/// fails has no integration to file it under and leaves nothing.
async fn save_and_check_run_through_the_runner_and_are_in_activity(db: Db) {
    // A CRM that echoes the refused credentials in its error, as some do.
    let crm = crm_accepting_ann(
        ResponseTemplate::new(401).set_body_string("bad password: wrong-Pass-Ibex-3131"),
    )
    .await;
    let (server, admin) =
        portal_with(db, "runs", template("runs", "basic", &crm.uri(), true)).await;
    let activity = || async {
        let response = admin.browser.get("/api/list_activity").await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<Value>().await.unwrap()["rows"].clone()
    };
    let wrong = [("username", "ann"), ("password", "wrong-Pass-Ibex-3131")];

    let (status, _) = save(&admin, "runs", &wrong).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(server.scalar("SELECT COUNT(*) FROM activity").await, 0);

    let (status, saved) = save(
        &admin,
        "runs",
        &[("username", "ann"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let rows = activity().await;
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(
        (
            &rows[0]["origin"],
            &rows[0]["scenario"],
            &rows[0]["outcome"]
        ),
        (&json!("save"), &json!("GetGlobalInfo"), &json!("success"))
    );
    assert_eq!(
        (&rows[0]["status"], &rows[0]["requests"]),
        (&json!(200), &json!(1))
    );

    let (status, refused) = save(&admin, "runs", &wrong).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let rows = activity().await;
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    assert_eq!(
        (&rows[0]["origin"], &rows[0]["outcome"]),
        (&json!("save"), &json!("failed"))
    );
    assert_eq!(rows[0]["status"], 401);
    let error = rows[0]["error"].as_str().unwrap();
    assert!(
        error.contains("refused the credentials") && error.contains("HTTP 401"),
        "{error}"
    );
    assert!(
        !error.contains("wrong-Pass-Ibex-3131"),
        "the refused password is masked: {error}"
    );
    assert!(
        !refused.to_string().contains("wrong-Pass-Ibex-3131"),
        "{refused}"
    );

    let checked = crm_action(&admin, "check_integration", "runs").await;
    assert_eq!(checked.status(), StatusCode::OK);
    let rows = activity().await;
    assert_eq!(rows.as_array().unwrap().len(), 3, "{rows}");
    assert_eq!(
        (&rows[0]["origin"], &rows[0]["outcome"], &rows[0]["status"]),
        (&json!("check"), &json!("success"), &json!(200))
    );
    assert_nowhere(&[&rows.to_string()]);
}
