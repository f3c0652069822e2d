//! One response, many output paths: a template maps up to 22 contact fields, and
//! [`super::get`] scans the JSON text from the start for each. An [`Index`] reads the
//! document once into the spans of its objects, arrays and members, and answers the paths
//! most mappings use (dotted names and array indexes with at most one `#`, such as
//! `data.#.id` or `result.0.name`) without scanning again.
//!
//! It answers only where it gives exactly what [`super::get`] gives; anything else
//! (modifiers, queries, wildcards, escapes, a name on an array, escaped keys, …) is
//! [`Lookup::Unsure`] and the caller asks [`super::get`]. The test compares both on every
//! conformance case the index accepts.

use super::{parse, Value};

/// Deeper documents are not indexed (the caller falls back to a plain read).
pub const MAX_INDEX_DEPTH: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Object,
    Array,
    Scalar,
}

#[derive(Clone, Copy, Debug)]
struct Node {
    start: usize,
    end: usize,
    shape: Shape,
    /// Where this container's children start in `members` (objects) or `elements` (arrays).
    first: usize,
    count: usize,
}

#[derive(Clone, Copy, Debug)]
struct Member {
    key_start: usize,
    key_end: usize,
    node: usize,
}

/// A JSON document read once.
pub struct Index<'a> {
    raw: &'a str,
    nodes: Vec<Node>,
    members: Vec<Member>,
    elements: Vec<usize>,
}

/// What a path finds in an index.
#[derive(Debug, PartialEq)]
pub enum Lookup<'a> {
    /// What [`super::get`] gives for the path.
    Found(Value<'a>),
    /// The path's `#` step: one value per array element that has the rest of the path.
    Each(Vec<Value<'a>>),
    Missing,
    /// Not a path the index answers exactly: ask [`super::get`].
    Unsure,
}

struct Frame {
    node: usize,
    expect_key: bool,
    pending_key: Option<(usize, usize)>,
    members: Vec<Member>,
    elements: Vec<usize>,
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The end (one past the closing quote) of the string starting at `start`, and whether it
/// holds an escape.
fn string_end(bytes: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut i = start + 1;
    let mut escaped = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                escaped = true;
                i += 2;
            }
            b'"' => return Some((i + 1, escaped)),
            _ => i += 1,
        }
    }
    None
}

impl<'a> Index<'a> {
    /// Indexes `raw`, which must be valid JSON ([`super::valid`]); `None` for documents the
    /// index does not handle (escaped keys, nesting beyond [`MAX_INDEX_DEPTH`]).
    pub fn build(raw: &'a str) -> Option<Index<'a>> {
        let bytes = raw.as_bytes();
        let mut index = Index {
            raw,
            nodes: Vec::new(),
            members: Vec::new(),
            elements: Vec::new(),
        };
        let mut stack: Vec<Frame> = Vec::new();
        let mut i = skip_space(bytes, 0);
        loop {
            if i >= bytes.len() {
                return None;
            }
            let mut completed = None;
            match bytes[i] {
                b'{' | b'[' => {
                    if stack.len() >= MAX_INDEX_DEPTH {
                        return None;
                    }
                    let shape = if bytes[i] == b'{' {
                        Shape::Object
                    } else {
                        Shape::Array
                    };
                    index.nodes.push(Node {
                        start: i,
                        end: i,
                        shape,
                        first: 0,
                        count: 0,
                    });
                    stack.push(Frame {
                        node: index.nodes.len() - 1,
                        expect_key: shape == Shape::Object,
                        pending_key: None,
                        members: Vec::new(),
                        elements: Vec::new(),
                    });
                    i += 1;
                }
                b'}' | b']' => {
                    let frame = stack.pop()?;
                    let node = &mut index.nodes[frame.node];
                    node.end = i + 1;
                    if node.shape == Shape::Object {
                        node.first = index.members.len();
                        node.count = frame.members.len();
                        index.members.extend(frame.members);
                    } else {
                        node.first = index.elements.len();
                        node.count = frame.elements.len();
                        index.elements.extend(frame.elements);
                    }
                    completed = Some(frame.node);
                    i += 1;
                }
                b',' => {
                    if let Some(frame) = stack.last_mut() {
                        frame.expect_key = index.nodes[frame.node].shape == Shape::Object;
                    }
                    i += 1;
                }
                b'"' => {
                    let (end, escaped) = string_end(bytes, i)?;
                    match stack.last_mut() {
                        Some(frame) if frame.expect_key => {
                            if escaped {
                                return None;
                            }
                            frame.pending_key = Some((i + 1, end - 1));
                            frame.expect_key = false;
                            i = skip_space(bytes, end);
                            if bytes.get(i) != Some(&b':') {
                                return None;
                            }
                            i += 1;
                        }
                        _ => {
                            index.nodes.push(Node {
                                start: i,
                                end,
                                shape: Shape::Scalar,
                                first: 0,
                                count: 0,
                            });
                            completed = Some(index.nodes.len() - 1);
                            i = end;
                        }
                    }
                }
                _ => {
                    let start = i;
                    while i < bytes.len()
                        && !matches!(bytes[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                    {
                        i += 1;
                    }
                    index.nodes.push(Node {
                        start,
                        end: i,
                        shape: Shape::Scalar,
                        first: 0,
                        count: 0,
                    });
                    completed = Some(index.nodes.len() - 1);
                }
            }
            if let Some(node) = completed {
                match stack.last_mut() {
                    None => return Some(index),
                    Some(frame) => match frame.pending_key.take() {
                        Some((key_start, key_end)) => frame.members.push(Member {
                            key_start,
                            key_end,
                            node,
                        }),
                        None => frame.elements.push(node),
                    },
                }
            }
            i = skip_space(bytes, i);
        }
    }

    /// Answers `path` as [`super::get`] would, or [`Lookup::Unsure`].
    pub fn lookup(&self, path: &str) -> Lookup<'a> {
        if path.is_empty()
            || !path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'#'))
        {
            return Lookup::Unsure;
        }
        let steps: Vec<&str> = path.split('.').collect();
        let hashes = steps.iter().filter(|s| **s == "#").count();
        if steps
            .iter()
            .any(|s| s.is_empty() || (s.contains('#') && *s != "#"))
            || hashes > 1
        {
            return Lookup::Unsure;
        }
        match steps.iter().position(|s| *s == "#") {
            None => match self.walk(0, &steps) {
                Walk::Node(node) => Lookup::Found(self.value(node)),
                Walk::Missing => Lookup::Missing,
                Walk::Unsure => Lookup::Unsure,
            },
            Some(at) => {
                let rest = &steps[at + 1..];
                if rest.is_empty() {
                    return Lookup::Unsure;
                }
                let array = match self.walk(0, &steps[..at]) {
                    Walk::Node(node) if self.nodes[node].shape == Shape::Array => node,
                    Walk::Missing => return Lookup::Missing,
                    _ => return Lookup::Unsure,
                };
                let node = self.nodes[array];
                let mut found = Vec::new();
                for &element in &self.elements[node.first..node.first + node.count] {
                    match self.walk(element, rest) {
                        Walk::Node(value) => found.push(self.value(value)),
                        Walk::Missing => {}
                        Walk::Unsure => return Lookup::Unsure,
                    }
                }
                Lookup::Each(found)
            }
        }
    }

