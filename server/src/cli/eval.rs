//! `patchbay eval path|template`: template authors try a GJSON path on a
//! response or render a template string, exactly as the engine would. With
//! `--jsonl`, both read cases in the Go oracle's input format and print its
//! output format, so a case file can be diffed against the reference.

use std::io::{BufRead, Write};

use app::lang::{gjson, text};
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("line {line}: {message}")]
    BadCase { line: usize, message: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

#[derive(Deserialize)]
struct PathCase {
    json: String,
    path: String,
}

#[derive(Deserialize)]
struct TemplateCase {
    template: String,
    #[serde(default)]
    vars: Option<text::Data>,
}

/// A JSON string as Go's `encoding/json` writes it with HTML escaping off
/// (Go 1.19: `\b` and `\f` as `\u0008` and `\u000c`): the same escaping as
/// the `JsonEscape` template function, inside quotes.
fn go_json_string(s: &str, out: &mut String) {
    out.push('"');
    out.push_str(&app::lang::functions::json_escape(s.as_bytes()));
    out.push('"');
}

/// One result line: `{"a":…,"b":"…","c":"…"}` with a boolean first.
fn result_line(flag: (&str, bool), strings: [(&str, &str); 2]) -> String {
    let mut line = format!("{{\"{}\":{}", flag.0, flag.1);
    for (key, value) in strings {
        line.push_str(&format!(",\"{key}\":"));
        go_json_string(value, &mut line);
    }
    line.push_str("}\n");
    line
}

/// The oracle's `gjson` output for one case.
pub fn path_result(json: &str, path: &str) -> String {
    let value = gjson::get(json, path);
    result_line(
        ("exists", value.exists()),
        [("raw", value.raw()), ("str", &value.string())],
    )
}

/// The oracle's `tmpl` output for one case.
pub fn template_result(template: &str, vars: &text::Data) -> String {
    let rendered = app::lang::parse_go_template(template)
        .map_err(|e| e.to_string())
        .and_then(|t| t.execute(vars).map_err(|e| e.to_string()));
    match rendered {
        Ok(out) => result_line(("ok", true), [("out", &out), ("err", "")]),
        Err(err) => result_line(("ok", false), [("out", ""), ("err", &err)]),
    }
}

fn each_case<C: for<'de> Deserialize<'de>>(
    input: impl BufRead,
    out: &mut impl Write,
    eval: impl Fn(C) -> String,
) -> Result<usize, EvalError> {
    let mut count = 0;
    for (index, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let case: C = serde_json::from_str(&line).map_err(|e| EvalError::BadCase {
            line: index + 1,
            message: e.to_string(),
        })?;
        out.write_all(eval(case).as_bytes())?;
        count += 1;
    }
    out.flush()?;
    Ok(count)
}

/// `eval path --jsonl`: one `{"exists","raw","str"}` line per `{"json","path"}` line.
pub fn paths_jsonl(input: impl BufRead, out: &mut impl Write) -> Result<usize, EvalError> {
    each_case(input, out, |c: PathCase| path_result(&c.json, &c.path))
}

/// `eval template --jsonl`: one `{"ok","out","err"}` line per `{"template","vars"}` line.
pub fn templates_jsonl(input: impl BufRead, out: &mut impl Write) -> Result<usize, EvalError> {
    each_case(input, out, |c: TemplateCase| {
        template_result(&c.template, &c.vars.unwrap_or_default())
    })
}

/// `key=value` arguments as template data; `None` names the first bad one.
pub fn parse_vars(pairs: &[String]) -> Result<text::Data, String> {
    pairs
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| format!("{pair:?} is not key=value"))
        })
        .collect()
}
