//! The template language: what evaluates every URL, header, body and path in
//! a template. Two small languages the vendor took from Go, kept
//! behaviour-for-behaviour compatible with the Go originals:
//!
//! - [`gjson`]: GJSON paths that read values out of a CRM's JSON responses;
//! - [`text`]: Go `text/template` for strings;
//! - [`functions`]: Patchbay's template functions;
//! - [`mapping`]: output paths (templated, with alternatives and JSONPath)
//!   and the zipping of outputs into results;
//! - the dialect ([`read_dialect`]): what the vendor's own documents write
//!   that Go refuses, read as they mean it (docs/template-language.md).
//!
//! Pure code with no I/O: the server runs it and the browser validates
//! templates with it.

pub mod functions;
pub mod gjson;
pub mod mapping;
pub mod text;

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

/// The functions with UTC as the server zone: enough to parse and validate
/// (parsing needs only the names) and to evaluate paths.
pub fn standard_functions() -> Arc<text::Functions> {
    static FUNCTIONS: OnceLock<Arc<text::Functions>> = OnceLock::new();
    FUNCTIONS
        .get_or_init(|| Arc::new(functions::patchbay(functions::fixed_offset(0))))
        .clone()
}

/// Parses a template string as the engine does: the dialect read first
/// ([`read_dialect`]), then Go's syntax with Patchbay's functions.
pub fn parse_template(source: &str) -> Result<text::Template, text::ParseError> {
    text::Template::parse("t", &read_dialect(source).text, standard_functions())
}

/// Parses exactly as Go's `text/template` does, without the dialect: what
/// `patchbay eval` and the conformance suite compare with the Go reference.
pub fn parse_go_template(source: &str) -> Result<text::Template, text::ParseError> {
    text::Template::parse("t", source, standard_functions())
}

/// A rule of the dialect a template string used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialectRule {
    /// `{{.username:.password}}` for `{{.username}}:{{.password}}`.
    LegacyCredential,
    /// `'yyyy-MM-dd'` for `"yyyy-MM-dd"`, one-character `'1'` too.
    SingleQuotes,
}

/// A template string as the engine reads it, and which dialect rules that took.
pub struct DialectReading<'a> {
    pub text: Cow<'a, str>,
    pub rules: Vec<DialectRule>,
}

/// Reads the vendor's dialect into Go's syntax (docs/template-language.md
/// "The dialect"): the older credential notation, and single-quoted literals
/// inside actions as strings. The vendor's examples write
/// `{{TimeFormat .StartTimeUnix 'yyyy-MM-ddTHH:mm:ss-z' '1'}}` so the JSON
/// body around the action stays valid; Go would refuse the first literal and
/// read `'1'` as the number 49. Text outside actions never changes.
pub fn read_dialect(source: &str) -> DialectReading<'_> {
    let mut rules = Vec::new();
    let credential = rewrite_legacy_credential(source);
    if matches!(credential, Cow::Owned(_)) {
        rules.push(DialectRule::LegacyCredential);
    }
    let text = match single_quotes_as_strings(&credential) {
        Some(rewritten) => {
            rules.push(DialectRule::SingleQuotes);
            Cow::Owned(rewritten)
        }
        None => credential,
    };
    DialectReading { text, rules }
}

/// `source` with every single-quoted literal inside an action written as a
/// Go string; `None` when there is none. Double-quoted and raw strings are
/// skipped whole, so a quote inside them is left alone; an unterminated
/// literal is left for Go's parser to report.
fn single_quotes_as_strings(source: &str) -> Option<String> {
    if !source.contains('\'') || !source.contains("{{") {
        return None;
    }
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len() + 8);
    let mut changed = false;
    let mut i = 0;
    let mut in_action = false;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if !in_action {
            out.push(c);
            if c == '{' && next == Some('{') {
                out.push('{');
                i += 2;
                in_action = true;
                continue;
            }
            i += 1;
            continue;
        }
        match c {
            '}' if next == Some('}') => {
                out.push_str("}}");
                i += 2;
                in_action = false;
            }
            '"' | '`' => {
                // Copied whole, escapes and all.
                let end = closing(&chars, i, c).unwrap_or(chars.len() - 1);
                out.extend(&chars[i..=end]);
                i = end + 1;
            }
            '\'' => match closing(&chars, i, '\'') {
                Some(end) => {
                    out.push('"');
                    let mut k = i + 1;
                    while k < end {
                        match chars[k] {
                            '\\' if chars.get(k + 1) == Some(&'\'') => {
                                out.push('\'');
                                k += 2;
                                continue;
                            }
                            '\\' => {
                                // An escape means the same in a Go string.
                                out.push('\\');
                                if let Some(escaped) = chars.get(k + 1) {
                                    out.push(*escaped);
                                }
                                k += 2;
                                continue;
                            }
                            '"' => out.push_str("\\\""),
                            other => out.push(other),
                        }
                        k += 1;
                    }
                    out.push('"');
                    changed = true;
                    i = end + 1;
                }
                None => {
                    out.extend(&chars[i..]);
                    i = chars.len();
                }
            },
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    changed.then_some(out)
}

/// Where the literal opened at `open` with `quote` closes: backslash escapes
/// count except in raw strings, and only a raw string spans lines.
fn closing(chars: &[char], open: usize, quote: char) -> Option<usize> {
    let mut k = open + 1;
    while k < chars.len() {
        match chars[k] {
            '\\' if quote != '`' => k += 2,
            '\n' if quote != '`' => return None,
            c if c == quote => return Some(k),
            _ => k += 1,
        }
    }
    None
}

/// The older credential notation of `Base64EncodedCredential`:
/// `{{.username:.password}}` means `{{.username}}:{{.password}}`, and
/// `{{.api_key:}}` means `{{.api_key}}:` (docs/template-format.md). In Go's syntax
/// the colon is an error, so the rewrite never changes a valid template.
pub fn rewrite_legacy_credential(source: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut rest = source;
    let mut changed = false;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        let inside = after[..close].trim();
        if let Some((left, right)) = legacy_pair(inside) {
            out.push_str(&rest[..open]);
            out.push_str(&format!("{{{{{left}}}}}:"));
            if let Some(right) = right {
                out.push_str(&format!("{{{{{right}}}}}"));
            }
            changed = true;
        } else {
            out.push_str(&rest[..open + 2 + close + 2]);
        }
        rest = &after[close + 2..];
    }
    if !changed {
        return Cow::Borrowed(source);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `.a:.b` or `.a:` as (".a", Some(".b")) or (".a", None).
fn legacy_pair(inside: &str) -> Option<(&str, Option<&str>)> {
    let (left, right) = inside.split_once(':')?;
    let field = |s: &str| {
        s.strip_prefix('.').is_some_and(|name| {
            !name.is_empty() && name.chars().all(|c| c == '_' || c.is_alphanumeric())
        })
    };
    let (left, right) = (left.trim(), right.trim());
    if !field(left) {
        return None;
    }
    if right.is_empty() {
        return Some((left, None));
    }
    field(right).then_some((left, Some(right)))
}
