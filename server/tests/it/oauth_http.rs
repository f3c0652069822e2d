//! OAuth 2.0 over real HTTP, on SQLite and PostgreSQL: Save starts the authorization, the
//! callback exchanges the code, tokens are refreshed once however many requests find them
//! wanting. The CRM and its token endpoint are a loopback `wiremock` server that behaves as a
//! strict provider: it rotates refresh tokens, answers `invalid_grant` to a spent one, and
//! its API accepts only the newest access token.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::oauth::*;
use crate::common::*;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

on_both_databases!(
    every_token_content_type_and_credential_type_exchanges_exactly_these_fields,
    a_refused_token_is_refreshed_once_and_a_rotated_refresh_token_is_kept,
    two_hundred_requests_after_expiry_cause_one_refresh,
    two_hundred_refused_requests_cause_one_refresh,
    invalid_grant_marks_the_integration_token_invalid_with_the_reason,
    bad_callbacks_explain_themselves_and_keep_the_working_tokens,
    token_endpoint_failures_are_502_pages_that_store_nothing,
    disconnect_revokes_at_the_revocation_endpoint_and_reports_it,
    the_background_refresh_renews_a_token_on_schedule_unless_turned_off,
    bearer_asks_for_a_new_client_credentials_token_when_its_token_is_refused,
    a_user_reauthorizing_never_sees_or_moves_the_stored_client_secret,
);

struct Portal {
    server: TestServer,
    admin: Admin,
}

async fn portal(db: Db, text: String) -> Portal {
    portal_with_env(db, text, &[]).await
}

async fn portal_with_env(db: Db, text: String, env: &[(&str, &str)]) -> Portal {
    let mut env = env.to_vec();
    env.push(("PATCHBAY_PUBLIC_URL", "https://pbx.example.com"));
    let server = TestServer::start_with_env(db, true, &env).await;
    let admin = admin(&server).await;
    let (status, body) = admin.upload("crm", &[("t.xml", text)], &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["status"], "stored", "{body}");
    Portal { server, admin }
}

/// An authorization Save started: its URL's parameters.
struct Started {
    query: HashMap<String, String>,
}

impl Started {
    fn state(&self) -> &str {
        &self.query["state"]
    }
}

