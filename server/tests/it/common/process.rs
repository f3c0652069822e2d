//! Real `patchbay serve` processes for the tests that need more than one server, or a
//! server that dies (SIGKILL) and starts again.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;

/// A running `patchbay serve`; killed when dropped.
pub struct Process {
    pub child: tokio::process::Child,
    pub base: String,
}

impl Process {
    /// Kills it at once (SIGKILL): no shutdown, nothing finished.
    pub async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }

    /// Sends SIGTERM, as a service manager stops it, and waits at most `within` for it to
    /// exit: answers its exit status and how long it took.
    pub async fn terminate(
        mut self,
        within: Duration,
    ) -> (std::process::ExitStatus, std::time::Duration) {
        let pid = self.child.id().expect("the server is running");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "cannot send SIGTERM to {pid}");
        let started = std::time::Instant::now();
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the server did not exit within {within:?} of SIGTERM"))
            .unwrap();
        (status, started.elapsed())
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `patchbay serve` with `env` on a free port, its output in `log`; answers once
/// `/healthz` does.
pub async fn serve(env: &[(&str, String)], log: &std::path::Path) -> Process {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_patchbay"))
        .arg("serve")
        .envs(env.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .env("PATCHBAY_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let probe = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(response) = probe.get(format!("{base}/healthz")).send().await {
            if response.status() == StatusCode::OK {
                return Process { child, base };
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("patchbay serve on {base} did not start");
}

/// The settings of a `patchbay serve` sharing `database_url` with others: the same data
/// directory, encryption key (`key_byte` repeated) and first administrator, logging at info,
/// and `extra`.
pub fn instance_env(
    dir: &std::path::Path,
    database_url: &str,
    key_byte: u8,
    extra: &[(&'static str, String)],
) -> Vec<(&'static str, String)> {
    use base64::Engine;
    let mut env = vec![
        ("PATCHBAY_DATABASE_URL", database_url.to_owned()),
        ("PATCHBAY_DATA_DIR", dir.display().to_string()),
        ("PATCHBAY_SITE_ROOT", dir.join("site").display().to_string()),
        (
            "PATCHBAY_ENCRYPTION_KEY",
            base64::engine::general_purpose::STANDARD.encode([key_byte; 32]),
        ),
        ("PATCHBAY_ADMIN_EMAIL", super::ADMIN_EMAIL.to_string()),
        ("PATCHBAY_ADMIN_PASSWORD", super::ADMIN_PASSWORD.to_string()),
        ("RUST_LOG", "info".to_string()),
    ];
    env.extend_from_slice(extra);
    env
}

/// `patchbay ARGS` run to its end with only `env` (and `PATH`): a command an operator types.
pub async fn patchbay(args: &[&str], env: &[(&str, String)]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_patchbay"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .output()
        .await
        .unwrap()
}

/// What a command printed, standard output then standard error.
pub fn said(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
