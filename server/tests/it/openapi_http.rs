//! The REST API's OpenAPI 3.1 description: valid by the OpenAPI Initiative's own schema
//! (openapi-spec-validator, installed by `.ci/setup test`), every operation it describes
//! answered by its handler, every `/api/v1` route described, and the reference page
//! showing them all.

use std::path::{Path, PathBuf};

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both_databases!(the_description_validates_and_every_operation_it_names_exists);

/// The validator `.ci/setup test` installs; `PATCHBAY_OPENAPI_VALIDATOR` names another.
fn validator() -> PathBuf {
    if let Some(path) = std::env::var_os("PATCHBAY_OPENAPI_VALIDATOR") {
        return PathBuf::from(path);
    }
    let venv = std::env::var_os("PATCHBAY_PYTHON_VENV").map_or_else(
        || PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/patchbay/venv"),
        PathBuf::from,
    );
    venv.join("bin/openapi-spec-validator")
}

/// A path of the description with each `{parameter}` filled in.
fn concrete(path: &str) -> String {
    path.replace("{provider}", "crm")
        .replace("{key}", "no_such_key")
        .replace("{crm_id}", "u1")
        .replace("{id}", "1")
        .replace("{revision}", "1")
        .replace("{from}", "1")
        .replace("{to}", "2")
}

async fn the_description_validates_and_every_operation_it_names_exists(db: Db) {
    let server = TestServer::start(db).await;
    let anonymous = reqwest::Client::new();
    let response = anonymous
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "public, like /docs");
    let text = response.text().await.unwrap();
    let description: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(description["openapi"], "3.1.0");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, &text).unwrap();
    let tool = validator();
    assert!(
        tool.exists(),
        "{} is missing: run .ci/setup test (or set PATCHBAY_OPENAPI_VALIDATOR)",
        tool.display()
    );
    let checked = std::process::Command::new(&tool)
        .args(["--schema", "3.1"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "the description does not validate:\n{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    // Every operation is answered by its own handler: without credentials that is the
    // API's JSON refusal, never the router's 405 or the pages' HTML 404.
    let paths = description["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        assert!(path.starts_with("/api/v1/"), "{path}");
        for method in item.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let response = anonymous
                .request(method.clone(), server.url(&concrete(path)))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let kind = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                kind.starts_with("application/json"),
                "{method} {path}: {status} {kind}"
            );
            let body: Value = response.json().await.unwrap();
            if status != StatusCode::OK {
                assert!(body["error"]["code"].is_string(), "{method} {path}: {body}");
            }
            operations += 1;
        }
    }
    assert!(operations >= 59, "only {operations} operations described");

    // The page actions scripts asked for are there.
    for (method, path) in [
        ("get", "/api/v1/integrations/{provider}"),
        ("put", "/api/v1/integrations/{provider}/{key}/settings"),
        ("put", "/api/v1/integrations/{provider}/{key}/features"),
        ("post", "/api/v1/integrations/{provider}/{key}/check"),
        ("post", "/api/v1/integrations/{provider}/{key}/disconnect"),
        ("post", "/api/v1/integrations/{provider}/{key}/users/sync"),
        (
            "put",
            "/api/v1/integrations/{provider}/{key}/users/{crm_id}/extensions",
        ),
        ("get", "/api/v1/queue"),
        ("post", "/api/v1/queue/{id}/retry"),
        ("post", "/api/v1/queue/{id}/discard"),
        ("get", "/api/v1/activity"),
        ("post", "/api/v1/accounts"),
        ("post", "/api/v1/tokens"),
    ] {
        assert!(
            description["paths"][path][method].is_object(),
            "{method} {path} is not described"
        );
    }

    // Every request the README names is described (and so exists).
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let named = requests_named_in(&readme);
    assert!(
        named.len() >= 40,
        "only {} requests found in the README",
        named.len()
    );
    for (method, path) in &named {
        let described = paths.iter().any(|(pattern, item)| {
            item.get(method.to_lowercase()).is_some() && path_matches(pattern, path)
        });
        assert!(
            described,
            "the README names {method} {path}, which is not described"
        );
    }

    // The reference page shows every operation.
    let (status, page) = server.browser().get_text("/docs/api").await;
    assert_eq!(status, StatusCode::OK);
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let heading = format!("{} {}", method.to_uppercase(), path);
            assert!(page.contains(&heading), "the reference lacks {heading}");
        }
    }
    assert!(page.contains("SettingsBody"), "and the schemas");
}

/// The `` `METHOD /api/v1/…` `` requests a text names, without their query strings.
fn requests_named_in(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        let opening = format!("`{method} /api/v1/");
        for (at, _) in text.match_indices(&opening) {
            let rest = &text[at + 1 + method.len() + 1..];
            let end = rest
                .find(|c: char| c == '`' || c == '?' || c.is_whitespace())
                .unwrap_or(rest.len());
            found.push((method.to_owned(), rest[..end].to_owned()));
        }
    }
    found
}

/// Whether a concrete or templated path (`/api/v1/templates/crm/{n}`) is one the
/// description's `pattern` (`/api/v1/templates/{provider}/{key}`) covers.
fn path_matches(pattern: &str, path: &str) -> bool {
    let (pattern, path): (Vec<&str>, Vec<&str>) =
        (pattern.split('/').collect(), path.split('/').collect());
    pattern.len() == path.len()
        && pattern
            .iter()
            .zip(&path)
            .all(|(want, have)| want.starts_with('{') || want == have)
}

/// Every route under `/api/v1` is registered through `routes!`, which describes it from
/// its handler's `#[utoipa::path]`: no module of the web layer adds one with plain axum.
#[test]
fn no_api_route_escapes_the_description() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut offenders = Vec::new();
    for file in rust_files(&web) {
        let text = std::fs::read_to_string(&file).unwrap();
        let code: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for (at, _) in code.match_indices(".route(") {
            let call: String = code[at..].chars().take(200).collect();
            let path = call.split(',').next().unwrap_or_default();
            if path.contains("/api/v1") || path.contains("PATH") && !known_outside(path) {
                offenders.push(format!("{}: {path}", file.display()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "routes outside routes!: {offenders:?}"
    );
}

/// Constants naming routes outside `/api/v1` (`/metrics`, the reference page).
fn known_outside(path: &str) -> bool {
    path.contains("METRICS_PATH") || path.contains("REFERENCE_PATH")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}
