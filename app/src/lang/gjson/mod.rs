//! GJSON paths: reading values out of JSON text, as Go's
//! `github.com/tidwall/gjson` 1.14.4 does.
//!
//! Integrators copy paths from the vendor's examples, which were written
//! against that Go library, so this follows its algorithm step by step (the
//! quirks included) and is checked against it by the conformance fixtures in
//! `app/tests/conformance/`. Where the library's syntax page and the library
//! disagree (the `~` operators), the library wins: it is what the vendor runs.
//!
//! Nothing here validates or fails: a path that does not match, or JSON that
//! is malformed, yields a value that does not exist.

pub mod index;
mod modifiers;
pub use modifiers::MAX_FLATTEN_DEPTH;
mod path;
mod scan;
mod valid;

use std::borrow::Cow;

pub use valid::valid;

use path::{array_step, is_simple_name, name_of_last, object_step, sub_selectors, ArrayStep};
use scan::{append_json_string, format_float, parse_float, slice, tail, unescape};

/// The JSON type of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Kind {
    #[default]
    Null,
    False,
    Number,
    String,
    True,
    /// An object or an array.
    Json,
}

/// A value read by a path: its raw JSON text and, for strings, the decoded
/// text. A value with no raw text and kind `Null` does not exist.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Value<'a> {
    kind: Kind,
    raw: Cow<'a, str>,
    text: Cow<'a, str>,
    num: f64,
}

impl<'a> Value<'a> {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The raw JSON of the value (empty for a computed value that has none).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    pub fn exists(&self) -> bool {
        self.kind != Kind::Null || !self.raw.is_empty()
    }

    pub fn is_object(&self) -> bool {
        self.kind == Kind::Json && self.raw.starts_with('{')
    }

    pub fn is_array(&self) -> bool {
        self.kind == Kind::Json && self.raw.starts_with('[')
    }

    /// The value as text, as Go's `Result.String()`: strings decoded, numbers
    /// as written when they are integers, JSON as raw, null as empty.
    pub fn string(&self) -> Cow<'_, str> {
        match self.kind {
            Kind::Null => Cow::Borrowed(""),
            Kind::False => Cow::Borrowed("false"),
            Kind::True => Cow::Borrowed("true"),
            Kind::String => Cow::Borrowed(&self.text),
            Kind::Json => Cow::Borrowed(&self.raw),
            Kind::Number => {
                let digits = self.raw.strip_prefix('-').unwrap_or(&self.raw);
                if self.raw.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                    Cow::Owned(format_float(self.num))
                } else {
                    Cow::Borrowed(&self.raw)
                }
            }
        }
    }

    /// Go's `Result.Bool()`.
    pub fn bool(&self) -> bool {
        match self.kind {
            Kind::True => true,
            Kind::String => matches!(self.text.to_ascii_lowercase().as_str(), "1" | "t" | "true"),
            Kind::Number => self.num != 0.0,
            _ => false,
        }
    }

    /// Go's `Result.Int()`, for the few places a modifier argument needs one.
    pub fn int(&self) -> i64 {
        match self.kind {
            Kind::True => 1,
            Kind::String => self
                .text
                .trim()
                .parse()
                .unwrap_or_else(|_| parse_float(&self.text) as i64),
            Kind::Number => self.raw.parse().unwrap_or(self.num as i64),
            _ => 0,
        }
    }

    /// Reads `path` from this value.
    pub fn get(&self, path: &str) -> Value<'static> {
        get(&self.raw, path).into_owned()
    }

    pub fn into_owned(self) -> Value<'static> {
        Value {
            kind: self.kind,
            raw: Cow::Owned(self.raw.into_owned()),
            text: Cow::Owned(self.text.into_owned()),
            num: self.num,
        }
    }

    /// Calls `each(key, value)` for every member of an object or element of
    /// an array (the key is then a number), or once with the value itself for
    /// a scalar; stops when `each` returns false.
    pub fn for_each(&self, mut each: impl FnMut(&Value<'_>, &Value<'_>) -> bool) {
        if !self.exists() {
            return;
        }
        if self.kind != Kind::Json {
            each(&Value::default(), self);
            return;
        }
        let json: &str = &self.raw;
        let b = json.as_bytes();
        let mut i = 0;
        let mut object = false;
        let mut key = Value::default();
        while i < b.len() {
            if b[i] == b'{' {
                i += 1;
                key.kind = Kind::String;
                object = true;
                break;
            } else if b[i] == b'[' {
                i += 1;
                key.kind = Kind::Number;
                key.num = -1.0;
                break;
            }
            if b[i] > b' ' {
                return;
            }
            i += 1;
        }
        while i < b.len() {
            if object {
                if b[i] != b'"' {
                    i += 1;
                    continue;
                }
                let (next, raw, escaped, ok) = scan::string(json, i + 1);
                if !ok {
                    return;
                }
                i = next;
                key.text = Cow::Owned(decode_string(raw, escaped));
                key.raw = Cow::Owned(raw.to_owned());
            } else {
                key.num += 1.0;
            }
            while i < b.len() && (b[i] <= b' ' || b[i] == b',' || b[i] == b':') {
                i += 1;
            }
            let Some((next, value)) = parse_any(json, i) else {
                return;
            };
            i = next;
            if !each(&key, &value) {
                return;
            }
        }
    }
}