    fn value(&self, node: usize) -> Value<'a> {
        let node = self.nodes[node];
        parse(&self.raw[node.start..node.end])
    }

    fn walk(&self, mut node: usize, steps: &[&str]) -> Walk {
        for step in steps {
            let here = self.nodes[node];
            node = match here.shape {
                Shape::Object => {
                    let members = &self.members[here.first..here.first + here.count];
                    match members
                        .iter()
                        .find(|m| &self.raw[m.key_start..m.key_end] == *step)
                    {
                        Some(member) => member.node,
                        None => return Walk::Missing,
                    }
                }
                Shape::Array => {
                    let plain_index = step.bytes().all(|b| b.is_ascii_digit())
                        && (step.len() == 1 || !step.starts_with('0'))
                        && step.len() < 10;
                    if !plain_index {
                        return Walk::Unsure;
                    }
                    let at: usize = match step.parse() {
                        Ok(at) => at,
                        Err(_) => return Walk::Unsure,
                    };
                    match self.elements[here.first..here.first + here.count].get(at) {
                        Some(element) => *element,
                        None => return Walk::Missing,
                    }
                }
                Shape::Scalar => return Walk::Unsure,
            };
        }
        Walk::Node(node)
    }
}

enum Walk {
    Node(usize),
    Missing,
    Unsure,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::gjson::get;

    const DOC: &str = r#"{"data": [{"id": 1, "name": "Ann", "tags": ["a", "b"]}, {"id": 2.50, "name": "B\u00f6b"}, {"other": true}],
        "total": 3, "nested": {"deep": {"x": null}}, "dup": 1, "dup": 2, "0": "zero"}"#;

    #[test]
    fn answers_plain_paths_as_get_does() {
        let index = Index::build(DOC).unwrap();
        for path in [
            "total",
            "nested.deep.x",
            "nested.deep",
            "dup",
            "data.1.name",
            "data.0.tags",
            "data",
            "0",
            "nested.deep.y",
        ] {
            match index.lookup(path) {
                Lookup::Found(value) => assert_eq!(value, get(DOC, path), "{path}"),
                Lookup::Missing => assert!(!get(DOC, path).exists(), "{path}"),
                other => panic!("{path}: {other:?}"),
            }
        }
        let Lookup::Each(names) = index.lookup("data.#.name") else {
            panic!()
        };
        let texts: Vec<_> = names.iter().map(|v| v.string().into_owned()).collect();
        assert_eq!(texts, ["Ann", "Böb"]);
        let mut expected = Vec::new();
        get(DOC, "data.#.name").for_each(|_, v| {
            expected.push(v.string().into_owned());
            true
        });
        assert_eq!(texts, expected);
    }

    #[test]
    fn leaves_everything_else_to_get() {
        let index = Index::build(DOC).unwrap();
        for path in [
            "data.#",
            "data.#(id==1).name",
            "data.*.id",
            "@reverse",
            "data.name",
            "total.x",
            "data.01.id",
            "a\\.b",
            "data.#.tags.#",
        ] {
            assert_eq!(index.lookup(path), Lookup::Unsure, "{path}");
        }
        assert!(Index::build(r#"{"k\"ey": 1}"#).is_none(), "escaped keys");
        let deep = "[".repeat(MAX_INDEX_DEPTH + 1) + &"]".repeat(MAX_INDEX_DEPTH + 1);
        assert!(Index::build(&deep).is_none());
    }
}
