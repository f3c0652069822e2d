//! SECURITY.md's rules, tried as an attacker would against a running server: hostile
//! input does not end the process, sign-in throttling holds under parallel requests and
//! behind a proxy, anonymous visitors store nothing, sessions expire when idle and after
//! their absolute lifetime. On SQLite and PostgreSQL.

use crate::common::*;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, Statement};
use serde_json::Value;
use server::storage::entities::session::Entity as Sessions;

on_both_databases!(
    deeply_nested_uploads_are_refused_and_the_server_keeps_answering,
    anonymous_visits_store_no_sessions,
    parallel_wrong_passwords_get_at_most_the_free_verdicts,
    oversized_and_unparseable_sign_in_fields_are_bounded,
    behind_a_trusted_proxy_each_client_has_its_own_counter,
    activity_extends_a_session_and_its_lifetime_is_capped,
    every_response_carries_the_security_headers,
    pages_go_out_compressed_with_a_csrf_token_masked_afresh,
    assets_go_out_precompressed_and_cached_by_their_content,
    pages_name_the_built_sites_files_as_read_at_start,
    a_malformed_server_function_call_is_a_plain_400,
);

async fn healthy(server: &TestServer) {
    let response = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the server still answers"
    );
}

async fn upload(browser: &Browser, csrf: &str, name: &str, text: String) -> (StatusCode, Value) {
    let response = browser
        .client
        .post(browser.url("/api/v1/templates/crm"))
        .header("x-csrf-token", csrf)
        .multipart(Form::new().part("file", Part::text(text).file_name(name.to_string())))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn deeply_nested_uploads_are_refused_and_the_server_keeps_answering(db: Db) {
    let server = TestServer::start(db).await;
    let admin = server.browser();
    let csrf = admin.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let depth = 140_000;
    let elements = format!(
        "<Information>\n{}{}</Information>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    let (status, body) = upload(&admin, &csrf, "deep.xml", elements).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let result = body.to_string();
    assert!(result.contains("deeper than 256 levels"), "{result}");
    assert!(result.contains("line 2 column 766"), "{result}");
    healthy(&server).await;

    let parens = format!("{{{{{}1{}}}}}", "(".repeat(100_000), ")".repeat(100_000));
    let template = crm_fixture_text().replace("{{.domain}}.pipeline.example", &parens);
    let (status, body) = upload(&admin, &csrf, "parens.xml", template).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.to_string().contains("max expression depth exceeded"),
        "{body}"
    );
    healthy(&server).await;
    let listed: Value = admin
        .get("/api/v1/templates/crm")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["templates"].as_array().unwrap().len(),
        0,
        "nothing stored"
    );
}

