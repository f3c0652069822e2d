//! Patchbay's template functions (docs/template-language.md, "Functions"):
//! `Capitalize`, `UrlEncode`, `ToMillis`, `TimeFormat`, `JsonEscape`.
//!
//! The first three behave exactly as the Go reference defines them (the
//! conformance fixtures check that); `TimeFormat` and `JsonEscape` are
//! Patchbay's own and have their own tests.

use std::sync::Arc;

use super::text::fmt::{decode_rune, quote};
use super::text::{path_escape, Func, Functions};

/// The server's time zone for `TimeFormat` when its third argument is not
/// `"1"`: the UTC offset, in seconds, in force at a given Unix time.
pub type ZoneOffset = Arc<dyn Fn(i64) -> i32 + Send + Sync>;

/// A zone with one fixed offset (e.g. `+08:00`), or UTC with 0.
pub fn fixed_offset(seconds: i32) -> ZoneOffset {
    Arc::new(move |_| seconds)
}

/// Parses a fixed offset as configured: `UTC`, `Z`, `+08:00`, `-0530`.
pub fn parse_offset(text: &str) -> Option<i32> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("utc") || t == "Z" {
        return Some(0);
    }
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|d| d.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    (hours <= 23 && minutes <= 59).then_some(sign * (hours * 3600 + minutes * 60))
}

/// Every Patchbay function, with `TimeFormat` using `zone` for local times.
pub fn patchbay(zone: ZoneOffset) -> Functions {
    let mut f = Functions::new();
    let one = |call: fn(&[u8]) -> Result<Vec<u8>, String>| Func {
        arity: 1,
        call: Arc::new(move |args: &[&[u8]]| call(args[0])),
    };
    f.insert("Capitalize".into(), one(|s| Ok(capitalize(s))));
    f.insert("UrlEncode".into(), one(|s| Ok(path_escape(s).into_bytes())));
    f.insert(
        "ToMillis".into(),
        one(|s| to_millis(s).map(|m| m.to_string().into_bytes())),
    );
    f.insert(
        "JsonEscape".into(),
        one(|s| Ok(json_escape(s).into_bytes())),
    );
    f.insert(
        "TimeFormat".into(),
        Func {
            arity: 3,
            call: Arc::new(move |args: &[&[u8]]| {
                let seconds = parse_int(args[0])?;
                let utc = args[2] == b"1";
                let offset = if utc { 0 } else { zone(seconds) };
                Ok(
                    time_format(seconds, &String::from_utf8_lossy(args[1]), offset, utc)
                        .into_bytes(),
                )
            }),
        },
    );
    f
}

/// The first character upper-cased (Go's `unicode.ToUpper`, which maps one
/// character to one character).
pub fn capitalize(s: &[u8]) -> Vec<u8> {
    if s.is_empty() {
        return Vec::new();
    }
    let (c, size) = decode_rune(s);
    let mut upper = c.to_uppercase();
    let mapped = match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    };
    let mut out = mapped.to_string().into_bytes();
    out.extend_from_slice(&s[size..]);
    out
}

/// Go's `strconv.ParseInt(strings.TrimSpace(s), 10, 64)`, with its error text.
fn parse_int(s: &[u8]) -> Result<i64, String> {
    let text = String::from_utf8_lossy(s);
    let trimmed = text.trim();
    let syntax = || {
        format!(
            "strconv.ParseInt: parsing {}: invalid syntax",
            quote(trimmed.as_bytes())
        )
    };
    let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    if digits.is_empty() || !digits.bytes().all(|d| d.is_ascii_digit()) {
        return Err(syntax());
    }
    trimmed.parse::<i64>().map_err(|_| {
        format!(
            "strconv.ParseInt: parsing {}: value out of range",
            quote(trimmed.as_bytes())
        )
    })
}

/// Seconds to milliseconds; like Go, an overflow wraps.
pub fn to_millis(s: &[u8]) -> Result<i64, String> {
    parse_int(s).map(|n| n.wrapping_mul(1000))
}

/// Escapes a value for use inside a JSON string literal.
pub fn json_escape(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let (c, size) = decode_rune(&s[i..]);
        i += size;
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Formats a Unix time with the tokens `yyyy yy MM dd HH hh mm ss SSS a z`;
/// anything else is copied as it is.
pub fn time_format(seconds: i64, pattern: &str, offset_seconds: i32, utc: bool) -> String {
    let local = seconds.saturating_add(i64::from(offset_seconds));
    let days = local.div_euclid(86_400);
    let secs_of_day = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (
        secs_of_day / 3600,
        secs_of_day % 3600 / 60,
        secs_of_day % 60,
    );
    let mut out = String::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        let (token, len) = [
            ("yyyy", 4),
            ("yy", 2),
            ("MM", 2),
            ("dd", 2),
            ("HH", 2),
            ("hh", 2),
            ("mm", 2),
            ("ss", 2),
            ("SSS", 3),
            ("a", 1),
            ("z", 1),
        ]
        .into_iter()
        .find(|(t, _)| rest.starts_with(t))
        .unwrap_or(("", 0));
        match token {
            "yyyy" => out.push_str(&format!("{year:04}")),
            "yy" => out.push_str(&format!("{:02}", year.rem_euclid(100))),
            "MM" => out.push_str(&format!("{month:02}")),
            "dd" => out.push_str(&format!("{day:02}")),
            "HH" => out.push_str(&format!("{hour:02}")),
            "hh" => out.push_str(&format!(
                "{:02}",
                if hour % 12 == 0 { 12 } else { hour % 12 }
            )),
            "mm" => out.push_str(&format!("{minute:02}")),
            "ss" => out.push_str(&format!("{second:02}")),
            "SSS" => out.push_str("000"),
            "a" => out.push_str(if hour < 12 { "AM" } else { "PM" }),
            "z" if utc => out.push('Z'),
            "z" => {
                let sign = if offset_seconds < 0 { '-' } else { '+' };
                let abs = offset_seconds.unsigned_abs();
                out.push_str(&format!("{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60));
            }
            _ => {
                let c = rest.chars().next().unwrap_or_default();
                out.push(c);
                rest = &rest[c.len_utf8()..];
                continue;
            }
        }
        rest = &rest[len..];
    }
    out
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
