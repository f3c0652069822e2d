//! Path modifiers (`@reverse`, `@keys`, ...) and literals (`!true`), after
//! the Go reference 1.14.4.

use super::parse;
use super::scan::{append_json_string, squash, squash_rest, trim};

/// The modifiers of gjson 1.14.4 (`@dig` came later, so it is unknown here too).
const NAMES: [&str; 12] = [
    "pretty", "ugly", "reverse", "this", "valid", "flatten", "join", "keys", "values", "tostr",
    "fromstr", "group",
];

pub(crate) fn is_known(name: &str) -> bool {
    NAMES.contains(&name)
}

/// Runs the modifier at the start of `path` over `json`. Returns what follows
/// it in the path and the modifier's output, or `None` for an unknown name.
pub(crate) fn exec<'p>(json: &str, path: &'p str) -> Option<(&'p str, String)> {
    let b = path.as_bytes();
    let mut name = &path[1..];
    let mut rest = "";
    let mut has_args = false;
    for i in 1..b.len() {
        match b[i] {
            b':' => {
                rest = &path[i + 1..];
                name = &path[1..i];
                has_args = !rest.is_empty();
                break;
            }
            b'|' | b'.' => {
                rest = &path[i..];
                name = &path[1..i];
                break;
            }
            _ => {}
        }
    }
    if !is_known(name) {
        return None;
    }
    let mut args = "";
    if has_args {
        let mut parsed = false;
        if matches!(rest.as_bytes().first(), Some(b'{' | b'[' | b'"')) && parse(rest).exists() {
            let squashed = squash_rest(rest);
            args = squashed;
            rest = &rest[squashed.len()..];
            parsed = true;
        }
        if !parsed {
            match rest.find('|') {
                None => {
                    args = rest;
                    rest = "";
                }
                Some(idx) => {
                    args = &rest[..idx];
                    rest = &rest[idx..];
                }
            }
        }
    }
    let out = match name {
        "pretty" => pretty(json, args),
        "ugly" => gjson::tools::ugly(json),
        "reverse" => reverse(json),
        "this" => json.to_owned(),
        "valid" => {
            if super::valid(json) {
                json.to_owned()
            } else {
                String::new()
            }
        }
        "flatten" => flatten(json, args),
        "join" => join(json, args),
        "keys" => keys(json),
        "values" => values(json),
        "tostr" => {
            let mut out = String::new();
            append_json_string(&mut out, json);
            out
        }
        "fromstr" => {
            if super::valid(json) {
                parse(json).string().into_owned()
            } else {
                String::new()
            }
        }
        _ => group(json),
    };
    Some((rest, out))
}

/// A literal `!true`, `!"text"`, `!{...}` at the start of `path`.
pub(crate) fn exec_literal(path: &str) -> Option<(&str, String)> {
    let name = &path[1..];
    if matches!(
        name.as_bytes().first(),
        Some(b'{' | b'[' | b'"' | b'+' | b'-' | b'0'..=b'9')
    ) {
        let (_, raw) = squash(name, 0);
        return Some((&name[raw.len()..], raw.to_owned()));
    }
    let b = path.as_bytes();
    let (mut word, mut rest) = (name, "");
    for i in 1..b.len() {
        if b[i] == b'|' || b[i] == b'.' {
            rest = &path[i..];
            word = &path[1..i];
            break;
        }
    }
    match word.to_ascii_lowercase().as_str() {
        "true" | "false" | "null" | "nan" | "inf" => Some((rest, word.to_owned())),
        _ => None,
    }
}

fn arg_flag(args: &str, flag: &str) -> bool {
    let mut on = false;
    parse(args).for_each(|key, value| {
        if key.string() == flag {
            on = value.bool();
        }
        true
    });
    on
}

fn pretty(json: &str, args: &str) -> String {
    if args.is_empty() {
        return gjson::tools::pretty(json);
    }
    let mut indent = None;
    let mut prefix = None;
    let mut sort_keys = None;
    let mut width = None;
    parse(args).for_each(|key, value| {
        match key.string().as_ref() {
            "sortKeys" => sort_keys = Some(value.bool()),
            "indent" => indent = Some(value.string().into_owned()),
            "prefix" => prefix = Some(value.string().into_owned()),
            "width" => width = Some(value.int()),
            _ => {}
        }
        true
    });
    let mut opts = gjson::tools::PrettyOptions::new();
    if let Some(indent) = &indent {
        opts = opts.indent(indent);
    }
    if let Some(prefix) = &prefix {
        opts = opts.prefix(prefix);
    }
    if let Some(sort_keys) = sort_keys {
        opts = opts.sort_keys(sort_keys);
    }
    if let Some(width) = width {
        opts = opts.width(usize::try_from(width).unwrap_or(0));
    }
    opts.pretty(json)
}

