//! Import of 3CX CRM templates (root `<Crm>`): the same integration written in the vendor's
//! format, with a report of what was converted, what was approximated and what has no
//! equivalent, each line naming the 3CX element and its line (docs/import-3cx.md).
//!
//! What converts: the contact lookup by number (`Scenario Id=""`, with a scenario it chains
//! to by `Next` as a Common request), the contact search (`SearchContacts`), contact creation
//! (`CreateContactRecord`), call journaling (`ReportCall`, with chained copies of the same
//! request folded into one), no, basic and API-key authentication (headers or query values
//! that hold a parameter), the parameters as custom fields, the journal's subject and texts
//! as its Subject and Description, JSON and form bodies (`PostValues`), headers, the number's
//! format (`Number`), the connection limit, the expressions `[Variable]`, `[IIf(…)]` and
//! `[UrlEncode(…)]`, and a sign-in scenario's token and token-answer values as the variables
//! Patchbay's OAuth 2.0 gives them.

pub mod expression;

use serde::{Deserialize, Serialize};

use self::expression::{Binding, Bindings, Context, Piece};
use super::editor::canonical_text;
use super::xml::{self, LineIndex, XmlDocument, XmlElement, XmlError, XmlNode};

/// How one 3CX element fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Converted,
    Approximated,
    NoEquivalent,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Converted => "converted",
            Outcome::Approximated => "approximated",
            Outcome::NoEquivalent => "no equivalent",
        }
    }
}

/// One line of the conversion report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportLine {
    pub outcome: Outcome,
    /// The 3CX element, as written (`<Request>` in scenario "ReportCall").
    pub element: String,
    /// 1-based line of the element in the 3CX file.
    pub line: usize,
    pub message: String,
}

/// A converted template and what happened on the way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Conversion {
    /// The template in the vendor's format.
    pub template: String,
    pub report: Vec<ReportLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is not well-formed XML: {0}")]
    Xml(#[from] XmlError),
    #[error("the root element is <{0}>; a 3CX CRM template starts with <Crm>")]
    NotThreeCx(String),
}

/// Custom fields the vendor's none and basic methods allow (the validator's limit).
const MAX_CUSTOM_FIELDS: usize = 5;
const DEFAULT_CONTACT_TYPE: &str = "Contacts";
/// Scenario ids 3CX gives a meaning of its own.
const THREECX_SCENARIOS: &[&str] = &[
    "",
    "LookupByEmail",
    "SearchContacts",
    "CreateContactRecord",
    "ReportCall",
    "ReportChat",
    "Authentication",
    "OAuthResponse",
];
/// How many times a parameter's default is expanded inside another's (3CX's `Passes`).
const MAX_PASSES: usize = 4;
/// How much parameter text a conversion may take in by expansion: a budget for the whole
/// file, since a URL's pieces and a body's values are rendered one by one.
const MAX_EXPANDED_BYTES: usize = 64 * 1024;

/// Converts a 3CX CRM template.
pub fn convert(source: &str) -> Result<Conversion, ImportError> {
    let document = xml::parse(source)?;
    if document.root.name != "Crm" {
        return Err(ImportError::NotThreeCx(document.root.name.clone()));
    }
    let mut converter = Converter::new(source, &document.root);
    let template = converter.run(&document.root);
    let mut report = converter.report;
    report.sort_by_key(|line| line.line);
    Ok(Conversion { template, report })
}

/// What a 3CX parameter becomes.
#[derive(Clone, Debug)]
enum ParameterRole {
    /// A custom field the integrating user fills in.
    Field {
        editor: &'static str,
        options: String,
    },
    /// Decided by the integration page's switch (`ReportCallEnabled`, `CreateContactEnabled`).
    Switch,
    /// A journal text: the Description of calls of one kind.
    JournalText(CallKind),
    Subject,
    /// Written into the requests with its default (a Boolean, or a text holding variables).
    Inline,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallKind {
    Inbound,
    Missed,
    Outbound,
    NotAnswered,
}

#[derive(Clone, Debug)]
struct Parameter {
    name: String,
    variable: String,
    title: String,
    default: String,
    role: ParameterRole,
    offset: Option<usize>,
    used: bool,
}

/// Where a 3CX expression is used: decides what `[Number]` and the call variables mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scene {
    Lookup,
    Search,
    Create,
    Journal,
    Authentication,
}

struct Converter<'a> {
    lines: LineIndex<'a>,
    report: Vec<ReportLine>,
    parameters: Vec<Parameter>,
    number: Binding,
    /// The variables 3CX's sign-in scenario reads from its token answer, with the answer's
    /// key: Patchbay keeps a token answer's values as `TokenResponse_<key>`.
    token_answer: Vec<(String, String)>,
    /// While a chained lookup's request is converted: the first lookup's variables it reads,
    /// with the output (the vendor's variable) that carries each.
    chained: Vec<(String, String)>,
    /// The Common scenario a chained lookup became.
    common: Option<XmlElement>,
    /// What parameter text expansion may still take in (`MAX_EXPANDED_BYTES` per file).
    expansion_budget: usize,
}

/// A request in the vendor's format, before it is written.
#[derive(Clone, Debug, PartialEq)]
struct Request {
    method: String,
    url: String,
    encoding: &'static str,
    body: Option<String>,
    headers: Vec<(String, String)>,
}

impl<'a> Converter<'a> {
    fn new(source: &'a str, root: &XmlElement) -> Self {
        let mut converter = Converter {
            lines: LineIndex::new(source),
            report: Vec::new(),
            parameters: Vec::new(),
            number: Binding::field("Phone"),
            token_answer: Vec::new(),
            chained: Vec::new(),
            common: None,
            expansion_budget: MAX_EXPANDED_BYTES,
        };
        converter.read_parameters(root);
        converter.token_answer = token_answer(root);
        converter
    }

    fn note(
        &mut self,
        element: &XmlElement,
        place: &str,
        outcome: Outcome,
        message: impl Into<String>,
    ) {
        let line = element
            .source_offset
            .map(|offset| self.lines.position(offset).0)
            .unwrap_or(1);
        self.report.push(ReportLine {
            outcome,
            element: format!("<{}>{place}", element.name),
            line,
            message: message.into(),
        });
    }

