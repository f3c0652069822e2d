//! Mapping paths: how an `<Output>`'s `Path` turns a response into values
//! (docs/template-language.md, "Paths"; docs/template-format.md "Requests": results zipped
//! by index).
//!
//! A path is first rendered as a template (so `data.#(phone=="{{.Phone}}")`
//! works), then split on top-level commas into alternatives; the first
//! alternative that exists wins. An alternative starting with `$` is
//! JSONPath (RFC 9535), any other GJSON.

use std::collections::BTreeMap;

use super::gjson;
use super::gjson::index::{Index, Lookup};
use super::text::{Data, ExecError, ParseError};

/// What one output path found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Nothing,
    /// A single value, shared by every result.
    One(String),
    /// An array: one value per result.
    Many(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("output {output}: the path does not parse as a template: {source}")]
    Parse { output: String, source: ParseError },
    #[error("output {output}: the path template fails: {source}")]
    Render { output: String, source: ExecError },
    #[error("output {output}: JSONPath {path:?} does not parse: {message}")]
    JsonPath {
        output: String,
        path: String,
        message: String,
    },
    #[error("the response is not JSON: {0}")]
    NotJson(String),
    /// [`zip_json_outputs`] was given a response that is not valid JSON.
    #[error("the response is not valid JSON")]
    InvalidJson,
}

/// Splits a rendered path on commas that are outside brackets,
/// parentheses, braces and quotes (and not escaped).
pub fn alternatives(path: &str) -> Vec<&str> {
    let b = path.as_bytes();
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut in_quote = false;
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'"' => in_quote = !in_quote,
            b'[' | b'(' | b'{' if !in_quote => depth += 1,
            b']' | b')' | b'}' if !in_quote => depth -= 1,
            b',' if !in_quote && depth == 0 => {
                parts.push(path[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(path[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

/// Evaluates one output path over a response: the first alternative that
/// finds a value or a non-empty array.
pub fn find(
    response: &str,
    output: &str,
    path_template: &str,
    vars: &Data,
) -> Result<Found, MappingError> {
    find_in(response, None, output, path_template, vars)
}

/// [`find`] with the response read once into an index, for many paths over one response.
fn find_in(
    response: &str,
    index: Option<&Index<'_>>,
    output: &str,
    path_template: &str,
    vars: &Data,
) -> Result<Found, MappingError> {
    // Most paths are plain; only a templated one (`{{…}}`) is parsed and rendered.
    let rendered;
    let path = if path_template.contains("{{") {
        let template =
            super::parse_template(path_template).map_err(|source| MappingError::Parse {
                output: output.to_owned(),
                source,
            })?;
        rendered = template
            .execute(vars)
            .map_err(|source| MappingError::Render {
                output: output.to_owned(),
                source,
            })?;
        rendered.as_str()
    } else {
        path_template
    };
    for alternative in alternatives(path) {
        let found = if alternative.starts_with('$') {
            json_path(response, output, alternative)?
        } else {
            match index.map(|index| index.lookup(alternative)) {
                Some(Lookup::Found(value)) => gjson_found(&value),
                Some(Lookup::Each(values)) => {
                    Found::Many(values.iter().map(|v| v.string().into_owned()).collect())
                }
                Some(Lookup::Missing) => Found::Nothing,
                Some(Lookup::Unsure) | None => gjson_found(&gjson::get(response, alternative)),
            }
        };
        // An empty array is nothing found: `#(...)#` gives `[]` when no
        // element matches, and the next alternative should then be tried.
        if found != Found::Nothing && found != Found::Many(Vec::new()) {
            return Ok(found);
        }
    }
    Ok(Found::Nothing)
}

fn gjson_found(value: &gjson::Value<'_>) -> Found {
    if !value.exists() {
        return Found::Nothing;
    }
    if value.is_array() {
        let mut items = Vec::new();
        value.for_each(|_, v| {
            items.push(v.string().into_owned());
            true
        });
        return Found::Many(items);
    }
    Found::One(value.string().into_owned())
}

/// A JSON value as text, as GJSON's `String()` gives it.
fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn json_path(response: &str, output: &str, path: &str) -> Result<Found, MappingError> {
    let parsed = serde_json_path::JsonPath::parse(path).map_err(|e| MappingError::JsonPath {
        output: output.to_owned(),
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let document: serde_json::Value =
        serde_json::from_str(response).map_err(|e| MappingError::NotJson(e.to_string()))?;
    let nodes = parsed.query(&document).all();
    Ok(match nodes.as_slice() {
        [] => Found::Nothing,
        [serde_json::Value::Array(items)] => Found::Many(items.iter().map(json_text).collect()),
        [one] => Found::One(json_text(one)),
        many => Found::Many(many.iter().map(|v| json_text(v)).collect()),
    })
}

/// Evaluates every named output over a response and zips the results by
/// index: one result per array element (the longest array decides how many),
/// single values shared by all, missing values empty. No result when no
/// output found anything.
pub fn zip_outputs(
    response: &str,
    outputs: &[(&str, &str)],
    vars: &Data,
) -> Result<Vec<BTreeMap<String, String>>, MappingError> {
    // Read the response once for all outputs (when it is JSON the index handles).
    let index = if outputs.len() > 1 && gjson::valid(response) {
        Index::build(response)
    } else {
        None
    };
    zip_with(response, index.as_ref(), outputs, vars)
}

/// [`zip_outputs`] for a caller that accepts only JSON (the engine): a response that is
/// not valid JSON is [`MappingError::InvalidJson`], and the one validation pass also decides
/// the index.
pub fn zip_json_outputs(
    response: &str,
    outputs: &[(&str, &str)],
    vars: &Data,
) -> Result<Vec<BTreeMap<String, String>>, MappingError> {
    if !gjson::valid(response) {
        return Err(MappingError::InvalidJson);
    }
    let index = if outputs.len() > 1 {
        Index::build(response)
    } else {
        None
    };
    zip_with(response, index.as_ref(), outputs, vars)
}

fn zip_with(
    response: &str,
    index: Option<&Index<'_>>,
    outputs: &[(&str, &str)],
    vars: &Data,
) -> Result<Vec<BTreeMap<String, String>>, MappingError> {
    let mut found = Vec::with_capacity(outputs.len());
    for (name, path) in outputs {
        found.push((*name, find_in(response, index, name, path, vars)?));
    }
    let count = found
        .iter()
        .map(|(_, f)| match f {
            Found::Nothing => 0,
            Found::One(_) => 1,
            Found::Many(items) => items.len(),
        })
        .max()
        .unwrap_or(0);
    let any_many = found.iter().any(|(_, f)| matches!(f, Found::Many(_)));
    let count = if any_many {
        found
            .iter()
            .filter_map(|(_, f)| {
                if let Found::Many(i) = f {
                    Some(i.len())
                } else {
                    None
                }
            })
            .max()
            .unwrap_or(0)
    } else {
        count
    };
    Ok((0..count)
        .map(|i| {
            found
                .iter()
                .map(|(name, f)| {
                    let value = match f {
                        Found::Nothing => String::new(),
                        Found::One(v) => v.clone(),
                        Found::Many(items) => items.get(i).cloned().unwrap_or_default(),
                    };
                    ((*name).to_owned(), value)
                })
                .collect()
        })
        .collect())
}
