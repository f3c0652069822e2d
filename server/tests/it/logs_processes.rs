//! `PATCHBAY_LOG_FORMAT=json` (README "Configuration"): a real `patchbay serve` writes one
//! JSON object per line on standard output, from its start to its stop, and nothing else
//! there (the listening line and a setup link go to standard error); a format it does not
//! know is refused at start.

use std::process::Stdio;
use std::time::Duration;

use crate::common::process::{free_port, instance_env};
use crate::common::*;

#[tokio::test]
async fn json_logs_are_one_object_per_line_from_start_to_stop() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(Db::Sqlite, dir.path()).await;
    let port = free_port();
    let mut env = instance_env(dir.path(), &database_url, 3, &[]);
    env.push(("PATCHBAY_LOG_FORMAT", "json".to_owned()));
    env.push(("PATCHBAY_BIND", format!("127.0.0.1:{port}")));
    let (stdout, stderr) = (dir.path().join("out.log"), dir.path().join("err.log"));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_patchbay"))
        .arg("serve")
        .envs(env.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .stdout(Stdio::from(std::fs::File::create(&stdout).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&stderr).unwrap()))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..300 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        up,
        "the server did not start: {}",
        std::fs::read_to_string(&stderr).unwrap()
    );
    let _ = reqwest::get(format!("{base}/login")).await.unwrap();
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());

    let out = std::fs::read_to_string(&stdout).unwrap();
    let mut messages = Vec::new();
    for line in out.lines() {
        let record: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON record ({e}): {line}"));
        assert!(
            record["timestamp"].is_string() && record["level"].is_string(),
            "{line}"
        );
        messages.push(
            record["fields"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    for expected in ["listening", "stopped"] {
        assert!(
            messages.iter().any(|m| m == expected),
            "no {expected:?} in {messages:?}"
        );
    }
    assert!(
        out.contains(ADMIN_EMAIL),
        "the first administrator's creation is logged with its address: {out}"
    );
    let err = std::fs::read_to_string(&stderr).unwrap();
    assert!(err.contains("Patchbay is listening on"), "{err}");

    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_patchbay"))
        .arg("serve")
        .envs(env.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .env("PATCHBAY_LOG_FORMAT", "xml")
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("PATCHBAY_LOG_FORMAT") && said.contains("\"xml\""),
        "{said}"
    );
}
