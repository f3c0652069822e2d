//! Two real `patchbay serve` processes on one PostgreSQL database share an OAuth 2.0
//! integration whose token has expired. Traffic reaches both at once; the strict provider
//! (refresh tokens rotate, a spent one is refused) must see exactly one refresh, and every
//! request must succeed (SECURITY.md "The refresh lock").

use crate::common::oauth::*;
use crate::common::process::serve;
use crate::common::*;
use base64::Engine;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;

/// Requests sent to each process at once.
const REQUESTS_PER_PROCESS: usize = 40;

async fn check(browser: &Browser, csrf: &str) -> StatusCode {
    browser
        .post_form(
            "/api/check_integration",
            &[("csrf_token", csrf), ("provider", "crm"), ("key", KEY)],
        )
        .await
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: `make test` runs it"]
async fn two_serve_processes_refresh_an_expired_token_once() {
    let (crm, provider) = strict_crm().await;
    provider.0.lock().unwrap().expires_in = Some(3600);
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(Db::Postgres, dir.path()).await;
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let env = |public_url: &str| {
        vec![
            ("PATCHBAY_DATABASE_URL", database_url.clone()),
            ("PATCHBAY_DATA_DIR", dir.path().display().to_string()),
            (
                "PATCHBAY_SITE_ROOT",
                dir.path().join("site").display().to_string(),
            ),
            ("PATCHBAY_ENCRYPTION_KEY", key.clone()),
            ("PATCHBAY_ADMIN_EMAIL", ADMIN_EMAIL.to_string()),
            ("PATCHBAY_ADMIN_PASSWORD", ADMIN_PASSWORD.to_string()),
            ("PATCHBAY_PUBLIC_URL", public_url.to_string()),
            ("RUST_LOG", "info".to_string()),
        ]
    };
    // The first applies the migrations and creates the admin; the second finds both.
    let public_url = "https://pbx.example.com";
    let first = serve(&env(public_url), &dir.path().join("first.log")).await;
    let second = serve(&env(public_url), &dir.path().join("second.log")).await;
    assert_ne!(first.base, second.base);

    let on_first = Browser::new(&first.base);
    let csrf_first = on_first.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = Admin {
        browser: on_first,
        csrf: csrf_first.clone(),
    };
    let (status, body) = admin
        .upload("crm", &[("t.xml", template(&crm.uri()))], &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, answer) = admin
        .browser
        .call(
            "save_integration",
            json!({"csrf_token": csrf_first, "provider": "crm", "key": KEY,
                   "input": {"values": [["client_id", CLIENT_ID], ["client_secret", CLIENT_SECRET]]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let url = url::Url::parse(answer["authorize_url"].as_str().unwrap()).unwrap();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let (status, page) = admin
        .browser
        .get_text(&format!(
            "/integration/callback/api/crm/{KEY}/?code=c0de&state={state}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");

    // The token expired a moment ago.
    let db = Database::connect(&database_url).await.unwrap();
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "UPDATE integrations SET token_expires_at = token_expires_at - 3601",
    ))
    .await
    .unwrap();

    let on_second = Browser::new(&second.base);
    let csrf_second = on_second.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut traffic = tokio::task::JoinSet::new();
    let shared = std::sync::Arc::new([(admin.browser, csrf_first), (on_second, csrf_second)]);
    for n in 0..2 * REQUESTS_PER_PROCESS {
        let shared = shared.clone();
        traffic.spawn(async move {
            let (browser, csrf) = &shared[n % 2];
            check(browser, csrf).await
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = traffic.join_next().await {
        statuses.push(status.unwrap());
    }
    let logs = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}\nfirst:\n{}\nsecond:\n{}",
        logs("first.log"),
        logs("second.log")
    );
    assert_eq!(
        provider.refreshes(),
        1,
        "the token endpoint saw one refresh"
    );
    let refreshed_by: Vec<&str> = ["first.log", "second.log"]
        .into_iter()
        .filter(|name| logs(name).contains("token refreshed"))
        .collect();
    assert_eq!(
        refreshed_by.len(),
        1,
        "one process refreshed: {refreshed_by:?}"
    );
    let waited: Vec<&str> = ["first.log", "second.log"]
        .into_iter()
        .filter(|name| logs(name).contains("another server instance is refreshing the token"))
        .collect();
    eprintln!("refreshed by {refreshed_by:?}; waited on the other's lease: {waited:?}");
    for secret in provider.tokens().iter().chain([&CLIENT_SECRET.to_owned()]) {
        for name in ["first.log", "second.log"] {
            assert!(!logs(name).contains(secret.as_str()), "{secret} in {name}");
        }
    }
    drop((first, second));
}
