//! Splitting a GJSON path into its next component, after the Go reference
//! (`parseObjectPath`, `parseArrayPath`, `parseQuery`, `parseSubSelectors`).

use std::borrow::Cow;

use super::modifiers;
use super::scan::{slice, tail, trim, unescape};

/// The next component of a path taken at an object.
#[derive(Default)]
pub(crate) struct ObjectStep<'p> {
    pub part: Cow<'p, str>,
    pub path: &'p str,
    pub pipe: &'p str,
    pub piped: bool,
    pub wild: bool,
    pub more: bool,
}

/// Whether what follows a dot starts a new pipeline stage rather than a child
/// key: a known modifier, or a multipath.
fn is_dot_piper(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(b'@') => {
            let end = b[1..]
                .iter()
                .position(|&c| c == b'.' || c == b'|' || c == b':')
                .map_or(b.len(), |p| p + 1);
            modifiers::is_known(slice(s, 1, end))
        }
        Some(b'[') | Some(b'{') => true,
        _ => false,
    }
}

/// Sets `path`/`pipe` for what follows the dot at `i`.
fn after_dot(path: &str, i: usize) -> (&str, &str, bool, bool) {
    let rest = tail(path, i + 1);
    if i + 1 < path.len() && is_dot_piper(rest) {
        ("", rest, true, false)
    } else {
        (rest, "", false, true)
    }
}

pub(crate) fn object_step(path: &str) -> ObjectStep<'_> {
    let b = path.as_bytes();
    let mut r = ObjectStep::default();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'|' => {
                r.part = Cow::Borrowed(slice(path, 0, i));
                r.pipe = tail(path, i + 1);
                r.piped = true;
                return r;
            }
            b'.' => {
                r.part = Cow::Borrowed(slice(path, 0, i));
                (r.path, r.pipe, r.piped, r.more) = after_dot(path, i);
                return r;
            }
            b'*' | b'?' => r.wild = true,
            b'\\' => {
                // Escape mode: the part is rebuilt without its backslashes.
                let mut part: Vec<u8> = b[..i].to_vec();
                i += 1;
                if i < b.len() {
                    part.push(b[i]);
                    i += 1;
                    while i < b.len() {
                        match b[i] {
                            b'\\' => {
                                i += 1;
                                if i < b.len() {
                                    part.push(b[i]);
                                }
                                i += 1;
                                continue;
                            }
                            b'.' => {
                                r.part = Cow::Owned(bytes_to_string(part));
                                (r.path, r.pipe, r.piped, r.more) = after_dot(path, i);
                                return r;
                            }
                            b'|' => {
                                r.part = Cow::Owned(bytes_to_string(part));
                                r.pipe = tail(path, i + 1);
                                r.piped = true;
                                return r;
                            }
                            b'*' | b'?' => r.wild = true,
                            _ => {}
                        }
                        part.push(b[i]);
                        i += 1;
                    }
                }
                r.part = Cow::Owned(bytes_to_string(part));
                return r;
            }
            _ => {}
        }
        i += 1;
    }
    r.part = Cow::Borrowed(path);
    r
}

fn bytes_to_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A query `#(path op value)` or `#(...)#`.
#[derive(Default)]
pub(crate) struct Query<'p> {
    pub on: bool,
    pub all: bool,
    pub path: &'p str,
    pub op: &'p str,
    pub value: Cow<'p, str>,
}

/// The next component of a path taken at an array.
#[derive(Default)]
pub(crate) struct ArrayStep<'p> {
    pub part: &'p str,
    pub path: &'p str,
    pub pipe: &'p str,
    pub piped: bool,
    pub more: bool,
    /// `#.rest`: collect `rest` from every element.
    pub each: bool,
    pub each_key: &'p str,
    /// The component holds a `#`.
    pub hash: bool,
    pub query: Query<'p>,
}