fn decode_string(raw: &str, escaped: bool) -> String {
    let inner = slice(raw, 1, raw.len().saturating_sub(1));
    if escaped {
        unescape(inner)
    } else {
        inner.to_owned()
    }
}

fn string_value<'a>(raw: &'a str, escaped: bool) -> Value<'a> {
    let inner = slice(raw, 1, raw.len().saturating_sub(1));
    Value {
        kind: Kind::String,
        raw: Cow::Borrowed(raw),
        text: if escaped {
            Cow::Owned(unescape(inner))
        } else {
            Cow::Borrowed(inner)
        },
        num: 0.0,
    }
}

fn json_value(raw: Cow<'_, str>) -> Value<'_> {
    Value {
        kind: Kind::Json,
        raw,
        ..Value::default()
    }
}

fn number_value(raw: &str) -> Value<'_> {
    Value {
        kind: Kind::Number,
        raw: Cow::Borrowed(raw),
        num: parse_float(raw),
        ..Value::default()
    }
}

fn literal_value(raw: &str) -> Value<'_> {
    let kind = match raw.as_bytes().first() {
        Some(b't') => Kind::True,
        Some(b'f') => Kind::False,
        _ => Kind::Null,
    };
    Value {
        kind,
        raw: Cow::Borrowed(raw),
        ..Value::default()
    }
}

/// Reads the value starting at or after `i` (gjson's `parseAny`).
fn parse_any(json: &str, mut i: usize) -> Option<(usize, Value<'_>)> {
    let b = json.as_bytes();
    while i < b.len() {
        let c = b[i];
        if c == b'{' || c == b'[' {
            let (next, raw) = scan::squash(json, i);
            return Some((next, json_value(Cow::Borrowed(raw))));
        }
        if c <= b' ' {
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                let (next, raw, escaped, ok) = scan::string(json, i + 1);
                return ok.then(|| (next, string_value(raw, escaped)));
            }
            b'n' if b.get(i + 1).is_some_and(|&n| n != b'u') => {}
            b'n' | b't' | b'f' => {
                let (next, raw) = scan::literal(json, i);
                return Some((next, literal_value(raw)));
            }
            b'+' | b'-' | b'0'..=b'9' | b'i' | b'I' | b'N' => {}
            _ => {
                i += 1;
                continue;
            }
        }
        let (next, raw) = scan::number(json, i);
        return Some((next, number_value(raw)));
    }
    None
}

