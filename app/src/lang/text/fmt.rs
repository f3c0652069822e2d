//! The part of Go's `fmt` and `strconv` that templates reach: `print`,
//! `println`, `printf` and the quoting used in error messages.

use super::value::Val;

/// Go's `strconv.Quote`: printable characters kept, the rest escaped.
pub(crate) fn quote(s: &[u8]) -> String {
    quote_with(s, false)
}

fn quote_with(s: &[u8], ascii_only: bool) -> String {
    let mut out = String::from("\"");
    let mut i = 0;
    while i < s.len() {
        let (ch, size) = decode_rune(&s[i..]);
        if size == 1 && ch == '\u{FFFD}' {
            out.push_str(&format!("\\x{:02x}", s[i]));
            i += 1;
            continue;
        }
        i += size;
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_print(c) && (!ascii_only || c.is_ascii()) => out.push(c),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Decodes one UTF-8 character; invalid bytes read as U+FFFD of size 1.
pub(crate) fn decode_rune(b: &[u8]) -> (char, usize) {
    let max = b.len().min(4);
    for n in 1..=max {
        if let Ok(s) = std::str::from_utf8(&b[..n]) {
            if let Some(c) = s.chars().next() {
                return (c, n);
            }
        }
    }
    ('\u{FFFD}', 1)
}

/// Go's `unicode.IsPrint`, closely enough: no controls, no spaces other than
/// U+0020, no invisible format characters.
pub(crate) fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF
        | 0xD800..=0xDFFF)
}

/// Go's `fmt.Sprint`: a space between operands when neither is a string.
pub(crate) fn sprint(args: &[Val<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !a.is_string() && !args[i - 1].is_string() {
            out.push(b' ');
        }
        a.write_plain(&mut out);
    }
    out
}

/// Go's `fmt.Sprintln`: always spaces, and a newline.
pub(crate) fn sprintln(args: &[Val<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        a.write_plain(&mut out);
    }
    out.push(b'\n');
    out
}

#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Go caps widths and precisions taken from arguments (`%*d`) at this, as `fmt` does.
const MAX_ARG_WIDTH: u64 = 1_000_000;

/// `printf` would build more than the caller allows (see [`sprintf`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TooLarge;