pub(crate) fn array_step(path: &str) -> ArrayStep<'_> {
    let b = path.as_bytes();
    let mut r = ArrayStep::default();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'|' => {
                r.part = slice(path, 0, i);
                r.pipe = tail(path, i + 1);
                r.piped = true;
                return r;
            }
            b'.' => {
                r.part = slice(path, 0, i);
                let rest = tail(path, i + 1);
                if !r.hash && i + 1 < b.len() && is_dot_piper(rest) {
                    r.pipe = rest;
                    r.piped = true;
                } else {
                    r.path = rest;
                    r.more = true;
                }
                return r;
            }
            b'#' => {
                r.hash = true;
                if i == 0 && b.len() > 1 {
                    if b[1] == b'.' {
                        r.each = true;
                        r.each_key = tail(path, 2);
                        r.path = slice(path, 0, 1);
                    } else if b[1] == b'[' || b[1] == b'(' {
                        r.query.on = true;
                        let Some(q) = parse_query(path) else {
                            // A bad query ends the path here.
                            break;
                        };
                        let mut value = Cow::Borrowed(q.value);
                        if q.value.len() >= 2 && q.value.starts_with('"') && q.value.ends_with('"')
                        {
                            let inner = slice(q.value, 1, q.value.len() - 1);
                            value = if q.escaped {
                                Cow::Owned(unescape(inner))
                            } else {
                                Cow::Borrowed(inner)
                            };
                        }
                        r.query.path = q.path;
                        r.query.op = q.op;
                        r.query.value = value;
                        i = q.end - 1;
                        if b.get(i + 1) == Some(&b'#') {
                            r.query.all = true;
                        }
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    r.part = path;
    r.path = "";
    r
}

pub(crate) struct ParsedQuery<'p> {
    pub path: &'p str,
    pub op: &'p str,
    pub value: &'p str,
    /// Position just after the closing bracket.
    pub end: usize,
    pub escaped: bool,
}

pub(crate) fn parse_query(query: &str) -> Option<ParsedQuery<'_>> {
    let b = query.as_bytes();
    if b.len() < 2 || b[0] != b'#' || (b[1] != b'(' && b[1] != b'[') {
        return None;
    }
    let mut i = 2;
    let mut value_start = 0;
    let mut depth = 1;
    let mut escaped = false;
    while i < b.len() {
        if depth == 1 && value_start == 0 && matches!(b[i], b'!' | b'=' | b'<' | b'>' | b'%') {
            value_start = i;
            i += 1;
            continue;
        }
        match b[i] {
            b'\\' => i += 1,
            b'[' | b'(' => depth += 1,
            b']' | b')' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\\' {
                        escaped = true;
                        i += 1;
                    } else if b[i] == b'"' {
                        break;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if depth > 0 {
        return None;
    }
    let (path, op, value) = if value_start > 0 {
        let path = trim(slice(query, 2, value_start));
        let mut value = trim(slice(query, value_start, i));
        let v = value.as_bytes();
        let op_len = match (v.first(), v.get(1)) {
            (_, None) => 1,
            (Some(b'!'), Some(b'=')) | (Some(b'!'), Some(b'%')) => 2,
            (Some(b'<'), Some(b'=')) | (Some(b'>'), Some(b'=')) => 2,
            (Some(b'='), Some(b'=')) => {
                value = tail(value, 1);
                1
            }
            (Some(b'<' | b'>' | b'=' | b'%' | b'!'), _) => 1,
            _ => 0,
        };
        (path, slice(value, 0, op_len), trim(tail(value, op_len)))
    } else {
        (trim(slice(query, 2, i)), "", "")
    };
    Some(ParsedQuery {
        path,
        op,
        value,
        end: i + 1,
        escaped,
    })
}

/// One selector of a multipath `[a,b]` or `{name:a,b}`.
pub(crate) struct SubSelector<'p> {
    pub name: &'p str,
    pub path: &'p str,
}

/// Reads a multipath starting at `path[0]`; returns the selectors and what
/// follows the closing bracket, or `None` when it is never closed.
pub(crate) fn sub_selectors<'a>(path: &'a str) -> Option<(Vec<SubSelector<'a>>, &'a str)> {
    let b = path.as_bytes();
    let mut sels = Vec::new();
    let mut modifier = 0;
    let mut depth = 1;
    let mut colon = 0;
    let mut start = 1;
    let mut i = 1;
    let push = |sels: &mut Vec<SubSelector<'a>>,
                colon: &mut usize,
                modifier: &mut usize,
                start: &mut usize,
                i: usize| {
        if *colon == 0 {
            sels.push(SubSelector {
                name: "",
                path: slice(path, *start, i),
            });
        } else {
            sels.push(SubSelector {
                name: slice(path, *start, *colon),
                path: slice(path, *colon + 1, i),
            });
        }
        *colon = 0;
        *modifier = 0;
        *start = i + 1;
    };
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'@' if modifier == 0 && i > 0 && (b[i - 1] == b'.' || b[i - 1] == b'|') => {
                modifier = i
            }
            b':' if modifier == 0 && colon == 0 && depth == 1 => colon = i,
            b',' if depth == 1 => push(&mut sels, &mut colon, &mut modifier, &mut start, i),
            b'"' => {
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
            b'[' | b'(' | b'{' => depth += 1,
            b']' | b')' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    push(&mut sels, &mut colon, &mut modifier, &mut start, i);
                    return Some((sels, tail(path, i + 1)));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The name of the last component of a path, for a multipath key.
pub(crate) fn name_of_last(path: &str) -> &str {
    let b = path.as_bytes();
    let mut i = b.len();
    while i > 0 {
        i -= 1;
        if b[i] == b'|' || b[i] == b'.' {
            if i > 0 && b[i - 1] == b'\\' {
                continue;
            }
            return tail(path, i + 1);
        }
    }
    path
}

/// Whether a component can serve as a multipath key as it is.
pub(crate) fn is_simple_name(component: &str) -> bool {
    !component.bytes().any(|c| {
        c < b' '
            || matches!(
                c,
                b'[' | b']' | b'{' | b'}' | b'(' | b')' | b'#' | b'|' | b'!'
            )
    })
}
