//! `patchbay eval path|template --jsonl` over the committed conformance
//! fixtures: the binary's output must agree with the Go reference's recorded
//! answer on every line.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value as Json;

fn fixtures(file: &str) -> Vec<Json> {
    let path = format!(
        "{}/../app/tests/conformance/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("fixture line is JSON"))
        .collect()
}

/// Runs `patchbay eval WHAT --jsonl` with the cases' inputs (without their
/// expected answers) and returns its output lines.
fn run_jsonl(what: &str, cases: &[Json]) -> Vec<String> {
    let mut input = String::new();
    for case in cases {
        let mut case = case.clone();
        if let Some(obj) = case.as_object_mut() {
            obj.remove("expect");
        }
        input.push_str(&case.to_string());
        input.push('\n');
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_patchbay"))
        .args(["eval", what, "--jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts patchbay");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("patchbay finishes");
    writer
        .join()
        .expect("writer thread")
        .expect("writes the cases");
    assert!(
        output.status.success(),
        "patchbay eval {what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn agree(what: &str, file: &str) {
    let cases = fixtures(file);
    let lines = run_jsonl(what, &cases);
    assert_eq!(lines.len(), cases.len(), "one output line per case");
    let mut disagreements = Vec::new();
    for (n, (line, case)) in lines.iter().zip(&cases).enumerate() {
        let got: Json =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}: {line}", n + 1));
        if got != case["expect"] {
            disagreements.push(format!(
                "line {}: got {line}\n  want {}",
                n + 1,
                case["expect"]
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

#[test]
fn eval_path_jsonl_agrees_with_the_reference_line_for_line() {
    agree("path", "gjson.jsonl");
}

#[test]
fn eval_template_jsonl_agrees_with_the_reference_line_for_line() {
    agree("template", "tmpl.jsonl");
}

#[test]
fn a_bad_input_line_is_reported_with_its_number() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_patchbay"))
        .args(["eval", "path", "--jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts patchbay");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"{\"json\":\"{}\",\"path\":\"a\"}\nnot json\n")
        .expect("writes");
    let output = child.wait_with_output().expect("finishes");
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "{\"exists\":false,\"raw\":\"\",\"str\":\"\"}\n"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("line 2:"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