    fn run(&mut self, root: &XmlElement) -> String {
        let name = root
            .attribute("Name")
            .unwrap_or("3CX template")
            .trim()
            .to_string();
        self.note(
            root,
            "",
            Outcome::Converted,
            format!("the template \"{name}\" becomes a CRM template"),
        );
        if let Some(number) = root.child("Number") {
            self.read_number(number);
        }
        let concurrency = self.read_connection(root);

        let scenarios: Vec<&XmlElement> = root
            .child("Scenarios")
            .map(|s| s.elements().filter(|e| e.name == "Scenario").collect())
            .unwrap_or_default();
        let by_id = |id: &str| {
            scenarios
                .iter()
                .copied()
                .find(|s| s.attribute("Id").unwrap_or("") == id)
        };
        let contact_type = by_id("")
            .and_then(|s| s.attribute("EntityId"))
            .filter(|e| {
                !e.trim().is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .unwrap_or(DEFAULT_CONTACT_TYPE)
            .to_string();

        let mut out_scenarios = Vec::new();
        let mut handled: Vec<String> = Vec::new();
        let mut lookup = None;
        if let Some(scenario) = by_id("") {
            handled.push(String::new());
            // A scenario the lookup chains to by Next, unless it is one of 3CX's own.
            let chained = scenario
                .child("Outputs")
                .and_then(|o| o.attribute("Next"))
                .filter(|next| !THREECX_SCENARIOS.contains(next))
                .and_then(by_id);
            lookup = self.lookup_scenario(
                scenario,
                "SyncContactAuto",
                Scene::Lookup,
                &contact_type,
                chained,
            );
            if let (Some(chained), Some(_)) = (chained, &self.common) {
                handled.push(chained.attribute("Id").unwrap_or("").to_string());
            }
            if lookup.is_none() {
                self.note(
                    scenario,
                    " Id=\"\"",
                    Outcome::NoEquivalent,
                    "the contact lookup has no request; nothing was converted",
                );
            }
        } else {
            self.note(
                root,
                "",
                Outcome::NoEquivalent,
                "the template has no contact lookup (Scenario Id=\"\"); add one in the editor",
            );
        }
        if let Some(scenario) = by_id("SearchContacts") {
            handled.push("SearchContacts".into());
            if let Some(search) = self.lookup_scenario(
                scenario,
                "SearchContact",
                Scene::Search,
                &contact_type,
                None,
            ) {
                out_scenarios.push(search);
            }
        }
        let mut creates = false;
        if let Some(scenario) = by_id("CreateContactRecord") {
            handled.push("CreateContactRecord".into());
            if let Some(create) = self.create_scenario(scenario, &contact_type) {
                out_scenarios.push(create);
                creates = true;
            }
        }
        let mut journals = false;
        if let Some(scenario) = by_id("ReportCall") {
            handled.push("ReportCall".into());
            let (journal, folded) = self.journal_scenario(scenario, &scenarios);
            handled.extend(folded);
            if let Some(journal) = journal {
                out_scenarios.push(journal);
                journals = true;
            }
        }
        for scenario in &scenarios {
            let id = scenario.attribute("Id").unwrap_or("");
            if handled.iter().any(|h| h == id) {
                continue;
            }
            let why = match id {
                "LookupByEmail" => "Patchbay looks contacts up by number only",
                "ReportChat" => "Patchbay journals calls, not chats",
                "Authentication" | "OAuthResponse" => "3CX's own OAuth flow; configure OAuth 2.0 in the editor's Authentication section",
                _ => "no vendor scenario does this",
            };
            self.note(
                scenario,
                &format!(" Id=\"{id}\""),
                Outcome::NoEquivalent,
                format!("not converted: {why}"),
            );
        }
        if let Some(lookup) = lookup {
            out_scenarios.insert(0, lookup);
        }
        if let Some(common) = self.common.take() {
            out_scenarios.push(common);
        }

        let (auth_type, auth) = self.authentication(root, &mut out_scenarios);
        out_scenarios.insert(0, auth);

        let mut information = XmlElement::new("Information");
        let key = key_of(&name);
        let version = root
            .attribute("Version")
            .filter(|v| !v.trim().is_empty())
            .unwrap_or("1");
        for (attribute, value) in [
            ("Provider", "crm".to_string()),
            ("Name", name.chars().take(64).collect::<String>()),
            ("Key", key),
            ("Version", version.trim().to_string()),
            ("AuthType", auth_type.to_string()),
            ("MaxConcurrentRequest", concurrency.to_string()),
            ("UserAssociation", "0".into()),
            ("CallJournal", if journals { "1" } else { "0" }.into()),
            ("CreateNewContact", if creates { "1" } else { "0" }.into()),
            (
                "Remark",
                format!("Converted from the 3CX template {}", name)
                    .chars()
                    .take(255)
                    .collect(),
            ),
        ] {
            information.set_attribute(attribute, value);
        }
        let mut scenarios_element = XmlElement::new("Scenarios");
        scenarios_element.children = out_scenarios.into_iter().map(XmlNode::Element).collect();
        information
            .children
            .push(XmlNode::Element(scenarios_element));
        canonical_text(&XmlDocument {
            version: Some("1.0".into()),
            root: information,
        })
    }

    fn read_number(&mut self, number: &XmlElement) {
        let prefix = number.attribute("Prefix").unwrap_or("AsIs");
        let (binding, outcome, message) = match prefix {
            "AsIs" | "" => (Binding::field("Phone"), Outcome::Converted, "the number is looked up as the phone system sends it (Phone)".to_string()),
            "Plus" => (
                Binding::field("PhoneE164"),
                Outcome::Approximated,
                "Prefix=\"Plus\": the number is looked up in E.164 (PhoneE164), which needs the integration's default country for national numbers".into(),
            ),
            "Off" => (
                Binding::field("PhoneDigits"),
                Outcome::Approximated,
                "Prefix=\"Off\": the number is looked up as digits only (PhoneDigits); a 00 prefix is kept".into(),
            ),
            "Zeros" => (
                Binding::choice(
                    ".PhoneE164",
                    Binding::Pipeline("printf \"00%s\" (slice .PhoneE164 1)".into()),
                    Binding::field("Phone"),
                ),
                Outcome::Approximated,
                "Prefix=\"Zeros\": the E.164 number with 00 instead of +, else the number as received".into(),
            ),
            other => (Binding::field("Phone"), Outcome::NoEquivalent, format!("Prefix=\"{other}\" is not a 3CX prefix; the number is looked up as received")),
        };
        self.number = binding;
        self.note(number, "", outcome, message);
        let max_length = number.attribute("MaxLength").unwrap_or("").trim();
        if !max_length.is_empty() {
            self.number = Binding::field("PhoneLastDigits");
            self.note(
                number,
                "",
                Outcome::Approximated,
                format!("MaxLength=\"{max_length}\": the last digits of the number (PhoneLastDigits); set how many with Last digits in the integration's Features"),
            );
        }
    }

    fn read_connection(&mut self, root: &XmlElement) -> u32 {
        let Some(connection) = root.child("Connection") else {
            return 4;
        };
        let written = connection
            .attribute("MaxConcurrentRequests")
            .unwrap_or("")
            .trim();
        match written.parse::<u32>() {
            Ok(n @ 1..=100) => {
                self.note(
                    connection,
                    "",
                    Outcome::Converted,
                    format!("MaxConcurrentRequests={n} becomes MaxConcurrentRequest"),
                );
                n
            }
            _ => {
                self.note(
                    connection,
                    "",
                    Outcome::Approximated,
                    format!("MaxConcurrentRequests=\"{written}\" is not 1 to 100; 4 is used"),
                );
                4
            }
        }
    }

    fn read_parameters(&mut self, root: &XmlElement) {
        let Some(parameters) = root.child("Parameters") else {
            return;
        };
        for element in parameters.elements().filter(|e| e.name == "Parameter") {
            let name = element.attribute("Name").unwrap_or("").trim().to_string();
            if name.is_empty() {
                continue;
            }
            let kind = element.attribute("Type").unwrap_or("String");
            let default = element.attribute("Default").unwrap_or("").to_string();
            let holds_variables = expression::parse(&default)
                .iter()
                .any(|p| !matches!(p, Piece::Text(_)));
            let role = match (name.as_str(), kind) {
                ("ReportCallEnabled" | "CreateContactEnabled", _) => ParameterRole::Switch,
                ("InboundCallText", _) => ParameterRole::JournalText(CallKind::Inbound),
                ("MissedCallText", _) => ParameterRole::JournalText(CallKind::Missed),
                ("OutboundCallText", _) => ParameterRole::JournalText(CallKind::Outbound),
                ("NotAnsweredOutboundCallText", _) => {
                    ParameterRole::JournalText(CallKind::NotAnswered)
                }
                ("Subject", _) => ParameterRole::Subject,
                (_, "Boolean") => ParameterRole::Inline,
                // Settings of a feature the integration page switches on (the new
                // contact's name, for one) go with the feature's request.
                _ if matches!(
                    element.attribute("Parent"),
                    Some("CreateContactEnabled" | "ReportCallEnabled")
                ) =>
                {
                    ParameterRole::Inline
                }
                (_, "String" | "Text") if holds_variables => ParameterRole::Inline,
                (_, "Password") => ParameterRole::Field {
                    editor: "password",
                    options: String::new(),
                },
                (_, "List") => ParameterRole::Field {
                    editor: "list",
                    options: element.attribute("ListValues").unwrap_or("").to_string(),
                },
                _ => ParameterRole::Field {
                    editor: "string",
                    options: String::new(),
                },
            };
            let variable = field_variable(&name);
            self.parameters.push(Parameter {
                title: element
                    .attribute("Title")
                    .unwrap_or(&name)
                    .trim()
                    .trim_end_matches(':')
                    .to_string(),
                name,
                variable,
                default,
                role,
                offset: element.source_offset,
                used: false,
            });
        }
    }

    fn parameter(&self, name: &str) -> Option<usize> {
        self.parameters.iter().position(|p| p.name == name)
    }

    /// A 3CX expression as a Go template string in `scene`, with notes for what it used.
    fn expression(
        &mut self,
        text: &str,
        context: Context,
        scene: Scene,
        element: &XmlElement,
        place: &str,
    ) -> String {
        self.render_pieces(&expression::parse(text), context, scene, element, place)
    }

    fn request(&mut self, scenario: &XmlElement, scene: Scene, place: &str) -> Option<Request> {
        let element = scenario.child("Request")?;
        let method = match element
            .attribute("RequestType")
            .unwrap_or("Get")
            .to_ascii_uppercase()
            .as_str()
        {
            m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE") => m.to_string(),
            other => {
                self.note(
                    element,
                    place,
                    Outcome::NoEquivalent,
                    format!(
                        "RequestType=\"{other}\" is not an HTTP method Patchbay sends; GET is used"
                    ),
                );
                "GET".into()
            }
        };
        let url = element.attribute("Url").unwrap_or("").to_string();
        let mut url = self.url(&url, scene, element, place);
        if element
            .attribute("ResponseType")
            .is_some_and(|t| !t.eq_ignore_ascii_case("json"))
        {
            self.note(element, place, Outcome::NoEquivalent, "ResponseType is not Json: Patchbay reads JSON answers only; the outputs will find nothing until the request answers JSON");
        }
        if let Some(skip_if) = element.attribute("SkipIf").filter(|s| !s.trim().is_empty()) {
            self.note(
                element,
                place,
                Outcome::Approximated,
                format!("SkipIf=\"{skip_if}\" is not converted: the request runs whenever the scenario runs, and the integration page's switches decide whether it does"),
            );
        }
        let encoding_attribute = element.attribute("RequestEncoding").unwrap_or("UrlEncoded");
        let json = encoding_attribute.eq_ignore_ascii_case("json");
        let mut encoding = "";
        let mut body = None;
        let message = element.attribute("Message").unwrap_or("");
        if let Some(values) = element.child("PostValues") {
            if json {
                body = Some(self.json_object(values, scene, place));
            } else {
                let pairs = self.form_pairs(values, scene, place);
                if method == "GET" {
                    let separator = if url.contains('?') { '&' } else { '?' };
                    if !pairs.is_empty() {
                        url = format!("{url}{separator}{pairs}");
                    }
                } else {
                    encoding = "form";
                    body = Some(pairs);
                }
            }
            self.note(
                values,
                place,
                Outcome::Converted,
                if json {
                    "the values become a JSON body"
                } else if method == "GET" {
                    "the values become the URL's query"
                } else {
                    "the values become a form body"
                },
            );
        } else if !message.trim().is_empty() {
            body = Some(self.expression(message, Context::Plain, scene, element, place));
            self.note(element, place, Outcome::Approximated, "Message becomes the body as written, its variables inserted without escaping; check it in the editor");
        }
        let mut headers = Vec::new();
        if let Some(list) = element.child("Headers") {
            for value in list.elements().filter(|e| e.name == "Value") {
                let name = value.attribute("Key").unwrap_or("").trim().to_string();
                if name.is_empty() {
                    continue;
                }
                let mut read = Vec::new();
                expression::variables(&expression::parse(&value.text()), &mut read);
                if name.eq_ignore_ascii_case("Authorization")
                    && read.iter().any(|v| v == "AccessToken")
                {
                    self.note(value, place, Outcome::Approximated, "the Authorization header with [AccessToken] is left out: with OAuth 2.0 or Bearer set up in the editor, Patchbay sends it itself");
                    continue;
                }
                let text = self.expression(&value.text(), Context::Plain, scene, value, place);
                headers.push((name, text));
            }
            self.note(
                list,
                place,
                Outcome::Converted,
                format!("{} header(s)", headers.len()),
            );
        }
        if let Some(content_type) = element
            .attribute("RequestContentType")
            .filter(|c| !c.trim().is_empty())
        {
            let expected = if encoding == "form" {
                "application/x-www-form-urlencoded"
            } else {
                "application/json"
            };
            if body.is_some() && !content_type.starts_with(expected) {
                headers.push(("Content-Type".into(), content_type.to_string()));
                self.note(
                    element,
                    place,
                    Outcome::Approximated,
                    format!(
                        "RequestContentType=\"{content_type}\" is sent as a Content-Type header"
                    ),
                );
            }
        }
        Some(Request {
            method,
            url,
            encoding,
            body,
            headers,
        })
    }

    /// A URL: custom fields inserted as written (a base URL, a domain), the call's values
    /// encoded as query values.
    fn url(&mut self, text: &str, scene: Scene, element: &XmlElement, place: &str) -> String {
        let mut pieces = expression::parse(text);
        let mut out = String::new();
        if let Some(Piece::Variable(name)) = pieces.first() {
            if let Some(index) = self
                .parameter(name)
                .filter(|&i| matches!(self.parameters[i].role, ParameterRole::Field { .. }))
            {
                out = self.host_field(index, element, place);
                pieces.remove(0);
            }
        }
        for piece in &pieces {
            // The call's values are encoded; parameters and unknown names (a base URL, a
            // domain) go in as written.
            let context = match piece {
                Piece::Variable(name) if self.parameter(name).is_none() && is_call_value(name) => {
                    Context::Query
                }
                Piece::Call { .. } => Context::Query,
                _ => Context::Plain,
            };
            out.push_str(&self.render_pieces(
                std::slice::from_ref(piece),
                context,
                scene,
                element,
                place,
            ));
        }
        out
    }

    /// A parameter that starts a URL holds a whole base URL in 3CX. A Patchbay field may
    /// only be the host (a secret must go only to the origin it was configured for,
    /// SECURITY.md), so the field becomes the host and the default's path stays in the URL.
    fn host_field(&mut self, index: usize, element: &XmlElement, place: &str) -> String {
        let parameter = &mut self.parameters[index];
        parameter.used = true;
        let default = parameter.default.trim().to_string();
        let (scheme, rest) = match default.split_once("://") {
            Some(("http", rest)) => ("http", rest),
            Some((_, rest)) => ("https", rest),
            None => ("https", default.as_str()),
        };
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let variable = parameter.variable.clone();
        if !parameter.title.contains("host name") {
            parameter.title = match host {
                "" => format!("{} (host name)", parameter.title),
                host => format!("{} (host name, e.g. {host})", parameter.title),
            };
        }
        let name = parameter.name.clone();
        let message = format!(
            "[{name}] starts the URL: Patchbay takes only a host name in a field, so the URL starts {scheme}://{{{{.{variable}}}}}{path} (the path from its default)"
        );
        if !self.report.iter().any(|l| l.message == message) {
            self.note(element, place, Outcome::Approximated, message);
        }
        format!("{scheme}://{{{{.{variable}}}}}{path}")
    }

    fn render_pieces(
        &mut self,
        pieces: &[Piece],
        context: Context,
        scene: Scene,
        element: &XmlElement,
        place: &str,
    ) -> String {
        let pieces = self.expand_inline(pieces, 0);
        let mut bindings = SceneBindings {
            converter: self,
            scene,
            notes: Vec::new(),
        };
        let out = expression::render(&pieces, context, &mut bindings);
        let notes = bindings.notes;
        for (outcome, message) in notes {
            if !self
                .report
                .iter()
                .any(|l| l.message == message && l.element.ends_with(place))
            {
                self.note(element, place, outcome, message);
            }
        }
        out
    }

    /// 3CX expands a parameter's value where it is used (`Passes`): a parameter written
    /// into the requests brings its default's own variables with it.
    fn expand_inline(&mut self, pieces: &[Piece], depth: usize) -> Vec<Piece> {
        let mut out = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Variable(name) if depth < MAX_PASSES => {
                    let inline = self
                        .parameter(name)
                        .filter(|&i| matches!(self.parameters[i].role, ParameterRole::Inline));
                    match inline {
                        // Each pass can multiply the text (a default naming itself twice
                        // doubles it), so the expanded text has a budget for the whole file.
                        Some(index)
                            if self.parameters[index].default.len() <= self.expansion_budget =>
                        {
                            self.expansion_budget -= self.parameters[index].default.len();
                            self.parameters[index].used = true;
                            let default = expression::parse(&self.parameters[index].default);
                            out.extend(self.expand_inline(&default, depth + 1));
                        }
                        _ => out.push(piece.clone()),
                    }
                }
                Piece::Call { name, args } => out.push(Piece::Call {
                    name: name.clone(),
                    args: args.iter().map(|a| self.expand_inline(a, depth)).collect(),
                }),
                other => out.push(other.clone()),
            }
        }
        out
    }