fn reverse(json: &str) -> String {
    let res = parse(json);
    let mut parts: Vec<String> = Vec::new();
    match (res.is_array(), res.is_object()) {
        (true, _) => res.for_each(|_, v| {
            parts.push(v.raw().to_owned());
            true
        }),
        (_, true) => res.for_each(|k, v| {
            parts.push(format!("{}:{}", k.raw(), v.raw()));
            true
        }),
        _ => return json.to_owned(),
    }
    parts.reverse();
    let (open, close) = if res.is_array() {
        ('[', ']')
    } else {
        ('{', '}')
    };
    format!("{open}{}{close}", parts.join(","))
}

/// The inside of an array or object, without its brackets.
fn unwrap(json: &str) -> &str {
    let json = trim(json);
    if json.len() >= 2 && (json.starts_with('[') || json.starts_with('{')) {
        return &json[1..json.len() - 1];
    }
    json
}

/// How many levels `@flatten:{"deep":true}` descends; arrays nested deeper stay as they
/// are. Go recurses without a limit, which a document from a CRM must not be able to use
/// to overflow the stack.
pub const MAX_FLATTEN_DEPTH: usize = 64;

fn flatten(json: &str, args: &str) -> String {
    let deep = !args.is_empty() && arg_flag(args, "deep");
    flatten_levels(json, if deep { MAX_FLATTEN_DEPTH } else { 0 })
}

/// Flattens one level, then `deeper` more levels inside it.
fn flatten_levels(json: &str, deeper: usize) -> String {
    let res = parse(json);
    if !res.is_array() {
        return json.to_owned();
    }
    let deep = deeper > 0;
    let mut parts: Vec<String> = Vec::new();
    res.for_each(|_, v| {
        let raw = if v.is_array() {
            if deep {
                unwrap(&flatten_levels(v.raw(), deeper - 1)).to_owned()
            } else {
                unwrap(v.raw()).to_owned()
            }
        } else {
            v.raw().to_owned()
        };
        let raw = trim(&raw);
        if !raw.is_empty() {
            parts.push(raw.to_owned());
        }
        true
    });
    format!("[{}]", parts.join(","))
}

fn join(json: &str, args: &str) -> String {
    let res = parse(json);
    if !res.is_array() {
        return json.to_owned();
    }
    let preserve = !args.is_empty() && arg_flag(args, "preserve");
    let mut parts: Vec<String> = Vec::new();
    if preserve {
        res.for_each(|_, v| {
            if v.is_object() {
                parts.push(unwrap(v.raw()).to_owned());
            }
            true
        });
    } else {
        // Deduplicate keys: the last value wins, the first position stays.
        let mut keys: Vec<(String, String)> = Vec::new();
        let mut values: std::collections::HashMap<String, String> =
            std::collections::HashMap::new();
        res.for_each(|_, obj| {
            if obj.is_object() {
                obj.for_each(|k, v| {
                    let name = k.string().into_owned();
                    if !values.contains_key(&name) {
                        keys.push((name.clone(), k.raw().to_owned()));
                    }
                    values.insert(name, v.raw().to_owned());
                    true
                });
            }
            true
        });
        for (name, raw_key) in keys {
            let value = values.get(&name).map_or("", String::as_str);
            parts.push(format!("{raw_key}:{value}"));
        }
    }
    format!("{{{}}}", parts.join(","))
}

fn keys(json: &str) -> String {
    let v = parse(json);
    if !v.exists() {
        return "[]".into();
    }
    let object = v.is_object();
    let mut parts: Vec<String> = Vec::new();
    v.for_each(|k, _| {
        parts.push(if object {
            k.raw().to_owned()
        } else {
            "null".into()
        });
        true
    });
    format!("[{}]", parts.join(","))
}

fn values(json: &str) -> String {
    let v = parse(json);
    if !v.exists() {
        return "[]".into();
    }
    if v.is_array() {
        return json.to_owned();
    }
    let mut parts: Vec<String> = Vec::new();
    v.for_each(|_, value| {
        parts.push(value.raw().to_owned());
        true
    });
    format!("[{}]", parts.join(","))
}

fn group(json: &str) -> String {
    let res = parse(json);
    if !res.is_object() {
        return String::new();
    }
    let mut rows: Vec<String> = Vec::new();
    res.for_each(|key, value| {
        if value.is_array() {
            let mut idx = 0;
            value.for_each(|_, v| {
                if idx == rows.len() {
                    rows.push(String::new());
                }
                let row = &mut rows[idx];
                row.push(',');
                row.push_str(key.raw());
                row.push(':');
                row.push_str(v.raw());
                idx += 1;
                true
            });
        }
        true
    });
    let objects: Vec<String> = rows.iter().map(|r| format!("{{{}}}", &r[1..])).collect();
    format!("[{}]", objects.join(","))
}
