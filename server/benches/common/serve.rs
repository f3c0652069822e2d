//! A real `patchbay serve` for the benches (the release binary, SQLite under a temporary
//! directory unless told otherwise), signed in as its administrator, with its memory read
//! from `/proc`.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

pub const ADMIN_EMAIL: &str = "bench@example.com";
pub const ADMIN_PASSWORD: &str = "bench-admin-Okapi-4242";

/// The running server: its process (killed when dropped) and a signed-in client.
pub struct Server {
    pub child: tokio::process::Child,
    pub base: String,
    pub client: reqwest::Client,
    pub csrf: String,
}

impl Server {
    /// Starts the server with `env` besides the defaults; answers once signed in.
    pub async fn start(dir: &std::path::Path, env: &[(&str, String)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_patchbay"))
            .arg("serve")
            .env("PATCHBAY_BIND", format!("127.0.0.1:{port}"))
            .env("PATCHBAY_DATA_DIR", dir)
            .env("PATCHBAY_SITE_ROOT", dir.join("site"))
            .env("PATCHBAY_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("PATCHBAY_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (k.to_string(), v.clone())))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        for _ in 0..300 {
            if client.get(format!("{base}/healthz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let home = sign_in(&client, &base, ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .text()
            .await
            .unwrap();
        Server {
            child,
            csrf: csrf_in(&home),
            base,
            client,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn call(&self, function: &str, body: Value) -> Value {
        let response = self
            .client
            .post(self.url(&format!("/api/{function}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{function} failed");
        response.json().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn form(&self, function: &str, fields: &[(&str, &str)]) -> Value {
        let mut all = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        let response = self
            .client
            .post(self.url(&format!("/api/{function}")))
            .form(&all)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{function}: {body}");
        body
    }

    /// Uploads `template` (a CRM template whose Key is `key`) and connects it.
    pub async fn connect(&self, key: &str, template: String) {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::text(template).file_name(format!("{key}.xml")),
        );
        let response = self
            .client
            .post(self.url("/api/v1/templates/crm"))
            .header("x-csrf-token", &self.csrf)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        self.call(
            "save_integration",
            json!({"csrf_token": self.csrf, "provider": "crm", "key": key, "input": {"values": []}}),
        )
        .await;
    }

    pub async fn import(&self, csv: &str, preview: bool) -> Value {
        let query = if preview { "?preview=1" } else { "" };
        let response = self
            .client
            .post(self.url(&format!("/api/v1/extensions/import{query}")))
            .header("x-csrf-token", &self.csrf)
            .header("content-type", "text/csv")
            .body(csv.to_owned())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        response.json().await.unwrap()
    }

    /// A `/proc/<pid>/status` field of the server, in KiB.
    pub fn memory_kib(&self, field: &str) -> u64 {
        let pid = self.child.id().unwrap_or_default();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

/// Signs `email` in through the sign-in form on `client` (which keeps cookies); answers the
/// form's response (a redirect unless the client follows it).
pub async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let login = client
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf_token", csrf_in(&login).as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).unwrap_or(0);
    let end = html[start..].find('"').map(|i| i + start).unwrap_or(start);
    html[start..end].to_owned()
}

pub fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

pub fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// Samples the server's resident memory every 2 ms until stopped; answers the most seen.
pub fn sample_rss(
    pid: u32,
    stop: Arc<AtomicBool>,
    most: Arc<AtomicU64>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            if let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                most.fetch_max(kib, Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    })
}
