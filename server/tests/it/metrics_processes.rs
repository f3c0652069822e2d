//! `GET /metrics` of a real `patchbay serve` (README "Metrics"): who may read it (an
//! administrator or a `metrics` token; not a user, an agent, another scope or nobody), and
//! that what happened shows: HTTP requests by declared route, call events by source and
//! outcome, CRM requests by integration with their latency, the queue by state, open call
//! streams; every line in the Prometheus text format.

use std::collections::BTreeMap;

use crate::common::process::{instance_env, serve};
use crate::common::*;
use crate::queue_processes::{all_done, crm_taking, post_calls, set_up_as_admin};
use reqwest::StatusCode;

on_both_databases!(metrics_count_what_happened_for_an_administrator_or_a_metrics_token,);

/// The scrape's samples: `name{labels}` → value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    let mut found = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        let name_ok = series
            .split('{')
            .next()
            .is_some_and(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        assert!(
            name_ok && (!series.contains('{') || series.ends_with('}')),
            "{line}"
        );
        found.insert(series.to_owned(), value);
    }
    found
}

async fn scrape(base: &str, token: &str) -> (StatusCode, String, String) {
    let response = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

async fn metrics_count_what_happened_for_an_administrator_or_a_metrics_token(db: Db) {
    const CALLS: usize = 5;
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(db, dir.path()).await;
    let env = instance_env(dir.path(), &database_url, 5, &[]);
    let server = serve(&env, &dir.path().join("serve.log")).await;
    let crm = crm_taking(std::time::Duration::from_millis(5)).await;
    let (admin, events_token) = set_up_as_admin(&server, &crm).await;

    // Who may read.
    let nobody = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap();
    assert_eq!(
        nobody.status(),
        StatusCode::UNAUTHORIZED,
        "not a redirect to sign-in"
    );
    let user = admin
        .new_account(&server.base, "metrics-user@example.com", "user")
        .await;
    assert_eq!(
        user.browser.get("/metrics").await.status(),
        StatusCode::FORBIDDEN
    );
    let (status, _, _) = scrape(&server.base, &admin.create_token("ops", "lookup").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another scope");
    let token = admin.create_token("prometheus", "metrics").await;
    let templates = reqwest::Client::new()
        .get(format!("{}/api/v1/templates/crm", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        templates.status(),
        StatusCode::FORBIDDEN,
        "a metrics token reads nothing else"
    );
    assert_eq!(admin.browser.get("/metrics").await.status(), StatusCode::OK);

    // What happened shows.
    post_calls(&server.base, &events_token, 0..CALLS).await;
    all_done(&database_url).await;
    let _ = admin.browser.get("/templates/crm").await;
    let _ = admin.browser.get("/no-such-page").await;
    let stream = admin
        .browser
        .client
        .get(admin.browser.url("/api/v1/calls/stream"))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);

    let (status, content_type, text) = scrape(&server.base, &token).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let found = samples(&text);
    let value = |series: &str| found.get(series).copied().unwrap_or(0.0);
    let sum = |prefix: &str, with: &str| -> f64 {
        found
            .iter()
            .filter(|(series, _)| series.starts_with(prefix) && series.contains(with))
            .map(|(_, v)| v)
            .sum()
    };
    assert_eq!(
        value(r#"patchbay_events_received_total{source="generic",outcome="queued"}"#),
        CALLS as f64,
        "{text}"
    );
    assert_eq!(
        value(r#"patchbay_http_requests_total{route="/api/v1/events",method="POST",status="202"}"#),
        CALLS as f64,
        "{text}"
    );
    assert!(
        value(
            r#"patchbay_http_requests_total{route="/templates/{provider}",method="GET",status="200"}"#
        ) >= 1.0,
        "{text}"
    );
    assert!(
        sum(
            "patchbay_http_requests_total{route=\"unmatched\"",
            "status=\"404\""
        ) >= 1.0,
        "{text}"
    );
    assert!(!text.contains("no-such-page"), "raw paths are never labels");
    assert_eq!(
        sum("patchbay_crm_requests_total{", "outcome=\"2xx\""),
        CALLS as f64,
        "{text}"
    );
    assert_eq!(
        sum("patchbay_crm_request_seconds_count{", ""),
        CALLS as f64,
        "{text}"
    );
    assert_eq!(
        value(r#"patchbay_queue_jobs{state="done"}"#),
        CALLS as f64,
        "{text}"
    );
    assert_eq!(
        value(r#"patchbay_queue_jobs{state="pending"}"#),
        0.0,
        "{text}"
    );
    assert_eq!(value("patchbay_call_streams_open"), 1.0, "{text}");
    assert_eq!(value("patchbay_phone_system_connected"), 0.0, "{text}");
    // Nothing waits: no oldest age (server/src/metrics.rs tests it with jobs waiting).
    assert!(
        !text.contains("patchbay_queue_oldest_job_age_seconds{"),
        "{text}"
    );
    drop(stream);
}