async fn start(browser: &Browser, csrf: &str) -> Started {
    let (status, answer) = browser
        .call(
            "save_integration",
            json!({"csrf_token": csrf, "provider": "crm", "key": KEY,
                   "input": {"values": [["client_id", CLIENT_ID], ["client_secret", CLIENT_SECRET]]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let url = url::Url::parse(answer["authorize_url"].as_str().unwrap()).unwrap();
    Started {
        query: url.query_pairs().into_owned().collect(),
    }
}

const CALLBACK: &str = "/integration/callback/api/crm/oauthcrm/";

async fn callback(browser: &Browser, query: &[(&str, &str)]) -> (StatusCode, String) {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    browser.get_text(&format!("{CALLBACK}?{query}")).await
}

/// Save, then the provider's redirect back with a code: connected.
async fn connect(portal: &Portal) -> Started {
    let started = start(&portal.admin.browser, &portal.admin.csrf).await;
    let (status, page) = callback(
        &portal.admin.browser,
        &[("code", "c0de-Jaguar"), ("state", started.state())],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Authorization succeeded!"), "{page}");
    started
}

async fn settings(portal: &Portal) -> Value {
    portal
        .admin
        .browser
        .get(&format!("/api/integration_settings?provider=crm&key={KEY}"))
        .await
        .json()
        .await
        .unwrap()
}

/// Calls a URL-encoded server function on the integration, as the page's buttons do.
async fn action(portal: &Portal, function: &str) -> (StatusCode, Value) {
    let response = portal
        .admin
        .browser
        .post_form(
            &format!("/api/{function}"),
            &[
                ("csrf_token", &portal.admin.csrf),
                ("provider", "crm"),
                ("key", KEY),
            ],
        )
        .await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn check(portal: &Portal) -> (StatusCode, Value) {
    action(portal, "check_integration").await
}

async fn stored_secrets(server: &TestServer) -> Vec<String> {
    let db = &server.state.db;
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT ciphertext FROM integration_secrets ORDER BY name",
    ))
    .await
    .unwrap()
    .iter()
    .map(|row| row.try_get_by_index::<String>(0).unwrap())
    .collect()
}

/// No token, code, verifier or client secret in any of `texts` or in the log.
fn assert_nowhere(secrets: &[String], texts: &[&str]) {
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned();
    for secret in secrets {
        assert!(!logs.contains(secret.as_str()), "{secret} in the log");
        for text in texts {
            assert!(!text.contains(secret.as_str()), "{secret} in {text}");
        }
    }
}

async fn every_token_content_type_and_credential_type_exchanges_exactly_these_fields(db: Db) {
    for (content_type, credential_type) in [
        ("application/x-www-form-urlencoded", "client_secret_post"),
        ("application/json", "client_secret_post"),
        ("application/x-www-form-urlencoded", "client_secret_basic"),
        ("application/json", "client_secret_basic"),
    ] {
        let (crm, provider) = strict_crm().await;
        let text = fixture()
            .parameter("AuthMethod", "TokenContentType", content_type)
            .parameter("AuthMethod", "CredentialType", credential_type)
            .at(&crm.uri());
        let portal = portal(db, text).await;
        let started = start(&portal.admin.browser, &portal.admin.csrf).await;
        let query = &started.query;
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], CLIENT_ID);
        assert_eq!(
            query["redirect_uri"],
            "https://pbx.example.com/integration/callback/api/crm/oauthcrm/"
        );
        assert_eq!(query["scope"], "api refresh_token");
        assert_eq!(query["code_challenge_method"], "S256");
        assert!(query["state"].len() >= 22, "a random state: {query:?}");

        let (status, page) = callback(
            &portal.admin.browser,
            &[("code", "c0de-Jaguar"), ("state", started.state())],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Authorization succeeded!"), "{page}");

        let (fields, authorization) = provider.last_request();
        let verifier = fields["code_verifier"].clone();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        assert_eq!(
            challenge, query["code_challenge"],
            "the verifier matches the challenge"
        );
        let mut expected: HashMap<String, String> = [
            ("grant_type", "authorization_code"),
            ("code", "c0de-Jaguar"),
            (
                "redirect_uri",
                "https://pbx.example.com/integration/callback/api/crm/oauthcrm/",
            ),
            ("code_verifier", verifier.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        if credential_type == "client_secret_post" {
            expected.insert("client_id".into(), CLIENT_ID.into());
            expected.insert("client_secret".into(), CLIENT_SECRET.into());
            assert_eq!(authorization, None);
        } else {
            let basic = STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
            assert_eq!(authorization, Some(format!("Basic {basic}")));
        }
        assert_eq!(fields, expected, "{content_type} / {credential_type}");
        let received = crm.received_requests().await.unwrap();
        let token_request = received.iter().find(|r| r.url.path() == "/token").unwrap();
        assert_eq!(
            token_request.headers["content-type"].to_str().unwrap(),
            content_type
        );

        let shown = settings(&portal).await;
        assert_eq!(shown["status"], "connected", "{shown}");
        assert_eq!(
            shown["global_variables"], 1,
            "GetGlobalInfo ran with the token"
        );
        assert!(shown["token_issued_at"].is_i64(), "{shown}");
        assert!(
            shown["token_expires_at"].is_null(),
            "the provider said no expiry"
        );
        let sealed = stored_secrets(&portal.server).await;
        assert_eq!(
            sealed.len(),
            3,
            "access and refresh token and client secret"
        );
        let mut secrets = provider.tokens();
        secrets.extend([CLIENT_SECRET.to_owned(), "c0de-Jaguar".into(), verifier]);
        assert_nowhere(&secrets, &[&shown.to_string(), &page, &sealed.join(" ")]);
        assert_eq!(
            portal
                .server
                .scalar("SELECT COUNT(*) FROM oauth_states")
                .await,
            0
        );
    }
}

async fn a_refused_token_is_refreshed_once_and_a_rotated_refresh_token_is_kept(db: Db) {
    let (crm, provider) = strict_crm().await;
    let portal = portal(db, template(&crm.uri())).await;
    connect(&portal).await;
    // The CRM forgets the first token: the next request is refused, refreshed, repeated.
    provider.forget_access_token();
    let (status, answer) = check(&portal).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(provider.refreshes(), 1);
    let (fields, _) = provider.last_request();
    assert_eq!(
        fields,
        [
            ("grant_type", "refresh_token"),
            ("refresh_token", "refresh-Token-1-Gecko"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect::<HashMap<_, _>>()
    );
    // Once more: the rotated refresh token (the third issued) is the one used now.
    provider.forget_access_token();
    let (status, answer) = check(&portal).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(provider.refreshes(), 2);
    assert_eq!(
        provider.last_request().0["refresh_token"],
        "refresh-Token-3-Gecko"
    );
    assert_eq!(settings(&portal).await["status"], "connected");
    assert_nowhere(&provider.tokens(), &[&answer.to_string()]);
}

/// Runs `service.check` `n` times at once; answers how many succeeded.
async fn at_once(portal: &Portal, n: usize) -> usize {
    let mut running = tokio::task::JoinSet::new();
    for _ in 0..n {
        let service = portal.server.state.integrations_service();
        running.spawn(async move {
            service
                .check("load", app::template::model::Provider::Crm, KEY)
                .await
        });
    }
    let mut ok = 0;
    while let Some(outcome) = running.join_next().await {
        match outcome.unwrap() {
            Ok(_) => ok += 1,
            Err(error) => eprintln!("a check failed: {error}"),
        }
    }
    ok
}

async fn two_hundred_requests_after_expiry_cause_one_refresh(db: Db) {
    let (crm, provider) = strict_crm().await;
    provider.0.lock().unwrap().expires_in = Some(3600);
    let portal = portal(db, template(&crm.uri())).await;
    connect(&portal).await;
    // The token expired a moment ago.
    portal
        .server
        .execute("UPDATE integrations SET token_expires_at = token_expires_at - 3601")
        .await;
    assert_eq!(at_once(&portal, 200).await, 200);
    assert_eq!(provider.refreshes(), 1, "exactly one token request");
    let api_calls = crm
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/me")
        .count();
    assert_eq!(
        api_calls,
        1 + 200,
        "no request went out with the expired token twice"
    );
}

async fn two_hundred_refused_requests_cause_one_refresh(db: Db) {
    let (crm, provider) = strict_crm().await;
    let portal = portal(db, template(&crm.uri())).await;
    connect(&portal).await;
    provider.forget_access_token();
    assert_eq!(at_once(&portal, 200).await, 200);
    assert_eq!(provider.refreshes(), 1, "exactly one token request");
    assert_eq!(settings(&portal).await["status"], "connected");
}

async fn invalid_grant_marks_the_integration_token_invalid_with_the_reason(db: Db) {
    let (crm, provider) = strict_crm().await;
    let portal = portal(db, template(&crm.uri())).await;
    connect(&portal).await;
    {
        let mut provider = provider.0.lock().unwrap();
        provider.access.push("revoked-elsewhere".into());
        let refresh = provider.refresh[0].clone();
        provider.spent.push(refresh);
    }
    let (status, answer) = check(&portal).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let shown = settings(&portal).await;
    assert_eq!(shown["status"], "token_invalid", "{shown}");
    let error = shown["last_error"].as_str().unwrap();
    assert!(
        error.contains("invalid_grant: grant request is invalid"),
        "{error}"
    );
    assert!(error.contains("Reconnect"), "{error}");
    // Nothing more is sent with a token known to be dead.
    let before = provider.0.lock().unwrap().token_requests.len();
    let (status, _) = check(&portal).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(provider.0.lock().unwrap().token_requests.len(), before);
    // Reconnect: a new authorization makes it Connected again.
    connect(&portal).await;
    assert_eq!(settings(&portal).await["status"], "connected");
}

async fn bad_callbacks_explain_themselves_and_keep_the_working_tokens(db: Db) {
    let (crm, provider) = strict_crm().await;
    let portal = portal(db, template(&crm.uri())).await;
    let first = connect(&portal).await;
    let working = stored_secrets(&portal.server).await;
    let browser = &portal.admin.browser;

    let started = start(browser, &portal.admin.csrf).await;
    // (case, callback query, status, what the page says)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (
            "no state",
            vec![("code", "x")],
            StatusCode::BAD_REQUEST,
            "has no state",
        ),
        (
            "forged state",
            vec![("code", "x"), ("state", "forged")],
            StatusCode::BAD_REQUEST,
            "unknown, was already used, or has expired",
        ),
        (
            "replayed state",
            vec![("code", "x"), ("state", first.state())],
            StatusCode::BAD_REQUEST,
            "unknown, was already used, or has expired",
        ),
        (
            "no code",
            vec![("state", started.state())],
            StatusCode::BAD_REQUEST,
            "has no authorization code",
        ),
    ];
    for (case, query, status, says) in cases {
        let (got, page) = callback(browser, &query).await;
        assert_eq!(got, status, "{case}: {page}");
        assert!(page.contains(says), "{case}: {page}");
        assert!(page.contains("Authorization failed"), "{case}: {page}");
        assert!(
            page.contains("href=\"/integrations/crm/oauthcrm\""),
            "{case}: a way back"
        );
    }

    // The provider's error redirect: shown, escaped.
    let started = start(browser, &portal.admin.csrf).await;
    let (status, page) = callback(
        browser,
        &[
            ("error", "access_denied"),
            ("error_description", "<script>alert(1)</script> said no"),
            ("state", started.state()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(
        page.contains("access_denied (&lt;script&gt;alert(1)&lt;/script&gt; said no)"),
        "{page}"
    );
    assert!(!page.contains("<script>"), "{page}");

    // A reused code: the token endpoint refuses the grant.
    let started = start(browser, &portal.admin.csrf).await;
    let (status, page) = callback(
        browser,
        &[("code", "spent-code"), ("state", started.state())],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("the code was already used"), "{page}");

    // An expired state.
    let started = start(browser, &portal.admin.csrf).await;
    portal
        .server
        .execute("UPDATE oauth_states SET expires_at = expires_at - 601")
        .await;
    let (status, page) = callback(browser, &[("code", "x"), ("state", started.state())]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(
        page.contains("has expired (they last 10 minutes)"),
        "{page}"
    );

    // A state from another session is refused there and still works in its own.
    let started = start(browser, &portal.admin.csrf).await;
    let other = portal.server.browser();
    other.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, page) = callback(&other, &[("code", "c0de"), ("state", started.state())]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("another browser session"), "{page}");
    // Nobody signed in: explained, nothing spent.
    let anonymous = portal.server.browser();
    let (status, page) =
        callback(&anonymous, &[("code", "c0de"), ("state", started.state())]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");
    assert!(page.contains("Sign in to Patchbay"), "{page}");
    assert!(page.contains("href=\"/login\""), "{page}");

    assert_eq!(
        stored_secrets(&portal.server).await,
        working,
        "the working tokens stay"
    );
    assert_eq!(settings(&portal).await["status"], "connected");
    let exchanges_before = provider.0.lock().unwrap().token_requests.len();
    let (status, page) = callback(browser, &[("code", "c0de-2"), ("state", started.state())]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        provider.0.lock().unwrap().token_requests.len(),
        exchanges_before + 1
    );

    // The trailing slash is optional.
    let started = start(browser, &portal.admin.csrf).await;
    let (status, page) = browser
        .get_text(&format!(
            "/integration/callback/api/crm/oauthcrm?code=c0de-3&state={}",
            started.state()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_nowhere(&provider.tokens(), &[&page]);
}

async fn token_endpoint_failures_are_502_pages_that_store_nothing(db: Db) {
    let (crm, provider) = strict_crm().await;
    // A token endpoint that does not answer in time: the request timeout is 1 s.
    Mock::given(method("POST"))
        .and(path("/slow/token"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&crm)
        .await;
    let portal = portal_with_env(
        db,
        template(&crm.uri()),
        &[("PATCHBAY_REQUEST_TIMEOUT_SECS", "1")],
    )
    .await;
    connect(&portal).await;
    let working = stored_secrets(&portal.server).await;
    let browser = &portal.admin.browser;
    let cases = [
        (
            ResponseTemplate::new(500).set_body_string("upstream exploded"),
            "HTTP 500",
        ),
        (
            ResponseTemplate::new(200).set_body_raw("<html>login</html>", "text/html"),
            "text/html",
        ),
        (
            ResponseTemplate::new(200).set_body_raw("{not json", "application/json"),
            "invalid JSON",
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"token": "x"})),
            "the answer has no access_token",
        ),
    ];
    for (answer, says) in cases {
        provider.0.lock().unwrap().failure = Some(answer);
        let started = start(browser, &portal.admin.csrf).await;
        let (status, page) = callback(browser, &[("code", "c"), ("state", started.state())]).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{says}: {page}");
        assert!(page.contains(says), "{says}: {page}");
    }
    provider.0.lock().unwrap().failure = None;
    assert_eq!(stored_secrets(&portal.server).await, working);

    // The slow endpoint, through a template that points there.
    let slow = fixture()
        .parameter(
            "AuthMethod",
            "TokenEndPoint",
            "https://crm.example.com/slow/token",
        )
        .at(&crm.uri());
    let (status, body) = portal.admin.upload("crm", &[("t.xml", slow)], &[KEY]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, answer) = action(&portal, "apply_template").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let started = start(browser, &portal.admin.csrf).await;
    let (status, page) = callback(browser, &[("code", "c"), ("state", started.state())]).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{page}");
    assert!(page.contains("did not answer within 1 s"), "{page}");
    assert_eq!(stored_secrets(&portal.server).await, working);

    // An AuthEndPoint that renders to something else than http: Save says so.
    let bad = fixture()
        .parameter("AuthMethod", "AuthEndPoint", "javascript:alert(1)")
        .at(&crm.uri());
    let (status, body) = portal.admin.upload("crm", &[("t.xml", bad)], &[KEY]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, answer) = action(&portal, "apply_template").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = portal
        .admin
        .browser
        .call(
            "save_integration",
            json!({"csrf_token": portal.admin.csrf, "provider": "crm", "key": KEY,
                   "input": {"values": [["client_id", CLIENT_ID]]}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer.to_string().contains("only http and https"),
        "{answer}"
    );
}

async fn disconnect_revokes_at_the_revocation_endpoint_and_reports_it(db: Db) {
    let (crm, provider) = strict_crm().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&crm)
        .await;
    let text = fixture()
        .parameter(
            "AuthMethod",
            "TokenRevokeEndPoint",
            "https://crm.example.com/revoke",
        )
        .at(&crm.uri());
    let portal = portal(db, text).await;
    connect(&portal).await;
    let (status, answer) = action(&portal, "disconnect_integration").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        answer
            .as_str()
            .unwrap()
            .contains("The CRM revoked the token."),
        "{answer}"
    );
    let revocation = crm
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path() == "/revoke")
        .unwrap();
    let fields = fields_of(&revocation);
    assert_eq!(fields["token"], "refresh-Token-1-Gecko");
    assert_eq!(fields["token_type_hint"], "refresh_token");
    assert_eq!(fields["client_id"], CLIENT_ID);
    assert!(stored_secrets(&portal.server).await.is_empty());
    assert_eq!(settings(&portal).await["status"], "not_connected");
    assert_nowhere(&provider.tokens(), &[&answer.to_string()]);
}

async fn the_background_refresh_renews_a_token_on_schedule_unless_turned_off(db: Db) {
    for (turned_off, expected) in [(false, 1), (true, 0)] {
        let (crm, provider) = strict_crm().await;
        let mut fixture = fixture().parameter("AuthMethod", "TokenRefreshTime", "5");
        if turned_off {
            fixture = fixture.add_parameter(
                "AuthMethod",
                &[
                    ("Father", "AuthOption"),
                    ("Name", "NoNeedRefreshAccessToken"),
                    ("Value", "1"),
                ],
            );
        }
        let portal = portal(db, fixture.at(&crm.uri())).await;
        connect(&portal).await;
        let service = portal.server.state.integrations_service();
        // Not due yet: nothing happens.
        assert_eq!(service.refresh_due_tokens().await.unwrap(), 1);
        assert_eq!(provider.refreshes(), 0);
        // Five minutes later, the sweep renews it (unless the template says not to).
        portal
            .server
            .execute("UPDATE integrations SET token_refreshed_at = token_refreshed_at - 301")
            .await;
        service.refresh_due_tokens().await.unwrap();
        assert_eq!(provider.refreshes(), expected, "turned off: {turned_off}");
        // A refreshed integration reads its global variables again (GetGlobalInfo).
        let refreshed = portal.server.state.tokens.take_refreshed();
        assert_eq!(refreshed.len(), expected, "turned off: {turned_off}");
        let me_calls = || async {
            crm.received_requests()
                .await
                .unwrap()
                .iter()
                .filter(|r| r.url.path() == "/me")
                .count()
        };
        let before = me_calls().await;
        let ran = service
            .refresh_global_info(
                Some(&refreshed),
                server::integrations::activity::origin::REFRESH,
            )
            .await
            .unwrap();
        assert_eq!(ran, expected);
        assert_eq!(me_calls().await, before + expected);
        assert!(portal.server.state.tokens.take_refreshed().is_empty());
        service.refresh_due_tokens().await.unwrap();
        assert_eq!(
            provider.refreshes(),
            expected,
            "renewed once, turned off: {turned_off}"
        );
        let (status, answer) = check(&portal).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
}

async fn bearer_asks_for_a_new_client_credentials_token_when_its_token_is_refused(db: Db) {
    let (crm, provider) = strict_crm().await;
    let text = fixture()
        .set("AuthType", "bearer")
        .parameter("AuthMethod", "AuthMethod", "bearer")
        .at(&crm.uri());
    let portal = portal(db, text).await;
    let (status, answer) = portal
        .admin
        .browser
        .call(
            "save_integration",
            json!({"csrf_token": portal.admin.csrf, "provider": "crm", "key": KEY,
                   "input": {"values": [["client_id", CLIENT_ID], ["client_secret", CLIENT_SECRET]]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "connected", "{answer}");
    assert_eq!(
        provider.last_request().0["grant_type"],
        "client_credentials"
    );

    provider.forget_access_token();
    let (status, answer) = check(&portal).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let grants: Vec<String> = provider
        .0
        .lock()
        .unwrap()
        .token_requests
        .iter()
        .map(|(fields, _)| fields["grant_type"].clone())
        .collect();
    assert_eq!(grants, ["client_credentials", "client_credentials"]);
    assert_eq!(settings(&portal).await["status"], "connected");
    assert_nowhere(&provider.tokens(), &[&answer.to_string()]);
}

/// The attacker's view of a connected OAuth integration (SECURITY.md "Stored secrets are
/// bound to their settings"): a `user` presses Save and authorize with the secret left
/// empty. The authorization URL carries no secret even though the template asks for one,
/// and changing the client id without the secret is refused, so the stored secret is never
/// sent for another client.
async fn a_user_reauthorizing_never_sees_or_moves_the_stored_client_secret(db: Db) {
    let (crm, provider) = strict_crm().await;
    let text = fixture()
        .parameter(
            "AuthMethod",
            "AdditionalQueryString",
            "prompt=consent&client_secret={{.client_secret}}",
        )
        .at(&crm.uri());
    let portal = portal(db, text).await;
    connect(&portal).await;
    let exchanges = provider.0.lock().unwrap().token_requests.len();
    let user = portal
        .admin
        .new_user(&portal.server, "mallory@example.com")
        .await;

    let (status, answer) = user
        .browser
        .call(
            "save_integration",
            json!({"csrf_token": user.csrf, "provider": "crm", "key": KEY,
                   "input": {"values": [["client_id", CLIENT_ID], ["client_secret", ""]]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let url = answer["authorize_url"].as_str().unwrap();
    assert!(url.contains("prompt=consent"), "{url}");
    assert!(url.contains(&format!("client_id={CLIENT_ID}")), "{url}");
    assert_nowhere(&[CLIENT_SECRET.to_owned()], &[url, &answer.to_string()]);

    let (status, answer) = user
        .browser
        .call(
            "save_integration",
            json!({"csrf_token": user.csrf, "provider": "crm", "key": KEY,
                   "input": {"values": [["client_id", "mallorys-client"], ["client_secret", ""]]}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let text = answer.to_string();
    assert!(text.contains("Client Secret"), "{text}");
    assert!(text.contains("\\\"Client ID\\\" changed"), "{text}");
    assert_eq!(provider.0.lock().unwrap().token_requests.len(), exchanges);
    assert_eq!(settings(&portal).await["status"], "connected");
}
