//! The page actions over the REST API (`/api/v1/integrations`, `/queue`, `/activity`,
//! `/accounts`, `/tokens`): a script with an `admin` token does what an administrator does
//! on the pages, against a CRM stand-in, and the pages' rules hold for every other caller.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use wiremock::ResponseTemplate;

on_both_databases!(
    a_script_with_an_admin_token_does_what_the_pages_do,
    the_api_keeps_the_pages_rules,
);

const END: &str = r#"{"type":30012,"sn":"3631A2124XXX","msg":"{\"call_id\":\"1700000000.7\",\"time_start\":\"2023-11-14 22:13:20\",\"call_from\":\"5550100\",\"call_to\":\"1001\",\"call_duration\":65,\"talk_duration\":60,\"status\":\"ANSWERED\",\"type\":\"Inbound\",\"recording\":\"\"}"}"#;

const CALLS: &str = "/api/v1/integrations/crm/calls_crm";

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

async fn a_script_with_an_admin_token_does_what_the_pages_do(db: Db) {
    let crm = calls_crm(ResponseTemplate::new(503).set_body_string("down")).await;
    let server = TestServer::start_with_env(
        db,
        true,
        &[
            ("PATCHBAY_QUEUE_RETRY_BASE_MS", "20"),
            ("PATCHBAY_QUEUE_MAX_ATTEMPTS", "1"),
        ],
    )
    .await;
    let admin = admin(&server).await;
    let script = Script::new(&server, admin.create_token("provisioning", "admin").await);

    // The template, uploaded and connected by the script.
    let upload = script
        .client
        .post(server.url("/api/v1/templates/crm"))
        .bearer_auth(&script.token)
        .multipart(
            reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::text(Fixture::load("calls-crm.xml").at(&crm.uri()))
                    .file_name("calls.xml"),
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), StatusCode::OK);
    let (status, listed) = script.get("/api/v1/integrations/crm").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["integrations"][0]["key"], "calls_crm");
    assert_eq!(
        listed["integrations"][0]["status"], "not_connected",
        "{listed}"
    );
    let (status, saved) = script
        .send(
            Method::PUT,
            &format!("{CALLS}/settings"),
            Some(json!({"values": {}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["status"], "connected", "{saved}");
    let (status, _) = script
        .send(
            Method::PUT,
            &format!("{CALLS}/features"),
            Some(json!({"journal": {"enabled": true, "calls": "external"}})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, settings) = script.get(CALLS).await;
    assert_eq!(
        settings["features"]["journal"]["enabled"], true,
        "{settings}"
    );
    assert_eq!(settings["status"], "connected");

    // Check connection and the console reach the CRM; the phonebook can be read and emptied.
    let (status, checked) = script
        .send(Method::POST, &format!("{CALLS}/check"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    assert!(checked["message"].is_string(), "{checked}");
    let (status, report) = script
        .send(
            Method::POST,
            &format!("{CALLS}/console"),
            Some(json!({"scenario": "SyncContactAuto", "phone": "5550177"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let sent = crm.received_requests().await.unwrap();
    assert!(
        sent.iter()
            .any(|r| r.url.path() == "/contacts" && r.url.query().unwrap_or("").contains("5550177")),
        "the console's lookup reached the CRM"
    );
    let (status, phonebook) = script.get(&format!("{CALLS}/contacts?offset=0")).await;
    assert_eq!(status, StatusCode::OK, "{phonebook}");
    assert!(phonebook["total"].is_u64(), "{phonebook}");
    let (status, cleared) = script
        .send(Method::DELETE, &format!("{CALLS}/contacts"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert!(cleared["removed"].is_u64());
    let (status, refused) = script.get(&format!("{CALLS}/contacts?offset=minus")).await;
    assert_eq!(
        (status, error_code(&refused)),
        (StatusCode::UNPROCESSABLE_ENTITY, "request.invalid")
    );

    // Users: sync, list, associate by hand and automatically.
    let (status, imported) = admin
        .import_extensions(
            "number,first_name,last_name,email\n1001,Ann,Lee,ann@example.com\n",
            false,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    let (status, synced) = script
        .send(Method::POST, &format!("{CALLS}/users/sync"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{synced}");
    assert_eq!(synced["users"], 1, "{synced}");
    let (_, progress) = script.get(&format!("{CALLS}/users/sync")).await;
    assert_eq!(progress["running"], false, "{progress}");
    let (_, users) = script.get(&format!("{CALLS}/users?search=ann")).await;
    assert_eq!(users["users"][0]["crm_id"], "u1", "{users}");
    let (status, would) = script
        .send(
            Method::POST,
            &format!("{CALLS}/users/associate-automatically"),
            Some(json!({"apply": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{would}");
    assert_eq!(
        (&would["associated"], &would["applied"]),
        (&json!(1), &json!(false))
    );
    let (status, set) = script
        .send(
            Method::PUT,
            &format!("{CALLS}/users/u1/extensions"),
            Some(json!({"extensions": ["1001"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["extensions"], json!(["1001"]));
    let (status, refused) = script
        .send(
            Method::PUT,
            &format!("{CALLS}/users/u1/extensions"),
            Some(json!({"extensions": "1001"})),
        )
        .await;
    assert_eq!(
        (status, error_code(&refused)),
        (StatusCode::UNPROCESSABLE_ENTITY, "request.invalid"),
        "{refused}"
    );

    // A call whose journal the CRM refuses: failed in the queue, then discarded; Activity
    // lists what ran.
    let events = admin.create_token("pbx", "events").await;
    let response = reqwest::Client::new()
        .post(server.url("/api/v1/events/yeastar"))
        .bearer_auth(&events)
        .header("content-type", "application/json")
        .body(END)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    settled(&server).await;
    let (status, queue) = script.get("/api/v1/queue?state=failed").await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let job = &queue["jobs"][0];
    assert_eq!(
        (&job["step"], &job["state"]),
        (&json!("journal"), &json!("failed")),
        "{queue}"
    );
    let id = job["id"].as_i64().unwrap();
    let (status, _) = script
        .send(Method::POST, &format!("/api/v1/queue/{id}/discard"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, again) = script
        .send(Method::POST, &format!("/api/v1/queue/{id}/retry"), None)
        .await;
    assert_eq!(
        (status, error_code(&again)),
        (StatusCode::NOT_FOUND, "queue.not_found"),
        "a discarded job is not retried: {again}"
    );
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM queue_jobs WHERE state = 'discarded'")
            .await,
        1
    );
    let (status, activity) = script
        .get("/api/v1/activity?integration=crm/calls_crm&scenario=CallJournal")
        .await;
    assert_eq!(status, StatusCode::OK, "{activity}");
    let rows = activity["rows"].as_array().unwrap();
    assert!(!rows.is_empty(), "{activity}");
    assert!(
        rows.iter().all(|r| r["scenario"] == "CallJournal"),
        "{activity}"
    );

    // Disconnect forgets the connection.
    let (status, said) = script
        .send(Method::POST, &format!("{CALLS}/disconnect"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{said}");
    let (_, settings) = script.get(CALLS).await;
    assert_eq!(settings["status"], "not_connected", "{settings}");
    let (status, missing) = script.get("/api/v1/integrations/crm/nope").await;
    assert_eq!(
        (status, error_code(&missing)),
        (StatusCode::NOT_FOUND, "integration.not_found")
    );

    // Accounts: add, refuse a short password, disable, set a password, delete.
    let (status, account) = script
        .send(
            Method::POST,
            "/api/v1/accounts",
            Some(json!({"email": "bob@example.com", "password": USER_PASSWORD, "role": "user"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    let bob = account["id"].as_i64().unwrap();
    let (status, short) = script
        .send(
            Method::PUT,
            &format!("/api/v1/accounts/{bob}/password"),
            Some(json!({"password": "short"})),
        )
        .await;
    assert_eq!(
        (status, error_code(&short)),
        (StatusCode::UNPROCESSABLE_ENTITY, "account.invalid"),
        "{short}"
    );
    let (status, _) = script
        .send(
            Method::PATCH,
            &format!("/api/v1/accounts/{bob}"),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, accounts) = script.get("/api/v1/accounts").await;
    let listed = accounts["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == bob)
        .cloned()
        .unwrap();
    assert_eq!(listed["disabled"], true);
    let refused = server
        .browser()
        .login("bob@example.com", USER_PASSWORD)
        .await;
    assert_eq!(
        location(&refused),
        "/login?msg=invalid",
        "a disabled account cannot sign in"
    );
    let (status, _) = script
        .send(
            Method::PUT,
            &format!("/api/v1/accounts/{bob}/password"),
            Some(json!({"password": RESET_PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = script
        .send(Method::DELETE, &format!("/api/v1/accounts/{bob}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = script
        .send(Method::DELETE, &format!("/api/v1/accounts/{bob}"), None)
        .await;
    assert_eq!(
        (status, error_code(&gone)),
        (StatusCode::NOT_FOUND, "account.not_found")
    );

    // Tokens: one made with this 90-day token cannot outlive it.
    let (status, longer) = script
        .send(
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "ci", "scope": "lookup", "expires_in_days": 365})),
        )
        .await;
    assert_eq!(
        (status, error_code(&longer)),
        (StatusCode::UNPROCESSABLE_ENTITY, "token.outlives"),
        "{longer}"
    );
    let (status, forever) = script
        .send(
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "ci", "scope": "lookup"})),
        )
        .await;
    assert_eq!(
        (status, error_code(&forever)),
        (StatusCode::UNPROCESSABLE_ENTITY, "token.outlives")
    );
    let (status, created) = script
        .send(
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "ci", "scope": "lookup", "expires_in_days": 30})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let lookup_token = created["token"].as_str().unwrap().to_owned();
    let made = created["summary"]["id"].as_i64().unwrap();
    let (_, tokens) = script.get("/api/v1/tokens").await;
    let text = tokens.to_string();
    assert!(
        text.contains("\"ci\"") && !text.contains(&lookup_token),
        "{tokens}"
    );
    let (status, _) = script
        .send(Method::DELETE, &format!("/api/v1/tokens/{made}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let revoked = Script::new(&server, lookup_token);
    let (status, _) = revoked.get("/api/v1/contacts/lookup?phone=5550100").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked token is refused"
    );
}

async fn the_api_keeps_the_pages_rules(db: Db) {
    let crm = calls_crm(ResponseTemplate::new(201).set_body_json(json!({"id": "j1"}))).await;
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    admin.connect_calls_crm(&crm.uri()).await;
    let user = admin.new_user(&server, "user@example.com").await;
    let agent = admin
        .new_account(&server.base, "agent@example.com", "agent")
        .await;

    // A user may do what the integration pages let users do, with the CSRF header …
    let features = json!({"journal": {"enabled": true}});
    let no_csrf = user
        .browser
        .client
        .put(server.url(&format!("{CALLS}/features")))
        .json(&features)
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN, "no CSRF header");
    let body: Value = no_csrf.json().await.unwrap();
    assert_eq!(error_code(&body), "auth.csrf", "in the API's own shape");
    let with_csrf = user
        .browser
        .client
        .put(server.url(&format!("{CALLS}/features")))
        .header("x-csrf-token", &user.csrf)
        .json(&features)
        .send()
        .await
        .unwrap();
    assert_eq!(with_csrf.status(), StatusCode::NO_CONTENT);
    let (status, _) = user.browser.get_json("/api/v1/queue").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "users see the queue, as on Activity"
    );

    // … but not what only administrators do.
    for (method, path) in [
        (Method::GET, "/api/v1/accounts"),
        (Method::GET, "/api/v1/tokens"),
        (Method::POST, "/api/v1/queue/1/retry"),
        (Method::POST, "/api/v1/queue/1/discard"),
        (Method::GET, "/api/v1/gallery"),
        (Method::POST, "/api/v1/gallery/pipedrive"),
        (Method::POST, "/api/v1/import/3cx"),
    ] {
        let response = user
            .browser
            .client
            .request(method.clone(), server.url(path))
            .header("x-csrf-token", &user.csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "auth.forbidden", "{method} {path}");
    }
    // Agents see their own calls only.
    let (status, body) = agent.browser.get_json("/api/v1/integrations/crm").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "auth.forbidden")
    );
    // Tokens of another scope, and nobody at all.
    let lookup = Script::new(&server, admin.create_token("lookups", "lookup").await);
    for path in [
        "/api/v1/integrations/crm",
        "/api/v1/activity",
        "/api/v1/accounts",
    ] {
        let (status, body) = lookup.get(path).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::FORBIDDEN, "auth.scope"),
            "{path}"
        );
    }
    let (status, body) = server.browser().get_json("/api/v1/integrations/crm").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "auth.required")
    );

    // OAuth 2.0 is authorized in the browser of the session that saved, never by a token.
    let oauth = crate::common::oauth::template(&crm.uri());
    let (status, body) = admin.upload("crm", &[("oauth.xml", oauth)], &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let key = body["results"][0]["key"]
        .as_str()
        .unwrap_or("oauth_crm")
        .to_owned();
    let script = Script::new(&server, admin.create_token("ops", "admin").await);
    let (status, refused) = script
        .send(
            Method::PUT,
            &format!("/api/v1/integrations/crm/{key}/settings"),
            Some(json!({"values": {"client_id": "id", "client_secret": "secret"}})),
        )
        .await;
    assert_eq!(
        (status, error_code(&refused)),
        (StatusCode::CONFLICT, "integration.oauth_browser"),
        "{refused}"
    );
}