/// Reads the first value of a JSON text, taking objects and arrays whole
/// (gjson's `Parse`).
pub fn parse(json: &str) -> Value<'_> {
    let b = json.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'{' || c == b'[' {
            return json_value(Cow::Borrowed(tail(json, i)));
        }
        if c <= b' ' {
            i += 1;
            continue;
        }
        let rest = tail(json, i);
        return match c {
            b'+' | b'-' | b'0'..=b'9' | b'i' | b'I' | b'N' => number_value(to_number(rest)),
            b'n' if b.get(i + 1).is_some_and(|&n| n != b'u') => number_value(to_number(rest)),
            b'n' => Value {
                kind: Kind::Null,
                raw: Cow::Borrowed(to_literal(rest)),
                ..Value::default()
            },
            b't' => Value {
                kind: Kind::True,
                raw: Cow::Borrowed(to_literal(rest)),
                ..Value::default()
            },
            b'f' => Value {
                kind: Kind::False,
                raw: Cow::Borrowed(to_literal(rest)),
                ..Value::default()
            },
            b'"' => {
                let (next, raw, escaped, ok) = scan::string(rest, 1);
                if ok {
                    string_value(slice(rest, 0, next), escaped)
                } else {
                    // An unterminated string: gjson decodes what there is.
                    let inner = tail(rest, 1);
                    Value {
                        kind: Kind::String,
                        raw: Cow::Borrowed(raw),
                        text: if escaped || inner.contains('\\') {
                            Cow::Owned(unescape(inner))
                        } else {
                            Cow::Borrowed(inner)
                        },
                        num: 0.0,
                    }
                }
            }
            _ => Value::default(),
        };
    }
    Value::default()
}

fn to_number(json: &str) -> &str {
    let end = json
        .bytes()
        .skip(1)
        .position(|c| c <= b' ' || c == b',' || c == b']' || c == b'}')
        .map_or(json.len(), |p| p + 1);
    slice(json, 0, end)
}

fn to_literal(json: &str) -> &str {
    let end = json
        .bytes()
        .skip(1)
        .position(|c| !c.is_ascii_lowercase())
        .map_or(json.len(), |p| p + 1);
    slice(json, 0, end)
}

/// The state of one walk down a document.
struct Walk<'a, 'p> {
    json: &'a str,
    value: Value<'a>,
    pipe: &'p str,
    piped: bool,
}

/// How deeply one read may nest: path components walked into nested values, modifiers,
/// pipes, multipaths and queries each take a level. Go recurses without a limit; here a
/// path or a document deeper than this finds nothing instead of overflowing the stack.
/// Real paths are a few levels deep.
pub const MAX_PATH_DEPTH: usize = 256;