/// Go's `fmt.Sprintf` for the values a template can hold. Gives up with [`TooLarge`] once
/// the output passes `limit` bytes: each verb may pad to a million characters, so a short
/// format could otherwise ask for gigabytes.
pub(crate) fn sprintf(format: &[u8], args: &[Val<'_>], limit: usize) -> Result<Vec<u8>, TooLarge> {
    let mut out = Vec::new();
    let mut arg = 0usize;
    let mut reordered = false;
    let mut i = 0;
    while i < format.len() {
        if out.len() > limit {
            return Err(TooLarge);
        }
        if format[i] != b'%' {
            let start = i;
            while i < format.len() && format[i] != b'%' {
                i += 1;
            }
            out.extend_from_slice(&format[start..i]);
            continue;
        }
        i += 1;
        let mut spec = Spec::default();
        while i < format.len() {
            match format[i] {
                b'-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                b'+' => spec.plus = true,
                b'#' => spec.sharp = true,
                b' ' => spec.space = true,
                b'0' => spec.zero = !spec.minus,
                _ => break,
            }
            i += 1;
        }
        // Argument index before the width.
        let mut bad_index = false;
        let mut explicit_index = |i: &mut usize, arg: &mut usize| {
            if let Some((n, next, ok)) = arg_index(format, *i) {
                *i = next;
                reordered = true;
                match n {
                    Some(n) if ok && n <= args.len() => *arg = n,
                    _ => bad_index = true,
                }
            }
        };
        explicit_index(&mut i, &mut arg);
        if format.get(i) == Some(&b'*') {
            i += 1;
            match args.get(arg) {
                Some(Val::Int(w)) if w.unsigned_abs() <= MAX_ARG_WIDTH => {
                    if *w < 0 {
                        spec.minus = true;
                        spec.zero = false;
                    }
                    spec.width = Some(w.unsigned_abs() as usize);
                }
                _ => out.extend_from_slice(b"%!(BADWIDTH)"),
            }
            arg += 1;
        } else {
            let (w, next) = digits(format, i);
            spec.width = w;
            i = next;
        }
        if format.get(i) == Some(&b'.') {
            i += 1;
            explicit_index(&mut i, &mut arg);
            if format.get(i) == Some(&b'*') {
                i += 1;
                match args.get(arg) {
                    Some(Val::Int(p)) if (0..=MAX_ARG_WIDTH as i64).contains(p) => {
                        spec.prec = Some(*p as usize)
                    }
                    _ => out.extend_from_slice(b"%!(BADPREC)"),
                }
                arg += 1;
            } else {
                let (p, next) = digits(format, i);
                spec.prec = Some(p.unwrap_or(0));
                i = next;
            }
        }
        explicit_index(&mut i, &mut arg);
        let Some(&verb_byte) = format.get(i) else {
            out.extend_from_slice(b"%!(NOVERB)");
            break;
        };
        let (verb, size) = decode_rune(&format[i..]);
        i += size;
        let verb = if verb_byte < 0x80 {
            verb_byte as char
        } else {
            verb
        };
        if verb == '%' {
            out.push(b'%');
            continue;
        }
        if bad_index {
            out.extend_from_slice(format!("%!{verb}(BADINDEX)").as_bytes());
            continue;
        }
        let Some(value) = args.get(arg) else {
            out.extend_from_slice(format!("%!{verb}(MISSING)").as_bytes());
            continue;
        };
        arg += 1;
        format_one(&mut out, verb, spec, value);
    }
    if !reordered && arg < args.len() {
        out.extend_from_slice(b"%!(EXTRA ");
        for (n, a) in args[arg..].iter().enumerate() {
            if n > 0 {
                out.extend_from_slice(b", ");
            }
            out.extend_from_slice(a.type_name().as_bytes());
            out.push(b'=');
            a.write_plain(&mut out);
        }
        out.push(b')');
    }
    if out.len() > limit {
        return Err(TooLarge);
    }
    Ok(out)
}

/// `[n]` at `i`: the 0-based index, the position after, and whether it parsed.
fn arg_index(format: &[u8], i: usize) -> Option<(Option<usize>, usize, bool)> {
    if format.get(i) != Some(&b'[') {
        return None;
    }
    let close = format[i..].iter().position(|&c| c == b']')?;
    let inner = std::str::from_utf8(&format[i + 1..i + close]).ok();
    let n = inner
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|&n| n >= 1);
    Some((n.map(|n| n - 1), i + close + 1, n.is_some()))
}

fn digits(format: &[u8], mut i: usize) -> (Option<usize>, usize) {
    let start = i;
    let mut n: usize = 0;
    while let Some(d) = format.get(i).filter(|d| d.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(usize::from(d - b'0'));
        i += 1;
    }
    (
        if i > start {
            Some(n.min(1_000_000))
        } else {
            None
        },
        i,
    )
}

fn pad(out: &mut Vec<u8>, body: &[u8], spec: Spec, zero_ok: bool) {
    let len = String::from_utf8_lossy(body).chars().count();
    let width = spec.width.unwrap_or(0);
    if len >= width {
        out.extend_from_slice(body);
        return;
    }
    let fill = width - len;
    if spec.minus {
        out.extend_from_slice(body);
        out.extend(std::iter::repeat_n(b' ', fill));
    } else if spec.zero && zero_ok {
        // Zeros go after a sign.
        let (sign, digits) = match body.first() {
            Some(b'+' | b'-' | b' ') => body.split_at(1),
            _ => (&body[..0], body),
        };
        out.extend_from_slice(sign);
        out.extend(std::iter::repeat_n(b'0', fill));
        out.extend_from_slice(digits);
    } else {
        out.extend(std::iter::repeat_n(b' ', fill));
        out.extend_from_slice(body);
    }
}

fn bad_verb(out: &mut Vec<u8>, verb: char, value: &Val<'_>) {
    out.extend_from_slice(format!("%!{verb}(").as_bytes());
    match value {
        Val::Nil | Val::Invalid => out.extend_from_slice(b"<nil>"),
        v => {
            out.extend_from_slice(v.type_name().as_bytes());
            out.push(b'=');
            v.write_plain(out);
        }
    }
    out.push(b')');
}

