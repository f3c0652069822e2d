//! API tokens: created on the Accounts page, accepted by the REST API only, revocable.

use crate::common::*;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::Value;

on_both_databases!(
    a_token_is_shown_once_and_works_on_the_rest_api_without_csrf,
    bad_and_revoked_tokens_are_refused,
    tokens_do_not_reach_pages_or_server_functions,
    tokens_act_as_their_account_within_their_scope,
);

async fn create_token(admin: &Browser, csrf: &str, name: &str) -> Value {
    create_scoped_token(admin, csrf, name, "admin", "90").await
}

async fn create_scoped_token(
    admin: &Browser,
    csrf: &str,
    name: &str,
    scope: &str,
    days: &str,
) -> Value {
    let response = admin
        .post_form(
            "/api/create_api_token",
            &[
                ("csrf_token", csrf),
                ("name", name),
                ("scope", scope),
                ("expires_in_days", days),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn api_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn a_token_is_shown_once_and_works_on_the_rest_api_without_csrf(db: Db) {
    let server = TestServer::start(db).await;
    let admin = server.browser();
    let csrf = admin.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let created = create_token(&admin, &csrf, "Template CI").await;
    let token = created["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("pbt_") && token.len() > 40, "{token}");
    assert_eq!(created["summary"]["created_by"], ADMIN_EMAIL);

    let listed = admin
        .get("/api/list_api_tokens")
        .await
        .text()
        .await
        .unwrap();
    assert!(listed.contains("Template CI"));
    assert!(!listed.contains(&token), "the list never shows the token");
    assert!(listed.contains(&token[..12]), "but it shows its prefix");

    let client = api_client();
    let upload = client
        .post(server.url("/api/v1/templates/crm"))
        .bearer_auth(&token)
        .multipart(Form::new().part("file", Part::text(crm_fixture_text()).file_name("t.xml")))
        .send()
        .await
        .unwrap();
    assert!(
        upload.headers().get("set-cookie").is_none(),
        "token requests start no session"
    );
    assert_eq!(
        upload.status(),
        StatusCode::OK,
        "no CSRF token needed with an API token"
    );
    let body: Value = upload.json().await.unwrap();
    assert_eq!(body["results"][0]["status"], "stored", "{body}");

    let list: Value = client
        .get(server.url("/api/v1/templates/crm"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["count"], 1);
    let tokens: Value = admin
        .get("/api/list_api_tokens")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        tokens[0]["last_used_at"].is_i64(),
        "use is recorded: {tokens}"
    );

    let logs = String::from_utf8(captured_logs().lock().unwrap().clone()).unwrap();
    assert!(logs.contains("API token created"));
    assert!(!logs.contains(&token), "the token never reaches the log");
}

async fn bad_and_revoked_tokens_are_refused(db: Db) {
    let server = TestServer::start(db).await;
    let admin = server.browser();
    let csrf = admin.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let created = create_token(&admin, &csrf, "Short-lived").await;
    let token = created["token"].as_str().unwrap();
    let id = created["summary"]["id"].as_i64().unwrap().to_string();
    let client = api_client();
    let list = |bearer: String| {
        let client = client.clone();
        let url = server.url("/api/v1/templates/crm");
        async move { client.get(url).bearer_auth(bearer).send().await.unwrap() }
    };

    assert_eq!(list(token.to_string()).await.status(), StatusCode::OK);
    for bad in ["pbt_not-a-real-token", "something-else", ""] {
        let response = list(bad.to_string()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bad:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "auth.token");
    }

    let revoked = admin
        .post_form(
            "/api/revoke_api_token",
            &[("csrf_token", &csrf), ("id", &id)],
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        list(token.to_string()).await.status(),
        StatusCode::UNAUTHORIZED,
        "revoked at once"
    );
    let again = admin
        .post_form(
            "/api/revoke_api_token",
            &[("csrf_token", &csrf), ("id", &id)],
        )
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

async fn tokens_do_not_reach_pages_or_server_functions(db: Db) {
    let server = TestServer::start(db).await;
    let admin = server.browser();
    let csrf = admin.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = create_token(&admin, &csrf, "Narrow").await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let client = api_client();

    let page = client
        .get(server.url("/accounts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER, "pages need a session");
    let read = client
        .get(server.url("/api/list_accounts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        read.status(),
        StatusCode::UNAUTHORIZED,
        "server functions need a session"
    );
    let write = client
        .post(server.url("/api/create_account"))
        .bearer_auth(&token)
        .form(&[
            ("email", "eve@example.com"),
            ("password", USER_PASSWORD),
            ("role", "admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    let accounts: Value = admin.get("/api/list_accounts").await.json().await.unwrap();
    assert_eq!(accounts.as_array().unwrap().len(), 1, "nothing was created");

    let no_csrf = server
        .browser()
        .client
        .post(server.url("/api/create_api_token"))
        .form(&[("name", "sneaky")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        no_csrf.status(),
        StatusCode::FORBIDDEN,
        "creating tokens needs the session's CSRF token"
    );
}

async fn tokens_act_as_their_account_within_their_scope(db: Db) {
    let server = TestServer::start(db).await;
    let admin = server.browser();
    let csrf = admin.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let client = api_client();
    let list = |bearer: String| {
        let client = client.clone();
        let url = server.url("/api/v1/templates/crm");
        async move { client.get(url).bearer_auth(bearer).send().await.unwrap() }
    };

    let events = create_scoped_token(&admin, &csrf, "PBX events", "events", "never").await;
    assert_eq!(events["summary"]["scope"], "events");
    assert_eq!(events["summary"]["expires_at"], Value::Null);
    let response = list(events["token"].as_str().unwrap().to_string()).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "auth.scope");

    let yearly = create_scoped_token(&admin, &csrf, "Yearly", "admin", "365").await;
    let expires_at = yearly["summary"]["expires_at"].as_i64().unwrap();
    let created_at = yearly["summary"]["created_at"].as_i64().unwrap();
    assert_eq!(expires_at - created_at, 365 * 24 * 60 * 60);

    for (scope, days) in [("root", "30"), ("admin", "0"), ("admin", "forever")] {
        let refused = admin
            .post_form(
                "/api/create_api_token",
                &[
                    ("csrf_token", csrf.as_str()),
                    ("name", "Bad"),
                    ("scope", scope),
                    ("expires_in_days", days),
                ],
            )
            .await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{scope} {days}"
        );
    }

    // A token made by an administrator who is later disabled stops working.
    let second_admin = "second@example.com";
    let created = admin
        .post_form(
            "/api/create_account",
            &[
                ("csrf_token", csrf.as_str()),
                ("email", second_admin),
                ("password", USER_PASSWORD),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let other = server.browser();
    let other_csrf = other.login_ok(second_admin, USER_PASSWORD).await;
    let theirs = create_token(&other, &other_csrf, "Theirs").await["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(list(theirs.clone()).await.status(), StatusCode::OK);
    let disabled = admin
        .post_form(
            "/api/set_account_disabled",
            &[
                ("csrf_token", csrf.as_str()),
                ("id", &id.to_string()),
                ("disabled", "true"),
            ],
        )
        .await;
    assert_eq!(disabled.status(), StatusCode::OK);
    assert_eq!(list(theirs).await.status(), StatusCode::UNAUTHORIZED);
}
