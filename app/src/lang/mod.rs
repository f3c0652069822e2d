//! The template language: what evaluates every URL, header, body and path in
//! a template. Two small languages the vendor took from Go, kept
//! behaviour-for-behaviour compatible with the Go originals:
//!
//! - [`gjson`]: GJSON paths that read values out of a CRM's JSON responses;
//! - [`text`]: Go `text/template` for strings;
//! - [`functions`]: Patchbay's template functions;
//! - [`mapping`]: output paths (templated, with alternatives and JSONPath)
//!   and the zipping of outputs into results.
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

/// Parses a template string as the engine does: the older credential
/// notation rewritten, then Go's syntax with Patchbay's functions.
pub fn parse_template(source: &str) -> Result<text::Template, text::ParseError> {
    text::Template::parse(
        "t",
        &rewrite_legacy_credential(source),
        standard_functions(),
    )
}

/// The older credential notation of `Base64EncodedCredential`:
/// `{{.username:.password}}` means `{{.username}}:{{.password}}`, and
/// `{{.api_key:}}` means `{{.api_key}}:` (TEMPLATE-FORMAT.md). In Go's syntax
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
