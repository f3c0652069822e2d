//! The XML layer of templates: parse text into an element tree that keeps everything an
//! author wrote (unknown elements and attributes, in order, and comments), and write a tree
//! back as canonical, readable XML.
//!
//! Byte-for-byte round trips of unedited uploads are not this module's job: storage keeps
//! the uploaded text and only regenerates it after an edit.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::{Deserialize, Serialize};

/// Largest template accepted, in bytes (docs/template-format.md).
pub const MAX_TEMPLATE_BYTES: usize = 1024 * 1024;

/// How deeply elements may nest. Cloning, comparing, writing, validating and dropping a
/// tree recurse once per level, so the file must not choose the depth: 140,000 nested
/// elements overflowed the stack and ended the server. Real templates nest 7 levels.
pub const MAX_ELEMENT_DEPTH: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum XmlNode {
    Element(XmlElement),
    /// Text with entities resolved. Whitespace-only text between elements is layout and
    /// is not kept.
    Text(String),
    Comment(String),
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct XmlElement {
    pub name: String,
    /// Attribute names and values (entities resolved), in document order.
    pub attributes: Vec<(String, String)>,
    pub children: Vec<XmlNode>,
    /// Byte offset of the element's `<` in the parsed text, for error locations. Not part
    /// of the element's identity: a tree written and parsed again compares equal.
    #[serde(skip)]
    pub source_offset: Option<usize>,
}

/// Equal when name, children and the set of attributes are equal: attribute order carries
/// no meaning in XML (and names are unique per element), so canonical reordering keeps a
/// tree equal to itself.
impl PartialEq for XmlElement {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.attributes.len() == other.attributes.len()
            && self
                .attributes
                .iter()
                .all(|(key, value)| other.attribute(key) == Some(value.as_str()))
            && self.children == other.children
    }
}

impl Eq for XmlElement {}

impl XmlElement {
    pub fn new(name: impl Into<String>) -> Self {
        XmlElement {
            name: name.into(),
            ..Default::default()
        }
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Sets an attribute in place, or appends it if it is new.
    pub fn set_attribute(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.attributes.iter_mut().find(|(key, _)| key == name) {
            Some((_, existing)) => *existing = value,
            None => self.attributes.push((name.to_string(), value)),
        }
    }

    pub fn elements(&self) -> impl Iterator<Item = &XmlElement> {
        self.children.iter().filter_map(|node| match node {
            XmlNode::Element(element) => Some(element),
            _ => None,
        })
    }

    pub fn child(&self, name: &str) -> Option<&XmlElement> {
        self.elements().find(|element| element.name == name)
    }

    /// The concatenated text directly inside this element.
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|node| match node {
                XmlNode::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct XmlDocument {
    /// The `version` of the XML declaration, if the document had one ("1.0" or "1.1").
    pub version: Option<String>,
    pub root: XmlElement,
}

/// Where the XML is malformed and why, with 1-based line and column (in characters).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("line {line} column {column}: {reason}")]
pub struct XmlError {
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl XmlError {
    fn at(source: &str, offset: usize, reason: impl Into<String>) -> Self {
        let (line, column) = line_and_column(source, offset);
        XmlError {
            line,
            column,
            reason: reason.into(),
        }
    }
}

/// 1-based line and column of a byte offset (clamped to the text).
pub fn line_and_column(source: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(source).position(offset)
}

/// Where each line starts, so many offsets can be turned into line and column without
/// rescanning the text for each.
pub struct LineIndex<'a> {
    source: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(source: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex {
            source,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset, clamped to the text.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.source.len());
        while !self.source.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line - 1];
        let column = self.source[line_start..offset].chars().count() + 1;
        (line, column)
    }
}

pub fn parse(source: &str) -> Result<XmlDocument, XmlError> {
    if source.len() > MAX_TEMPLATE_BYTES {
        return Err(XmlError {
            line: 1,
            column: 1,
            reason: format!(
                "the file has {} bytes; templates may have at most {MAX_TEMPLATE_BYTES} bytes (1 MiB)",
                source.len()
            ),
        });
    }
    let mut reader = Reader::from_str(source);
    reader.config_mut().trim_text(false);
    reader.config_mut().check_end_names = true;

    let mut version = None;
    let mut stack: Vec<XmlElement> = Vec::new();
    let mut root: Option<XmlElement> = None;
    let mut text = String::new();
    let mut text_start = 0usize;

    loop {
        let event_start = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(error) => {
                let offset = reader.error_position() as usize;
                return Err(XmlError::at(source, offset, describe_syntax_error(&error)));
            }
        };
        let is_text = matches!(
            event,
            Event::Text(_) | Event::GeneralRef(_) | Event::CData(_)
        );
        if !is_text {
            flush_text(&mut text, &mut stack, source, text_start)?;
        }
        match event {
            Event::Decl(decl) => {
                let declared = decl.version().map(|v| v.into_owned()).unwrap_or_default();
                if declared != "1.0" && declared != "1.1" {
                    return Err(XmlError::at(
                        source,
                        event_start,
                        format!("XML version \"{declared}\" is not supported (use 1.0 or 1.1)"),
                    ));
                }
                version = Some(declared);
            }
            Event::DocType(_) => {
                return Err(XmlError::at(
                    source,
                    event_start,
                    "a DOCTYPE is not allowed in templates (custom entities are not supported)",
                ));
            }
            Event::PI(_) => {}
            Event::Start(start) => {
                if stack.len() >= MAX_ELEMENT_DEPTH {
                    return Err(XmlError::at(
                        source,
                        event_start,
                        format!("elements nest deeper than {MAX_ELEMENT_DEPTH} levels"),
                    ));
                }
                let element = element_from_start(source, event_start, &start)?;
                if stack.is_empty() && root.is_some() {
                    return Err(XmlError::at(
                        source,
                        event_start,
                        "a second root element after the first one ended",
                    ));
                }
                stack.push(element);
            }
            Event::Empty(start) => {
                let element = element_from_start(source, event_start, &start)?;
                close_element(element, &mut stack, &mut root, source, event_start)?;
            }
            Event::End(_) => {
                if let Some(element) = stack.pop() {
                    close_element(element, &mut stack, &mut root, source, event_start)?;
                }
            }
            Event::Text(raw) => {
                if text.is_empty() {
                    text_start = event_start;
                }
                text.push_str(&raw);
            }
            Event::GeneralRef(reference) => {
                if text.is_empty() {
                    text_start = event_start;
                }
                let name = reference.into_inner();
                let resolved = resolve_reference(&name)
                    .ok_or_else(|| XmlError::at(source, event_start, format!("unknown entity &{name}; (only &amp; &lt; &gt; &quot; &apos; and character references are allowed)")))?;
                text.push(resolved);
            }
            Event::CData(data) => {
                if text.is_empty() {
                    text_start = event_start;
                }
                text.push_str(&data);
            }
            Event::Comment(comment) => {
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(XmlNode::Comment(comment.to_string()));
                }
            }
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlError::at(
            source,
            source.len(),
            format!("the file ends before <{}> is closed", open.name),
        ));
    }
    let root =
        root.ok_or_else(|| XmlError::at(source, source.len(), "the file has no root element"))?;
    Ok(XmlDocument { version, root })
}

