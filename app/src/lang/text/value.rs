//! The values a template computes with: the Go types that a map of strings,
//! constants and the built-in functions can produce.

use std::borrow::Cow;
use std::collections::BTreeMap;

/// The data a template runs over: Go's `map[string]string`.
pub type Data = BTreeMap<String, String>;

#[derive(Clone, Debug)]
pub enum Val<'d> {
    /// Go's zero `reflect.Value`: prints as `<no value>`.
    Invalid,
    /// An untyped nil.
    Nil,
    Bool(bool),
    Int(i64),
    /// A byte, as `index` of a string gives.
    Uint8(u8),
    Float(f64),
    /// Go strings are bytes; slicing may cut a character in two.
    Str(Cow<'d, [u8]>),
    Map(&'d Data),
}

impl<'d> Val<'d> {
    pub fn str(s: &'d str) -> Self {
        Val::Str(Cow::Borrowed(s.as_bytes()))
    }

    pub fn owned(bytes: Vec<u8>) -> Self {
        Val::Str(Cow::Owned(bytes))
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Val::Str(_))
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Invalid | Val::Nil => "<nil>",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::Uint8(_) => "uint8",
            Val::Float(_) => "float64",
            Val::Str(_) => "string",
            Val::Map(_) => "map[string]string",
        }
    }

    /// Go's `isTrue`.
    pub fn truth(&self) -> bool {
        match self {
            Val::Invalid | Val::Nil => false,
            Val::Bool(b) => *b,
            Val::Int(n) => *n != 0,
            Val::Uint8(n) => *n != 0,
            Val::Float(f) => *f != 0.0,
            Val::Str(s) => !s.is_empty(),
            Val::Map(m) => !m.is_empty(),
        }
    }

    /// `fmt.Print` of the value.
    pub fn write_plain(&self, out: &mut Vec<u8>) {
        match self {
            Val::Invalid => out.extend_from_slice(b"<no value>"),
            Val::Nil => out.extend_from_slice(b"<nil>"),
            Val::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Val::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Val::Uint8(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Val::Float(f) => {
                out.extend_from_slice(super::fmt::format_g(*f, None, false).as_bytes())
            }
            Val::Str(s) => out.extend_from_slice(s),
            Val::Map(m) => {
                out.extend_from_slice(b"map[");
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    out.extend_from_slice(k.as_bytes());
                    out.push(b':');
                    out.extend_from_slice(v.as_bytes());
                }
                out.push(b']');
            }
        }
    }
}