thread_local! {
    static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// One level of [`MAX_PATH_DEPTH`], given back when dropped.
struct DepthLevel;

impl DepthLevel {
    fn enter() -> Option<DepthLevel> {
        DEPTH.with(|depth| {
            let now = depth.get();
            (now < MAX_PATH_DEPTH).then(|| {
                depth.set(now + 1);
                DepthLevel
            })
        })
    }
}

impl Drop for DepthLevel {
    fn drop(&mut self) {
        DEPTH.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// Walks into the object or array that opens at `open`, one level deeper; past
/// [`MAX_PATH_DEPTH`] it skips the value and reports no match.
fn descend<'a, 'p>(w: &mut Walk<'a, 'p>, open: usize, path: &'p str) -> (usize, bool) {
    let Some(_level) = DepthLevel::enter() else {
        return (scan::squash(w.json, open).0, false);
    };
    if w.json.as_bytes()[open] == b'{' {
        parse_object(w, open + 1, path)
    } else {
        parse_array(w, open + 1, path)
    }
}

/// Reads `path` from `json`.
pub fn get<'a>(json: &'a str, path: &str) -> Value<'a> {
    match DepthLevel::enter() {
        Some(_level) => get_within_depth(json, path),
        None => Value::default(),
    }
}

fn get_within_depth<'a>(json: &'a str, mut path: &str) -> Value<'a> {
    let pb = path.as_bytes();
    if pb.len() > 1 {
        let staged = match pb[0] {
            b'@' => modifiers::exec(json, path),
            b'!' => modifiers::exec_literal(path),
            _ => None,
        };
        if let Some((rest, out)) = staged {
            if rest.starts_with('|') || rest.starts_with('.') {
                return get(&out, &rest[1..]).into_owned();
            }
            return parse(&out).into_owned();
        }
        if pb[0] == b'[' || pb[0] == b'{' {
            // Like Go, a multipath that is not followed by a pipe or a dot
            // leaves the walk with what follows it (or nothing, if it never
            // closes).
            match sub_selectors(path) {
                None => path = "",
                Some((selectors, rest)) => {
                    if rest.is_empty() || rest.starts_with('|') || rest.starts_with('.') {
                        return multipath(json, path.starts_with('{'), &selectors, rest);
                    }
                    path = rest;
                }
            }
        }
    }
    let pb = path.as_bytes();
    let mut walk = Walk {
        json,
        value: Value::default(),
        pipe: "",
        piped: false,
    };
    if pb.len() >= 2 && pb[0] == b'.' && pb[1] == b'.' {
        parse_array(&mut walk, 0, &path[2..]);
    } else {
        let b = json.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            if c == b'{' {
                parse_object(&mut walk, i + 1, path);
                break;
            }
            if c == b'[' {
                parse_array(&mut walk, i + 1, path);
                break;
            }
        }
    }
    if walk.piped {
        return walk.value.get(walk.pipe);
    }
    walk.value
}

/// `[a,b]` and `{name:a,b}`: a new array or object built from several paths.
fn multipath<'a>(
    json: &'a str,
    object: bool,
    selectors: &[path::SubSelector<'_>],
    rest: &str,
) -> Value<'a> {
    let mut out = String::new();
    out.push(if object { '{' } else { '[' });
    let mut n = 0;
    for sel in selectors {
        let res = get(json, sel.path);
        if !res.exists() {
            continue;
        }
        if n > 0 {
            out.push(',');
        }
        if object {
            if !sel.name.is_empty() {
                if sel.name.starts_with('"') && valid(sel.name) {
                    out.push_str(sel.name);
                } else {
                    append_json_string(&mut out, sel.name);
                }
            } else {
                let last = name_of_last(sel.path);
                append_json_string(&mut out, if is_simple_name(last) { last } else { "_" });
            }
            out.push(':');
        }
        if res.raw.is_empty() {
            let text = res.string();
            out.push_str(if text.is_empty() { "null" } else { &text });
        } else {
            out.push_str(&res.raw);
        }
        n += 1;
    }
    out.push(if object { '}' } else { ']' });
    let built = json_value(Cow::Owned(out));
    if rest.is_empty() {
        built
    } else {
        built.get(&rest[1..])
    }
}