    fn json_object(&mut self, values: &XmlElement, scene: Scene, place: &str) -> String {
        let mut members = Vec::new();
        for child in values.elements() {
            let key = child.attribute("Key").unwrap_or("").to_string();
            let value = match child.name.as_str() {
                "Value" => {
                    let text = child.text();
                    match child.attribute("Type").unwrap_or("String") {
                        "Integer" | "Number" | "Boolean" | "Float" | "Double" => {
                            let inner = self.expression(&text, Context::Plain, scene, child, place);
                            if inner.is_empty() {
                                "null".to_string()
                            } else {
                                inner
                            }
                        }
                        _ => format!(
                            "\"{}\"",
                            self.expression(&text, Context::JsonString, scene, child, place)
                        ),
                    }
                }
                "PostValues" => self.json_object(child, scene, place),
                _ => continue,
            };
            members.push(format!(
                "\"{}\": {value}",
                crate::lang::functions::json_escape(key.as_bytes())
            ));
        }
        format!("{{{}}}", members.join(", "))
    }

    fn form_pairs(&mut self, values: &XmlElement, scene: Scene, place: &str) -> String {
        let mut pairs = Vec::new();
        for child in values.elements().filter(|e| e.name == "Value") {
            let key = child.attribute("Key").unwrap_or("");
            let value = self.expression(&child.text(), Context::Query, scene, child, place);
            pairs.push(format!("{key}={value}"));
        }
        pairs.join("&")
    }