fn flush_text(
    text: &mut String,
    stack: &mut [XmlElement],
    source: &str,
    start: usize,
) -> Result<(), XmlError> {
    if text.is_empty() {
        return Ok(());
    }
    let taken = std::mem::take(text);
    if taken.trim().is_empty() {
        return Ok(());
    }
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(XmlNode::Text(taken));
            Ok(())
        }
        None => Err(XmlError::at(source, start, "text outside the root element")),
    }
}

fn close_element(
    element: XmlElement,
    stack: &mut [XmlElement],
    root: &mut Option<XmlElement>,
    source: &str,
    at: usize,
) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(XmlNode::Element(element)),
        None if root.is_none() => *root = Some(element),
        None => {
            return Err(XmlError::at(
                source,
                at,
                "a second root element after the first one ended",
            ))
        }
    }
    Ok(())
}

fn resolve_reference(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix('x') {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code).filter(|c| *c != '\0')
        }
    }
}

fn element_from_start(
    source: &str,
    tag_start: usize,
    start: &BytesStart,
) -> Result<XmlElement, XmlError> {
    let name = start.name().as_ref().to_string();
    let mut attributes: Vec<(String, String)> = Vec::new();
    // Offsets inside the tag are counted from the byte after '<'.
    let in_tag = |pos: usize| tag_start + 1 + pos;
    for attribute in start.attributes() {
        let attribute = match attribute {
            Ok(attribute) => attribute,
            Err(error) => {
                let (pos, reason) =
                    describe_attribute_error(&error, attributes.last().map(|(k, _)| k.as_str()));
                return Err(XmlError::at(source, in_tag(pos), reason));
            }
        };
        let key = attribute.key.as_ref().to_string();
        let raw = attribute.value.as_ref();
        let value = unescape_attribute(raw).map_err(|(index, reason)| {
            let offset = attribute_value_offset(source, tag_start, &key) + index;
            XmlError::at(
                source,
                offset,
                format!("{reason} in attribute {key} of <{name}>"),
            )
        })?;
        attributes.push((key, value));
    }
    Ok(XmlElement {
        name,
        attributes,
        children: Vec::new(),
        source_offset: Some(tag_start),
    })
}

