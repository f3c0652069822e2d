//! The README's commands are true where a test can tell: every `make` target it names is in
//! the Makefile, and every `patchbay …` command of its shell blocks names a real command
//! whose options exist (its `--help` lists them). The API requests it names are checked
//! against the OpenAPI description in `openapi_http.rs`, its settings in `config.rs`.

use std::path::{Path, PathBuf};

use crate::common::process::{patchbay, said};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

/// The lines of the README's `sh` blocks, continuation lines joined.
fn shell_lines(markdown: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_shell = false;
    let mut pending = String::new();
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_shell = line.trim() == "```sh";
            continue;
        }
        if !in_shell {
            continue;
        }
        let code = line.split(" #").next().unwrap_or_default().trim_end();
        match code.strip_suffix('\\') {
            Some(start) => pending.push_str(start),
            None => {
                pending.push_str(code);
                lines.push(std::mem::take(&mut pending).trim().to_owned());
            }
        }
    }
    lines
}

/// `patchbay` and what follows it on a line (after any `NAME=value` settings).
fn patchbay_command(line: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "patchbay")?;
    if !words[..at].iter().all(|w| w.contains('=')) {
        return None;
    }
    Some(words[at + 1..].iter().map(|w| w.to_string()).collect())
}

#[test]
fn every_make_target_the_readme_names_exists() {
    let makefile = std::fs::read_to_string(root().join("Makefile")).unwrap();
    let targets: Vec<&str> = makefile
        .lines()
        .filter_map(|line| line.split_once(':').map(|(name, _)| name))
        .filter(|name| !name.is_empty() && !name.contains([' ', '\t', '.', '$']))
        .collect();
    let readme = readme();
    let mut named = Vec::new();
    for (at, _) in readme.match_indices("`make ") {
        let word: String = readme[at + 6..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        if !word.is_empty() {
            named.push(word);
        }
    }
    for line in shell_lines(&readme) {
        if let Some(target) = line.strip_prefix("make ") {
            named.push(
                target
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    assert!(named.len() >= 8, "only {named:?} found");
    for target in &named {
        assert!(
            targets.contains(&target.as_str()),
            "the README names `make {target}`, which the Makefile lacks"
        );
    }
}

#[tokio::test]
async fn every_patchbay_command_in_the_readme_exists_with_its_options() {
    let commands: Vec<Vec<String>> = shell_lines(&readme())
        .iter()
        .filter_map(|line| patchbay_command(line))
        .collect();
    assert!(
        commands.len() >= 10,
        "only {} commands found",
        commands.len()
    );
    for words in commands {
        // The command's name: its leading words that are names, not arguments.
        let name: Vec<&str> = words
            .iter()
            .map(String::as_str)
            .take_while(|w| {
                w.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !w.starts_with('-')
            })
            .take(2)
            .collect();
        let mut args = name.clone();
        args.push("--help");
        let output = patchbay(&args, &[]).await;
        let help = said(&output);
        // `take(2)` may have taken an argument of a one-word command (`backup FILE` is a
        // path, never all lower case, but `run crm.xml` is not): try the first word alone.
        let help = if output.status.success() || name.len() < 2 {
            assert!(
                output.status.success(),
                "`patchbay {}` is not a command: {help}",
                name.join(" ")
            );
            help
        } else {
            let output = patchbay(&[name[0], "--help"], &[]).await;
            assert!(
                output.status.success(),
                "`patchbay {}` is not a command",
                name[0]
            );
            said(&output)
        };
        for option in words.iter().filter(|w| w.starts_with("--")) {
            let option = option.split('=').next().unwrap_or_default();
            assert!(
                help.contains(option),
                "`patchbay {}` has no option {option}:\n{help}",
                name.join(" ")
            );
        }
    }
}
