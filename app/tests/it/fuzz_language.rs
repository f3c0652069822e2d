//! Random and mutated input for both languages, for a bounded time: a
//! malformed path, document or template must give a value or an error,
//! never a panic. Deterministic (fixed seeds), so a failure reproduces.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use app::lang::{gjson, mapping, parse_template, text};
use serde_json::Value as Json;

/// How long each language is exercised; `PATCHBAY_FUZZ_SECONDS` raises it.
fn budget() -> Duration {
    let seconds = std::env::var("PATCHBAY_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    Duration::from_secs_f64(seconds)
}

/// xorshift64*: small, fast and reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const PATH_TOKENS: &[&str] = &[
    ".",
    "|",
    "#",
    "*",
    "?",
    "\\",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "!",
    "=",
    "==",
    "!=",
    "<",
    ">",
    "%",
    "!%",
    "~",
    "~true",
    "@reverse",
    "@pretty",
    "@ugly",
    "@this",
    "@valid",
    "@flatten",
    "@join",
    "@keys",
    "@values",
    "@tostr",
    "@fromstr",
    "@group",
    ":{\"deep\":true}",
    "#(",
    ")#",
    "..",
    "0",
    "1",
    "-1",
    "name",
    "a",
    "é",
    "☃",
    " ",
];
const JSON_TOKENS: &[&str] = &[
    "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u12", "\\ud83d", "\\\"", "a", "name", "1", "-",
    "1e5", ".5", "true", "fals", "null", "nan", " ", "\n", "é", "☃", "\u{0}",
];
const TEMPLATE_TOKENS: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "-}}",
    " ",
    ".",
    ".A",
    ".Name",
    "$",
    "$x",
    ":=",
    "=",
    "|",
    "(",
    ")",
    "\"",
    "`",
    "'",
    "\\",
    "if",
    "else",
    "end",
    "range",
    "with",
    "break",
    "continue",
    "define",
    "template",
    "block",
    "\"t\"",
    "nil",
    "true",
    "1",
    "0x1F",
    "1e3",
    "'a'",
    "-",
    "printf",
    "\"%d %s %5.2f %q %x %v %T %!\"",
    "index",
    "slice",
    "len",
    "and",
    "or",
    "not",
    "eq",
    "lt",
    "html",
    "js",
    "urlquery",
    "print",
    "println",
    "Capitalize",
    "UrlEncode",
    "ToMillis",
    "TimeFormat",
    "JsonEscape",
    "/*",
    "*/",
    "é",
    "\n",
];

fn random_from(rng: &mut Rng, tokens: &[&str], max: usize) -> String {
    (0..rng.below(max) + 1).map(|_| rng.pick(tokens)).collect()
}

/// A fixture input with a few tokens inserted, deleted or replaced.
fn mutate(rng: &mut Rng, base: &str, tokens: &[&str]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    for _ in 0..rng.below(4) + 1 {
        let at = rng.below(chars.len() + 1);
        match rng.below(3) {
            0 => {
                let token: Vec<char> = rng.pick(tokens).chars().collect();
                chars.splice(at..at, token);
            }
            1 if at < chars.len() => {
                let end = (at + rng.below(4) + 1).min(chars.len());
                chars.drain(at..end);
            }
            _ if at < chars.len() => {
                let token: Vec<char> = rng.pick(tokens).chars().collect();
                chars.splice(at..at + 1, token);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn fixture_inputs(file: &str, keys: [&str; 2]) -> Vec<(String, Json)> {
    let path = format!("{}/tests/conformance/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .expect("fixtures")
        .lines()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .map(|c| {
            (
                c[keys[0]].as_str().unwrap_or_default().to_owned(),
                c[keys[1]].clone(),
            )
        })
        .collect()
}

fn survive(what: &str, input: &str, run: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(run)).is_err() {
        panic!("{what} panicked on input {input:?}");
    }
}

#[test]
fn gjson_never_panics_on_random_paths_and_documents() {
    let cases = fixture_inputs("gjson.jsonl", ["path", "json"]);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let start = Instant::now();
    let mut runs = 0u64;
    while start.elapsed() < budget() {
        let (base_path, base_json) = &cases[rng.below(cases.len())];
        let base_json = base_json.as_str().unwrap_or_default();
        let path = if rng.below(2) == 0 {
            mutate(&mut rng, base_path, PATH_TOKENS)
        } else {
            random_from(&mut rng, PATH_TOKENS, 12)
        };
        let json = match rng.below(3) {
            0 => mutate(&mut rng, base_json, JSON_TOKENS),
            1 => random_from(&mut rng, JSON_TOKENS, 30),
            _ => base_json.to_owned(),
        };
        survive("gjson::get", &format!("{json} @ {path}"), || {
            let value = gjson::get(&json, &path);
            let _ = (value.exists(), value.string(), gjson::valid(&json));
            let _ = mapping::alternatives(&path);
        });
        runs += 1;
    }
    assert!(runs > 1000, "only {runs} runs in the time budget");
    eprintln!("gjson: {runs} random cases without a panic");
}

#[test]
fn templates_never_panic_on_random_input() {
    let cases = fixture_inputs("tmpl.jsonl", ["template", "vars"]);
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let start = Instant::now();
    let mut runs = 0u64;
    let mut parsed = 0u64;
    while start.elapsed() < budget() {
        let (base, vars) = &cases[rng.below(cases.len())];
        let data: text::Data = vars
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let source = if rng.below(3) == 0 {
            random_from(&mut rng, TEMPLATE_TOKENS, 16)
        } else {
            mutate(&mut rng, base, TEMPLATE_TOKENS)
        };
        survive("template", &source, || {
            if let Ok(t) = parse_template(&source) {
                parsed += 1;
                let _ = t.execute(&data);
                let _ = t.referenced_variables();
            }
        });
        runs += 1;
    }
    assert!(runs > 1000, "only {runs} runs in the time budget");
    assert!(
        parsed > 0,
        "no random template parsed; the generator is too weak to reach execution"
    );
    eprintln!("templates: {runs} random cases ({parsed} parsed and executed) without a panic");
}
