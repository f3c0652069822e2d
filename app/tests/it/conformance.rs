//! Every committed conformance fixture, checked against the Go reference's
//! recorded answers (see `tests/conformance/README.md`).

use app::lang::{functions, gjson, text};
use serde_json::Value as Json;

fn cases(file: &str) -> Vec<Json> {
    let path = format!("{}/tests/conformance/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}: {l}")))
        .collect()
}

fn text<'a>(case: &'a Json, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("fixture without {key}: {case}"))
}

#[test]
fn gjson_paths_agree_with_the_go_reference() {
    let all = cases("gjson.jsonl");
    assert!(
        all.len() >= 600,
        "expected at least 600 GJSON fixtures, found {}",
        all.len()
    );
    let mut failures = Vec::new();
    for (line, case) in all.iter().enumerate() {
        let value = gjson::get(text(case, "json"), text(case, "path"));
        let got = serde_json::json!({
            "exists": value.exists(),
            "raw": value.raw(),
            "str": value.string(),
        });
        if got != case["expect"] {
            failures.push(format!(
                "line {}: path {:?}\n   got {got}\n  want {}",
                line + 1,
                text(case, "path"),
                case["expect"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} GJSON fixtures disagree with the reference:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

/// The index that reads a response once for many output paths answers only where it
/// agrees with `get`: on every reference case it accepts, the same value (a `#` step: the
/// same values as the elements of `get`'s array).
#[test]
fn the_output_index_agrees_with_get_on_every_case_it_answers() {
    use gjson::index::{Index, Lookup};
    let (mut answered, mut each) = (0, 0);
    for (line, case) in cases("gjson.jsonl").iter().enumerate() {
        let (json, path) = (text(case, "json"), text(case, "path"));
        if !gjson::valid(json) {
            continue;
        }
        let Some(index) = Index::build(json) else {
            continue;
        };
        let expected = gjson::get(json, path);
        match index.lookup(path) {
            Lookup::Unsure => continue,
            Lookup::Found(value) => assert_eq!(value, expected, "line {}: {path}", line + 1),
            Lookup::Missing => assert!(!expected.exists(), "line {}: {path}", line + 1),
            Lookup::Each(values) => {
                each += 1;
                let mut items = Vec::new();
                expected.for_each(|_, v| {
                    items.push((v.raw().to_owned(), v.string().into_owned()));
                    true
                });
                let got: Vec<_> = values
                    .iter()
                    .map(|v| (v.raw().to_owned(), v.string().into_owned()))
                    .collect();
                assert_eq!(got, items, "line {}: {path}", line + 1);
            }
        }
        answered += 1;
    }
    assert!(
        answered >= 100 && each >= 5,
        "only {answered} cases ({each} with #) exercised the index"
    );
}

/// The functions the reference defines (`Capitalize`, `UrlEncode`,
/// `ToMillis`) are Patchbay's; `TimeFormat` and `JsonEscape` are extra.
fn functions() -> std::sync::Arc<text::Functions> {
    std::sync::Arc::new(functions::patchbay(functions::fixed_offset(0)))
}

fn render(template: &str, vars: &Json) -> Json {
    let data: text::Data = vars
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    match text::Template::parse("t", template, functions()) {
        Err(e) => serde_json::json!({"ok": false, "out": "", "err": e.to_string()}),
        Ok(t) => match t.execute(&data) {
            Ok(out) => serde_json::json!({"ok": true, "out": out, "err": ""}),
            Err(e) => serde_json::json!({"ok": false, "out": "", "err": e.to_string()}),
        },
    }
}

#[test]
fn templates_agree_with_the_go_reference() {
    let all = cases("tmpl.jsonl");
    assert!(
        all.len() >= 250,
        "expected at least 250 template fixtures, found {}",
        all.len()
    );
    let mut failures = Vec::new();
    for (line, case) in all.iter().enumerate() {
        let got = render(text(case, "template"), &case["vars"]);
        if got != case["expect"] {
            failures.push(format!(
                "line {}: template {:?}\n   got {got}\n  want {}",
                line + 1,
                text(case, "template"),
                case["expect"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} template fixtures disagree with the reference:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
