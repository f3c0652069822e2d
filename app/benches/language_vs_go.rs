//! Patchbay's template language against the Go reference, on the same work:
//! the same paths over the same documents, the same templates over the same
//! variables (parsed once, executed many times). Prints both times per
//! evaluation and their ratio; target: Patchbay no slower than Go.
//!
//! Run: `cargo bench -p app --bench language_vs_go`. The Go side is built
//! from Debian's golang-go and gjson packages (app/benches/go/main.go); if Go
//! is missing, install it as `app/tests/conformance/regenerate` does.
//!
//! Two workloads each: every committed conformance case (breadth: odd syntax,
//! errors) and a realistic CRM workload (a 100-contact search response with
//! the lookups and templates a contact-sync and call-journal run use).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use app::lang::{gjson, parse_template, text};
use serde_json::{json, Value as Json};

const ROUNDS: usize = 5;

fn best(mut run: impl FnMut()) -> Duration {
    (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn fixture(name: &str) -> Vec<Json> {
    let path = format!("{}/tests/conformance/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .map(|mut c| {
            c.as_object_mut().map(|o| o.remove("expect"));
            c
        })
        .collect()
}

fn crm_paths() -> Vec<Json> {
    let contacts: Vec<Json> = (0..100)
        .map(|i| {
            json!({"id": format!("41508680000002{i:05}"), "first_name": format!("Name{i}"), "last_name": "Lovelace",
                   "email": format!("user{i}@example.com"), "phone": format!("+44 20 7946 {i:04}"),
                   "mobile": format!("+44 77 0090 {i:04}"), "owner": {"id": i % 7, "name": "Ada"},
                   "identities": [{"type": "email", "value": format!("user{i}@example.com")},
                                  {"type": "phone_number", "value": format!("+44 20 7946 {i:04}")}]})
        })
        .collect();
    let doc = json!({"data": contacts, "info": {"per_page": 100, "more_records": true,
                     "next": "https://crm.example/api/contacts?page=2"}})
    .to_string();
    [
        "data.#.id",
        "data.#.email",
        "data.#(phone==\"+44 20 7946 0042\").id",
        "data.#(phone==\"+44 20 7946 0042\")#.first_name",
        "data.#(mobile%\"*0099\")#.id",
        "data.42.identities.#(type==\"phone_number\")#|0.value",
        "data.99.owner.name",
        "info.next",
        "info.more_records",
        "data.#",
        "{id:data.0.id,name:data.0.first_name}",
        "data.#.owner.id|@flatten",
    ]
    .iter()
    .map(|p| json!({"json": doc, "path": p}))
    .collect()
}

fn crm_templates() -> Vec<Json> {
    let vars = json!({"domain": "acme", "Phone": "+44 20 7946 0018", "ContactId": "4150868000000224005",
        "Subject": "Call \"A\"", "Call_From": "Ada <1001>", "Call_To": "Bob <2002>", "Time": "1672531199",
        "Talk_Duration": "00:03:12", "Communication_Type": "Inbound", "Call_Status": "Completed",
        "RecordPath": "", "AccessToken": "tok", "ContactSyncType": "contacts"});
    [
        "https://{{.domain}}.crm.example/api/v2/contacts/search?phone={{UrlEncode .Phone}}",
        "Bearer {{.AccessToken}}",
        "{\"subject\":\"{{.Subject}}\",\"from\":\"{{.Call_From}}\",\"to\":\"{{.Call_To}}\",\"start\":{{ToMillis .Time}},\"duration\":\"{{.Talk_Duration}}\"{{if .RecordPath}},\"recording\":\"{{.RecordPath}}\"{{end}}}",
        "{{.domain}}/crm/tab/{{Capitalize .ContactSyncType}}/{{.ContactId}}",
        "{{if eq .Communication_Type \"Inbound\"}}Incoming{{else}}Outgoing{{end}} call {{.Call_Status | printf \"%q\"}}",
        "{{range $k, $v := .}}{{if $v}}{{$k}}={{urlquery $v}}&{{end}}{{end}}",
        "{{with .ContactId}}id={{.}}{{else}}none{{end}} {{len .Phone}} {{slice .ContactId 0 4}}",
    ]
    .iter()
    .map(|t| json!({"template": t, "vars": vars}))
    .collect()
}

/// Rust time per evaluation, in nanoseconds.
fn time_paths(cases: &[Json], iterations: usize) -> f64 {
    let cases: Vec<(String, String)> = cases
        .iter()
        .map(|c| {
            (
                c["json"].as_str().unwrap_or("").to_owned(),
                c["path"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let mut sink = 0usize;
    let elapsed = best(|| {
        for _ in 0..iterations {
            for (json, path) in &cases {
                sink += gjson::get(json, path).string().len();
            }
        }
    });
    std::hint::black_box(sink);
    elapsed.as_nanos() as f64 / (cases.len() * iterations) as f64
}

/// Only templates both sides parse: Go's harness refuses the rest.
fn parsable(cases: &[Json]) -> Vec<Json> {
    cases
        .iter()
        .filter(|c| parse_template(c["template"].as_str().unwrap_or("")).is_ok())
        .cloned()
        .collect()
}

fn time_templates(cases: &[Json], iterations: usize) -> f64 {
    let parsed: Vec<(text::Template, text::Data)> = cases
        .iter()
        .filter_map(|c| {
            let t = parse_template(c["template"].as_str()?).ok()?;
            let vars = c["vars"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                        .collect()
                })
                .unwrap_or_default();
            Some((t, vars))
        })
        .collect();
    let mut sink = 0usize;
    let elapsed = best(|| {
        for _ in 0..iterations {
            for (t, vars) in &parsed {
                if let Ok(out) = t.execute_bytes(vars) {
                    sink += out.len();
                }
            }
        }
    });
    std::hint::black_box(sink);
    elapsed.as_nanos() as f64 / (parsed.len() * iterations) as f64
}

fn build_go_harness(dir: &Path) -> Option<PathBuf> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/go/main.go");
    let out = dir.join("bench");
    std::fs::copy(&source, dir.join("main.go")).ok()?;
    let status = Command::new("go")
        .args(["build", "-o"])
        .arg(&out)
        .arg("main.go")
        .current_dir(dir)
        .env("GOPATH", "/usr/share/gocode")
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "")
        .env("GOCACHE", dir.join("cache"))
        .status()
        .ok()?;
    status.success().then_some(out)
}

fn time_go(
    harness: &Path,
    dir: &Path,
    mode: &str,
    cases: &[Json],
    iterations: usize,
) -> Option<f64> {
    let file = dir.join(format!("{mode}.jsonl"));
    let mut body = String::new();
    for c in cases {
        let _ = writeln!(body, "{c}");
    }
    std::fs::write(&file, body).ok()?;
    let output = Command::new(harness)
        .arg(mode)
        .arg(&file)
        .arg(iterations.to_string())
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "go harness failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn main() {
    let dir = std::env::temp_dir().join(format!("patchbay-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let harness = build_go_harness(&dir);
    if harness.is_none() {
        eprintln!("Go harness not built (needs Debian's golang-go and golang-github-tidwall-gjson-dev); Patchbay only.");
    }
    let workloads: Vec<(&str, &str, Vec<Json>, usize)> = vec![
        (
            "GJSON, conformance cases",
            "gjson",
            fixture("gjson.jsonl"),
            200,
        ),
        (
            "GJSON, CRM contact search (100 contacts)",
            "gjson",
            crm_paths(),
            200,
        ),
        (
            "template, conformance cases",
            "tmpl",
            parsable(&fixture("tmpl.jsonl")),
            500,
        ),
        (
            "template, CRM URLs and bodies",
            "tmpl",
            crm_templates(),
            5000,
        ),
    ];
    println!(
        "{:<44} {:>14} {:>14} {:>8}",
        "workload", "Patchbay ns/op", "Go ns/op", "Go/Patchbay"
    );
    for (name, mode, cases, iterations) in &workloads {
        let ours = if *mode == "gjson" {
            time_paths(cases, *iterations)
        } else {
            time_templates(cases, *iterations)
        };
        let go = harness
            .as_deref()
            .and_then(|h| time_go(h, &dir, mode, cases, *iterations));
        match go {
            Some(go) => println!("{name:<44} {ours:>14.1} {go:>14.1} {:>7.2}x", go / ours),
            None => println!("{name:<44} {ours:>14.1} {:>14} {:>8}", "-", "-"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