fn format_one(out: &mut Vec<u8>, verb: char, spec: Spec, value: &Val<'_>) {
    if verb == 'T' {
        pad(out, value.type_name().as_bytes(), spec, false);
        return;
    }
    match value {
        Val::Nil | Val::Invalid => match verb {
            'v' => pad(out, b"<nil>", spec, false),
            _ => bad_verb(out, verb, value),
        },
        Val::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { b"true" } else { b"false" }, spec, false),
            _ => bad_verb(out, verb, value),
        },
        Val::Int(n) => format_int(out, verb, spec, i128::from(*n), value),
        Val::Uint8(n) => format_int(out, verb, spec, i128::from(*n), value),
        Val::Float(f) => format_float(out, verb, spec, *f, value),
        Val::Str(s) => format_str(out, verb, spec, s, value),
        Val::Map(_) => match verb {
            'v' | 's' => {
                let mut body = Vec::new();
                value.write_plain(&mut body);
                pad(out, &body, spec, false);
            }
            _ => bad_verb(out, verb, value),
        },
    }
}

fn format_str(out: &mut Vec<u8>, verb: char, spec: Spec, s: &[u8], value: &Val<'_>) {
    match verb {
        'v' | 's' => {
            let body: Vec<u8> = match spec.prec {
                Some(p) => {
                    let text = String::from_utf8_lossy(s);
                    let end = text.char_indices().nth(p).map_or(s.len(), |(i, _)| i);
                    s[..end.min(s.len())].to_vec()
                }
                None => s.to_vec(),
            };
            pad(out, &body, spec, true);
        }
        'q' => {
            let body = if spec.sharp
                && !s.contains(&b'`')
                && std::str::from_utf8(s).is_ok_and(|t| t.chars().all(|c| c == '\t' || is_print(c)))
            {
                let mut b = vec![b'`'];
                b.extend_from_slice(s);
                b.push(b'`');
                b
            } else {
                quote_with(s, spec.plus).into_bytes()
            };
            pad(out, &body, spec, true);
        }
        'x' | 'X' => {
            let mut body = Vec::new();
            let digits: &[u8] = if verb == 'x' {
                b"0123456789abcdef"
            } else {
                b"0123456789ABCDEF"
            };
            let s = match spec.prec {
                Some(p) => &s[..p.min(s.len())],
                None => s,
            };
            for (i, &c) in s.iter().enumerate() {
                if spec.space && i > 0 {
                    body.push(b' ');
                }
                if spec.sharp && (spec.space || i == 0) {
                    body.extend_from_slice(if verb == 'x' { b"0x" } else { b"0X" });
                }
                body.push(digits[usize::from(c >> 4)]);
                body.push(digits[usize::from(c & 15)]);
            }
            pad(out, &body, spec, true);
        }
        _ => bad_verb(out, verb, value),
    }
}

fn format_int(out: &mut Vec<u8>, verb: char, spec: Spec, n: i128, value: &Val<'_>) {
    let neg = n < 0;
    let abs = n.unsigned_abs();
    let digits = match verb {
        'd' | 'v' => abs.to_string(),
        'b' => format!("{abs:b}"),
        'o' | 'O' => format!("{abs:o}"),
        'x' => format!("{abs:x}"),
        'X' => format!("{abs:X}"),
        'c' => {
            let c = u32::try_from(n)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            pad(out, c.to_string().as_bytes(), spec, false);
            return;
        }
        'q' => {
            let c = u32::try_from(n)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            let q = quote(c.to_string().as_bytes());
            let body = format!(
                "'{}'",
                q[1..q.len() - 1].replace("\\\"", "\"").replace('\'', "\\'")
            );
            pad(out, body.as_bytes(), spec, false);
            return;
        }
        'U' => {
            let mut body = format!("U+{abs:04X}");
            if spec.sharp {
                if let Some(c) = u32::try_from(n)
                    .ok()
                    .and_then(char::from_u32)
                    .filter(|&c| is_print(c))
                {
                    body.push_str(&format!(" '{c}'"));
                }
            }
            pad(out, body.as_bytes(), spec, false);
            return;
        }
        _ => {
            bad_verb(out, verb, value);
            return;
        }
    };
    let mut digits = digits;
    let mut zero = spec.zero;
    if let Some(p) = spec.prec {
        zero = false;
        if p == 0 && abs == 0 {
            digits.clear();
        }
        while digits.len() < p {
            digits.insert(0, '0');
        }
    }
    let mut prefix = String::new();
    if spec.sharp {
        match verb {
            'b' => prefix.push_str("0b"),
            'o' if !digits.starts_with('0') => prefix.push('0'),
            'x' => prefix.push_str("0x"),
            'X' => prefix.push_str("0X"),
            _ => {}
        }
    }
    if verb == 'O' {
        prefix.push_str("0o");
    }
    let sign = if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let width = spec.width.unwrap_or(0);
    let body_len = sign.len() + prefix.len() + digits.len();
    let mut body = String::new();
    if zero && !spec.minus && width > body_len {
        body.push_str(sign);
        body.push_str(&prefix);
        body.push_str(&"0".repeat(width - body_len));
        body.push_str(&digits);
        out.extend_from_slice(body.as_bytes());
        return;
    }
    body.push_str(sign);
    body.push_str(&prefix);
    body.push_str(&digits);
    pad(
        out,
        body.as_bytes(),
        Spec {
            zero: false,
            ..spec
        },
        false,
    );
}