    fn lookup_scenario(
        &mut self,
        scenario: &XmlElement,
        id: &str,
        scene: Scene,
        contact_type: &str,
        chained: Option<&XmlElement>,
    ) -> Option<XmlElement> {
        let place = format!(
            " in scenario \"{}\"",
            scenario.attribute("Id").unwrap_or("")
        );
        let request = self.request(scenario, scene, &place)?;
        self.note(
            scenario,
            &place,
            Outcome::Converted,
            format!("becomes {id}, contact type \"{contact_type}\""),
        );
        self.rules(scenario, &place);
        let variables = self.variables(scenario, &place);
        let mut fields: Vec<(&'static str, String)> = Vec::new();
        let mut contact_url: Option<(String, String)> = None;
        let mut contact_id_variable = None;
        let mut by_variable: Vec<(String, String)> = Vec::new();
        if let Some(outputs) = scenario.child("Outputs") {
            for output in outputs.elements().filter(|e| e.name == "Output") {
                let kind = output.attribute("Type").unwrap_or("");
                let value = output.attribute("Value").unwrap_or("");
                if kind == "ContactID" {
                    if let [Piece::Variable(name)] = expression::parse(value).as_slice() {
                        contact_id_variable = Some(name.clone());
                    }
                }
            }
            for output in outputs.elements().filter(|e| e.name == "Output") {
                let kind = output.attribute("Type").unwrap_or("");
                let value = output.attribute("Value").unwrap_or("");
                if kind == "ContactUrl" {
                    contact_url = Some(self.contact_url(
                        value,
                        &variables,
                        contact_id_variable.as_deref(),
                        output,
                        &place,
                    ));
                    continue;
                }
                if matches!(kind, "EntityId" | "EntityType") {
                    self.note(output, &place, Outcome::Approximated, format!("Type=\"{kind}\": the contact's type is the request's name (\"{contact_type}\") and its ID the ContactID output"));
                    continue;
                }
                if let Some((field, path)) = self.contact_field(output, &variables, &place) {
                    if let [Piece::Variable(name)] = expression::parse(value).as_slice() {
                        by_variable.push((name.clone(), field.to_string()));
                    }
                    fields.push((field, path));
                }
            }
        }
        let mut next = None;
        let mut passed = Vec::new();
        if let Some(target) = scenario
            .child("Outputs")
            .and_then(|o| o.attribute("Next"))
            .filter(|n| !n.is_empty())
        {
            let outputs = scenario.child("Outputs").expect("read above");
            match chained {
                Some(chained) if id == "SyncContactAuto" => {
                    next = self.chained_lookup(chained, &variables, &by_variable, &mut passed);
                }
                _ => self.note(outputs, &place, Outcome::NoEquivalent, format!("Next=\"{target}\": the chained scenario is not run after this one; add its request in the editor (a Common request reached by Next)")),
            }
        }
        if !fields.iter().any(|(f, _)| *f == "ContactsId") {
            self.note(
                scenario,
                &place,
                Outcome::NoEquivalent,
                "no ContactID output: map the contact's ID in the editor",
            );
        }
        if !fields.iter().any(|(f, _)| is_phone_field(f)) {
            self.note(
                scenario,
                &place,
                Outcome::Approximated,
                "no phone number is read from the answer (3CX knows the number it asked for); map one in the editor so the contact shows its number",
            );
        }

        let mut element = scenario_element(id);
        let mut parameters = Vec::new();
        if id == "SyncContactAuto" {
            match &contact_url {
                Some((kind, value)) if kind == "retrieve_from_contact" => {
                    parameters.push(parameter("ContactUrlType", kind));
                    parameters.push(parameter("ContactFieldForUri", value));
                }
                Some((kind, value)) => {
                    parameters.push(parameter("ContactUrlType", kind));
                    parameters.push(parameter("URLFormat", value));
                }
                None => {}
            }
            for (field, _) in &fields {
                parameters.push(parameter(&format!("{field}Enable"), "1"));
            }
        }
        push_parameters(&mut element, parameters);
        let outputs = fields
            .iter()
            .map(|(name, path)| output(name, path))
            .chain(passed.iter().map(|(name, path)| output(name, path)))
            .collect();
        let mut request = request_element(contact_type, &request, outputs);
        if let Some(next) = next {
            for node in &mut request.children {
                if let XmlNode::Element(outputs) = node {
                    if outputs.name == "Outputs" {
                        outputs.set_attribute("Next", next.as_str());
                    }
                }
            }
        }
        push_requests(&mut element, vec![request]);
        Some(element)
    }

    /// One `<Output>` of a lookup as a contact field and its path, with its report line.
    fn contact_field(
        &mut self,
        output: &XmlElement,
        variables: &[(String, String)],
        place: &str,
    ) -> Option<(&'static str, String)> {
        let kind = output.attribute("Type").unwrap_or("");
        let value = output.attribute("Value").unwrap_or("");
        let Some(field) = vendor_field(kind) else {
            self.note(
                output,
                place,
                Outcome::NoEquivalent,
                format!("Type=\"{kind}\" is not a contact field Patchbay keeps"),
            );
            return None;
        };
        let pieces = expression::parse(value);
        let paths: Vec<String> = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Variable(name) => variables
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, path)| path.clone()),
                _ => None,
            })
            .collect();
        match paths.as_slice() {
            [] => {
                self.note(output, place, Outcome::NoEquivalent, format!("Type=\"{kind}\": its value \"{value}\" reads no response variable; it is not mapped"));
                None
            }
            [path] if pieces.len() == 1 => {
                self.note(
                    output,
                    place,
                    Outcome::Converted,
                    format!("Type=\"{kind}\" becomes {field}"),
                );
                Some((field, path.clone()))
            }
            [path, ..] => {
                self.note(output, place, Outcome::Approximated, format!("Type=\"{kind}\" joins several values (\"{value}\"); {field} takes the first"));
                Some((field, path.clone()))
            }
        }
    }

    /// A scenario chained after the lookup by `Next` (one that reads, say, the contact's
    /// company by the ID the lookup found): the Common request the lookup's request
    /// continues with, completing each contact found. The first lookup's variables it reads
    /// are passed on as outputs of the lookup (`passed`). Its name, when it converted.
    fn chained_lookup(
        &mut self,
        chained: &XmlElement,
        first_variables: &[(String, String)],
        first_fields: &[(String, String)],
        passed: &mut Vec<(String, String)>,
    ) -> Option<String> {
        let id = chained.attribute("Id").unwrap_or("");
        let place = format!(" in scenario \"{id}\"");
        let name = identifier(id);
        let mut read = Vec::new();
        if let Some(request) = chained.child("Request") {
            expression::variables(
                &expression::parse(request.attribute("Url").unwrap_or("")),
                &mut read,
            );
            for text in value_texts(request) {
                expression::variables(&expression::parse(&text), &mut read);
            }
        }
        let mut mapping = Vec::new();
        for variable in read {
            if let Some((_, field)) = first_fields.iter().find(|(n, _)| *n == variable) {
                mapping.push((variable, field.clone()));
            } else if let Some((_, path)) = first_variables.iter().find(|(n, _)| *n == variable) {
                self.note(
                    chained,
                    &place,
                    Outcome::Converted,
                    format!("[{variable}] is passed on from the lookup as its output {variable}"),
                );
                passed.push((variable.clone(), path.clone()));
                mapping.push((variable.clone(), variable));
            }
        }
        self.chained = mapping;
        let request = self.request(chained, Scene::Lookup, &place);
        self.chained.clear();
        let request = request?;
        let variables = self.variables(chained, &place);
        let mut fields = Vec::new();
        if let Some(outputs) = chained.child("Outputs") {
            if let Some(next) = outputs.attribute("Next").filter(|n| !n.is_empty()) {
                self.note(outputs, &place, Outcome::NoEquivalent, format!("Next=\"{next}\": a second chained scenario is not run; only one Common request follows the lookup"));
            }
            for output in outputs.elements().filter(|e| e.name == "Output") {
                let kind = output.attribute("Type").unwrap_or("");
                if matches!(kind, "ContactUrl" | "EntityId" | "EntityType") {
                    self.note(output, &place, Outcome::NoEquivalent, format!("Type=\"{kind}\" is taken from the lookup, not from the chained scenario"));
                    continue;
                }
                if let Some(field) = self.contact_field(output, &variables, &place) {
                    fields.push(field);
                }
            }
        }
        self.note(
            chained,
            &place,
            Outcome::Converted,
            format!("chained after the lookup by Next: becomes the Common request \"{name}\", whose values fill each found contact's empty fields"),
        );
        let mut element = scenario_element("Common");
        let outputs = fields.iter().map(|(f, path)| output(f, path)).collect();
        push_requests(
            &mut element,
            vec![request_element(&name, &request, outputs)],
        );
        self.common = Some(element);
        Some(name)
    }

    fn rules(&mut self, scenario: &XmlElement, place: &str) {
        let Some(rules) = scenario.child("Rules") else {
            return;
        };
        for rule in rules.elements().filter(|e| e.name == "Rule") {
            let kind = rule.attribute("Type").unwrap_or("Any");
            let path = rule.text();
            if kind.eq_ignore_ascii_case("Any") {
                self.note(rule, place, Outcome::Approximated, format!("Type=\"Any\" on \"{}\": a contact is found when the answer gives it an ID, which the ContactID output's path decides", path.trim()));
            } else {
                let ethalon = rule.attribute("Ethalon").unwrap_or("");
                self.note(rule, place, Outcome::NoEquivalent, format!("Type=\"{kind}\" (\"{}\" must be \"{ethalon}\") is not checked; only the outputs decide", path.trim()));
            }
        }
    }

    /// The scenario's response variables with their GJSON paths.
    fn variables(&mut self, scenario: &XmlElement, place: &str) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let Some(variables) = scenario.child("Variables") else {
            return found;
        };
        let mut approximated = false;
        for variable in variables.elements().filter(|e| e.name == "Variable") {
            let name = variable.attribute("Name").unwrap_or("").to_string();
            let path = variable.attribute("Path").unwrap_or("").trim().to_string();
            if name.is_empty() || path.is_empty() {
                continue;
            }
            let (gjson, list) = gjson_paths(&path);
            approximated |= list;
            if variable
                .child("Filter")
                .is_some_and(|f| !f.attributes.is_empty() || !f.children.is_empty())
            {
                self.note(
                    variable,
                    place,
                    Outcome::NoEquivalent,
                    format!("the Filter of \"{name}\" is not applied"),
                );
            }
            if variable
                .attribute("LookupValue")
                .is_some_and(|v| !v.is_empty())
            {
                self.note(
                    variable,
                    place,
                    Outcome::NoEquivalent,
                    format!("LookupValue of \"{name}\" is not applied"),
                );
            }
            found.push((name, gjson));
        }
        if approximated {
            self.note(
                variables,
                place,
                Outcome::Approximated,
                "3CX walks lists on its own: each path is tried as written, then as a list of records (GJSON \"#\"), the first that exists wins",
            );
        }
        found
    }

    /// The popup URL: `(ContactUrlType, URLFormat or ContactFieldForUri)`.
    fn contact_url(
        &mut self,
        value: &str,
        variables: &[(String, String)],
        contact_id: Option<&str>,
        output: &XmlElement,
        place: &str,
    ) -> (String, String) {
        let pieces = expression::parse(value);
        if let [Piece::Variable(name)] = pieces.as_slice() {
            if let Some((_, path)) = variables.iter().find(|(n, _)| n == name) {
                self.note(
                    output,
                    place,
                    Outcome::Converted,
                    "Type=\"ContactUrl\" is read from the contact (ContactFieldForUri)",
                );
                return ("retrieve_from_contact".into(), path.clone());
            }
        }
        let mut format = String::new();
        let mut approximated = false;
        for piece in &pieces {
            match piece {
                Piece::Variable(name) if Some(name.as_str()) == contact_id => {
                    format.push_str("{{.ContactId}}")
                }
                Piece::Variable(name) if variables.iter().any(|(n, _)| n == name) => {
                    approximated = true
                }
                other => format.push_str(&self.render_pieces(
                    std::slice::from_ref(other),
                    Context::Plain,
                    Scene::Lookup,
                    output,
                    place,
                )),
            }
        }
        if approximated {
            self.note(output, place, Outcome::Approximated, "Type=\"ContactUrl\": only the contact's ID can go into the URL; other answer values were left out");
        } else {
            self.note(
                output,
                place,
                Outcome::Converted,
                "Type=\"ContactUrl\" becomes the URL format of the popup",
            );
        }
        ("specify_url_format".into(), format)
    }

    fn create_scenario(&mut self, scenario: &XmlElement, contact_type: &str) -> Option<XmlElement> {
        let place = " in scenario \"CreateContactRecord\"".to_string();
        let request = self.request(scenario, Scene::Create, &place)?;
        self.note(
            scenario,
            &place,
            Outcome::Converted,
            format!("becomes CreateNewContact, contact type \"{contact_type}\""),
        );
        let variables = self.variables(scenario, &place);
        let mut outputs = Vec::new();
        if let Some(outs) = scenario.child("Outputs") {
            for out in outs
                .elements()
                .filter(|e| e.name == "Output" && e.attribute("Type") == Some("ContactID"))
            {
                if let [Piece::Variable(name)] =
                    expression::parse(out.attribute("Value").unwrap_or("")).as_slice()
                {
                    if let Some((_, path)) = variables.iter().find(|(n, _)| n == name) {
                        outputs.push(output("ContactsId", path));
                    }
                }
            }
        }
        let mut element = scenario_element("CreateNewContact");
        push_requests(
            &mut element,
            vec![request_element(contact_type, &request, outputs)],
        );
        Some(element)
    }

    /// ReportCall, and the scenarios chained after it by `Next` when they send the same
    /// request (one per kind of call in many 3CX templates): their ids are returned as
    /// folded into it.
    fn journal_scenario(
        &mut self,
        scenario: &XmlElement,
        all: &[&XmlElement],
    ) -> (Option<XmlElement>, Vec<String>) {
        let place = " in scenario \"ReportCall\"".to_string();
        let Some(request) = self.request(scenario, Scene::Journal, &place) else {
            return (None, Vec::new());
        };
        self.note(
            scenario,
            &place,
            Outcome::Converted,
            "becomes CallJournal: one request per call, after the contact lookup",
        );
        let mut folded = Vec::new();
        let mut next = scenario
            .child("Outputs")
            .and_then(|o| o.attribute("Next"))
            .map(str::to_string);
        while let Some(id) = next
            .take()
            .filter(|id| !id.is_empty() && !folded.contains(id) && id != "ReportCall")
        {
            let Some(chained) = all.iter().find(|s| s.attribute("Id") == Some(id.as_str())) else {
                break;
            };
            let chained_place = format!(" in scenario \"{id}\"");
            let before = self.report.len();
            let same = self.request(chained, Scene::Journal, &chained_place);
            self.report.truncate(before);
            if same.as_ref() == Some(&request) {
                self.note(chained, &chained_place, Outcome::Approximated, "sends the same request as ReportCall for another kind of call (its SkipIf): folded into the one journal request");
                folded.push(id.clone());
                next = chained
                    .child("Outputs")
                    .and_then(|o| o.attribute("Next"))
                    .map(str::to_string);
            } else {
                self.note(chained, &chained_place, Outcome::NoEquivalent, "chained after ReportCall with a different request: not converted; add it in the editor as a Common request reached by Next");
                folded.push(id.clone());
            }
        }
        let mut element = scenario_element("CallJournal");
        let mut parameters = Vec::new();
        if let Some(subject) = self
            .parameters
            .iter()
            .position(|p| matches!(p.role, ParameterRole::Subject))
        {
            let default = self.parameters[subject].default.clone();
            let text = self.expression(&default, Context::Plain, Scene::Journal, scenario, &place);
            parameters.push(parameter("EnableSubject", "1"));
            parameters.push(parameter("Subject", &text));
        }
        let description = self.description(scenario, &place);
        if !description.is_empty() {
            parameters.push(parameter("EnableDescription", "1"));
            parameters.push(parameter("Description", &description));
        }
        parameters.push(parameter("NeedSyncContact", "1"));
        push_parameters(&mut element, parameters);
        push_requests(
            &mut element,
            vec![request_element("CallJournal", &request, Vec::new())],
        );
        (Some(element), folded)
    }

    /// The journal texts, one per kind of call, as one Description.
    fn description(&mut self, scenario: &XmlElement, place: &str) -> String {
        let text_of = |converter: &Converter, kind: CallKind| {
            converter
                .parameters
                .iter()
                .find(|p| matches!(p.role, ParameterRole::JournalText(k) if k == kind))
                .map(|p| p.default.clone())
        };
        let [inbound, missed, outbound, not_answered] = [
            CallKind::Inbound,
            CallKind::Missed,
            CallKind::Outbound,
            CallKind::NotAnswered,
        ]
        .map(|k| text_of(self, k));
        if [&inbound, &missed, &outbound, &not_answered]
            .iter()
            .all(|t| t.is_none())
        {
            return String::new();
        }
        let render = |text: Option<String>, converter: &mut Converter| {
            text.map(|t| converter.expression(&t, Context::Plain, Scene::Journal, scenario, place))
                .unwrap_or_default()
        };
        let inbound = render(inbound, self);
        let missed = render(missed, self);
        let outbound = render(outbound, self);
        let not_answered = render(not_answered, self);
        format!(
            "{{{{if eq .Call_Status \"Missed\"}}}}{{{{if eq .Communication_Type \"Inbound\"}}}}{missed}{{{{else}}}}{not_answered}{{{{end}}}}{{{{else if eq .Communication_Type \"Inbound\"}}}}{inbound}{{{{else}}}}{outbound}{{{{end}}}}"
        )
    }

    /// The AuthMethod scenario; headers every request sends become global headers.
    fn authentication(
        &mut self,
        root: &XmlElement,
        scenarios: &mut [XmlElement],
    ) -> (&'static str, XmlElement) {
        let mut parameters = Vec::new();
        let mut method = "none";
        if let Some(auth) = root.child("Authentication") {
            let kind = auth.attribute("Type").unwrap_or("No");
            match kind {
                "No" | "None" | "" => {
                    self.note(
                        auth,
                        "",
                        Outcome::Converted,
                        "Type=\"No\" becomes AuthMethod none",
                    );
                }
                "Basic" => {
                    let value = auth.child("Value").map(|v| v.text()).unwrap_or_default();
                    let credential =
                        self.expression(&value, Context::Plain, Scene::Authentication, auth, "");
                    method = "basic";
                    parameters.push(parameter("AuthMethod", "basic"));
                    parameters.push(parameter("CredentialType", "username_password"));
                    parameters.push(parameter("Base64EncodedCredential", &credential));
                    self.note(auth, "", Outcome::Converted, format!("Type=\"Basic\" becomes AuthMethod basic with the credential {credential}"));
                }
                other => {
                    self.note(
                            auth,
                            "",
                            Outcome::NoEquivalent,
                            format!("Type=\"{other}\" (3CX's scenario-driven sign-in) is not converted: AuthMethod is none; set up OAuth 2.0 or Bearer in the editor's Authentication section"),
                        );
                }
            }
        }
        if method == "none" {
            parameters.insert(0, parameter("AuthMethod", "none"));
        }
        let global = hoist_common_headers(scenarios);
        parameters.extend(global.iter().map(|(name, value)| header(name, value)));
        let mut fields: Vec<&Parameter> = self
            .parameters
            .iter()
            .filter(|p| p.used && matches!(p.role, ParameterRole::Field { .. }))
            .collect();
        // Secrets first: a template that cannot hold all its fields keeps its credentials.
        fields.sort_by_key(|p| {
            !matches!(
                p.role,
                ParameterRole::Field {
                    editor: "password",
                    ..
                }
            )
        });
        let mut dropped = Vec::new();
        for (index, field) in fields.iter().enumerate() {
            if index >= MAX_CUSTOM_FIELDS {
                dropped.push(field.name.clone());
                continue;
            }
            let ParameterRole::Field { editor, options } = &field.role else {
                continue;
            };
            let mut element = XmlElement::new("Parameter");
            for (attribute, value) in [
                ("Father", "CustomFieldList"),
                ("Name", field.variable.as_str()),
                ("Editor", editor),
                ("Title", field.title.as_str()),
                ("Value", options.as_str()),
            ] {
                if !value.is_empty() || attribute != "Value" {
                    element.set_attribute(attribute, value);
                }
            }
            parameters.push(element);
        }
        let notes: Vec<(Option<usize>, Outcome, String)> = self
            .parameters
            .iter()
            .map(|p| {
                let (outcome, message) = match (&p.role, p.used) {
                    (_, _) if dropped.contains(&p.name) => (Outcome::NoEquivalent, format!("\"{}\": the none and basic methods allow {MAX_CUSTOM_FIELDS} custom fields; this one was left out", p.name)),
                    (ParameterRole::Field { editor, .. }, true) => {
                        let renamed = if p.variable != p.name { format!(" (renamed: {} is a Patchbay variable)", p.name) } else { String::new() };
                        let default = if p.default.is_empty() || *editor == "list" { String::new() } else { format!("; custom fields have no default, the 3CX default was \"{}\"", p.default) };
                        let outcome = if default.is_empty() && renamed.is_empty() { Outcome::Converted } else { Outcome::Approximated };
                        (outcome, format!("\"{}\" becomes the custom field {} ({editor}){renamed}{default}", p.name, p.variable))
                    }
                    (ParameterRole::Field { .. }, false) => (Outcome::NoEquivalent, format!("\"{}\" is not used by anything converted; left out", p.name)),
                    (ParameterRole::Switch, _) => (Outcome::Approximated, format!("\"{}\" becomes the integration page's switch for this feature", p.name)),
                    (ParameterRole::JournalText(_), _) => (Outcome::Approximated, format!("\"{}\" becomes part of the call journal's Description (default), for its kind of call", p.name)),
                    (ParameterRole::Subject, _) => (Outcome::Converted, "\"Subject\" becomes the call journal's Subject (default)".to_string()),
                    (ParameterRole::Inline, true) => (Outcome::Approximated, format!("\"{}\" is written into the requests with its default \"{}\"; change it there in the editor", p.name, p.default)),
                    (ParameterRole::Inline, false) => (Outcome::NoEquivalent, format!("\"{}\" is not used by anything converted; left out", p.name)),
                };
                (p.offset, outcome, message)
            })
            .collect();
        for (offset, outcome, message) in notes {
            let line = offset.map(|o| self.lines.position(o).0).unwrap_or(1);
            self.report.push(ReportLine {
                outcome,
                element: "<Parameter>".into(),
                line,
                message,
            });
        }
        let mut element = XmlElement::new("Scenario");
        element.set_attribute("Id", "AuthMethod");
        element.set_attribute("Type", "AUTH");
        push_parameters(&mut element, parameters);
        (method, element)
    }
}

