//! The template validator (docs/validator.md). Upload, save and the editor
//! all run it. Errors stop a save; warnings are stored and shown. Findings are data: a
//! stable code, a message, and where the problem sits.
//!
//! Checks that need stored state (a duplicate Key, the 11th template of a provider) belong
//! to storage, which reports them with the same [`Finding`] type.

use serde::{Deserialize, Serialize};

use super::model::{
    is_phone_field, AuthType, Provider, RequestView, ScenarioView, TemplateView, CONTACT_FIELDS,
    KNOWN_SCENARIOS,
};
use super::xml::{self, attribute_value_offset, LineIndex, XmlDocument};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Where a finding sits. Every part is optional: a root attribute has no scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub scenario: Option<String>,
    pub request: Option<String>,
    pub parameter: Option<String>,
    pub attribute: Option<String>,
    /// 1-based, when the template came from text.
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Location {
    fn root(attribute: &str) -> Self {
        Location {
            attribute: Some(attribute.to_string()),
            ..Default::default()
        }
    }

    /// "scenario CallJournal, request CallJournal, attribute URLFormat"
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            self.scenario.as_ref().map(|s| format!("scenario {s}")),
            self.request.as_ref().map(|r| format!("request {r}")),
            self.parameter.as_ref().map(|p| format!("parameter {p}")),
            self.attribute.as_ref().map(|a| format!("attribute {a}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        parts.join(", ")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable, machine-readable: `xml.malformed`, `info.key`, `template.syntax`, …
    pub code: String,
    pub message: String,
    pub location: Location,
    /// Where the code is explained: the server's `/docs/validator#<code>` (docs/validator.md).
    #[serde(default)]
    pub help: String,
}

impl Finding {
    /// A finding with its help link.
    pub fn new(
        severity: Severity,
        code: &str,
        message: impl Into<String>,
        location: Location,
    ) -> Finding {
        Finding {
            severity,
            code: code.to_string(),
            message: message.into(),
            location,
            help: format!("{FINDINGS_HELP_PAGE}#{code}"),
        }
    }
}

/// The page that explains every finding code, served by the server at `/docs/validator`.
pub const FINDINGS_HELP_PAGE: &str = "/docs/validator";

/// Every code the validator reports; docs/validator.md explains each (a test holds both to
/// this list).
pub const FINDING_CODES: [&str; 26] = [
    "xml.malformed",
    "info.root",
    "scenarios.missing",
    "scenario.unknown",
    "follow_up.trigger",
    "info.provider",
    "info.name",
    "info.key",
    "info.remark",
    "info.auth_type",
    "info.max_concurrent_request",
    "info.switch",
    "info.ticket_on_crm",
    "auth.missing",
    "auth.mismatch",
    "limits.custom_fields",
    "auth.custom_field_editor",
    "auth.secret_in_browser_url",
    "limits.headers",
    "limits.follow_ups",
    "template.syntax",
    "template.single_quotes",
    "template.unknown_variable",
    "contact.unmapped",
    "contact.no_phone",
    "json.unescaped",
];

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    fn push(
        &mut self,
        severity: Severity,
        code: &str,
        message: impl Into<String>,
        location: Location,
    ) {
        self.findings
            .push(Finding::new(severity, code, message, location));
    }

    fn error(&mut self, code: &str, message: impl Into<String>, location: Location) {
        self.push(Severity::Error, code, message, location);
    }

    fn warning(&mut self, code: &str, message: impl Into<String>, location: Location) {
        self.push(Severity::Warning, code, message, location);
    }
}

/// Parses and validates template text. The document is returned when the XML parsed.
pub fn validate_text(source: &str) -> (Option<XmlDocument>, Report) {
    match xml::parse(source) {
        Ok(document) => {
            let view = TemplateView::read(&document);
            let mut report = validate_view(&document, &view);
            let lines = LineIndex::new(source);
            for finding in &mut report.findings {
                let element = finding_offset(&document, &view, &finding.location);
                let attribute = finding.location.attribute.as_deref();
                let offset = match (element, attribute) {
                    (Some(at), Some(name)) => Some(attribute_value_offset(source, at, name)),
                    (at, _) => at,
                };
                if let Some(offset) = offset {
                    let (line, column) = lines.position(offset);
                    finding.location.line = Some(line);
                    finding.location.column = Some(column);
                }
            }
            (Some(document), report)
        }
        Err(error) => {
            let mut report = Report::default();
            report.error(
                "xml.malformed",
                error.reason.clone(),
                Location {
                    line: Some(error.line),
                    column: Some(error.column),
                    ..Default::default()
                },
            );
            (None, report)
        }
    }
}

/// The offset of the innermost element a location names.
fn finding_offset(
    document: &XmlDocument,
    view: &TemplateView,
    location: &Location,
) -> Option<usize> {
    let root = document.root.source_offset;
    let Some(scenario_id) = &location.scenario else {
        return root;
    };
    let scenario = view.scenario(scenario_id)?;
    let request = location
        .request
        .as_ref()
        .and_then(|name| scenario.request(name));
    let parameters = match request {
        Some(request) => &request.parameters,
        None => &scenario.parameters,
    };
    let parameter = location
        .parameter
        .as_ref()
        .and_then(|name| parameters.iter().find(|p| &p.name == name));
    parameter
        .and_then(|p| p.offset)
        .or(request.and_then(|r| r.offset))
        .or(scenario.offset)
        .or(root)
}

const MAX_NAME_CHARS: usize = 64;
const MAX_REMARK_CHARS: usize = 255;
const MAX_HEADERS: usize = 20;
const MAX_FOLLOW_UPS: usize = 10;

pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub fn validate_document(document: &XmlDocument) -> Report {
    validate_view(document, &TemplateView::read(document))
}

/// The checks, over the typed view the caller has already read.
fn validate_view(document: &XmlDocument, view: &TemplateView) -> Report {
    let mut report = Report::default();
    if document.root.name != "Information" {
        report.error(
            "info.root",
            if document.root.name == "Crm" {
                "the root element must be <Information>, not <Crm>: this is a 3CX CRM template; convert it with \"Import a 3CX CRM template\" on a new CRM template, or `patchbay template from-3cx`".to_string()
            } else {
                format!(
                    "the root element must be <Information>, not <{}>",
                    document.root.name
                )
            },
            Location::default(),
        );
        return report;
    }
    check_info(view, &mut report);
    if document.root.child("Scenarios").is_none() {
        report.error(
            "scenarios.missing",
            "the template has no <Scenarios> element",
            Location::default(),
        );
    }
    check_auth(view, &mut report);
    check_limits(view, &mut report);
    check_template_strings(view, &mut report);
    check_contact_mapping(view, &mut report);
    check_json_bodies(view, &mut report);
    check_variables(view, &mut report);
    check_follow_up_triggers(view, &mut report);
    for scenario in &view.scenarios {
        if !KNOWN_SCENARIOS.contains(&scenario.id.as_str()) {
            report.warning(
                "scenario.unknown",
                format!(
                    "scenario Id \"{}\" is not one Patchbay runs; it is kept as written",
                    scenario.id
                ),
                scenario_location(scenario),
            );
        }
    }
    report
}

/// A follow-up whose Trigger nothing sends never runs.
fn check_follow_up_triggers(view: &TemplateView, report: &mut Report) {
    let Some(follow_up) = view.scenario("FollowUp") else {
        return;
    };
    for request in &follow_up.requests {
        let trigger = request.trigger.trim();
        if !crate::template::model::FOLLOW_UP_TRIGGERS.contains(&trigger) {
            report.warning(
                "follow_up.trigger",
                format!(
                    "follow-up {} has Trigger {trigger:?}, which never runs; use one of {}",
                    request.name,
                    crate::template::model::FOLLOW_UP_TRIGGERS.join(", ")
                ),
                Location {
                    scenario: Some("FollowUp".into()),
                    request: Some(request.name.clone()),
                    attribute: Some("Trigger".into()),
                    ..Default::default()
                },
            );
        }
    }
}

fn scenario_location(scenario: &ScenarioView) -> Location {
    Location {
        scenario: Some(scenario.id.clone()),
        ..Default::default()
    }
}

fn check_info(view: &TemplateView, report: &mut Report) {
    let info = &view.info;
    let provider = Provider::parse(&info.provider);
    if provider.is_none() {
        report.error(
            "info.provider",
            format!(
                "Provider must be \"crm\" or \"helpdesk\", not \"{}\"",
                info.provider
            ),
            Location::root("Provider"),
        );
    }
    let name_chars = info.name.trim().chars().count();
    if name_chars == 0 {
        report.error("info.name", "Name is required", Location::root("Name"));
    } else if info.name.chars().count() > MAX_NAME_CHARS {
        report.error(
            "info.name",
            format!("Name has more than {MAX_NAME_CHARS} characters"),
            Location::root("Name"),
        );
    }
    if info.key.is_empty() {
        report.error("info.key", "Key is required", Location::root("Key"));
    } else if !is_valid_key(&info.key) {
        report.error(
            "info.key",
            "Key may only use letters, digits, '_' and '-', at most 64 characters (it appears in the OAuth redirect URI)",
            Location::root("Key"),
        );
    }
    if info.remark.chars().count() > MAX_REMARK_CHARS {
        report.error(
            "info.remark",
            format!("Remark has more than {MAX_REMARK_CHARS} characters"),
            Location::root("Remark"),
        );
    }
    if AuthType::parse(&info.auth_type).is_none() {
        report.error(
            "info.auth_type",
            format!(
                "AuthType must be none, basic, oauth2 or bearer, not \"{}\"",
                info.auth_type
            ),
            Location::root("AuthType"),
        );
    }
    match info.max_concurrent_request.parse::<u32>() {
        Ok(1..=100) => {}
        _ => report.error(
            "info.max_concurrent_request",
            format!(
                "MaxConcurrentRequest must be a whole number from 1 to 100, not \"{}\"",
                info.max_concurrent_request
            ),
            Location::root("MaxConcurrentRequest"),
        ),
    }
    for (attribute, value) in [
        ("UserAssociation", &info.user_association),
        ("CallJournal", &info.call_journal),
        ("CreateNewContact", &info.create_new_contact),
        ("CreateNewTicket", &info.create_new_ticket),
    ] {
        if !matches!(value.as_str(), "" | "0" | "1") {
            report.error(
                "info.switch",
                format!("{attribute} must be 0 or 1, not \"{value}\""),
                Location::root(attribute),
            );
        }
    }
    if provider == Some(Provider::Crm) && info.create_new_ticket == "1" {
        report.error(
            "info.ticket_on_crm",
            "CreateNewTicket is only for helpdesk templates",
            Location::root("CreateNewTicket"),
        );
    }
}

fn check_auth(view: &TemplateView, report: &mut Report) {
    let Some(auth) = view.scenario("AuthMethod") else {
        report.error(
            "auth.missing",
            "the template has no AuthMethod scenario",
            Location::default(),
        );
        return;
    };
    let method = auth.setting("AuthMethod").unwrap_or_default();
    if method != view.info.auth_type && AuthType::parse(&view.info.auth_type).is_some() {
        report.error(
            "auth.mismatch",
            format!(
                "AuthType is \"{}\" but the AuthMethod scenario says \"{method}\"; they must agree",
                view.info.auth_type
            ),
            Location {
                scenario: Some("AuthMethod".into()),
                parameter: Some("AuthMethod".into()),
                ..Default::default()
            },
        );
    }
    let custom_fields = auth.group("CustomFieldList").count();
    let limit = match AuthType::parse(method) {
        Some(AuthType::None | AuthType::Basic) => Some(5),
        Some(AuthType::Bearer) => Some(10),
        _ => None,
    };
    if let Some(limit) = limit.filter(|limit| custom_fields > *limit) {
        report.error(
            "limits.custom_fields",
            format!("{custom_fields} custom fields; the {method} method allows at most {limit}"),
            scenario_location(auth),
        );
    }
    check_browser_url_secrets(auth, report);
    for field in auth.group("CustomFieldList") {
        if !matches!(field.editor.as_str(), "string" | "password" | "list") {
            report.error(
                "auth.custom_field_editor",
                format!(
                    "custom field {} has Editor \"{}\"; use string, password or list",
                    field.name, field.editor
                ),
                Location {
                    scenario: Some("AuthMethod".into()),
                    parameter: Some(field.name.clone()),
                    attribute: Some("Editor".into()),
                    ..Default::default()
                },
            );
        }
    }
}

/// AuthEndPoint and AdditionalQueryString make the URL a browser is sent to: a secret
/// there would reach the browser, its history and the provider's logs, so Patchbay renders
/// them without secrets (SECURITY.md "User text is data"). Such templates exist and still
/// upload; the author is told the secret renders empty.
fn check_browser_url_secrets(auth: &ScenarioView, report: &mut Report) {
    let mut secrets: Vec<&str> = auth
        .group("CustomFieldList")
        .filter(|p| p.editor == "password")
        .map(|p| p.name.as_str())
        .collect();
    secrets.extend(["client_secret", "AccessToken", "RefreshToken"]);
    for parameter in ["AuthEndPoint", "AdditionalQueryString"] {
        let text = auth.setting(parameter).unwrap_or_default();
        for name in referenced_variables(text) {
            if secrets.contains(&name.as_str()) {
                report.warning(
                    "auth.secret_in_browser_url",
                    format!(
                        "{parameter} uses .{name}, a secret; the authorization URL goes to the browser, so it renders without secrets and .{name} is empty there (the token request sends the client secret)"
                    ),
                    Location {
                        scenario: Some("AuthMethod".into()),
                        parameter: Some(parameter.into()),
                        attribute: Some("Value".into()),
                        ..Default::default()
                    },
                );
            }
        }
    }
}

fn check_limits(view: &TemplateView, report: &mut Report) {
    if let Some(auth) = view.scenario("AuthMethod") {
        let headers = auth
            .group("PopulateTemplateString")
            .filter(|p| p.kind == "Header")
            .count();
        if headers > MAX_HEADERS {
            report.error(
                "limits.headers",
                format!("{headers} global headers; at most {MAX_HEADERS} are allowed"),
                scenario_location(auth),
            );
        }
    }
    if let Some(follow_up) = view.scenario("FollowUp") {
        if follow_up.requests.len() > MAX_FOLLOW_UPS {
            report.error(
                "limits.follow_ups",
                format!(
                    "{} follow-up requests; at most {MAX_FOLLOW_UPS} are allowed",
                    follow_up.requests.len()
                ),
                scenario_location(follow_up),
            );
        }
    }
}

/// Every string the engine renders, with where it sits.
fn template_strings(view: &TemplateView) -> Vec<(Location, &str)> {
    view.scenarios.iter().flat_map(scenario_strings).collect()
}

/// Every string of one scenario the engine renders, with where it sits.
fn scenario_strings(scenario: &ScenarioView) -> Vec<(Location, &str)> {
    let mut strings = Vec::new();
    for parameter in &scenario.parameters {
        strings.push((
            Location {
                scenario: Some(scenario.id.clone()),
                parameter: Some(parameter.name.clone()),
                attribute: Some("Value".into()),
                ..Default::default()
            },
            parameter.value.as_str(),
        ));
    }
    for request in &scenario.requests {
        let at = |parameter: Option<&str>, attribute: &str| Location {
            scenario: Some(scenario.id.clone()),
            request: Some(request.name.clone()),
            parameter: parameter.map(str::to_string),
            attribute: Some(attribute.to_string()),
            ..Default::default()
        };
        strings.push((at(None, "URLFormat"), request.url_format.as_str()));
        for parameter in &request.parameters {
            strings.push((at(Some(&parameter.name), "Value"), parameter.value.as_str()));
        }
        for output in &request.outputs {
            strings.push((
                at(None, &format!("Path of output {}", output.name)),
                output.path.as_str(),
            ));
        }
    }
    strings
}

fn check_template_strings(view: &TemplateView, report: &mut Report) {
    for (location, text) in template_strings(view) {
        if let Err(problem) = crate::lang::parse_template(text) {
            report.error(
                "template.syntax",
                describe_parse_error(text, &problem),
                location,
            );
        } else if crate::lang::read_dialect(text)
            .rules
            .contains(&crate::lang::DialectRule::SingleQuotes)
        {
            report.warning(
                "template.single_quotes",
                "single-quoted text such as '1' is read as a string here, as the vendor's examples mean it; \
                 Go would refuse it or read a one-character literal as a number. Double quotes \
                 (\"1\") say the same everywhere (docs/template-language.md, \"The dialect\")",
                location,
            );
        }
    }
}

/// A parse error with the character it happened at, counted from 1 in the
/// attribute's value.
fn describe_parse_error(text: &str, problem: &crate::lang::text::ParseError) -> String {
    let character = text.get(..problem.offset).map_or(0, |t| t.chars().count()) + 1;
    format!(
        "does not parse at character {character}: {}",
        problem.message
    )
}

/// Variables the engine sets for calls (docs/variables.md).
const CALL_VARIABLES: &[&str] = &[
    "Subject",
    "Description",
    "Time",
    "StartTimeUnix",
    "EndTimeUnix",
    "Call_From",
    "Call_To",
    "CallerName",
    "CallerNumber",
    "CalleeName",
    "CalleeNumber",
    "ContactSyncType",
    "ContactNumber",
    "ContactId",
    "TicketId",
    "CallDuration",
    "Talk_Duration",
    "Talk_Duration_Sec",
    "Talk_Duration_MinSec",
    "Communication_Type",
    "Call_Status",
    "Call_Log_Status",
    "CallDisposition",
    "RecordPath",
    "EnableCallRecording",
];
/// The user association's variables: every scenario of a call and its lookups see them
/// (docs/variables.md).
const EXTENSION_VARIABLES: &[&str] = &[
    "CrmId",
    "CrmlId",
    "ExtensionNumber",
    "ExtensionFirstName",
    "ExtensionLastName",
    "ExtensionEmail",
];
const CONTACT_VARIABLES: &[&str] = &[
    "Phone",
    "PhoneReceived",
    "PhoneDigits",
    "PhoneE164",
    "PhoneNational",
    "PhoneLastDigits",
    "SearchValue",
    "ContactSyncType",
    "ContactId",
    "CustomValue",
];
/// A token answer's other top-level values are global variables under this prefix
/// (`TokenResponse_instance_url`, docs/variables.md).
pub const TOKEN_RESPONSE_PREFIX: &str = "TokenResponse_";
const NEW_CONTACT_VARIABLES: &[&str] = &["FirstName", "LastName", "BusinessNumber", "DisplayName"];
const TOKEN_VARIABLES: &[&str] = &["AccessToken", "RefreshToken", "redirect_uri"];

/// The variables a template string reads (`.Name` where dot is the data,
/// `$.Name` anywhere); none when it does not parse.
pub fn referenced_variables(text: &str) -> Vec<String> {
    crate::lang::parse_template(text)
        .map(|t| t.referenced_variables())
        .unwrap_or_default()
}

fn check_variables(view: &TemplateView, report: &mut Report) {
    let mut known: Vec<&str> = TOKEN_VARIABLES.to_vec();
    if let Some(auth) = view.scenario("AuthMethod") {
        known.extend(auth.group("CustomFieldList").map(|p| p.name.as_str()));
    }
    for scenario in &view.scenarios {
        for request in &scenario.requests {
            known.extend(request.outputs.iter().map(|o| o.name.as_str()));
        }
    }
    for scenario in &view.scenarios {
        let mut allowed = known.clone();
        match scenario.id.as_str() {
            "SyncContactAuto" | "SearchContact" | "Common" => {
                allowed.extend(CONTACT_VARIABLES);
                allowed.extend(CONTACT_FIELDS);
                allowed.extend(EXTENSION_VARIABLES);
            }
            "CreateNewContact" => {
                allowed.extend(NEW_CONTACT_VARIABLES);
                allowed.extend(EXTENSION_VARIABLES);
            }
            "CallJournal" | "CreateNewTicket" | "FollowUp" => {
                allowed.extend(CALL_VARIABLES);
                allowed.extend(EXTENSION_VARIABLES);
                allowed.extend(CONTACT_FIELDS);
                allowed.extend(NEW_CONTACT_VARIABLES);
            }
            _ => {}
        }
        // A lookup at the ring sees the call too (docs/variables.md "Contact lookup").
        if matches!(scenario.id.as_str(), "SyncContactAuto" | "Common") {
            allowed.extend(CALL_VARIABLES);
        }
        for (location, text) in scenario_strings(scenario) {
            for name in referenced_variables(text) {
                let from_token_answer =
                    name.starts_with(TOKEN_RESPONSE_PREFIX) && scenario.id != "AuthMethod";
                if !allowed.contains(&name.as_str()) && !from_token_answer {
                    report.warning(
                        "template.unknown_variable",
                        format!(".{name} is not a variable this scenario has; it renders as an empty string"),
                        location.clone(),
                    );
                }
            }
        }
    }
}

fn check_contact_mapping(view: &TemplateView, report: &mut Report) {
    let Some(sync) = view.scenario("SyncContactAuto") else {
        return;
    };
    let enabled = |field: &str| sync.setting(&format!("{field}Enable")) == Some("1");
    let mapped = |request: &RequestView, field: &str| {
        request
            .outputs
            .iter()
            .any(|o| o.name == field && !o.path.trim().is_empty())
    };
    for request in &sync.requests {
        let location = Location {
            scenario: Some(sync.id.clone()),
            request: Some(request.name.clone()),
            ..Default::default()
        };
        for required in ["ContactsId", "FirstName"] {
            if !mapped(request, required) {
                report.warning(
                    "contact.unmapped",
                    format!(
                        "contact type {}: the required field {required} has no path",
                        request.name
                    ),
                    Location {
                        attribute: Some(format!("Path of output {required}")),
                        ..location.clone()
                    },
                );
            }
        }
        let has_phone = CONTACT_FIELDS
            .iter()
            .filter(|f| is_phone_field(f))
            .any(|f| enabled(f) && mapped(request, f));
        if !has_phone {
            report.warning(
                "contact.no_phone",
                format!(
                    "contact type {}: no phone number field is enabled and mapped",
                    request.name
                ),
                location,
            );
        }
    }
}

/// Warns about `"… {{ .Var }} …"` inside a JSON string literal without JsonEscape: a value
/// holding a quote would break the body.
fn check_json_bodies(view: &TemplateView, report: &mut Report) {
    for scenario in &view.scenarios {
        for request in &scenario.requests {
            let Some(body) = request.body() else { continue };
            if request.request_encoding == "form"
                || !body.value.trim_start().starts_with(['{', '['])
            {
                continue;
            }
            if let Some(variable) = unescaped_variable_in_json_string(&body.value) {
                report.warning(
                    "json.unescaped",
                    format!(
                        "the JSON body puts {variable} inside a string without JsonEscape; a value with a quote would make invalid JSON (write {{{{JsonEscape {variable}}}}})"
                    ),
                    Location {
                        scenario: Some(scenario.id.clone()),
                        request: Some(request.name.clone()),
                        parameter: Some(body.name.clone()),
                        attribute: Some("Value".into()),
                        ..Default::default()
                    },
                );
            }
        }
    }
}

fn unescaped_variable_in_json_string(body: &str) -> Option<String> {
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = body;
    while !rest.is_empty() {
        if let Some(action) = rest.strip_prefix("{{") {
            let end = action.find("}}")?;
            let inner = action[..end]
                .trim()
                .trim_start_matches('-')
                .trim_end_matches('-')
                .trim();
            if in_string && inner.starts_with('.') && !inner.contains("JsonEscape") {
                return Some(inner.split_whitespace().next().unwrap_or(inner).to_string());
            }
            rest = &action[end + 2..];
            continue;
        }
        let c = rest.chars().next()?;
        if escaped {
            escaped = false;
        } else if in_string && c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_string = !in_string;
        }
        rest = &rest[c.len_utf8()..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reported_is_listed_and_linked() {
        let source = include_str!("validate.rs");
        let body = &source[..source.find("#[cfg(test)]").unwrap_or(source.len())];
        let mut reported: Vec<&str> = body
            .match_indices("report.error(")
            .chain(body.match_indices("report.warning("))
            .filter_map(|(at, _)| {
                let rest = &body[at..];
                let start = rest.find('"')? + 1;
                let end = start + rest[start..].find('"')?;
                Some(&rest[start..end])
            })
            .collect();
        reported.sort_unstable();
        reported.dedup();
        let mut listed = FINDING_CODES.to_vec();
        listed.sort_unstable();
        assert_eq!(reported, listed);
        let report = validate_text("<Nope/>").1;
        assert_eq!(report.findings[0].help, "/docs/validator#info.root");
    }

    fn template(root_attributes: &str, scenarios: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?>\n<Information {root_attributes}>\n<Scenarios>\n{scenarios}\n</Scenarios>\n</Information>\n"
        )
    }

    const GOOD_ROOT: &str = r#"Provider="crm" Name="Demo" Key="demo_1" Version="1.0.0" AuthType="basic" MaxConcurrentRequest="5" UserAssociation="0" CallJournal="1" CreateNewContact="0" CreateNewTicket="0""#;
    const BASIC_AUTH: &str = r#"<Scenario Id="AuthMethod" Type="AUTH"><Parameters>
<Parameter Name="AuthMethod" Value="basic"/>
<Parameter Name="Base64EncodedCredential" Value="{{.api_key}}:"/>
<Parameter Father="CustomFieldList" Name="api_key" Editor="password" Title="API key"/>
</Parameters></Scenario>"#;

    fn codes(report: &Report, severity: Severity) -> Vec<String> {
        report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .map(|f| f.code.clone())
            .collect()
    }

    #[test]
    fn a_minimal_valid_template_has_no_findings() {
        let (document, report) = validate_text(&template(GOOD_ROOT, BASIC_AUTH));
        assert!(document.is_some());
        assert_eq!(report.findings, vec![]);
    }

    #[test]
    fn malformed_xml_is_an_error_with_its_position() {
        let (document, report) = validate_text("<Information>\n<A B=\"x&y\"/></Information>");
        assert!(document.is_none());
        let finding = &report.findings[0];
        assert_eq!(finding.code, "xml.malformed");
        assert_eq!(
            (finding.location.line, finding.location.column),
            (Some(2), Some(8))
        );
    }

    #[test]
    fn root_attribute_errors_name_the_attribute() {
        let root = r#"Provider="erp" Name="" Key="bad key!" AuthType="magic" MaxConcurrentRequest="500" UserAssociation="yes" CreateNewTicket="0""#;
        let (_, report) = validate_text(&template(root, BASIC_AUTH));
        let errors = codes(&report, Severity::Error);
        for code in [
            "info.provider",
            "info.name",
            "info.key",
            "info.auth_type",
            "info.max_concurrent_request",
            "info.switch",
        ] {
            assert!(
                errors.contains(&code.to_string()),
                "{code} missing from {errors:?}"
            );
        }
        let key = report
            .findings
            .iter()
            .find(|f| f.code == "info.key")
            .unwrap();
        assert_eq!(key.location.attribute.as_deref(), Some("Key"));
        assert_eq!(key.location.line, Some(2));
    }

    #[test]
    fn tickets_are_for_helpdesks_and_auth_types_must_agree() {
        let root = GOOD_ROOT
            .replace("CreateNewTicket=\"0\"", "CreateNewTicket=\"1\"")
            .replace("AuthType=\"basic\"", "AuthType=\"oauth2\"");
        let (_, report) = validate_text(&template(&root, BASIC_AUTH));
        let errors = codes(&report, Severity::Error);
        assert!(
            errors.contains(&"info.ticket_on_crm".to_string()),
            "{errors:?}"
        );
        assert!(errors.contains(&"auth.mismatch".to_string()), "{errors:?}");
    }

    #[test]
    fn a_broken_action_names_scenario_request_and_attribute() {
        let journal = r#"<Scenario Id="CallJournal" Type="REST"><Requests>
<Request Name="CallJournal" Method="POST" URLFormat="https://x.test/{{.domain/calls"/>
</Requests></Scenario>"#;
        let (_, report) = validate_text(&template(GOOD_ROOT, &format!("{BASIC_AUTH}\n{journal}")));
        let finding = report
            .findings
            .iter()
            .find(|f| f.code == "template.syntax")
            .expect("syntax error");
        assert_eq!(finding.severity, Severity::Error);
        assert_eq!(finding.location.scenario.as_deref(), Some("CallJournal"));
        assert_eq!(finding.location.request.as_deref(), Some("CallJournal"));
        assert_eq!(finding.location.attribute.as_deref(), Some("URLFormat"));
        assert_eq!(
            finding.message,
            "does not parse at character 18: bad character U+002F '/'"
        );
        assert!(finding.location.line.is_some());
    }

    fn finding<'a>(report: &'a Report, code: &str) -> &'a Finding {
        report
            .findings
            .iter()
            .find(|f| f.code == code)
            .unwrap_or_else(|| panic!("no {code} in {:?}", report.findings))
    }

    #[test]
    fn every_remaining_kind_has_its_location() {
        let (_, report) = validate_text("<Template Name=\"x\"/>");
        let root = finding(&report, "info.root");
        assert_eq!(
            (root.severity, root.location.line),
            (Severity::Error, Some(1))
        );

        let long_remark = format!("Remark=\"{}\"", "r".repeat(256));
        let (_, report) = validate_text(&format!(
            "<Information {GOOD_ROOT} {long_remark}>\n</Information>"
        ));
        let remark = finding(&report, "info.remark");
        assert_eq!(remark.location.attribute.as_deref(), Some("Remark"));
        assert_eq!(
            finding(&report, "scenarios.missing").severity,
            Severity::Error
        );
        assert_eq!(finding(&report, "auth.missing").severity, Severity::Error);

        let auth = r#"<Scenario Id="AuthMethod" Type="AUTH"><Parameters>
<Parameter Name="AuthMethod" Value="basic"/>
<Parameter Father="CustomFieldList" Name="token" Editor="secret" Title="Token"/>
</Parameters></Scenario>"#;
        let (_, report) = validate_text(&template(GOOD_ROOT, auth));
        let editor = finding(&report, "auth.custom_field_editor");
        assert_eq!(editor.location.scenario.as_deref(), Some("AuthMethod"));
        assert_eq!(editor.location.parameter.as_deref(), Some("token"));
        assert_eq!(editor.location.attribute.as_deref(), Some("Editor"));
        assert_eq!(
            (editor.location.line, editor.location.column),
            (Some(6), Some(58))
        );
    }

    #[test]
    fn a_secret_in_the_authorization_url_is_a_warning_that_still_uploads() {
        let root = GOOD_ROOT.replace(r#"AuthType="basic""#, r#"AuthType="oauth2""#);
        let auth = r#"<Scenario Id="AuthMethod" Type="AUTH"><Parameters>
<Parameter Name="AuthMethod" Value="oauth2"/>
<Parameter Name="AuthEndPoint" Value="https://crm.example/auth?client_id={{.client_id}}&amp;client_secret={{.client_secret}}"/>
<Parameter Name="AdditionalQueryString" Value="key={{.api_key}}&amp;org={{.org}}"/>
<Parameter Name="TokenEndPoint" Value="https://crm.example/token?client_secret={{.client_secret}}"/>
<Parameter Father="CustomFieldList" Name="api_key" Editor="password" Title="API key"/>
<Parameter Father="CustomFieldList" Name="org" Editor="string" Title="Org"/>
</Parameters></Scenario>"#;
        let (_, report) = validate_text(&template(&root, auth));
        let found: Vec<(&str, &str)> = report
            .findings
            .iter()
            .filter(|f| f.code == "auth.secret_in_browser_url")
            .map(|f| {
                assert_eq!(f.severity, Severity::Warning);
                (
                    f.location.parameter.as_deref().unwrap_or_default(),
                    f.message.split(' ').nth(2).unwrap_or_default(),
                )
            })
            .collect();
        // The token endpoint is the server's business: not warned about.
        assert_eq!(
            found,
            [
                ("AuthEndPoint", ".client_secret,"),
                ("AdditionalQueryString", ".api_key,")
            ]
        );
        assert!(!report.has_errors(), "{:?}", report.findings);
    }

    #[test]
    fn phone_fields_are_the_nine_number_fields() {
        let phones: Vec<&str> = CONTACT_FIELDS
            .iter()
            .copied()
            .filter(|f| is_phone_field(f))
            .collect();
        assert_eq!(
            phones,
            [
                "BusinessNumber",
                "BusinessNumber2",
                "BusinessFaxNumber",
                "MobileNumber",
                "MobileNumber2",
                "HomeNumber",
                "HomeNumber2",
                "HomeFaxNumber",
                "OtherNumber"
            ]
        );
    }

    #[test]
    fn referenced_variables_are_found_outside_strings() {
        assert_eq!(
            referenced_variables("{{.A}} x {{UrlEncode .B}} {{if .C}}{{end}}"),
            vec!["A", "B", "C"]
        );
        assert_eq!(
            referenced_variables(r#"{{TimeFormat .T "a.b" "1"}}"#),
            vec!["T"]
        );
        assert_eq!(
            referenced_variables("{{.username:.password}} {{.a.b}}"),
            vec!["username", "password", "a"]
        );
        assert_eq!(
            referenced_variables(
                r#"{{with .A}}{{.Inner}}{{$.Outer}}{{end}}{{printf "{{.NotAVar}}"}}"#
            ),
            vec!["A", "Outer"]
        );
        assert!(referenced_variables("no actions. here").is_empty());
    }

    #[test]
    fn unknown_variables_are_warned_about_where_they_are() {
        let journal = r#"<Scenario Id="CallJournal" Type="REST"><Requests>
<Request Name="CallJournal" Method="POST" URLFormat="https://x.test/{{.api_key}}/calls?from={{.CallerNumbr}}&amp;to={{.CalleeNumber}}"/>
</Requests></Scenario>"#;
        let (_, report) = validate_text(&template(GOOD_ROOT, &format!("{BASIC_AUTH}\n{journal}")));
        let unknown: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.code == "template.unknown_variable")
            .collect();
        assert_eq!(unknown.len(), 1, "{:?}", report.findings);
        assert!(
            unknown[0].message.starts_with(".CallerNumbr "),
            "{}",
            unknown[0].message
        );
        assert_eq!(unknown[0].severity, Severity::Warning);
        assert_eq!(unknown[0].location.attribute.as_deref(), Some("URLFormat"));
        assert_eq!(unknown[0].location.line, Some(10));
    }

    #[test]
    fn template_syntax_is_go_syntax() {
        let problem = |text: &str| {
            crate::lang::parse_template(text)
                .err()
                .map(|e| describe_parse_error(text, &e))
        };
        assert_eq!(problem("plain"), None);
        assert_eq!(problem("{{if .A}}x{{else}}y{{end}}"), None);
        assert_eq!(problem(r#"{{ printf "}}" .A }}"#), None);
        assert_eq!(
            problem("{{.A"),
            Some("does not parse at character 5: unclosed action".into())
        );
        assert_eq!(
            problem("ab{{if .A}}x"),
            Some("does not parse at character 13: unexpected EOF".into())
        );
        assert_eq!(
            problem("{{Nope .A}}"),
            Some(r#"does not parse at character 3: function "Nope" not defined"#.into())
        );
    }

    #[test]
    fn a_follow_up_trigger_nothing_sends_is_a_warning() {
        let text = template(
            GOOD_ROOT,
            &format!(
                r#"{BASIC_AUTH}<Scenario Id="FollowUp" Type="REST"><Requests>
                <Request Name="Audit" Trigger="CallJurnal" Method="GET" URLFormat="https://x.test/a"/>
                <Request Name="Relogin" Trigger="TokenRefresh" Method="GET" URLFormat="https://x.test/b"/>
            </Requests></Scenario>"#
            ),
        );
        let (_, report) = validate_text(&text);
        let found = finding(&report, "follow_up.trigger");
        assert_eq!(found.location.request.as_deref(), Some("Audit"));
        assert_eq!(
            codes(&report, Severity::Warning)
                .iter()
                .filter(|c| *c == "follow_up.trigger")
                .count(),
            1
        );
    }

    #[test]
    fn limits_are_errors() {
        let headers: String = (0..21)
            .map(|i| format!(r#"<Parameter Father="PopulateTemplateString" Type="Header" Name="X-{i}" Value="v"/>"#))
            .collect();
        let fields: String = (0..6)
            .map(|i| {
                format!(
                    r#"<Parameter Father="CustomFieldList" Name="f{i}" Editor="string" Title="F"/>"#
                )
            })
            .collect();
        let auth = format!(
            r#"<Scenario Id="AuthMethod" Type="AUTH"><Parameters><Parameter Name="AuthMethod" Value="basic"/>{headers}{fields}</Parameters></Scenario>"#
        );
        let follow_ups: String = (0..11)
            .map(|i| format!(r#"<Request Name="F{i}" Trigger="CallJournal" Method="GET" URLFormat="https://x.test"/>"#))
            .collect();
        let follow_up = format!(
            r#"<Scenario Id="FollowUp" Type="REST"><Requests>{follow_ups}</Requests></Scenario>"#
        );
        let (_, report) = validate_text(&template(GOOD_ROOT, &format!("{auth}{follow_up}")));
        let errors = codes(&report, Severity::Error);
        for code in [
            "limits.headers",
            "limits.custom_fields",
            "limits.follow_ups",
        ] {
            assert!(
                errors.contains(&code.to_string()),
                "{code} missing from {errors:?}"
            );
        }
    }

    #[test]
    fn warnings_for_unknown_scenarios_unmapped_contacts_and_unescaped_json() {
        let sync = r#"<Scenario Id="SyncContactAuto" Type="REST"><Parameters>
<Parameter Name="ContactsIdEnable" Value="1"/><Parameter Name="FirstNameEnable" Value="1"/>
</Parameters><Requests><Request Name="Contacts" Method="GET" URLFormat="https://x.test/?q={{.Phone}}">
<Outputs><Output Name="ContactsId" Path="data.#.id"/><Output Name="FirstName" Path=""/></Outputs>
</Request></Requests></Scenario>
<Scenario Id="Mystery" Type="REST"/>
<Scenario Id="CallJournal" Type="REST"><Requests><Request Name="CallJournal" Method="POST" URLFormat="https://x.test">
<Parameters><Parameter Name="Data" Type="Body" Value="{&quot;note&quot;: &quot;{{.Description}}&quot;, &quot;ok&quot;: &quot;{{JsonEscape .Subject}}&quot;}"/></Parameters>
</Request></Requests></Scenario>"#;
        let (_, report) = validate_text(&template(GOOD_ROOT, &format!("{BASIC_AUTH}{sync}")));
        assert!(!report.has_errors(), "{:?}", report.findings);
        let warnings = codes(&report, Severity::Warning);
        assert_eq!(
            warnings,
            vec![
                "contact.unmapped",
                "contact.no_phone",
                "json.unescaped",
                "scenario.unknown"
            ],
        );
        let json = report
            .findings
            .iter()
            .find(|f| f.code == "json.unescaped")
            .unwrap();
        assert!(json.message.contains(".Description"), "{}", json.message);
        assert!(!json.message.contains(".Subject"));
    }

    #[test]
    fn the_vendors_single_quoted_example_saves_with_a_warning() {
        let journal = r#"<Scenario Id="CallJournal" Type="REST"><Requests><Request Name="CallJournal" Method="POST" URLFormat="https://x.test">
<Parameters><Parameter Name="Data" Type="Body" Value="{&quot;Call_Start_Time&quot;: &quot;{{TimeFormat .StartTimeUnix 'yyyy-MM-ddTHH:mm:ss-z' '1'}}&quot;}"/></Parameters>
</Request></Requests></Scenario>"#;
        let (_, report) = validate_text(&template(GOOD_ROOT, &format!("{BASIC_AUTH}{journal}")));
        assert!(!report.has_errors(), "{:?}", report.findings);
        let warning = report
            .findings
            .iter()
            .find(|f| f.code == "template.single_quotes")
            .expect("a warning about the single quotes");
        assert_eq!(warning.severity, Severity::Warning);
        assert!(
            warning.message.contains("docs/template-language.md"),
            "{}",
            warning.message
        );
        assert_eq!(warning.location.attribute.as_deref(), Some("Value"));
    }
}