/// Byte offset where the value of attribute `key` starts, inside the tag at `tag_start`
/// (`tag_start` itself when the tag has no such attribute).
pub fn attribute_value_offset(source: &str, tag_start: usize, key: &str) -> usize {
    let tag = &source[tag_start..];
    let mut search_from = 0;
    while let Some(found) = tag[search_from..].find(key) {
        let after_key = search_from + found + key.len();
        // `Value` must not match the end of `DefaultValue`.
        let starts_a_name = tag[..search_from + found]
            .chars()
            .next_back()
            .is_some_and(char::is_whitespace);
        if !starts_a_name {
            search_from = after_key;
            continue;
        }
        let rest = tag[after_key..].trim_start();
        if let Some(value) = rest.strip_prefix('=') {
            let value = value.trim_start();
            if value.starts_with(['"', '\'']) {
                return tag_start + (tag.len() - value.len()) + 1;
            }
        }
        search_from = after_key;
    }
    tag_start
}

/// Resolves entities in an attribute value and applies XML's attribute-value normalisation
/// (literal tabs and line breaks become spaces; `&#xA;` stays a line break). An error gives
/// the byte index of the offending character in `raw`.
fn unescape_attribute(raw: &str) -> Result<String, (usize, String)> {
    if let Some(index) = raw.find('<') {
        return Err((index, "raw '<' (write it as &lt;)".to_string()));
    }
    let mut out = String::with_capacity(raw.len());
    let mut consumed = 0;
    while let Some(found) = raw[consumed..].find('&') {
        let amp = consumed + found;
        push_normalized(&mut out, &raw[consumed..amp]);
        let after = &raw[amp + 1..];
        let Some(semi) = after
            .find(';')
            .filter(|&i| i > 0 && !after[..i].contains(|c: char| c.is_whitespace() || c == '&'))
        else {
            return Err((amp, "raw '&' (write it as &amp;)".to_string()));
        };
        let name = &after[..semi];
        let resolved = resolve_reference(name).ok_or_else(|| {
            (amp, format!("unknown entity &{name}; (only &amp; &lt; &gt; &quot; &apos; and character references are allowed)"))
        })?;
        out.push(resolved);
        consumed = amp + 1 + semi + 1;
    }
    push_normalized(&mut out, &raw[consumed..]);
    Ok(out)
}

fn push_normalized(out: &mut String, literal: &str) {
    let mut chars = literal.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push(' ');
            }
            '\n' | '\t' => out.push(' '),
            other => out.push(other),
        }
    }
}

fn describe_attribute_error(
    error: &quick_xml::events::attributes::AttrError,
    previous: Option<&str>,
) -> (usize, String) {
    use quick_xml::events::attributes::AttrError;
    let after_previous = match previous {
        Some(key) => format!(" (a raw '\"' inside the value of {key}? write it as &quot;)"),
        None => String::new(),
    };
    match *error {
        AttrError::ExpectedEq(pos) => (
            pos,
            format!("expected '=' after an attribute name{after_previous}"),
        ),
        AttrError::ExpectedValue(pos) => (pos, "expected a quoted attribute value".to_string()),
        AttrError::UnquotedValue(pos) => (
            pos,
            format!("attribute value without quotes{after_previous}"),
        ),
        AttrError::ExpectedQuote(pos, quote) => (
            pos,
            format!(
                "the attribute value is missing its closing {}",
                quote as char
            ),
        ),
        AttrError::Duplicated(pos, _) => (pos, "the same attribute appears twice".to_string()),
    }
}

fn describe_syntax_error(error: &quick_xml::Error) -> String {
    use quick_xml::errors::{Error, SyntaxError};
    match error {
        Error::Syntax(SyntaxError::UnclosedTag) => "a tag is not closed with '>'".to_string(),
        Error::Syntax(syntax) => syntax.to_string(),
        Error::IllFormed(ill) => ill.to_string(),
        other => other.to_string(),
    }
}

/// For an element name, the attribute names to write first, in this order.
pub type AttributeOrder = fn(&str) -> &'static [&'static str];

/// Writes a document as canonical XML: a 1.0 (or the document's) declaration, two-space
/// indentation, one element per line, attributes in the tree's order.
pub fn write(document: &XmlDocument) -> String {
    write_ordered(document, |_| &[])
}