/// Resolves 3CX variable names in one scene.
struct SceneBindings<'c, 'a> {
    converter: &'c mut Converter<'a>,
    scene: Scene,
    notes: Vec<(Outcome, String)>,
}

impl SceneBindings<'_, '_> {
    fn approximated(&mut self, message: String) {
        self.notes.push((Outcome::Approximated, message));
    }
}

impl Bindings for SceneBindings<'_, '_> {
    fn bind(&mut self, name: &str) -> Binding {
        if let Some((_, carried)) = self.converter.chained.iter().find(|(n, _)| n == name) {
            return Binding::field(&carried.clone());
        }
        if let Some(index) = self.converter.parameter(name) {
            self.converter.parameters[index].used = true;
            let p = self.converter.parameters[index].clone();
            return match p.role {
                ParameterRole::Field { .. } => Binding::field(&p.variable),
                ParameterRole::Switch => Binding::Literal("True".into()),
                ParameterRole::Subject if self.scene == Scene::Journal => Binding::field("Subject"),
                ParameterRole::JournalText(_) if self.scene == Scene::Journal => {
                    Binding::field("Description")
                }
                // What expansion left (past the last pass or the budget) stays as
                // written, as after 3CX's last pass.
                ParameterRole::Inline => Binding::Literal(format!("[{name}]")),
                // Outside the journal a journal text or subject is its default's text.
                _ => Binding::Literal(p.default),
            };
        }
        let call = |field: &str| Binding::field(field);
        let time = |unix: &str, format: &str, utc: &str| {
            Binding::Pipeline(format!("TimeFormat .{unix} \"{format}\" \"{utc}\""))
        };
        let millis = |unix: &str| Binding::Pipeline(format!("ToMillis .{unix}"));
        let inbound = "eq .Communication_Type \"Inbound\"";
        let bound = match (self.scene, name) {
            (Scene::Lookup | Scene::Search | Scene::Authentication, "Number") => {
                Some(self.converter.number.clone())
            }
            (Scene::Search, "SearchText") => Some(call("SearchValue")),
            (Scene::Create, "Number") => Some(call("BusinessNumber")),
            (Scene::Create, "Name") => Some(call("DisplayName")),
            (Scene::Create, "FirstName" | "LastName") => Some(call(name)),
            (Scene::Journal, "Number") => Some(call("ContactNumber")),
            (Scene::Journal, "CallDirection") => Some(call("Communication_Type")),
            (Scene::Journal, "Duration" | "DurationTimeSpan") => Some(call("Talk_Duration")),
            (Scene::Journal, "Agent") => Some(call("ExtensionNumber")),
            (Scene::Journal, "AgentFirstName") => Some(call("ExtensionFirstName")),
            (Scene::Journal, "AgentLastName") => Some(call("ExtensionLastName")),
            (Scene::Journal, "AgentEmail") => Some(call("ExtensionEmail")),
            (Scene::Journal, "EntityId") => Some(call("ContactId")),
            (Scene::Journal, "EntityType") => Some(call("ContactSyncType")),
            (Scene::Journal, "RecordingUrl") => Some(call("RecordPath")),
            (Scene::Journal, "CallStartTimeUTCMillis" | "CallStartTimeLocalMillis") => {
                Some(millis("StartTimeUnix"))
            }
            (Scene::Journal, "CallEndTimeUTCMillis" | "CallEndTimeLocalMillis") => {
                Some(millis("EndTimeUnix"))
            }
            (Scene::Journal, "CallStartTimeUTC") => {
                Some(time("StartTimeUnix", "yyyy-MM-ddTHH:mm:ssz", "1"))
            }
            (Scene::Journal, "CallEndTimeUTC") => {
                Some(time("EndTimeUnix", "yyyy-MM-ddTHH:mm:ssz", "1"))
            }
            (Scene::Journal, "CallType") => Some(Binding::choice(
                "eq .Call_Status \"Missed\"",
                Binding::choice(
                    inbound,
                    Binding::Literal("Missed".into()),
                    Binding::Literal("Notanswered".into()),
                ),
                call("Communication_Type"),
            )),
            _ => None,
        };
        if let Some(binding) = bound {
            return binding;
        }
        let approximate = match (self.scene, name) {
            (Scene::Journal, "Name") => Some((
                Binding::choice(inbound, call("CallerName"), call("CalleeName")),
                "[Name] becomes the caller's name on inbound calls and the callee's on outbound ones",
            )),
            (Scene::Journal, "DateTime") => Some((time("StartTimeUnix", "yyyy-MM-dd HH:mm:ss", "0"), "[DateTime] becomes the start time as yyyy-MM-dd HH:mm:ss in the server's time zone")),
            (Scene::Journal, "CallStartTimeLocal") => Some((time("StartTimeUnix", "yyyy-MM-ddTHH:mm:ssz", "0"), "[CallStartTimeLocal] becomes the start time in the server's time zone (ISO 8601)")),
            (Scene::Journal, "CallEndTimeLocal") => Some((time("EndTimeUnix", "yyyy-MM-ddTHH:mm:ssz", "0"), "[CallEndTimeLocal] becomes the end time in the server's time zone (ISO 8601)")),
            (Scene::Journal, "CallEstablishedTimeUTC" | "CallEstablishedTimeLocal") => Some((
                time("StartTimeUnix", "yyyy-MM-ddTHH:mm:ssz", if name.ends_with("UTC") { "1" } else { "0" }),
                "the answer time is not a vendor variable: the call's start time is used",
            )),
            (Scene::Journal, "CallEstablishedTimeUTCMillis" | "CallEstablishedTimeLocalMillis") => {
                Some((millis("StartTimeUnix"), "the answer time is not a vendor variable: the call's start time is used"))
            }
            _ => None,
        };
        if let Some((binding, why)) = approximate {
            self.approximated(why.to_string());
            return binding;
        }
        if name == "AccessToken" {
            self.approximated("[AccessToken] becomes the token Patchbay keeps once OAuth 2.0 or Bearer is set up in the editor's Authentication section".into());
            return Binding::field("AccessToken");
        }
        if let Some((_, key)) = self.converter.token_answer.iter().find(|(n, _)| n == name) {
            let key = key.clone();
            self.approximated(format!("[{name}] is read from the token answer's {key} (TokenResponse_{key}) once OAuth 2.0 is set up in the editor"));
            return Binding::field(&format!("TokenResponse_{key}"));
        }
        self.notes.push((Outcome::NoEquivalent, format!("[{name}] is not a variable here; it is left as {{{{.{name}}}}}, which the validator reports")));
        Binding::field(name)
    }

