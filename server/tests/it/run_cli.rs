//! `patchbay run TEMPLATE SCENARIO`: a template author's trace, against a loopback CRM,
//! with every secret masked in what it prints.

use std::process::Command;

use crate::common::Fixture;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const API_KEY: &str = "api-Key-Axolotl-9191";

fn template(crm: &str) -> String {
    Fixture::load("run-crm-basic.xml").at(crm)
}

fn patchbay(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_patchbay"))
        .args(args)
        .env("PATCHBAY_FIELD_API_KEY", API_KEY)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_dry_run_renders_every_request_and_a_live_lookup_shows_its_trace() {
    let crm = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .and(query_param("phone", "5550100"))
        .and(query_param("key", API_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": [{"id": 7, "first": "Ann", "phone": "5550100", "note": format!("key {API_KEY}")}]}),
        ))
        .mount(&crm)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.xml");
    std::fs::write(&file, template(&crm.uri())).unwrap();
    let file = file.to_str().unwrap();

    // Dry run: the vendor's single-quoted TimeFormat renders; the empty recording URL skips.
    let (ok, out, err) = patchbay(&[
        "run",
        file,
        "CallJournal",
        "--dry-run",
        "--var",
        "StartTimeUnix=1672531199",
    ]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("→ POST {}/calls", crm.uri())),
        "{out}"
    );
    assert!(
        out.contains(r#"{"start": "2022-12-31 23:59", "key": "••••••"}"#),
        "{out}"
    );
    assert!(
        out.contains("CallJournal/Recording: skipped, its URL renders empty"),
        "{out}"
    );
    assert!(
        crm.received_requests().await.unwrap().is_empty(),
        "a dry run sends nothing"
    );

    // Live lookup: each step, the contact, the popup URL; the key nowhere.
    let (ok, out, err) = patchbay(&["run", file, "SyncContactAuto", "--var", "Phone=5550100"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("Step 1  SyncContactAuto/Contacts"), "{out}");
    assert!(out.contains("Authorization: Basic ••••••"), "{out}");
    assert!(out.contains("X-Key-Echo: ••••••"), "{out}");
    assert!(out.contains("Contact (Contacts)\n"), "{out}");
    assert!(out.contains("  FirstName: Ann\n"), "{out}");
    assert!(out.contains("  popup: https://crm.example/c/7\n"), "{out}");
    for text in [&out, &err] {
        assert!(!text.contains(API_KEY), "the key printed: {text}");
    }

    let (ok, out, _) = patchbay(&[
        "run",
        file,
        "SyncContactAuto",
        "--var",
        "Phone=5550100",
        "--json",
    ]);
    assert!(ok);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["contact"]["contact_type"], "Contacts");
    assert_eq!(report["steps"][0]["response"]["status"], 200);
    assert!(!out.contains(API_KEY));

    // Mistakes are named.
    let (ok, _, err) = patchbay(&["run", file, "Nope", "--dry-run"]);
    assert!(!ok && err.contains("has no scenario \"Nope\""), "{err}");

    // A live journal: the call variables given build the sample call; a recording makes
    // the `{{if .RecordPath}}` request go out.
    Mock::given(method("POST"))
        .and(path("/calls"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "j-1"})))
        .mount(&crm)
        .await;
    Mock::given(method("POST"))
        .and(path("/recordings"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&crm)
        .await;
    let (ok, out, err) = patchbay(&[
        "run",
        file,
        "CallJournal",
        "--var",
        "StartTimeUnix=1672531199",
        "--var",
        "RecordPath=https://pbx.example/r.wav",
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("Step 1  CallJournal/CallJournal"), "{out}");
    assert!(out.contains("Step 2  CallJournal/Recording"), "{out}");
    let sent = crm.received_requests().await.unwrap();
    let journal = sent.iter().find(|r| r.url.path() == "/calls").unwrap();
    assert_eq!(
        String::from_utf8_lossy(&journal.body),
        format!(r#"{{"start": "2022-12-31 23:59", "key": "{API_KEY}"}}"#)
    );
    assert!(!out.contains(API_KEY), "{out}");
    let (ok, _, err) = patchbay(&["run", file, "SyncContactAuto", "--set", "region=eu"]);
    assert!(
        !ok && err.contains("--set region: the template has no such field"),
        "{err}"
    );
}