fn parse_object<'a, 'p>(w: &mut Walk<'a, 'p>, mut i: usize, path: &'p str) -> (usize, bool) {
    let json = w.json;
    let b = json.as_bytes();
    let step = object_step(path);
    if !step.more && step.piped {
        w.pipe = step.pipe;
        w.piped = true;
    }
    while i < b.len() {
        // The key.
        let mut key: Option<(&str, bool)> = None;
        while i < b.len() {
            if b[i] == b'"' {
                let (next, raw, escaped, ok) = scan::string(json, i + 1);
                i = next;
                if ok {
                    key = Some((slice(raw, 1, raw.len() - 1), escaped));
                }
                break;
            }
            if b[i] == b'}' {
                return (i + 1, false);
            }
            i += 1;
        }
        let Some((key, escaped)) = key else {
            return (i, false);
        };
        let key: Cow<'_, str> = if escaped {
            Cow::Owned(unescape(key))
        } else {
            Cow::Borrowed(key)
        };
        let matched = if step.wild {
            wildcard::matches(&key, &step.part)
        } else {
            key == step.part
        };
        let hit = matched && !step.more;
        // The value.
        while i < b.len() {
            match b[i] {
                b'"' => {
                    let (next, raw, escaped, ok) = scan::string(json, i + 1);
                    if !ok {
                        return (next, false);
                    }
                    i = next;
                    if hit {
                        w.value = string_value(raw, escaped);
                        return (i, true);
                    }
                }
                b'{' | b'[' => {
                    if matched && !hit {
                        let (next, found) = descend(w, i, step.path);
                        i = next;
                        if found {
                            return (i, true);
                        }
                    } else {
                        let (next, raw) = scan::squash(json, i);
                        i = next;
                        if hit {
                            w.value = json_value(Cow::Borrowed(raw));
                            return (i, true);
                        }
                    }
                }
                b'n' | b't' | b'f' => {
                    let (next, raw) = scan::literal(json, i);
                    i = next;
                    if hit {
                        w.value = literal_value(raw);
                        return (i, true);
                    }
                }
                b'+' | b'-' | b'0'..=b'9' => {
                    let (next, raw) = scan::number(json, i);
                    i = next;
                    if hit {
                        w.value = number_value(raw);
                        return (i, true);
                    }
                }
                _ => {
                    i += 1;
                    continue;
                }
            }
            break;
        }
    }
    (i, false)
}

fn query_matches(step: &ArrayStep<'_>, value: &Value<'_>) -> bool {
    let mut rpv: &str = &step.query.value;
    let converted;
    let mut value = value;
    if let Some(rest) = rpv.strip_prefix('~') {
        rpv = rest;
        converted = Value {
            kind: if value.bool() {
                Kind::True
            } else {
                Kind::False
            },
            ..Value::default()
        };
        value = &converted;
    }
    if !value.exists() {
        return false;
    }
    let op = step.query.op;
    if op.is_empty() {
        return true;
    }
    match value.kind {
        Kind::String => {
            let s: &str = &value.text;
            match op {
                "=" => s == rpv,
                "!=" => s != rpv,
                "<" => s < rpv,
                "<=" => s <= rpv,
                ">" => s > rpv,
                ">=" => s >= rpv,
                "%" => wildcard::matches(s, rpv),
                "!%" => !wildcard::matches(s, rpv),
                _ => false,
            }
        }
        Kind::Number => {
            let n = parse_float(rpv);
            match op {
                "=" => value.num == n,
                "!=" => value.num != n,
                "<" => value.num < n,
                "<=" => value.num <= n,
                ">" => value.num > n,
                ">=" => value.num >= n,
                _ => false,
            }
        }
        Kind::True => match op {
            "=" => rpv == "true",
            "!=" => rpv != "true",
            ">" => rpv == "false",
            ">=" => true,
            _ => false,
        },
        Kind::False => match op {
            "=" => rpv == "false",
            "!=" => rpv != "false",
            "<" => rpv == "true",
            "<=" => true,
            _ => false,
        },
        _ => false,
    }
}