/// As [`write`], with the attributes `order` names first (in its order), then the others as
/// they stand in the tree.
pub fn write_ordered(document: &XmlDocument, order: AttributeOrder) -> String {
    let mut out = String::new();
    let version = document.version.as_deref().unwrap_or("1.0");
    out.push_str(&format!(
        "<?xml version=\"{version}\" encoding=\"UTF-8\"?>\n"
    ));
    write_element(&mut out, &document.root, 0, order);
    out
}

fn ordered_attributes(element: &XmlElement, order: AttributeOrder) -> Vec<&(String, String)> {
    let first = order(&element.name);
    let mut attributes: Vec<&(String, String)> = first
        .iter()
        .filter_map(|name| element.attributes.iter().find(|(key, _)| key == name))
        .collect();
    attributes.extend(
        element
            .attributes
            .iter()
            .filter(|(key, _)| !first.contains(&key.as_str())),
    );
    attributes
}

fn write_element(out: &mut String, element: &XmlElement, depth: usize, order: AttributeOrder) {
    let indent = "  ".repeat(depth);
    out.push_str(&indent);
    out.push('<');
    out.push_str(&element.name);
    for (key, value) in ordered_attributes(element, order) {
        out.push(' ');
        out.push_str(key);
        out.push_str("=\"");
        escape_attribute_into(out, value);
        out.push('"');
    }
    if element.children.is_empty() {
        out.push_str("/>\n");
        return;
    }
    let only_text = element
        .children
        .iter()
        .all(|n| matches!(n, XmlNode::Text(_)));
    if only_text {
        out.push('>');
        escape_text_into(out, &element.text());
        out.push_str(&format!("</{}>\n", element.name));
        return;
    }
    out.push_str(">\n");
    for child in &element.children {
        match child {
            XmlNode::Element(inner) => write_element(out, inner, depth + 1, order),
            XmlNode::Text(text) => {
                out.push_str(&"  ".repeat(depth + 1));
                escape_text_into(out, text.trim());
                out.push('\n');
            }
            XmlNode::Comment(comment) => {
                out.push_str(&format!("{}<!--{}-->\n", "  ".repeat(depth + 1), comment));
            }
        }
    }
    out.push_str(&format!("{indent}</{}>\n", element.name));
}

/// Escapes so that the value reads back identically: quotes for JSON bodies, and line breaks
/// and tabs as character references (a literal one would be normalised to a space).
fn escape_attribute_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\t' => out.push_str("&#x9;"),
            other => out.push(other),
        }
    }
}

fn escape_text_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.1" encoding="UTF-8"?>
<Information Provider="crm" Name="Demo &amp; Co" Key="demo">
  <!-- hand-written -->
  <Scenarios>
    <Scenario Id="CallJournal" Type="REST">
      <Requests>
        <Request Name="CallJournal" Method="POST" URLFormat="https://x.test/calls?a=1&amp;b=2" Extra="kept">
          <Parameters>
            <Parameter Name="Data" Type="Body" Value="{&quot;subject&quot;: &quot;{{.Subject}}&quot;,&#xA;&quot;n&quot;: 1}"/>
          </Parameters>
        </Request>
      </Requests>
    </Scenario>
    <Unknown Flag="1">free text &lt;here&gt;</Unknown>
  </Scenarios>
