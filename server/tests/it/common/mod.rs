//! A real Patchbay server on a loopback port, over SQLite or PostgreSQL, and a cookie-keeping
//! HTTP client to drive it the way a browser would.

pub mod fixtures;
pub mod oauth;
pub mod pbx;
pub mod process;
pub mod sse;

pub use fixtures::Fixture;

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use server::accounts::bootstrap::BootstrapOutcome;
use server::config::Config;
use server::state::AppState;

/// Runs each named scenario (`async fn name(db: Db)`) once per database, on a
/// multi-threaded runtime so that concurrent work really runs at the same time. PostgreSQL
/// runs are marked ignored so a plain `cargo test` shows them as not run; `make test` runs
/// them with `--ignored` against a throwaway cluster, where a missing database fails them
/// instead of skipping.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() { super::$name(super::Db::Sqlite).await }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                #[ignore = "needs PostgreSQL: `make test` runs it"]
                async fn $name() { super::$name(super::Db::Postgres).await }
            )*
        }
    };
}

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-pass-Quokka-7781";
/// Every password a test uses: none of them may appear in a page or a log line.
pub const USER_PASSWORD: &str = "user-pass-Wombat-4412";
pub const RESET_PASSWORD: &str = "reset-pass-Echidna-9090";

/// Everything the server logs while tests run, to check that no secret reaches a log.
pub fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .try_init();
        buffer
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Which database a test runs against.
#[derive(Clone, Copy, Debug)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A database URL for one test: a fresh SQLite file, or a fresh database in the throwaway
/// PostgreSQL cluster that `make test` starts (PATCHBAY_TEST_POSTGRES_URL).
pub async fn fresh_database(db: Db, dir: &std::path::Path) -> String {
    match db {
        Db::Sqlite => format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
        Db::Postgres => {
            use sea_orm::{ConnectionTrait, Database};
            let admin_url = std::env::var("PATCHBAY_TEST_POSTGRES_URL").expect(
                "PATCHBAY_TEST_POSTGRES_URL is not set: PostgreSQL tests run through `make test` \
                 (or .ci/with-postgres cargo test -- --ignored)",
            );
            static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let name = format!("patchbay_test_{}_{}", std::process::id(), n);
            let admin = Database::connect(&admin_url)
                .await
                .expect("connect to PostgreSQL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create a test database");
            let (base, _) = admin_url
                .rsplit_once('/')
                .expect("URL with a database name");
            format!("{base}/{name}")
        }
    }
}

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub bootstrap: BootstrapOutcome,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start(db: Db) -> TestServer {
        Self::start_with(db, true).await
    }

    pub async fn start_with(db: Db, with_admin: bool) -> TestServer {
        Self::start_with_env(db, with_admin, &[]).await
    }

    /// A server with more `PATCHBAY_*` settings than the defaults.
    pub async fn start_with_env(db: Db, with_admin: bool, extra: &[(&str, &str)]) -> TestServer {
        captured_logs();
        let dir = tempfile::tempdir().unwrap();
        let database_url = fresh_database(db, dir.path()).await;
        let mut vars: HashMap<&str, String> = HashMap::from([
            ("PATCHBAY_DATA_DIR", dir.path().display().to_string()),
            ("PATCHBAY_DATABASE_URL", database_url),
            ("PATCHBAY_BIND", "127.0.0.1:0".to_string()),
            (
                "PATCHBAY_SITE_ROOT",
                dir.path().join("site").display().to_string(),
            ),
        ]);
        for (name, value) in extra {
            vars.insert(name, value.to_string());
        }
        if with_admin {
            vars.insert("PATCHBAY_ADMIN_EMAIL", ADMIN_EMAIL.to_string());
            vars.insert("PATCHBAY_ADMIN_PASSWORD", ADMIN_PASSWORD.to_string());
        }
        let config = Config::load(&|name| vars.get(name).cloned()).unwrap();
        let prepared = server::prepare(config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let limits = prepared.state.config.connections;
        tokio::spawn(server::serve(listener, prepared.router, limits));
        // The queue works call events as `patchbay serve` does.
        server::queue::service::spawn_worker(prepared.state.queue_service());
        // And holds the phone system's connection when one is configured.
        server::phone_system::link::spawn(prepared.state.phone_system_service());
        prepared.state.call_feed.spawn_listener(&prepared.state.db);
        TestServer {
            base: format!("http://{address}"),
            state: prepared.state,
            bootstrap: prepared.bootstrap,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The first column of the first row `sql` answers, as a number.
    pub async fn scalar(&self, sql: &str) -> i64 {
        use sea_orm::{ConnectionTrait, Statement};
        let db = &self.state.db;
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    }

    /// Changes stored rows behind the server's back (to age a token, say).
    pub async fn execute(&self, sql: &str) {
        use sea_orm::{ConnectionTrait, Statement};
        let db = &self.state.db;
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap();
    }

    /// A client that keeps cookies and does not follow redirects, so tests see them.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }
}

pub struct Browser {
    pub client: Client,
    base: String,
}

impl Browser {
    /// A cookie-keeping client for a server at `base` (another process, say).
    pub fn new(base: &str) -> Browser {
        Browser {
            client: Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    /// Calls a server function as the page does; answers the status and the JSON body (or
    /// the text, when it is not JSON).
    pub async fn call(
        &self,
        function: &str,
        body: serde_json::Value,
    ) -> (StatusCode, serde_json::Value) {
        let response = self
            .client
            .post(self.url(&format!("/api/{function}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        status_and_body(response).await
    }

    /// GETs `path`: the status and the JSON body (null when it is not JSON).
    pub async fn get_json(&self, path: &str) -> (StatusCode, serde_json::Value) {
        let response = self.get(path).await;
        let status = response.status();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Loads a page and returns the CSRF token its forms carry.
    pub async fn csrf_token(&self, path: &str) -> String {
        let (_, html) = self.get_text(path).await;
        csrf_from_html(&html).unwrap_or_else(|| panic!("no CSRF token on {path}: {html}"))
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// Signs in through the login form, as a person would.
    pub async fn login(&self, email: &str, password: &str) -> Response {
        let token = self.csrf_token("/login").await;
        self.post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    pub async fn login_ok(&self, email: &str, password: &str) -> String {
        let response = self.login(email, password).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/", "sign-in as {email} failed");
        // An agent's landing page is their calls.
        let home = self.get("/").await;
        if home.status() == StatusCode::SEE_OTHER {
            return self.csrf_token(&location(&home)).await;
        }
        self.csrf_token("/").await
    }

    /// The session cookie's value as the client holds it (read from a Set-Cookie header).
    pub fn session_cookie(response: &Response) -> Option<String> {
        response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|cookie| cookie.strip_prefix("patchbay_session="))
            .map(|rest| rest.split(';').next().unwrap_or_default().to_string())
    }
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

pub fn csrf_from_html(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// The complete CRM fixture template (basic auth with an API key), as an author wrote it.
pub fn crm_fixture_text() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/templates/crm-basic-api-key.xml");
    std::fs::read_to_string(path).unwrap()
}

/// A signed-in administrator with the CSRF token of their session.
pub struct Admin {
    pub browser: Browser,
    pub csrf: String,
}

pub async fn admin(server: &TestServer) -> Admin {
    let browser = server.browser();
    let csrf = browser.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    Admin { browser, csrf }
}

impl Admin {
    /// Uploads a CRM template and connects it (a template that needs no values); asserts
    /// both worked.
    pub async fn connect_crm(&self, file_name: &str, text: String, key: &str) {
        let (status, body) = self.upload("crm", &[(file_name, text)], &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = self
            .browser
            .call(
                "save_integration",
                serde_json::json!({"csrf_token": self.csrf, "provider": "crm", "key": key, "input": {"values": []}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Uploads and connects the calls CRM (`fixtures/crm/calls-crm.xml`, with User
    /// Association) at the stand-in `crm`, as `calls_crm`.
    pub async fn connect_calls_crm(&self, crm: &str) {
        self.connect_crm(
            "calls.xml",
            Fixture::load("calls-crm.xml").at(crm),
            "calls_crm",
        )
        .await;
    }

    /// Imports an extensions CSV through the REST API (`preview`: only the per-row answer).
    pub async fn import_extensions(
        &self,
        body: impl Into<reqwest::Body>,
        preview: bool,
    ) -> (StatusCode, serde_json::Value) {
        let url = self.browser.url(&format!(
            "/api/v1/extensions/import{}",
            if preview { "?preview=1" } else { "" }
        ));
        let response = self
            .browser
            .client
            .post(url)
            .header("x-csrf-token", &self.csrf)
            .header("content-type", "text/csv")
            // A body refused as too large is answered before it is read and its connection
            // closed; the next request must not be sent on that connection.
            .header("connection", "close")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Presses Associate Automatically on the CRM integration `key` (`apply` false: only
    /// what it would do).
    pub async fn associate_automatically(
        &self,
        key: &str,
        apply: bool,
    ) -> (StatusCode, serde_json::Value) {
        let response = self
            .browser
            .post_form(
                "/api/associate_automatically",
                &[
                    ("csrf_token", self.csrf.as_str()),
                    ("provider", "crm"),
                    ("key", key),
                    ("apply", if apply { "true" } else { "false" }),
                ],
            )
            .await;
        let status = response.status();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Creates an account of role `user` and signs it in, in its own browser.
    /// Posts the page action `action` (`check_integration`, `disconnect_integration`…) for
    /// the CRM template `key`, with the page's CSRF token.
    pub async fn crm_action(&self, action: &str, key: &str) -> reqwest::Response {
        self.browser
            .post_form(
                &format!("/api/{action}"),
                &[
                    ("csrf_token", self.csrf.as_str()),
                    ("provider", "crm"),
                    ("key", key),
                ],
            )
            .await
    }

    pub async fn new_user(&self, server: &TestServer, email: &str) -> Admin {
        self.new_account(&server.base, email, "user").await
    }

    /// Creates an account of `role` and signs it in, in its own browser, on the server at
    /// `base`.
    pub async fn new_account(&self, base: &str, email: &str, role: &str) -> Admin {
        let response = self
            .browser
            .post_form(
                "/api/create_account",
                &[
                    ("csrf_token", self.csrf.as_str()),
                    ("email", email),
                    ("password", USER_PASSWORD),
                    ("role", role),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let browser = Browser::new(base);
        let csrf = browser.login_ok(email, USER_PASSWORD).await;
        Admin { browser, csrf }
    }

    /// Presses Sync users on the CRM integration `key`: the status and the report.
    pub async fn sync_crm_users(&self, key: &str) -> (StatusCode, serde_json::Value) {
        let response = self
            .browser
            .post_form(
                "/api/sync_crm_users",
                &[
                    ("csrf_token", self.csrf.as_str()),
                    ("provider", "crm"),
                    ("key", key),
                ],
            )
            .await;
        let status = response.status();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Makes an API token of `scope` (`admin`, `lookup`, `events`) for 90 days; answers
    /// the token itself.
    pub async fn create_token(&self, name: &str, scope: &str) -> String {
        let response = self
            .browser
            .post_form(
                "/api/create_api_token",
                &[
                    ("csrf_token", self.csrf.as_str()),
                    ("name", name),
                    ("scope", scope),
                    ("expires_in_days", "90"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let created: serde_json::Value = response.json().await.unwrap();
        created["token"].as_str().unwrap().to_owned()
    }

    pub async fn upload(
        &self,
        provider: &str,
        files: &[(&str, String)],
        replace: &[&str],
    ) -> (StatusCode, serde_json::Value) {
        let mut form = reqwest::multipart::Form::new();
        for (name, text) in files {
            form = form.part(
                "file",
                reqwest::multipart::Part::text(text.clone()).file_name(name.to_string()),
            );
        }
        for key in replace {
            form = form.text("replace", key.to_string());
        }
        let response = self
            .browser
            .client
            .post(self.browser.url(&format!("/api/v1/templates/{provider}")))
            .header("x-csrf-token", &self.csrf)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    pub async fn list(&self, provider: &str) -> serde_json::Value {
        self.browser
            .get(&format!("/api/v1/templates/{provider}"))
            .await
            .json()
            .await
            .unwrap()
    }

    pub async fn keys(&self, provider: &str) -> Vec<String> {
        self.list(provider).await["templates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["key"].as_str().unwrap().to_string())
            .collect()
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, serde_json::Value) {
        let response = self
            .browser
            .client
            .delete(self.browser.url(path))
            .header("x-csrf-token", &self.csrf)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }
}

/// A contact lookup through the REST API with an API token: the status and the answer.
pub async fn lookup(
    server: &TestServer,
    token: &str,
    query: &str,
) -> (StatusCode, serde_json::Value) {
    let response = reqwest::Client::new()
        .get(server.url(&format!("/api/v1/contacts/lookup?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// A CRM that knows no contact, creates one, and takes journals as `journals` answers.
pub async fn calls_crm(journals: impl wiremock::Respond + 'static) -> wiremock::MockServer {
    let crm = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/contacts"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": []})),
        )
        .mount(&crm)
        .await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/contacts"))
        .respond_with(
            wiremock::ResponseTemplate::new(201).set_body_json(serde_json::json!({"id": "c-new"})),
        )
        .mount(&crm)
        .await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/journals"))
        .respond_with(journals)
        .mount(&crm)
        .await;
    wiremock::Mock::given(wiremock::matchers::path("/users"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"users": [{"id": "u1", "email": "ann@example.com"}]}),
        ))
        .mount(&crm)
        .await;
    crm
}

/// Waits until no job is pending or running (at most 20 s).
pub async fn settled(server: &TestServer) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let open = server
            .scalar("SELECT COUNT(*) FROM queue_jobs WHERE state IN ('pending', 'running')")
            .await;
        if open == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{open} jobs still open"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A response's status and its JSON body (its text as a JSON string when it is not JSON).
pub async fn status_and_body(response: Response) -> (StatusCode, serde_json::Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// A stand-in's answer to every request no other mock matched: the API's documented refusal
/// (`body`, 401), so a wrong credential, path or parameter fails as the real API would.
pub async fn refuse_the_rest(stand_in: &wiremock::MockServer, body: serde_json::Value) {
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(401).set_body_json(body))
        .with_priority(10)
        .mount(stand_in)
        .await;
}

/// A script calling the REST API with an API token and nothing else (no cookies, no CSRF
/// token).
pub struct Script {
    pub client: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Script {
    pub fn new(server: &TestServer, token: String) -> Script {
        Script {
            client: reqwest::Client::new(),
            base: server.base.clone(),
            token,
        }
    }

    /// The status and the JSON answer (its text as a string when it is not JSON).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, serde_json::Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        status_and_body(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, serde_json::Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
}