/// Splits `a|b` at the first pipe outside queries (gjson's `splitPossiblePipe`).
fn split_possible_pipe(path: &str) -> Option<(&str, &str)> {
    if !path.contains('|') {
        return None;
    }
    let b = path.as_bytes();
    if b[0] == b'{' {
        let squashed = scan::squash_rest(tail(path, 1));
        if squashed.len() < path.len() - 1 {
            let (left, remain) = path.split_at(squashed.len() + 1);
            return remain.strip_prefix('|').map(|right| (left, right));
        }
        return None;
    }
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'.' => {
                if i == b.len() - 1 {
                    return None;
                }
                if b[i + 1] == b'#' {
                    i += 2;
                    if i == b.len() {
                        return None;
                    }
                    if b[i] == b'[' || b[i] == b'(' {
                        let (open, close) = if b[i] == b'[' {
                            (b'[', b']')
                        } else {
                            (b'(', b')')
                        };
                        i += 1;
                        let mut depth = 1;
                        while i < b.len() {
                            if b[i] == b'\\' {
                                i += 1;
                            } else if b[i] == open {
                                depth += 1;
                            } else if b[i] == close {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            } else if b[i] == b'"' {
                                i += 1;
                                while i < b.len() {
                                    if b[i] == b'\\' {
                                        i += 1;
                                    } else if b[i] == b'"' {
                                        break;
                                    }
                                    i += 1;
                                }
                            }
                            i += 1;
                        }
                    }
                }
            }
            b'|' => return Some((slice(path, 0, i), tail(path, i + 1))),
            _ => {}
        }
        i += 1;
    }
    None
}

fn parse_array<'a, 'p>(w: &mut Walk<'a, 'p>, mut i: usize, path: &'p str) -> (usize, bool) {
    let json = w.json;
    let b = json.as_bytes();
    let mut step = array_step(path);
    let wanted_index: Option<usize> = if step.hash {
        None
    } else {
        parse_uint(step.part)
    };
    if !step.more && step.piped {
        w.pipe = step.pipe;
        w.piped = true;
    }
    let mut h: usize = 0;
    let mut starts: Vec<usize> = Vec::new();
    let mut collected = String::new();
    let mut matched = false;
    let mut hit = false;
    while i < b.len() + 1 {
        if !step.hash {
            matched = wanted_index == Some(h);
            hit = matched && !step.more;
        }
        h += 1;
        if step.each {
            starts.push(i);
        }
        loop {
            let ch = if i > b.len() {
                break;
            } else if i == b.len() {
                b']'
            } else {
                b[i]
            };
            let element: Value<'a> = match ch {
                b'"' => {
                    let (next, raw, escaped, ok) = scan::string(json, i + 1);
                    if !ok {
                        return (next, false);
                    }
                    i = next;
                    string_value(raw, escaped)
                }
                b'{' | b'[' if matched && !hit => {
                    let (next, found) = descend(w, i, step.path);
                    i = next;
                    hit = found;
                    if found && !step.each {
                        return (i, true);
                    }
                    break;
                }
                b'{' | b'[' => {
                    let (next, raw) = scan::squash(json, i);
                    i = next;
                    json_value(Cow::Borrowed(raw))
                }
                b'n' | b't' | b'f' | b'-' | b'0'..=b'9' => {
                    let (next, element) = if ch.is_ascii_lowercase() {
                        let (next, raw) = scan::literal(json, i);
                        (next, literal_value(raw))
                    } else {
                        let (next, raw) = scan::number(json, i);
                        (next, number_value(raw))
                    };
                    i = next;
                    element
                }
                b']' => {
                    if step.hash && step.part == "#" {
                        if step.each {
                            w.value = collect_each(w, &step, &starts);
                            return (i + 1, true);
                        }
                        w.value = Value {
                            kind: Kind::Number,
                            raw: Cow::Owned((h - 1).to_string()),
                            num: (h - 1) as f64,
                            ..Value::default()
                        };
                        return (i + 1, true);
                    }
                    if !w.value.exists() {
                        if !collected.is_empty() {
                            collected.push(']');
                            w.value = json_value(Cow::Owned(std::mem::take(&mut collected)));
                        } else if step.query.all {
                            w.value = json_value(Cow::Borrowed("[]"));
                        }
                    }
                    return (i + 1, false);
                }
                _ => {
                    i += 1;
                    continue;
                }
            };
            if step.query.on {
                if proc_query(w, &mut step, &mut collected, element) {
                    return (i, true);
                }
            } else if hit && !step.each {
                w.value = element;
                return (i, true);
            }
            break;
        }
    }
    (i, false)
}

