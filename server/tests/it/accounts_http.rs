//! Sign-in, sessions, CSRF and account management over real HTTP, on SQLite and PostgreSQL.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::Value;

on_both_databases!(
    pages_render_on_the_server_and_health_checks_the_database,
    form_posts_without_a_valid_csrf_token_are_refused,
    the_session_id_changes_at_sign_in,
    wrong_passwords_are_refused_and_repeated_failures_throttled,
    admins_create_disable_reset_and_delete_accounts,
    users_cannot_manage_accounts,
    sign_out_ends_the_session,
    the_setup_link_creates_the_first_admin_once,
    no_password_or_hash_appears_in_pages_or_logs,
);

async fn call(browser: &Browser, function: &str, fields: &[(&str, &str)]) -> (StatusCode, Value) {
    status_and_body(browser.post_form(&format!("/api/{function}"), fields).await).await
}

async fn list(browser: &Browser) -> (StatusCode, Value) {
    let response = browser.get("/api/list_accounts").await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn emails(accounts: &Value) -> Vec<String> {
    accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap().to_string())
        .collect()
}

async fn create_user(admin: &Browser, token: &str, email: &str) -> i64 {
    let (status, body) = call(
        admin,
        "create_account",
        &[
            ("csrf_token", token),
            ("email", email),
            ("password", USER_PASSWORD),
            ("role", "user"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_i64().unwrap()
}

async fn pages_render_on_the_server_and_health_checks_the_database(db: Db) {
    let server = TestServer::start(db).await;
    let browser = server.browser();

    let (status, html) = browser.get_text("/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<form method=\"post\" action=\"/login\""),
        "{html}"
    );
    assert!(html.contains("Sign in to Patchbay"));
    // A plain form: no WebAssembly, only the small script for its Show/Hide button.
    assert!(
        !html.contains("patchbay_bg.wasm"),
        "the sign-in page loads no bundle: {html}"
    );
    assert!(html.contains(app::PLAIN_PAGE_SCRIPT), "{html}");

    let home = browser.get("/").await;
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&home), "/login");

    let health = browser.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["database"], "ok");

    browser.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, html) = browser.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(ADMIN_EMAIL));
    assert!(
        html.contains("href=\"/accounts\""),
        "admins see the Accounts section"
    );
}