    fn unsupported(&mut self, what: String) {
        self.notes.push((Outcome::NoEquivalent, what));
    }
}

/// The texts of a request's `<Value>` elements (headers, values, nested values).
fn value_texts(element: &XmlElement) -> Vec<String> {
    element
        .elements()
        .flat_map(|child| match child.name.as_str() {
            "Value" => vec![child.text()],
            _ => value_texts(child),
        })
        .collect()
}

/// The sign-in scenario's variables read from the top level of its answer (`InstanceUrl`
/// from `instance_url`), when the template signs in through a scenario.
fn token_answer(root: &XmlElement) -> Vec<(String, String)> {
    let Some(auth) = root
        .child("Authentication")
        .filter(|a| a.attribute("Type") == Some("Scenario"))
    else {
        return Vec::new();
    };
    let id = auth.child("Value").map(|v| v.text()).unwrap_or_default();
    let id = if id.trim().is_empty() {
        "Authentication".to_string()
    } else {
        id.trim().to_string()
    };
    root.child("Scenarios")
        .into_iter()
        .flat_map(|s| s.elements())
        .filter(|s| s.name == "Scenario" && s.attribute("Id") == Some(id.as_str()))
        .filter_map(|s| s.child("Variables"))
        .flat_map(|v| v.elements())
        .filter_map(|v| {
            let name = v.attribute("Name")?;
            let path = v.attribute("Path")?.trim();
            let top_level =
                !path.is_empty() && path.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            (top_level && name != "AccessToken").then(|| (name.to_string(), path.to_string()))
        })
        .collect()
}