/// `#.key`: `key` read from every element, as a new array.
fn collect_each<'a, 'p>(w: &mut Walk<'a, 'p>, step: &ArrayStep<'p>, starts: &[usize]) -> Value<'a> {
    let json = w.json;
    let b = json.as_bytes();
    let mut key = step.each_key;
    if let Some((left, right)) = split_possible_pipe(key) {
        key = left;
        w.pipe = right;
        w.piped = true;
    }
    let mut out = String::from("[");
    let mut n = 0;
    for &start in starts {
        let mut idx = start;
        while idx < b.len() && matches!(b[idx], b' ' | b'\t' | b'\r' | b'\n') {
            idx += 1;
        }
        if idx < b.len() && b[idx] != b']' {
            if let Some((_, element)) = parse_any(json, idx) {
                let res = get(&element.raw, key);
                if res.exists() {
                    if n > 0 {
                        out.push(',');
                    }
                    if res.raw.is_empty() {
                        out.push_str(&res.string());
                    } else {
                        out.push_str(&res.raw);
                    }
                    n += 1;
                }
            }
        }
    }
    out.push(']');
    json_value(Cow::Owned(out))
}

fn proc_query<'a, 'p>(
    w: &mut Walk<'a, 'p>,
    step: &mut ArrayStep<'p>,
    collected: &mut String,
    element: Value<'a>,
) -> bool {
    if step.query.all && collected.is_empty() {
        collected.push('[');
    }
    let matched = if element.kind == Kind::Json {
        query_matches(step, &get(&element.raw, step.query.path))
    } else {
        step.query.path.is_empty() && query_matches(step, &element)
    };
    if !matched {
        return false;
    }
    let result: Value<'a> = if step.more {
        if let Some((left, right)) = split_possible_pipe(step.path) {
            step.path = left;
            w.pipe = right;
            w.piped = true;
        }
        match element.raw {
            // Still a slice of the document: the result can borrow it too.
            Cow::Borrowed(raw) => get(raw, step.path),
            Cow::Owned(raw) => get(&raw, step.path).into_owned(),
        }
    } else {
        element
    };
    if step.query.all {
        let raw: Cow<'_, str> = if result.raw.is_empty() {
            result.string()
        } else {
            Cow::Borrowed(&result.raw)
        };
        if !raw.is_empty() {
            if collected.len() > 1 {
                collected.push(',');
            }
            collected.push_str(&raw);
        }
        false
    } else {
        w.value = result;
        true
    }
}

/// Go's `parseUint`: digits only, no sign.
fn parse_uint(s: &str) -> Option<usize> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

mod wildcard {
    //! `*` and `?` matching on characters, with `\` escapes (tidwall/match).

    pub(crate) fn matches(text: &str, pattern: &str) -> bool {
        if pattern == "*" {
            return true;
        }
        let t: Vec<char> = text.chars().collect();
        let p: Vec<char> = pattern.chars().collect();
        matches_from(&t, &p)
    }

    fn matches_from(t: &[char], p: &[char]) -> bool {
        // Iterative glob with backtracking to the last star: linear in
        // practice and never recursive, so hostile patterns cannot blow the stack.
        let (mut ti, mut pi) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            if pi < p.len() {
                match p[pi] {
                    '*' => {
                        star = Some((pi, ti));
                        pi += 1;
                        continue;
                    }
                    '?' => {
                        ti += 1;
                        pi += 1;
                        continue;
                    }
                    '\\' if pi + 1 < p.len() => {
                        if p[pi + 1] == t[ti] {
                            ti += 1;
                            pi += 2;
                            continue;
                        }
                    }
                    c => {
                        if c == t[ti] {
                            ti += 1;
                            pi += 1;
                            continue;
                        }
                    }
                }
            }
            match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            }
        }
        while pi < p.len() && p[pi] == '*' {
            pi += 1;
        }
        pi == p.len()
    }
}