fn format_float(out: &mut Vec<u8>, verb: char, spec: Spec, f: f64, value: &Val<'_>) {
    let body = match verb {
        'v' | 'g' | 'G' => format_g(f, spec.prec, verb == 'G'),
        'e' | 'E' => format_e(f, spec.prec.unwrap_or(6), verb == 'E'),
        'f' | 'F' => format_f(f, spec.prec.unwrap_or(6)),
        _ => {
            bad_verb(out, verb, value);
            return;
        }
    };
    let mut body = body;
    if f.is_finite() || f.is_infinite() {
        if !body.starts_with('-') && !body.starts_with('+') {
            if spec.plus {
                body.insert(0, '+');
            } else if spec.space {
                body.insert(0, ' ');
            }
        } else if body.starts_with('+')
            && !spec.plus
            && f.is_infinite()
            && verb != 'v'
            && !spec.space
        {
            // Go prints "+Inf" for every verb.
        }
    }
    pad(out, body.as_bytes(), spec, f.is_finite());
}

fn special(f: f64) -> Option<String> {
    if f.is_nan() {
        Some("NaN".into())
    } else if f.is_infinite() {
        Some(if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        })
    } else {
        None
    }
}

/// The shortest decimal digits of `f` and its decimal exponent (d.ddd × 10^exp).
fn shortest(f: f64) -> (String, i32) {
    let s = format!("{:e}", f.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    (mantissa.replace('.', ""), exp.parse().unwrap_or(0))
}

fn rounded(f: f64, significant: usize) -> (String, i32) {
    let s = format!("{:.*e}", significant.saturating_sub(1), f.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let digits = mantissa.replace('.', "");
    let trimmed = digits.trim_end_matches('0');
    (
        if trimmed.is_empty() {
            "0".into()
        } else {
            trimmed.into()
        },
        exp.parse().unwrap_or(0),
    )
}

fn exp_suffix(exp: i32, upper: bool) -> String {
    format!(
        "{}{}{:02}",
        if upper { 'E' } else { 'e' },
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

/// Go's `%g` (`strconv.FormatFloat(f, 'g', prec, 64)`).
pub(crate) fn format_g(f: f64, prec: Option<usize>, upper: bool) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    let neg = f.is_sign_negative();
    let (digits, exp, eprec) = match prec {
        None => {
            let (d, e) = shortest(f);
            (d, e, 6)
        }
        Some(p) => {
            let p = p.max(1);
            let (d, e) = rounded(f, p);
            let dp = e + 1;
            let mut eprec = p as i32;
            if eprec > d.len() as i32 && d.len() as i32 >= dp {
                eprec = d.len() as i32;
            }
            (d, e, eprec)
        }
    };
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if exp < -4 || exp >= eprec {
        s.push_str(&digits[..1]);
        if digits.len() > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push_str(&exp_suffix(exp, upper));
    } else if exp < 0 {
        s.push_str("0.");
        s.push_str(&"0".repeat((-exp - 1) as usize));
        s.push_str(&digits);
    } else {
        let int_len = (exp + 1) as usize;
        if digits.len() <= int_len {
            s.push_str(&digits);
            s.push_str(&"0".repeat(int_len - digits.len()));
        } else {
            s.push_str(&digits[..int_len]);
            s.push('.');
            s.push_str(&digits[int_len..]);
        }
    }
    s
}

fn format_e(f: f64, prec: usize, upper: bool) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    let s = format!("{:.*e}", prec, f);
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    format!("{mantissa}{}", exp_suffix(exp.parse().unwrap_or(0), upper))
}

fn format_f(f: f64, prec: usize) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    format!("{:.*}", prec, f)
}