async fn form_posts_without_a_valid_csrf_token_are_refused(db: Db) {
    let server = TestServer::start(db).await;
    let browser = server.browser();
    browser.csrf_token("/login").await;

    let no_token = browser
        .post_form(
            "/login",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let wrong_token = browser
        .post_form(
            "/login",
            &[
                ("csrf_token", "forged"),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong_token.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        location(&browser.get("/").await),
        "/login",
        "still signed out"
    );

    // A request from another site carries no session: no token can match.
    let stranger = server.browser();
    let token = browser.csrf_token("/login").await;
    let cross_site = stranger
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);

    let token = browser.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let fields = [
        ("email", "eve@example.com"),
        ("password", USER_PASSWORD),
        ("role", "admin"),
    ];
    let (status, _) = call(&browser, "create_account", &fields).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "server function without a token"
    );
    let mut forged = fields.to_vec();
    forged.push(("csrf_token", "forged"));
    let (status, _) = call(&browser, "create_account", &forged).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "server function with a forged token"
    );
    let header_forged = browser
        .client
        .post(browser.url("/api/delete_account"))
        .header("x-csrf-token", "forged")
        .form(&[("id", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(header_forged.status(), StatusCode::FORBIDDEN);

    let (_, accounts) = list(&browser).await;
    assert_eq!(emails(&accounts), vec![ADMIN_EMAIL], "nothing was created");

    let mut valid = fields.to_vec();
    valid.push(("csrf_token", &token));
    let (status, body) = call(&browser, "create_account", &valid).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn the_session_id_changes_at_sign_in(db: Db) {
    let server = TestServer::start(db).await;
    let browser = server.browser();
    let login_page = browser.get("/login").await;
    assert!(
        Browser::session_cookie(&login_page).is_none(),
        "an anonymous visit stores no session"
    );
    let html = login_page.text().await.unwrap();
    let token_before = csrf_from_html(&html).unwrap();

    let response = browser
        .post_form(
            "/login",
            &[
                ("csrf_token", &token_before),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&response), "/");
    let first = Browser::session_cookie(&response).expect("sign-in sets a session cookie");
    let token_after = browser.csrf_token("/").await;
    assert_ne!(token_before, token_after, "CSRF token rotated");

    // Signing in again over a live session rotates its id; the old id is worth nothing.
    let again = browser
        .post_form(
            "/login",
            &[
                ("csrf_token", &token_after),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&again), "/");
    let second = Browser::session_cookie(&again).expect("a new session cookie");
    assert_ne!(first, second, "session id rotated");
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(server.url("/"))
        .header("cookie", format!("patchbay_session={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&replay), "/login");
}

async fn wrong_passwords_are_refused_and_repeated_failures_throttled(db: Db) {
    let server = TestServer::start(db).await;
    let browser = server.browser();

    let wrong = browser.login(ADMIN_EMAIL, "not-the-password-123").await;
    assert_eq!(location(&wrong), "/login?msg=invalid");
    let unknown = browser
        .login("nobody@example.com", "not-the-password-123")
        .await;
    assert_eq!(
        location(&unknown),
        "/login?msg=invalid",
        "same answer for unknown accounts"
    );
    let (_, page) = browser.get_text("/login?msg=invalid").await;
    assert!(page.contains("The e-mail address or password is not correct."));

    for _ in 0..4 {
        browser.login(ADMIN_EMAIL, "not-the-password-123").await;
    }
    let throttled = browser.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let target = location(&throttled);
    assert!(
        target.starts_with("/login?msg=throttled&retry="),
        "{target}"
    );
    let (_, page) = browser.get_text(&target).await;
    assert!(page.contains("Too many failed attempts"), "{page}");
    assert_eq!(
        location(&browser.get("/").await),
        "/login",
        "the right password waited too"
    );
}

async fn admins_create_disable_reset_and_delete_accounts(db: Db) {
    let server = TestServer::start(db).await;
    let admin = server.browser();
    let token = admin.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let id = create_user(&admin, &token, "  Ada@Example.com ").await;
    let id_text = id.to_string();
    let (_, accounts) = list(&admin).await;
    assert_eq!(
        emails(&accounts),
        vec!["ada@example.com", ADMIN_EMAIL],
        "sorted by e-mail"
    );

    let (status, body) = call(
        &admin,
        "create_account",
        &[
            ("csrf_token", &token),
            ("email", "ada@example.com"),
            ("password", USER_PASSWORD),
            ("role", "user"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("already exists"), "{body}");
    let (status, body) = call(
        &admin,
        "create_account",
        &[
            ("csrf_token", &token),
            ("email", "bob@example.com"),
            ("password", "short"),
            ("role", "user"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let ada = server.browser();
    ada.login_ok("ada@example.com", USER_PASSWORD).await;

    let (status, _) = call(
        &admin,
        "set_account_disabled",
        &[
            ("csrf_token", &token),
            ("id", &id_text),
            ("disabled", "true"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        location(&ada.get("/").await),
        "/login",
        "disabling ends the user's sessions"
    );
    assert_eq!(
        location(&ada.login("ada@example.com", USER_PASSWORD).await),
        "/login?msg=invalid"
    );

    let (status, _) = call(
        &admin,
        "set_account_disabled",
        &[
            ("csrf_token", &token),
            ("id", &id_text),
            ("disabled", "false"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    ada.login_ok("ada@example.com", USER_PASSWORD).await;

    let (status, _) = call(
        &admin,
        "reset_password",
        &[
            ("csrf_token", &token),
            ("id", &id_text),
            ("password", RESET_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        location(&ada.get("/").await),
        "/login",
        "a reset ends the user's sessions"
    );
    assert_eq!(
        location(&ada.login("ada@example.com", USER_PASSWORD).await),
        "/login?msg=invalid"
    );
    ada.login_ok("ada@example.com", RESET_PASSWORD).await;

    let (status, body) = call(
        &admin,
        "delete_account",
        &[("csrf_token", &token), ("id", "999999")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let admin_id = accounts[1]["id"].as_i64().unwrap().to_string();
    let (status, body) = call(
        &admin,
        "delete_account",
        &[("csrf_token", &token), ("id", &admin_id)],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("your own account"), "{body}");

    let (status, _) = call(
        &admin,
        "delete_account",
        &[("csrf_token", &token), ("id", &id_text)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, accounts) = list(&admin).await;
    assert_eq!(emails(&accounts), vec![ADMIN_EMAIL]);
    assert_eq!(location(&ada.get("/").await), "/login");
    assert_eq!(
        server
            .state
            .sessions
            .count_for_user(id as i32)
            .await
            .unwrap(),
        0
    );
}

async fn users_cannot_manage_accounts(db: Db) {
    let server = TestServer::start(db).await;
    let admin = server.browser();
    let token = admin.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    create_user(&admin, &token, "ada@example.com").await;

    let ada = server.browser();
    let ada_token = ada.login_ok("ada@example.com", USER_PASSWORD).await;
    let (status, _) = list(&ada).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = call(
        &ada,
        "create_account",
        &[
            ("csrf_token", &ada_token),
            ("email", "mallory@example.com"),
            ("password", USER_PASSWORD),
            ("role", "admin"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (_, home) = ada.get_text("/").await;
    assert!(
        !home.contains("href=\"/accounts\""),
        "users do not see the Accounts section"
    );
    let (_, page) = ada.get_text("/accounts").await;
    assert!(page.contains("Only administrators can manage accounts."));

    let (status, _) = list(&server.browser()).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "signed-out callers are refused"
    );
}

async fn sign_out_ends_the_session(db: Db) {
    let server = TestServer::start(db).await;
    let browser = server.browser();
    let token = browser.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin_id = server
        .state
        .accounts
        .find_by_email(ADMIN_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(
        server
            .state
            .sessions
            .count_for_user(admin_id)
            .await
            .unwrap(),
        1
    );

    let response = browser
        .post_form("/logout", &[("csrf_token", &token)])
        .await;
    assert_eq!(location(&response), "/login?msg=signed_out");
    assert_eq!(location(&browser.get("/").await), "/login");
    assert_eq!(
        server
            .state
            .sessions
            .count_for_user(admin_id)
            .await
            .unwrap(),
        0,
        "session row deleted"
    );
}

async fn the_setup_link_creates_the_first_admin_once(db: Db) {
    use server::accounts::bootstrap::BootstrapOutcome;
    let server = TestServer::start_with(db, false).await;
    let BootstrapOutcome::SetupLink(link) = &server.bootstrap else {
        panic!("expected a setup link, got {:?}", server.bootstrap);
    };
    let setup_token = link.strip_prefix("/setup?token=").unwrap();
    let browser = server.browser();
    let csrf = browser.csrf_token(link).await;

    let weak = browser
        .post_form(
            "/setup",
            &[
                ("csrf_token", &csrf),
                ("token", setup_token),
                ("email", "root@example.com"),
                ("password", "short"),
            ],
        )
        .await;
    assert!(
        location(&weak).ends_with("&error=password"),
        "{}",
        location(&weak)
    );

    let made = browser
        .post_form(
            "/setup",
            &[
                ("csrf_token", &csrf),
                ("token", setup_token),
                ("email", "root@example.com"),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        location(&made),
        "/",
        "the token still worked after a refused form"
    );
    let (_, home) = browser.get_text("/").await;
    assert!(
        home.contains("root@example.com"),
        "signed in as the new admin"
    );

    let other = server.browser();
    let csrf = other.csrf_token(link).await;
    let again = other
        .post_form(
            "/setup",
            &[
                ("csrf_token", &csrf),
                ("token", setup_token),
                ("email", "evil@example.com"),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        location(&again),
        "/setup?error=token",
        "the link works once"
    );
    assert!(server
        .state
        .accounts
        .find_by_email("evil@example.com")
        .await
        .unwrap()
        .is_none());
}

async fn no_password_or_hash_appears_in_pages_or_logs(db: Db) {
    let server = TestServer::start(db).await;
    let admin = server.browser();
    let token = admin.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let id = create_user(&admin, &token, "ada@example.com")
        .await
        .to_string();
    call(
        &admin,
        "reset_password",
        &[
            ("csrf_token", &token),
            ("id", &id),
            ("password", RESET_PASSWORD),
        ],
    )
    .await;
    server
        .browser()
        .login("ada@example.com", USER_PASSWORD)
        .await; // a failure, logged

    let mut seen = String::new();
    for path in ["/", "/accounts", "/api/list_accounts", "/login?msg=invalid"] {
        seen.push_str(&admin.get_text(path).await.1);
    }
    let logs = String::from_utf8(captured_logs().lock().unwrap().clone()).unwrap();
    assert!(logs.contains("signed in"), "the log capture works: {logs}");
    for (what, text) in [("pages", &seen), ("logs", &logs)] {
        for secret in [ADMIN_PASSWORD, USER_PASSWORD, RESET_PASSWORD, "$argon2"] {
            assert!(!text.contains(secret), "{secret} appears in {what}");
        }
    }
}