/// 3CX's own variables that hold a value of the call or the contact (not a URL).
fn is_call_value(name: &str) -> bool {
    matches!(
        name,
        "Number"
            | "SearchText"
            | "Name"
            | "Email"
            | "FirstName"
            | "LastName"
            | "EntityId"
            | "EntityType"
            | "Agent"
            | "AgentFirstName"
            | "AgentLastName"
            | "AgentEmail"
            | "CallType"
            | "CallDirection"
            | "Duration"
            | "DurationTimeSpan"
            | "DateTime"
            | "QueueExtension"
    ) || name.starts_with("Call")
}

/// The vendor's contact field for a 3CX output type.
fn vendor_field(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "ContactID" => "ContactsId",
        "FirstName" => "FirstName",
        "LastName" => "LastName",
        "CompanyName" => "Company",
        "Email" => "Email",
        "PhoneBusiness" => "BusinessNumber",
        "PhoneBusiness2" => "BusinessNumber2",
        "PhoneMobile" => "MobileNumber",
        "PhoneMobile2" => "MobileNumber2",
        "PhoneHome" => "HomeNumber",
        "PhoneHome2" => "HomeNumber2",
        "PhoneOther" => "OtherNumber",
        "FaxBusiness" => "BusinessFaxNumber",
        "FaxHome" => "HomeFaxNumber",
        "Street" | "Address" => "Street",
        "City" => "City",
        "State" => "State",
        "Zip" | "ZipCode" | "PostalCode" => "ZipCode",
        "Country" => "Country",
        "Notes" | "Remark" => "Remark",
        _ => return None,
    })
}

fn is_phone_field(field: &str) -> bool {
    field.ends_with("Number") || field.ends_with("Number2")
}

/// Names Patchbay sets itself: a custom field of that name would be shadowed.
const RESERVED_VARIABLES: &[&str] = &[
    "Phone",
    "Subject",
    "Description",
    "ContactId",
    "FirstName",
    "LastName",
    "BusinessNumber",
    "DisplayName",
    "SearchValue",
    "AccessToken",
    "RefreshToken",
    "redirect_uri",
    "Time",
    "RecordPath",
];

/// `name` with every character a Go template field name cannot hold as `_`.
fn identifier(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn field_variable(name: &str) -> String {
    let cleaned = identifier(name);
    let cleaned = if cleaned.starts_with(|c: char| c.is_ascii_digit()) {
        format!("p_{cleaned}")
    } else {
        cleaned
    };
    if RESERVED_VARIABLES.contains(&cleaned.as_str()) {
        format!("{cleaned}_field")
    } else {
        cleaned
    }
}

/// A Key from the template's name: `Delta CRM` gives `delta-crm`.
fn key_of(name: &str) -> String {
    let mut key = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.ends_with('-') && !key.is_empty() {
            key.push('-');
        }
    }
    let key: String = key.trim_end_matches('-').chars().take(56).collect();
    if key.is_empty() {
        "imported-3cx".into()
    } else if key.ends_with("-3cx") {
        key
    } else {
        format!("{key}-3cx")
    }
}

/// A 3CX path as GJSON: tried as written, then with one list at each level in turn (3CX
/// walks lists on its own); whether list forms were added.
fn gjson_paths(path: &str) -> (String, bool) {
    let steps: Vec<String> = path
        .replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace(',', "\\,"))
        .collect();
    let written = steps.join(".");
    if steps.iter().any(|s| s.chars().all(|c| c.is_ascii_digit())) {
        return (written, false);
    }
    let mut candidates = vec![written.clone()];
    for split in 1..steps.len() {
        candidates.push(format!(
            "{}.#.{}",
            steps[..split].join("."),
            steps[split..].join(".")
        ));
    }
    candidates.push(format!("#.{written}"));
    (candidates.join(","), true)
}

fn parameter(name: &str, value: &str) -> XmlElement {
    let mut element = XmlElement::new("Parameter");
    element.set_attribute("Name", name);
    element.set_attribute("Value", value);
    element
}

/// A header in the vendor's form: global in AuthMethod, or a request's own.
fn header(name: &str, value: &str) -> XmlElement {
    let mut header = parameter(name, value);
    header
        .attributes
        .insert(0, ("Father".into(), "PopulateTemplateString".into()));
    header
        .attributes
        .insert(1, ("Type".into(), "Header".into()));
    header
}

fn output(name: &str, path: &str) -> XmlElement {
    let mut element = XmlElement::new("Output");
    element.set_attribute("Name", name);
    element.set_attribute("Path", path);
    element
}

fn scenario_element(id: &str) -> XmlElement {
    let mut element = XmlElement::new("Scenario");
    element.set_attribute("Id", id);
    element.set_attribute("Type", "REST");
    element
}

fn push_parameters(scenario: &mut XmlElement, parameters: Vec<XmlElement>) {
    if parameters.is_empty() {
        return;
    }
    let mut list = XmlElement::new("Parameters");
    list.children = parameters.into_iter().map(XmlNode::Element).collect();
    scenario.children.push(XmlNode::Element(list));
}

fn push_requests(scenario: &mut XmlElement, requests: Vec<XmlElement>) {
    let mut list = XmlElement::new("Requests");
    list.children = requests.into_iter().map(XmlNode::Element).collect();
    scenario.children.push(XmlNode::Element(list));
}

fn request_element(name: &str, request: &Request, outputs: Vec<XmlElement>) -> XmlElement {
    let mut element = XmlElement::new("Request");
    element.set_attribute("Name", name);
    element.set_attribute("Method", &request.method);
    element.set_attribute("ResponseType", "application/json");
    if !request.encoding.is_empty() {
        element.set_attribute("RequestEncoding", request.encoding);
    }
    element.set_attribute("URLFormat", &request.url);
    let mut parameters = Vec::new();
    if let Some(body) = &request.body {
        let mut data = parameter("Data", body);
        data.attributes.insert(1, ("Type".into(), "Body".into()));
        parameters.push(data);
    }
    parameters.extend(
        request
            .headers
            .iter()
            .map(|(name, value)| header(name, value)),
    );
    push_parameters(&mut element, parameters);
    if !outputs.is_empty() {
        let mut list = XmlElement::new("Outputs");
        list.children = outputs.into_iter().map(XmlNode::Element).collect();
        element.children.push(XmlNode::Element(list));
    }
    element
}