</Information>
"#;

    #[test]
    fn parses_attributes_entities_comments_and_unknown_elements() {
        let doc = parse(SAMPLE).unwrap();
        assert_eq!(doc.version.as_deref(), Some("1.1"));
        assert_eq!(doc.root.attribute("Name"), Some("Demo & Co"));
        let scenarios = doc.root.child("Scenarios").unwrap();
        let request = scenarios
            .child("Scenario")
            .and_then(|s| s.child("Requests"))
            .and_then(|r| r.child("Request"))
            .unwrap();
        assert_eq!(
            request.attribute("URLFormat"),
            Some("https://x.test/calls?a=1&b=2")
        );
        assert_eq!(request.attribute("Extra"), Some("kept"));
        let body = request
            .child("Parameters")
            .and_then(|p| p.child("Parameter"))
            .unwrap();
        assert_eq!(
            body.attribute("Value"),
            Some("{\"subject\": \"{{.Subject}}\",\n\"n\": 1}")
        );
        assert_eq!(
            scenarios.child("Unknown").unwrap().text(),
            "free text <here>"
        );
        assert!(matches!(doc.root.children[0], XmlNode::Comment(_)));
    }

    #[test]
    fn writing_then_parsing_gives_the_same_tree_and_the_same_text() {
        let doc = parse(SAMPLE).unwrap();
        let written = write(&doc);
        let again = parse(&written).unwrap();
        assert_eq!(again, doc);
        assert_eq!(write(&again), written, "write(parse(x)) is stable");
        assert!(
            written.contains(
                "Value=\"{&quot;subject&quot;: &quot;{{.Subject}}&quot;,&#xA;&quot;n&quot;: 1}\""
            ),
            "{written}"
        );
        assert!(
            written.contains("\n  <Scenarios>\n"),
            "two-space indent: {written}"
        );
    }

    fn error_of(text: &str) -> XmlError {
        parse(text).expect_err("should be refused")
    }

    #[test]
    fn a_raw_ampersand_names_the_attribute_and_position() {
        let text =
            "<Information>\n  <Request URLFormat=\"https://x.test/?a=1&b=2\"/>\n</Information>";
        let error = error_of(text);
        assert_eq!((error.line, error.column), (2, 42), "{error}");
        assert!(error.reason.contains("raw '&'"), "{error}");
        assert!(error.reason.contains("URLFormat"), "{error}");
    }

    #[test]
    fn a_raw_quote_inside_a_value_is_explained() {
        let text =
            "<Information>\n<Parameter Name=\"Data\" Value=\"{ \"data\": 1 }\"/>\n</Information>";
        let error = error_of(text);
        assert_eq!(error.line, 2, "{error}");
        assert!(
            error.reason.contains("raw '\"' inside the value of Value"),
            "{error}"
        );
    }

    #[test]
    fn doctype_unknown_entities_and_broken_structure_are_refused() {
        let doctype = error_of(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e \"boom\">]>\n<Information/>",
        );
        assert_eq!(doctype.line, 2);
        assert!(doctype.reason.contains("DOCTYPE"), "{doctype}");
        assert!(error_of("<Information>&e;</Information>")
            .reason
            .contains("unknown entity &e;"));
        assert!(error_of("<Information A=\"&e;\"/>")
            .reason
            .contains("unknown entity &e;"));
        assert!(error_of("<Information><Scenarios></Information>").line == 1);
        assert!(error_of("<Information>")
            .reason
            .contains("ends before <Information>"));
        assert!(error_of("").reason.contains("no root element"));
        assert!(error_of("<A/><B/>").reason.contains("second root"));
        assert!(error_of("<A x=\"1\" x=\"2\"/>").reason.contains("twice"));
        assert!(error_of("<?xml version=\"2.0\"?><A/>")
            .reason
            .contains("2.0"));
    }

    #[test]
    fn files_over_one_mebibyte_are_refused_before_parsing() {
        let mut text = String::from("<Information>");
        text.push_str(&"x".repeat(MAX_TEMPLATE_BYTES));
        text.push_str("</Information>");
        assert!(error_of(&text).reason.contains("at most 1048576 bytes"));
        let just_fits = format!("<A>{}</A>", "x".repeat(MAX_TEMPLATE_BYTES - 7));
        assert_eq!(just_fits.len(), MAX_TEMPLATE_BYTES);
        assert!(parse(&just_fits).is_ok());
    }

    #[test]
    fn nesting_beyond_the_limit_is_refused_with_its_position() {
        let nested = |depth: usize| {
            format!(
                "<Information>\n{}{}</Information>",
                "<a>".repeat(depth - 1),
                "</a>".repeat(depth - 1)
            )
        };
        let document = parse(&nested(MAX_ELEMENT_DEPTH)).expect("the limit itself is fine");
        drop(document.clone());
        let error = error_of(&nested(MAX_ELEMENT_DEPTH + 1));
        assert_eq!(
            (error.line, error.column),
            (2, 3 * (MAX_ELEMENT_DEPTH - 1) + 1)
        );
        assert!(error.reason.contains("deeper than 256 levels"), "{error}");
        // The reported attack: 140,000 levels, refused without touching the stack.
        let attack = error_of(&nested(140_000));
        assert!(attack.reason.contains("deeper than"), "{attack}");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(line_and_column("é\nab", 4), (2, 2));
        assert_eq!(line_and_column("éa", 2), (1, 2));
    }

    #[test]
    fn line_index_boundaries() {
        let index = LineIndex::new("ab\ncd\n");
        assert_eq!(index.position(0), (1, 1));
        assert_eq!(index.position(2), (1, 3), "the newline itself ends line 1");
        assert_eq!(index.position(3), (2, 1));
        assert_eq!(index.position(6), (3, 1), "just past the last newline");
        assert_eq!(index.position(99), (3, 1), "clamped to the text");
    }
}
