//! Byte-level scanners over raw JSON text, after the Go reference.
//!
//! They never validate: like Go's gjson they read what they can and stop at
//! the end of the input, so a truncated or malformed document yields a
//! shorter value or none, never an error or a panic. Every slice is taken at
//! an ASCII delimiter or at an end, so it always falls on a char boundary;
//! `slice` still refuses to panic if that reasoning were ever wrong.

/// `json[from..to]`, or the empty string where that is not a valid range.
pub(crate) fn slice(json: &str, from: usize, to: usize) -> &str {
    json.get(from..to).unwrap_or("")
}

/// `json[from..]`, or the empty string.
pub(crate) fn tail(json: &str, from: usize) -> &str {
    json.get(from..).unwrap_or("")
}

/// Whether the quote at `i` is escaped: an odd number of backslashes before it
/// (counted back to, but not including, `floor`).
fn quote_is_escaped(b: &[u8], i: usize, floor: usize) -> bool {
    if i == 0 || b[i - 1] != b'\\' {
        return false;
    }
    let mut n = 0;
    let mut j = i as isize - 2;
    while j > floor as isize {
        if b[j as usize] != b'\\' {
            break;
        }
        n += 1;
        j -= 1;
    }
    n % 2 == 0
}

/// From just after an opening quote, the position of the closing quote (or
/// the end of the input).
fn closing_quote(b: &[u8], mut i: usize) -> usize {
    let floor = i.saturating_sub(1);
    while i < b.len() {
        if b[i] == b'"' && !quote_is_escaped(b, i, floor) {
            return i;
        }
        i += 1;
    }
    i
}

/// Reads a string whose opening quote sits at `i - 1`. Returns the position
/// after the closing quote, the raw string with its quotes, whether it holds
/// escapes, and whether it was closed.
pub(crate) fn string(json: &str, mut i: usize) -> (usize, &str, bool, bool) {
    let b = json.as_bytes();
    let s = i;
    while i < b.len() {
        if b[i] > b'\\' {
            i += 1;
            continue;
        }
        if b[i] == b'"' {
            return (i + 1, slice(json, s - 1, i + 1), false, true);
        }
        if b[i] == b'\\' {
            i += 1;
            while i < b.len() {
                if b[i] > b'\\' {
                    i += 1;
                    continue;
                }
                if b[i] == b'"' && !quote_is_escaped(b, i, 0) {
                    return (i + 1, slice(json, s - 1, i + 1), true, true);
                }
                i += 1;
            }
            break;
        }
        i += 1;
    }
    (i, tail(json, s.saturating_sub(1)), false, false)
}

/// Reads a whole object, array or parenthesised group starting at `i`,
/// without looking inside. Returns the position after it and its text.
pub(crate) fn squash(json: &str, mut i: usize) -> (usize, &str) {
    let b = json.as_bytes();
    let s = i;
    i += 1;
    let mut depth = 1;
    while i < b.len() {
        if b[i] >= b'"' && b[i] <= b'}' {
            match b[i] {
                b'"' => i = closing_quote(b, i + 1),
                b'{' | b'[' | b'(' => depth += 1,
                b'}' | b']' | b')' => {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        return (i, slice(json, s, i));
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    (i, tail(json, s))
}

/// Reads a number (or anything number-like) starting at `i`.
pub(crate) fn number(json: &str, mut i: usize) -> (usize, &str) {
    let b = json.as_bytes();
    let s = i;
    i += 1;
    while i < b.len() {
        if b[i] <= b' ' || b[i] == b',' || b[i] == b']' || b[i] == b'}' {
            return (i, slice(json, s, i));
        }
        i += 1;
    }
    (i, tail(json, s))
}

/// Reads `true`, `false` or `null` (or any run of lower-case letters).
pub(crate) fn literal(json: &str, mut i: usize) -> (usize, &str) {
    let b = json.as_bytes();
    let s = i;
    i += 1;
    while i < b.len() {
        if !b[i].is_ascii_lowercase() {
            return (i, slice(json, s, i));
        }
        i += 1;
    }
    (i, tail(json, s))
}

/// Go's `strconv.ParseFloat(s, 64)` with the error ignored: 0 when it fails.
pub(crate) fn parse_float(s: &str) -> f64 {
    if let Ok(f) = s.parse::<f64>() {
        return f;
    }
    // Go also reads `Inf`/`+Inf` and `0x` hex floats; Rust reads `inf` already.
    let lower = s.to_ascii_lowercase();
    match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" if lower.starts_with('-') => f64::NEG_INFINITY,
        "inf" | "infinity" => f64::INFINITY,
        _ => 0.0,
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`.
pub(crate) fn format_float(f: f64) -> String {
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    format!("{f}")
}

/// Decodes JSON string escapes, stopping (as Go's gjson does) at a control
/// character or a malformed escape.
pub(crate) fn unescape(json: &str) -> String {
    let b = json.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < b' ' {
            break;
        }
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&e) = b.get(i) else { break };
        match e {
            b'\\' => out.push(b'\\'),
            b'/' => out.push(b'/'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'"' => out.push(b'"'),
            b'u' => {
                if i + 5 > b.len() {
                    break;
                }
                let mut r = hex4(&b[i + 1..]);
                i += 5;
                if (0xD800..0xE000).contains(&r)
                    && b.len() - i >= 6
                    && b[i] == b'\\'
                    && b[i + 1] == b'u'
                {
                    let r2 = hex4(&b[i + 2..]);
                    r = if (0xD800..0xDC00).contains(&r) && (0xDC00..0xE000).contains(&r2) {
                        0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00)
                    } else {
                        0xFFFD
                    };
                    i += 6;
                }
                let ch = char::from_u32(r).unwrap_or('\u{FFFD}');
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            _ => break,
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Go's `strconv.ParseUint(s[:4], 16, 64)` with the error ignored.
fn hex4(b: &[u8]) -> u32 {
    let Some(digits) = b.get(..4) else { return 0 };
    let mut r = 0u32;
    for &d in digits {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return 0,
        };
        r = r * 16 + u32::from(v);
    }
    r
}

/// Appends `s` as a JSON string, escaped the way Go's gjson does
/// (`AppendJSONString`): control characters and `<`, `>`, `&` as `\u00XX`,
/// invalid UTF-8 never occurs in a Rust string.
pub(crate) fn append_json_string(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '<' || c == '>' || c == '&' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Trims ASCII whitespace (bytes up to and including space), like gjson's `trim`.
pub(crate) fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// gjson's `squash` over text that is already inside a value: reads up to
/// and including the bracket that closes it (or a whole leading string).
pub(crate) fn squash_rest(json: &str) -> &str {
    let b = json.as_bytes();
    let (mut i, mut depth) = if b.first() == Some(&b'"') {
        (0, 0)
    } else {
        (1, 1)
    };
    while i < b.len() {
        if b[i] >= b'"' && b[i] <= b'}' {
            match b[i] {
                b'"' => {
                    i = closing_quote(b, i + 1);
                    if depth == 0 && i < b.len() {
                        return slice(json, 0, i + 1);
                    }
                }
                b'{' | b'[' | b'(' => depth += 1,
                b'}' | b']' | b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return slice(json, 0, i + 1);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    json
}