/// Removes the headers every request sends alike and returns them, for AuthMethod's global
/// headers (an API key is usually one).
fn hoist_common_headers(scenarios: &mut [XmlElement]) -> Vec<(String, String)> {
    fn request_headers(request: &XmlElement) -> Vec<(String, String)> {
        request
            .child("Parameters")
            .map(|p| {
                p.elements()
                    .filter(|e| e.attribute("Type") == Some("Header"))
                    .map(|e| {
                        (
                            e.attribute("Name").unwrap_or("").to_string(),
                            e.attribute("Value").unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
    fn requests_mut(scenarios: &mut [XmlElement]) -> Vec<&mut XmlElement> {
        let mut out = Vec::new();
        for scenario in scenarios {
            for node in &mut scenario.children {
                if let XmlNode::Element(list) = node {
                    if list.name == "Requests" {
                        for request in &mut list.children {
                            if let XmlNode::Element(request) = request {
                                out.push(request);
                            }
                        }
                    }
                }
            }
        }
        out
    }
    let requests = requests_mut(scenarios);
    let Some(first) = requests.first() else {
        return Vec::new();
    };
    let common: Vec<(String, String)> = request_headers(first)
        .into_iter()
        .filter(|h| h.0 != "Content-Type")
        .filter(|h| requests.iter().all(|r| request_headers(r).contains(h)))
        .collect();
    for request in requests {
        for node in &mut request.children {
            if let XmlNode::Element(list) = node {
                if list.name == "Parameters" {
                    list.children.retain(|p| match p {
                        XmlNode::Element(e) if e.attribute("Type") == Some("Header") => {
                            let pair = (
                                e.attribute("Name").unwrap_or("").to_string(),
                                e.attribute("Value").unwrap_or("").to_string(),
                            );
                            !common.contains(&pair)
                        }
                        _ => true,
                    });
                }
            }
        }
        request.children.retain(|node| !matches!(node, XmlNode::Element(e) if e.name == "Parameters" && e.children.is_empty()));
    }
    common
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::validate::{validate_text, Severity};

    const MINIMAL: &str = r#"<?xml version="1.0"?>
<Crm Country="US" Name="Tiny CRM" Version="3">
  <Number Prefix="AsIs" MaxLength="" />
  <Connection MaxConcurrentRequests="2" />
  <Parameters>
    <Parameter Name="Domain" Type="String" Title="Domain:" />
    <Parameter Name="ApiKey" Type="Password" Title="API key:" />
  </Parameters>
  <Authentication Type="No" />
  <Scenarios>
    <Scenario Id="" Type="REST">
      <Request Url="https://[Domain]/api/contacts?phone=[Number]" RequestType="Get" ResponseType="Json">
        <Headers><Value Key="X-Api-Key">[ApiKey]</Value></Headers>
      </Request>
      <Rules><Rule Type="Any">items.id</Rule></Rules>
      <Variables>
        <Variable Name="Id" Path="items.id" />
        <Variable Name="First" Path="items.first_name" />
        <Variable Name="Phone" Path="items.phone" />
      </Variables>
      <Outputs AllowEmpty="false">
        <Output Type="ContactID" Value="[Id]" />
        <Output Type="FirstName" Value="[First]" />
        <Output Type="PhoneBusiness" Value="[Phone]" />
        <Output Type="ContactUrl" Value="https://[Domain]/contacts/[Id]" />
      </Outputs>
    </Scenario>
    <Scenario Id="LookupByEmail" Type="REST"><Request Url="https://x" /></Scenario>
  </Scenarios>
</Crm>"#;

    #[test]
    fn a_lookup_converts_into_a_template_that_validates() {
        let conversion = convert(MINIMAL).expect("converts");
        let (_, report) = validate_text(&conversion.template);
        let errors: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{}", conversion.template);
        let t = &conversion.template;
        assert!(
            t.contains(r#"URLFormat="https://{{.Domain}}/api/contacts?phone={{urlquery .Phone}}""#),
            "{t}"
        );
        assert!(
            t.contains(r#"Path="items.id,items.#.id,#.items.id""#),
            "{t}"
        );
        assert!(
            t.contains(r#"Name="URLFormat" Value="https://{{.Domain}}/contacts/{{.ContactId}}""#),
            "{t}"
        );
        assert!(t.contains(r#"Father="PopulateTemplateString" Type="Header" Name="X-Api-Key" Value="{{.ApiKey}}""#), "{t}");
        assert!(t.contains(r#"Key="tiny-crm-3cx""#), "{t}");
        let email = conversion
            .report
            .iter()
            .find(|l| l.element.contains("LookupByEmail"))
            .expect("reported");
        assert_eq!((email.outcome, email.line), (Outcome::NoEquivalent, 28));
    }

    #[test]
    fn what_is_not_a_3cx_template_is_refused_with_where() {
        assert_eq!(
            convert("<Information/>"),
            Err(ImportError::NotThreeCx("Information".into()))
        );
        assert!(matches!(
            convert("<Crm><Scenarios></Crm>"),
            Err(ImportError::Xml(_))
        ));
    }

    /// A file whose contact creation posts `values` to `url`, with a parameter `Echo` (under
    /// the feature's switch, so expanded into the requests) whose default is `echo`.
    fn echo_file(echo: &str, url: &str, values: &str) -> String {
        format!(
            r#"<Crm Name="Echo"><Parameters>
            <Parameter Name="CreateContactEnabled" Type="Boolean" Default="True"/>
            <Parameter Name="Echo" Type="String" Parent="CreateContactEnabled" Default="{echo}"/>
          </Parameters><Scenarios>
            <Scenario Id="CreateContactRecord"><Request Url="{url}" RequestType="Post" RequestEncoding="Json">
              <PostValues>{values}</PostValues></Request></Scenario>
          </Scenarios></Crm>"#
        )
    }

    const ONE_ECHO_VALUE: &str = r#"<Value Key="name">[Echo]</Value>"#;

    #[test]
    fn a_default_that_names_itself_is_expanded_a_bounded_number_of_times() {
        let source = echo_file("a[Echo]", "https://crm.example/c", ONE_ECHO_VALUE);
        let conversion = convert(&source).expect("converts");
        // As after 3CX's last pass, what is left stays as written.
        let expanded = format!("{}[Echo]", "a".repeat(MAX_PASSES));
        assert!(
            conversion
                .template
                .contains(&format!("&quot;name&quot;: &quot;{expanded}&quot;")),
            "{}",
            conversion.template
        );
    }

    #[test]
    fn defaults_that_multiply_stop_at_the_expansion_budget() {
        let hundredfold = "[Echo]".repeat(100);
        let source = echo_file(&hundredfold, "https://crm.example/c", ONE_ECHO_VALUE);
        let conversion = convert(&source).expect("converts");
        // 100 references per pass would reach 100^4 copies; the budget keeps the body to
        // about MAX_EXPANDED_BYTES.
        assert!(
            conversion.template.len() < 3 * MAX_EXPANDED_BYTES,
            "{} bytes",
            conversion.template.len()
        );
    }

    #[test]
    fn the_expansion_budget_holds_for_the_whole_file_not_each_value() {
        let hundredfold = "[Echo]".repeat(100);
        let source = echo_file(
            &hundredfold,
            "https://crm.example/c/[Echo][Echo][Echo]",
            &ONE_ECHO_VALUE.repeat(200),
        );
        let conversion = convert(&source).expect("converts");
        // Each value and each URL piece is rendered on its own; with a budget per value the
        // body would hold 200 times what one value may take in.
        assert!(
            conversion.template.len() < 3 * MAX_EXPANDED_BYTES,
            "{} bytes",
            conversion.template.len()
        );
    }

    #[test]
    fn more_fields_than_the_method_allows_keep_the_secrets_and_report_the_rest() {
        let fields: String = (1..=7)
            .map(|i| {
                let kind = if i == 7 { "Password" } else { "String" };
                format!(r#"<Parameter Name="F{i}" Type="{kind}"/>"#)
            })
            .collect();
        let url: String = (1..=7).map(|i| format!("&amp;f{i}=[F{i}]")).collect();
        let source = format!(
            r#"<Crm Name="Many"><Parameters>{fields}</Parameters><Scenarios>
            <Scenario Id=""><Request Url="https://crm.example/find?n=[Number]{url}"/></Scenario>
            </Scenarios></Crm>"#
        );
        let conversion = convert(&source).expect("converts");
        let t = &conversion.template;
        assert!(t.contains(r#"Name="F7" Editor="password""#), "{t}");
        assert_eq!(
            t.matches(r#"Father="CustomFieldList""#).count(),
            MAX_CUSTOM_FIELDS,
            "{t}"
        );
        let left_out: Vec<_> = conversion
            .report
            .iter()
            .filter(|l| l.outcome == Outcome::NoEquivalent && l.message.contains("left out"))
            .collect();
        assert_eq!(left_out.len(), 2, "{left_out:?}");
    }

    #[test]
    fn paths_try_lists_unless_they_index_one() {
        assert_eq!(gjson_paths("id").0, "id,#.id");
        assert_eq!(gjson_paths("records[0].Id"), ("records.0.Id".into(), false));
        assert_eq!(key_of("  Ünïcode & Co. "), "n-code-co-3cx");
        assert_eq!(field_variable("Subject"), "Subject_field");
    }
}
