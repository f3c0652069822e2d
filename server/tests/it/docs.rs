//! The template authors' documentation (docs/) is true: every `$ patchbay …` line of a
//! `console` block runs and prints what the page shows, every validator code has its
//! section, and the server serves the pages to anyone, links and ids intact.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use reqwest::StatusCode;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn pages() -> Vec<(String, String)> {
    let mut pages: Vec<(String, String)> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .filter_map(|entry| {
            let path = entry.unwrap().path();
            (path.extension()? == "md").then(|| {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&path).unwrap())
            })
        })
        .collect();
    pages.sort();
    pages
}

/// `$ command` lines of the `console` blocks, each with the output printed under it.
fn console_examples(markdown: &str) -> Vec<(String, String)> {
    let mut examples = Vec::new();
    let mut in_console = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_console = line.trim() == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            examples.push((command.to_owned(), String::new()));
        } else if let Some((_, output)) = examples.last_mut() {
            output.push_str(line);
            output.push('\n');
        }
    }
    examples
}

/// Splits a command line as a shell would, for the quoting these pages use.
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in command.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, ' ') => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[test]
fn every_console_example_prints_what_the_page_shows() {
    let mut ran = 0;
    for (page, markdown) in pages() {
        for (command, expected) in console_examples(&markdown) {
            let words = words(&command);
            assert_eq!(words[0], "patchbay", "{page}: {command}");
            let output = Command::new(env!("CARGO_BIN_EXE_patchbay"))
                .args(&words[1..])
                .current_dir(root())
                .env("PATCHBAY_FIELD_API_KEY", "k-Example-1")
                .output()
                .unwrap();
            // What a terminal shows: the output, then the summary some commands print on
            // stderr.
            let printed = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(output.status.success(), "{page}: {command}\n{printed}");
            assert_eq!(printed.trim_end(), expected.trim_end(), "{page}: {command}");
            assert!(!printed.contains("k-Example-1"), "{page}: the key printed");
            ran += 1;
        }
    }
    assert!(ran >= 15, "only {ran} examples ran");
}

#[test]
fn every_finding_code_has_its_section() {
    let validator = std::fs::read_to_string(root().join("docs/validator.md")).unwrap();
    for code in app::template::validate::FINDING_CODES
        .iter()
        .chain(&server::templates::intake::INTAKE_CODES)
    {
        assert!(
            validator.contains(&format!("{{#{code}}}")),
            "docs/validator.md has no section for {code}"
        );
    }
}

#[test]
fn every_page_is_served_and_every_file_is_linked_from_the_index() {
    let served: Vec<&str> = server::web::docs::PAGES
        .iter()
        .map(|(name, _, _)| *name)
        .collect();
    for (page, _) in pages() {
        let name = page.trim_end_matches(".md");
        let name = if name == "README" { "" } else { name };
        assert!(served.contains(&name), "{page} is not served at /docs");
    }
}

async fn docs_are_public_with_their_ids_and_links(db: Db) {
    let server = TestServer::start(db).await;
    let anonymous = server.browser();
    let (status, html) = anonymous.get_text("/docs/validator").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<h2 id="json.unescaped">"#), "{html}");
    let (status, html) = anonymous.get_text("/docs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"href="/docs/scenarios""#), "{html}");
    let (status, html) = anonymous.get_text("/docs/scenarios.md").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"<h2 id="createnewticket-and-updateticket">"#),
        "{html}"
    );
    let (status, xml) = anonymous.get_text("/docs/examples/helpdesk.xml").await;
    assert_eq!(status, StatusCode::OK);
    assert!(xml.contains("<Information"));
    let (status, _) = anonymous.get_text("/docs/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

on_both_databases!(docs_are_public_with_their_ids_and_links);
