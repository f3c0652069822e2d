//! Go `text/template`, as Go 1.19 runs it over a `map[string]string` with
//! `missingkey=zero`: what the vendor's integration engine does with every
//! URL, header and body of a template.
//!
//! Written after Go's lexer, parser and executor rather than taken from a
//! crate: integrators copy templates from Go documentation and the vendor's
//! examples, so behaviour *and* error messages must match Go's; `gotmpl`
//! 0.6 agreed on 261 of the 327 reference cases (different errors, `{{end}}`
//! accepted at top level, `<no value>` for missing keys). Parse once with
//! [`Template::parse`], render many times with [`Template::execute`].

mod exec;
pub(crate) mod fmt;
mod lex;
mod parse;
mod value;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use exec::{MAX_ALLOCATED, MAX_CALL_DEPTH, MAX_NESTING, MAX_OUTPUT, MAX_STEPS};
pub use parse::{ParseError, MAX_PARSE_DEPTH};
pub use value::Data;

pub(crate) use exec::path_escape;

/// A function a template can call besides Go's built-ins: `arity` string
/// arguments, a string result or an error message.
#[derive(Clone)]
pub struct Func {
    pub arity: usize,
    #[allow(clippy::type_complexity)]
    pub call: Arc<dyn Fn(&[&[u8]]) -> Result<Vec<u8>, String> + Send + Sync>,
}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Func/{}", self.arity)
    }
}

pub type Functions = BTreeMap<String, Func>;

/// An execution error, worded as Go words it; `offset` is the byte offset
/// of the node it happened at, when there is one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExecError {
    pub message: String,
    pub offset: Option<usize>,
}

/// A parsed template, ready to execute any number of times.
#[derive(Clone, Debug)]
pub struct Template {
    name: String,
    source: String,
    tree: parse::Tree,
    functions: Arc<Functions>,
}

impl Template {
    /// Parses `source`. `name` appears in error messages, as in Go
    /// (`template: NAME:LINE: ...`).
    pub fn parse(name: &str, source: &str, functions: Arc<Functions>) -> Result<Self, ParseError> {
        let is_function = |f: &str| functions.contains_key(f) || exec::is_builtin(f);
        let tree = parse::parse(name, source, &is_function)?;
        Ok(Template {
            name: name.to_owned(),
            source: source.to_owned(),
            tree,
            functions,
        })
    }

    /// Renders the template over `data` as bytes (Go strings are bytes, and
    /// `slice` can cut a character in two).
    pub fn execute_bytes(&self, data: &Data) -> Result<Vec<u8>, ExecError> {
        exec::execute(self, data)
    }

    /// Renders the template over `data`; bytes that are not UTF-8 become
    /// U+FFFD one by one, as Go's JSON encoding shows them.
    pub fn execute(&self, data: &Data) -> Result<String, ExecError> {
        self.execute_bytes(data).map(|b| lossy(&b))
    }

    /// The variables the template reads from its data (`.Name` at the top
    /// level, `$.Name` anywhere), for the validator's unknown-variable check.
    pub fn referenced_variables(&self) -> Vec<String> {
        let mut names = Vec::new();
        parse::visit_data_fields(&self.tree, &mut |name| {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        });
        names
    }
}

/// Bytes to text with Go's per-byte replacement of invalid UTF-8.
pub fn lossy(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                let (c, size) = fmt::decode_rune(&bytes[i..]);
                out.push(c);
                i += size;
            }
            out
        }
    }
}