async fn anonymous_visits_store_no_sessions(db: Db) {
    let server = TestServer::start(db).await;
    for _ in 0..300 {
        let response = reqwest::get(server.url("/login")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let stored = Sessions::find().count(&server.state.db).await.unwrap();
    assert_eq!(stored, 0, "300 anonymous visits stored {stored} sessions");

    // The form still works: its token rides in a signed cookie.
    let browser = server.browser();
    browser.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(Sessions::find().count(&server.state.db).await.unwrap(), 1);

    // A token that the server did not sign is refused, even if cookie and form agree.
    let forger = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let forged = "A".repeat(43) + ".forged";
    let response = forger
        .post(server.url("/login"))
        .header("cookie", format!("patchbay_csrf={forged}"))
        .form(&[
            ("csrf_token", forged.as_str()),
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

async fn parallel_wrong_passwords_get_at_most_the_free_verdicts(db: Db) {
    let server = TestServer::start(db).await;
    let browser = std::sync::Arc::new(server.browser());
    let token = browser.csrf_token("/login").await;
    let attempts: Vec<_> = (0..60)
        .map(|n| {
            let browser = browser.clone();
            let token = token.clone();
            tokio::spawn(async move {
                let response = browser
                    .post_form(
                        "/login",
                        &[
                            ("csrf_token", token.as_str()),
                            ("email", ADMIN_EMAIL),
                            ("password", &format!("wrong-password-{n:04}")),
                        ],
                    )
                    .await;
                location(&response)
            })
        })
        .collect();
    let mut invalid = 0;
    for attempt in attempts {
        let target = attempt.await.unwrap();
        if target == "/login?msg=invalid" {
            invalid += 1;
        } else {
            assert!(target.starts_with("/login?msg=throttled"), "{target}");
        }
    }
    assert!(invalid <= 5, "{invalid} verdicts of invalid");
    let peak = server.state.verifier.peak_running();
    assert!(
        peak <= server::accounts::password::MAX_CONCURRENT_VERIFIES,
        "{peak} verifies at once"
    );
}

async fn oversized_and_unparseable_sign_in_fields_are_bounded(db: Db) {
    let server = TestServer::start(db).await;
    let browser = server.browser();
    let token = browser.csrf_token("/login").await;
    let huge = "a".repeat(2 * 1024 * 1024 - 200) + "@example.com";
    let response = browser
        .post_form(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("email", huge.as_str()),
                ("password", "whatever-password"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let long_password = "p".repeat(300);
    let response = browser
        .post_form(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("email", ADMIN_EMAIL),
                ("password", long_password.as_str()),
            ],
        )
        .await;
    assert_eq!(location(&response), "/login?msg=invalid");

    // Different junk addresses share one counter: the sixth is throttled.
    for n in 0..5 {
        let response = browser
            .post_form(
                "/login",
                &[
                    ("csrf_token", token.as_str()),
                    ("email", &format!("not an address {n}")),
                    ("password", "whatever-password"),
                ],
            )
            .await;
        assert_eq!(location(&response), "/login?msg=invalid");
    }
    let response = browser
        .post_form(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("email", "yet another"),
                ("password", "whatever-password"),
            ],
        )
        .await;
    assert!(location(&response).starts_with("/login?msg=throttled"));
}

async fn sign_in_from(server: &TestServer, forwarded_for: &str, password: &str) -> String {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(server.url("/login"))
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_from_html(&page).unwrap();
    let response = client
        .post(server.url("/login"))
        .header("x-forwarded-for", forwarded_for)
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", &format!("nobody-{}@example.com", rand_suffix())),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    location(&response)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

async fn behind_a_trusted_proxy_each_client_has_its_own_counter(db: Db) {
    let proxied =
        TestServer::start_with_env(db, true, &[("PATCHBAY_TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    for _ in 0..20 {
        let target = sign_in_from(&proxied, "203.0.113.9", "wrong-password-1").await;
        assert_eq!(target, "/login?msg=invalid");
    }
    let target = sign_in_from(&proxied, "203.0.113.9", "wrong-password-1").await;
    assert!(target.starts_with("/login?msg=throttled"), "{target}");
    let target = sign_in_from(&proxied, "198.51.100.4", "wrong-password-1").await;
    assert_eq!(
        target, "/login?msg=invalid",
        "another client is not locked out"
    );

    // Without the setting, the header is not believed: everyone is the connection.
    let direct = TestServer::start(db).await;
    for n in 0..20 {
        sign_in_from(&direct, &format!("203.0.113.{n}"), "wrong-password-1").await;
    }
    let target = sign_in_from(&direct, "198.51.100.4", "wrong-password-1").await;
    assert!(target.starts_with("/login?msg=throttled"), "{target}");
}

async fn session_row(server: &TestServer) -> (String, i64, Value) {
    let row = Sessions::find()
        .one(&server.state.db)
        .await
        .unwrap()
        .unwrap();
    (
        row.id,
        row.expires_at,
        serde_json::from_str(&row.data).unwrap(),
    )
}

async fn rewrite_session(server: &TestServer, id: &str, expires_at: i64, data: &Value) {
    let db = &server.state.db;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "UPDATE sessions SET expires_at = $1, data = $2 WHERE id = $3"
        }
        _ => "UPDATE sessions SET expires_at = ?, data = ? WHERE id = ?",
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [expires_at.into(), data.to_string().into(), id.into()],
    ))
    .await
    .unwrap();
    // Written behind the store's back, as another server would: seen once the store's
    // recent read of the session expires.
    tokio::time::sleep(server::storage::recent::RECENT_READ_TTL).await;
}

async fn activity_extends_a_session_and_its_lifetime_is_capped(db: Db) {
    use server::web::middleware::viewer::{SESSION_IDLE_SECS, SESSION_MAX_AGE_SECS};
    let server = TestServer::start(db).await;
    let browser = server.browser();
    browser.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let now = server::storage::unix_now();

    // A session last seen two minutes ago, about to expire: a request extends it.
    let (id, _, mut data) = session_row(&server).await;
    data["last_seen"] = (now - 120).into();
    rewrite_session(&server, &id, now + 100, &data).await;
    assert_eq!(browser.get("/").await.status(), StatusCode::OK);
    let (_, expires_at, data) = session_row(&server).await;
    assert!(
        expires_at >= now + SESSION_IDLE_SECS - 5,
        "idle expiry moved forward: {expires_at} vs {now}"
    );
    assert!(data["last_seen"].as_i64().unwrap() >= now);

    // What is the same for everyone never reads the session, so never extends it.
    let mut stale = data.clone();
    stale["last_seen"] = (now - 120).into();
    rewrite_session(&server, &id, now + 100, &stale).await;
    for path in [
        "/healthz",
        "/favicon.ico",
        "/favicon.svg",
        "/pkg/patchbay.css",
    ] {
        browser.get(path).await;
    }
    assert_eq!(
        session_row(&server).await.1,
        now + 100,
        "static files and health checks leave the session alone"
    );

    // Seen seconds ago: no write (the expiry stays where it was).
    rewrite_session(&server, &id, now + 100, &data).await;
    assert_eq!(browser.get("/").await.status(), StatusCode::OK);
    assert_eq!(
        session_row(&server).await.1,
        now + 100,
        "at most one write a minute"
    );

    // Signed in longer ago than the absolute lifetime: signed out, however active.
    let (id, _, mut data) = session_row(&server).await;
    data["signed_in_at"] = (now - SESSION_MAX_AGE_SECS - 1).into();
    rewrite_session(&server, &id, now + 1000, &data).await;
    assert_eq!(location(&browser.get("/").await), "/login");
}

async fn every_response_carries_the_security_headers(db: Db) {
    let server = TestServer::start(db).await;
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let page = reqwest::get(server.url("/login")).await.unwrap();
    let policy = header(&page, "content-security-policy");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(header(&page, "x-frame-options"), "DENY");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, "referrer-policy"), "same-origin");
    assert_eq!(header(&page, "cache-control"), "no-store");
    assert_eq!(
        header(&page, "strict-transport-security"),
        "",
        "not over http"
    );
    assert_eq!(
        header(&page, "content-encoding"),
        "",
        "pages are not compressed (BREACH)"
    );
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap()
        .to_string();
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the inline script carries this response's nonce"
    );
    let again = reqwest::get(server.url("/login")).await.unwrap();
    assert!(
        !header(&again, "content-security-policy").contains(&nonce),
        "a nonce is used once"
    );

    let api = reqwest::get(server.url("/api/v1/templates/crm"))
        .await
        .unwrap();
    assert_eq!(header(&api, "cache-control"), "no-store");
    assert_eq!(header(&api, "x-content-type-options"), "nosniff");

    let https = TestServer::start_with_env(
        db,
        true,
        &[("PATCHBAY_PUBLIC_URL", "https://patchbay.example")],
    )
    .await;
    let page = reqwest::get(https.url("/healthz")).await.unwrap();
    assert_eq!(
        header(&page, "strict-transport-security"),
        "max-age=31536000"
    );
}

/// A signed-in page asked for with `accept-encoding: gzip`: its headers and its HTML.
async fn page_gzipped(browser: &Browser, path: &str) -> (reqwest::header::HeaderMap, String) {
    use std::io::Read;
    let response = browser
        .client
        .get(browser.url(path))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    let mut html = String::new();
    if headers.get("content-encoding").is_some() {
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut html)
            .unwrap();
    } else {
        html = String::from_utf8(bytes.to_vec()).unwrap();
    }
    (headers, html)
}

async fn pages_go_out_compressed_with_a_csrf_token_masked_afresh(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let (headers, first) = page_gzipped(&admin.browser, "/templates/crm").await;
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["vary"], "accept-encoding");
    let (_, second) = page_gzipped(&admin.browser, "/templates/crm").await;
    // The sign-out form's token (the page's viewer carries the same).
    let token = |html: &str| csrf_from_html(html).expect("the page carries a CSRF token");
    let (first, second) = (token(&first), token(&second));
    assert_ne!(
        first, second,
        "each response masks the token afresh (BREACH)"
    );

    // Every mask unmasks to the session's token (past the middleware and the server
    // function's own check: no such job); another session's and an altered one do not.
    let retry = |token: String| {
        let browser = &admin.browser;
        async move {
            browser
                .post_form(
                    "/api/retry_queue_job",
                    &[("csrf_token", token.as_str()), ("id", "999999")],
                )
                .await
                .status()
        }
    };
    assert_eq!(retry(first.clone()).await, StatusCode::NOT_FOUND);
    assert_eq!(retry(second).await, StatusCode::NOT_FOUND);
    let other = admin.new_user(&server, "other-session@example.com").await;
    assert_eq!(
        retry(other.csrf).await,
        StatusCode::FORBIDDEN,
        "another session's"
    );
    let mut altered = first.into_bytes();
    altered[10] = if altered[10] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        retry(String::from_utf8(altered).unwrap()).await,
        StatusCode::FORBIDDEN,
        "an altered mask"
    );

    // Pages holding a one-time secret in their form, and API answers, go out as they are.
    let signed_out = server.browser();
    let (headers, html) = page_gzipped(&signed_out, "/login").await;
    assert!(
        headers.get("content-encoding").is_none(),
        "the sign-in page"
    );
    assert!(html.contains("csrf_token"));
    let api = admin
        .browser
        .client
        .get(admin.browser.url("/api/v1/templates/crm"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(
        api.headers().get("content-encoding").is_none(),
        "API answers"
    );
}

/// A page's head names the site's content-hashed files, as `.ci/build-site` listed them in
/// `hash.txt`: read once, when the server starts, not on each page.
async fn pages_name_the_built_sites_files_as_read_at_start(db: Db) {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("pkg")).unwrap();
    std::fs::write(
        site.path().join("hash.txt"),
        "js: 0a1b\nwasm: 0a1b\nsplit: 0a1b\nmanifest: 0a1b\ncss: 9c9c\n",
    )
    .unwrap();
    std::fs::write(
        site.path().join("pkg/__wasm_split_manifest.0a1b.json"),
        r#"{"template_pages_1234":["pack_template_pages.0a1b.bin"]}"#,
    )
    .unwrap();
    let root = site.path().display().to_string();
    let server = TestServer::start_with_env(db, true, &[("PATCHBAY_SITE_ROOT", &root)]).await;
    let admin = admin(&server).await;
    std::fs::remove_file(site.path().join("hash.txt")).unwrap();

    let (status, html) = admin.browser.get_text("/templates/crm").await;
    assert_eq!(status, StatusCode::OK);
    for expected in [
        r#"<link rel="stylesheet" id="patchbay-style" href="/pkg/patchbay.9c9c.css">"#,
        r#"<link rel="modulepreload" href="/pkg/patchbay.0a1b.js" crossorigin="anonymous">"#,
        r#"href="/pkg/patchbay.0a1b.wasm" as="fetch" type="application/wasm""#,
        r#"import("/pkg/patchbay.0a1b.js").then(m=>m.default({module_or_path:"/pkg/patchbay.0a1b.wasm"}).then(()=>m.hydrate()));</script>"#,
        // The list's page group, preloaded as its pack (the manifest's file).
        r#"href="/pkg/pack_template_pages.0a1b.bin""#,
        r#"href="/pkg/__wasm_split.0a1b.js""#,
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
    // The documentation, a document of the server's own, takes the same stylesheet.
    let (_, docs) = admin.browser.get_text("/docs").await;
    assert!(docs.contains(r#"href="/pkg/patchbay.9c9c.css""#), "{docs}");
}

async fn assets_go_out_precompressed_and_cached_by_their_content(db: Db) {
    let server = TestServer::start(db).await;
    let pkg = server.state.config.site_root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let wasm = vec![7u8; 4096];
    std::fs::write(pkg.join("patchbay.0123456789abcdef.wasm"), &wasm).unwrap();
    std::fs::write(
        pkg.join("patchbay.0123456789abcdef.wasm.br"),
        b"brotli bytes",
    )
    .unwrap();
    std::fs::write(pkg.join("patchbay.0123456789abcdef.wasm.gz"), b"gzip bytes").unwrap();
    std::fs::write(pkg.join("patchbay.css"), b"body{}").unwrap();
    std::fs::write(pkg.join("pack_editor_pages.0123456789abcdef.bin"), &wasm).unwrap();
    std::fs::write(
        pkg.join("pack_editor_pages.0123456789abcdef.bin.br"),
        b"packed brotli bytes",
    )
    .unwrap();
    let client = reqwest::Client::builder()
        .no_brotli()
        .no_gzip()
        .build()
        .unwrap();
    let get = |path: &'static str, encoding: &'static str| {
        let client = client.clone();
        let url = server.url(path);
        async move {
            client
                .get(url)
                .header("accept-encoding", encoding)
                .send()
                .await
                .unwrap()
        }
    };
    let hashed = "/pkg/patchbay.0123456789abcdef.wasm";
    let br = get(hashed, "gzip, deflate, br").await;
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(
        br.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    // A bundle file is never shown as a document: nosniff, but no policy or framing rule
    // on each of the twenty files a page loads.
    assert_eq!(br.headers()["x-content-type-options"], "nosniff");
    assert!(br.headers().get("content-security-policy").is_none());
    assert!(br.headers().get("x-frame-options").is_none());
    assert_eq!(br.bytes().await.unwrap().as_ref(), b"brotli bytes");
    let gz = get(hashed, "gzip").await;
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let plain = get(hashed, "identity").await;
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.bytes().await.unwrap().len(), wasm.len());
    // A page group's pack (its chunks in one file) goes out like them, as bytes to read.
    let pack = get("/pkg/pack_editor_pages.0123456789abcdef.bin", "br").await;
    assert_eq!(pack.headers()["content-encoding"], "br");
    assert_eq!(pack.headers()["content-type"], "application/octet-stream");
    assert_eq!(
        pack.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(pack.headers().get("content-security-policy").is_none());
    assert_eq!(pack.bytes().await.unwrap().as_ref(), b"packed brotli bytes");
    let unhashed = get("/pkg/patchbay.css", "br").await;
    assert_eq!(unhashed.headers()["cache-control"], "no-cache");
    assert_eq!(unhashed.headers()["x-frame-options"], "DENY");
    assert_eq!(unhashed.bytes().await.unwrap().as_ref(), b"body{}");
    // The site's icon, under both names browsers ask for.
    let ico = get("/favicon.ico", "br").await;
    assert_eq!(ico.status(), StatusCode::OK);
    assert_eq!(ico.headers()["content-type"], "image/x-icon");
    assert_eq!(ico.headers()["cache-control"], "public, max-age=86400");
    assert_eq!(
        &ico.bytes().await.unwrap()[..4],
        &[0, 0, 1, 0],
        "an ICO file"
    );
    let svg = get("/favicon.svg", "br").await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(
        svg.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'"),
        "an SVG opened alone is a document that could run script"
    );

    assert!(String::from_utf8_lossy(&svg.bytes().await.unwrap()).starts_with("<svg"));
}

/// A server function's arguments that do not parse are the caller's mistake: 400 with a
/// plain message, never the deserializer's text, and nothing runs.
async fn a_malformed_server_function_call_is_a_plain_400(db: Db) {
    let server = TestServer::start(db).await;
    let admin = admin(&server).await;
    let json = |body: &'static str| {
        admin
            .browser
            .client
            .post(admin.browser.url("/api/run_console"))
            .header("x-csrf-token", &admin.csrf)
            .header("content-type", "application/json")
            .body(body)
    };
    for body in [
        r#"{"csrf_token": "x", "provider": "crm", "key": 5"#,
        r#"{"provider": ["crm"], "key": {"a": 1}, "input": 7}"#,
        "not json at all",
    ] {
        let response = json(body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let text = response.text().await.unwrap();
        assert_eq!(
            text, "\"BadRequest\"",
            "the page shows its own message for it"
        );
        for parser_words in ["expected", "line", "column", "invalid type", "EOF"] {
            assert!(!text.contains(parser_words), "{body}: {text}");
        }
    }
    let response = admin
        .browser
        .post_form(
            "/api/create_account",
            &[
                ("csrf_token", admin.csrf.as_str()),
                ("email", "x@example.com"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        server.scalar("SELECT COUNT(*) FROM accounts").await,
        1,
        "nothing was created"
    );
    healthy(&server).await;
}

/// Pages keep finishing while more servers are built in the same process: building one
/// must not freeze another's page mid-body (leptos' route-list generation suppresses
/// resource loading process-wide; see `web::route_list`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_finish_while_other_servers_are_built() {
    let server = TestServer::start(Db::Sqlite).await;
    let admin = admin(&server).await;
    let pages = tokio::spawn(async move {
        for round in 0..60 {
            for page in ["/", "/accounts", "/integrations/crm"] {
                let answer = tokio::time::timeout(
                    std::time::Duration::from_secs(20),
                    admin.browser.get_text(page),
                )
                .await;
                assert!(answer.is_ok(), "round {round}: {page} stalled");
            }
        }
    });
    // Without `web::route_list` two runs in three stalled within these servers.
    for _ in 0..30 {
        if pages.is_finished() {
            break;
        }
        let _other = TestServer::start(Db::Sqlite).await;
    }
    pages.await.unwrap();
}
