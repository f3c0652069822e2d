//! The template editor's form: one field per input of the editor, and the two pure
//! mappings `template → form` ([`TemplateForm::read`]) and `form + original template
//! → template` ([`TemplateForm::apply`]). Applying writes only what the form shows, in
//! place; everything else in the original (unknown elements and attributes, comments,
//! token error maps, auth options, GetGlobalInfo, Common, SearchContact, …) stays as it was.

use serde::{Deserialize, Serialize};

pub use super::model::CONTACT_FIELDS;
use super::model::{RequestView, ScenarioView, TemplateView};
use super::xml::{XmlDocument, XmlElement, XmlNode};

/// The UserAssociation outputs the form maps, in the order of
/// [`UserAssociationForm::output_paths`] (and of their field ids).
pub const USER_OUTPUTS: [&str; 4] = ["UserUniqueId", "FirstName", "LastName", "Email"];

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateForm {
    pub provider: String,
    pub name: String,
    pub key: String,
    pub version: String,
    pub remark: String,
    pub logo_file_name: String,
    pub max_concurrent_request: String,
    pub user_association: UserAssociationForm,
    pub auth: AuthForm,
    pub headers: Vec<HeaderForm>,
    pub follow_ups: Vec<FollowUpForm>,
    pub contacts: ContactsForm,
    pub create_contact: CreateContactForm,
    pub call_journal: CallJournalForm,
    pub ticket: TicketForm,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAssociationForm {
    pub enabled: bool,
    pub method: String,
    pub url: String,
    /// `disabled`, `page_number`, `offset` or `link` (empty: as `disabled`).
    pub pagination: String,
    pub page_param: String,
    pub page_start: String,
    pub page_size_param: String,
    pub page_size: String,
    pub offset_param: String,
    pub offset_start: String,
    pub limit_param: String,
    pub limit: String,
    pub next_link_path: String,
    /// Paths of UserUniqueId, FirstName, LastName, Email.
    pub output_paths: [String; 4],
}

impl UserAssociationForm {
    /// The editor's field id of the path of `USER_OUTPUTS[index]`.
    pub fn output_field_id(index: usize) -> String {
        format!("user_association.outputs.{index}")
    }

    /// The field id of the path of the output named `output`, if the form maps it.
    pub fn field_id_of_output(output: &str) -> Option<String> {
        USER_OUTPUTS
            .iter()
            .position(|name| *name == output)
            .map(Self::output_field_id)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomFieldForm {
    pub name: String,
    /// `string`, `password` or `list`.
    pub editor: String,
    pub title: String,
    /// A list's comma-separated options (or a default value).
    pub value: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthForm {
    pub method: String,
    pub custom_fields: Vec<CustomFieldForm>,
    pub credential_type: String,
    pub credential: String,
    pub auth_endpoint: String,
    pub token_endpoint: String,
    pub token_content_type: String,
    pub scope: String,
    pub additional_query: String,
    pub token_type: String,
    pub refresh_method: String,
    pub refresh_endpoint: String,
    pub refresh_content_type: String,
    pub refresh_time: String,
    pub refresh_body: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderForm {
    pub name: String,
    pub value: String,
    pub description: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputForm {
    /// The global variable the value is stored in.
    pub name: String,
    pub path: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpForm {
    pub name: String,
    pub trigger: String,
    pub method: String,
    pub url: String,
    pub headers_json: String,
    pub body: String,
    pub outputs: Vec<OutputForm>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactTypeForm {
    /// The contact type (the request's Name, `ContactSyncType`).
    pub name: String,
    pub method: String,
    pub url: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactFieldForm {
    pub field: String,
    pub enabled: bool,
    pub path: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactsForm {
    pub types: Vec<ContactTypeForm>,
    /// `specify_url_format` or `retrieve_from_contact`.
    pub popup_mode: String,
    pub popup_url_format: String,
    pub popup_field_path: String,
    /// One entry per [`CONTACT_FIELDS`], in that order.
    pub fields: Vec<ContactFieldForm>,
    /// The file's contact types map fields differently; the form shows the first type's
    /// mapping and writes it to every type only once it is edited.
    pub mapping_differs: bool,
    pub mapping_edited: bool,
}

impl ContactsForm {
    /// The editor's field id of the path of `fields[index]`.
    pub fn path_field_id(index: usize) -> String {
        format!("contacts.fields.{index}.path")
    }

    /// The editor's field id of the switch of `fields[index]`.
    pub fn enabled_field_id(index: usize) -> String {
        format!("contacts.fields.{index}.enabled")
    }

    /// The field id of the path of the contact field `output`, if the form shows it.
    pub fn field_id_of_output(&self, output: &str) -> Option<String> {
        self.fields
            .iter()
            .position(|f| f.field == output)
            .map(Self::path_field_id)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateContactTypeForm {
    pub name: String,
    pub url: String,
    pub body: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateContactForm {
    pub enabled: bool,
    pub types: Vec<CreateContactTypeForm>,
}

/// A value the integrating user may change (`editable`) with its default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustable {
    pub editable: bool,
    pub value: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallJournalForm {
    pub enabled: bool,
    pub method: String,
    pub url: String,
    pub body: String,
    pub subject: Adjustable,
    pub description: Adjustable,
    pub play_call_recording: Adjustable,
    pub disable_missed_call_records: Adjustable,
    pub need_sync_contact: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketForm {
    pub enabled: bool,
    pub method: String,
    pub url: String,
    pub body: String,
    pub subject: Adjustable,
    pub description: Adjustable,
}

fn on(value: &str) -> bool {
    value == "1"
}

fn setting(scenario: Option<&ScenarioView>, name: &str) -> String {
    scenario
        .and_then(|s| s.setting(name))
        .unwrap_or_default()
        .to_string()
}

fn adjustable(scenario: Option<&ScenarioView>, name: &str) -> Adjustable {
    Adjustable {
        editable: on(&setting(scenario, &format!("Enable{name}"))),
        value: setting(scenario, name),
    }
}

fn output_path(request: &RequestView, name: &str) -> String {
    request
        .outputs
        .iter()
        .find(|o| o.name == name)
        .map(|o| o.path.clone())
        .unwrap_or_default()
}

fn body_of(request: &RequestView) -> String {
    request.body().map(|b| b.value.clone()).unwrap_or_default()
}

/// The AuthMethod settings the form shows: parameter name and its form field. `read` and
/// `apply` both go through this one table.
fn auth_settings(auth: &mut AuthForm) -> [(&'static str, &mut String); 14] {
    [
        ("AuthMethod", &mut auth.method),
        ("CredentialType", &mut auth.credential_type),
        ("Base64EncodedCredential", &mut auth.credential),
        ("AuthEndPoint", &mut auth.auth_endpoint),
        ("TokenEndPoint", &mut auth.token_endpoint),
        ("TokenContentType", &mut auth.token_content_type),
        ("Scope", &mut auth.scope),
        ("AdditionalQueryString", &mut auth.additional_query),
        ("TokenType", &mut auth.token_type),
        ("TokenRefreshMethod", &mut auth.refresh_method),
        ("TokenRefreshEndPoint", &mut auth.refresh_endpoint),
        ("TokenRefreshContentType", &mut auth.refresh_content_type),
        ("TokenRefreshTime", &mut auth.refresh_time),
        ("TokenRefreshBody", &mut auth.refresh_body),
    ]
}

/// The UserAssociation pagination settings: parameter name and its form field.
fn pagination_settings(users: &mut UserAssociationForm) -> [(&'static str, &mut String); 10] {
    [
        ("PaginationType", &mut users.pagination),
        ("PageParamName", &mut users.page_param),
        ("PageStartValue", &mut users.page_start),
        ("PageSizeParamName", &mut users.page_size_param),
        ("PageSizeValue", &mut users.page_size),
        ("OffsetParamName", &mut users.offset_param),
        ("OffsetValue", &mut users.offset_start),
        ("LimitParamName", &mut users.limit_param),
        ("LimitValue", &mut users.limit),
        ("NextPageLinkPath", &mut users.next_link_path),
    ]
}

impl TemplateForm {
    /// The form showing `document`.
    pub fn read(document: &XmlDocument) -> TemplateForm {
        let view = TemplateView::read(document);
        let info = &view.info;
        let auth = view.scenario("AuthMethod");
        let users = view.scenario("UserAssociation");
        let user_request = users.and_then(|s| s.request("UserAssociation"));
        let sync = view.scenario("SyncContactAuto");
        let journal = view.scenario("CallJournal");
        let journal_request = journal.and_then(|s| s.request("CallJournal"));
        let ticket = view.scenario("CreateNewTicket");
        let ticket_request = ticket.and_then(|s| s.request("CreateNewTicket"));

        let sync_requests: &[RequestView] = sync.map(|s| s.requests.as_slice()).unwrap_or_default();
        let first = sync_requests.first();
        let fields = CONTACT_FIELDS
            .iter()
            .map(|field| ContactFieldForm {
                field: field.to_string(),
                enabled: on(&setting(sync, &format!("{field}Enable"))),
                path: first.map(|r| output_path(r, field)).unwrap_or_default(),
            })
            .collect();
        let mapping_differs = sync_requests.iter().skip(1).any(|request| {
            CONTACT_FIELDS.iter().any(|field| {
                first.map(|f| output_path(f, field)) != Some(output_path(request, field))
            })
        });

        let mut form = TemplateForm {
            provider: info.provider.clone(),
            name: info.name.clone(),
            key: info.key.clone(),
            version: info.version.clone(),
            remark: info.remark.clone(),
            logo_file_name: info.logo.clone(),
            max_concurrent_request: info.max_concurrent_request.clone(),
            user_association: UserAssociationForm {
                enabled: on(&info.user_association),
                method: user_request.map(|r| r.method.clone()).unwrap_or_default(),
                url: user_request
                    .map(|r| r.url_format.clone())
                    .unwrap_or_default(),
                output_paths: USER_OUTPUTS.map(|name| {
                    user_request
                        .map(|r| output_path(r, name))
                        .unwrap_or_default()
                }),
                ..Default::default()
            },
            auth: AuthForm {
                custom_fields: auth
                    .map(|a| {
                        a.group("CustomFieldList")
                            .map(|p| CustomFieldForm {
                                name: p.name.clone(),
                                editor: p.editor.clone(),
                                title: p.title.clone(),
                                value: p.value.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                ..Default::default()
            },
            headers: auth
                .map(|a| {
                    a.group("PopulateTemplateString")
                        .filter(|p| p.kind == "Header")
                        .map(|p| HeaderForm {
                            name: p.name.clone(),
                            value: p.value.clone(),
                            description: p.description.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            follow_ups: view
                .scenario("FollowUp")
                .map(|s| {
                    s.requests
                        .iter()
                        .map(|r| FollowUpForm {
                            name: r.name.clone(),
                            trigger: r.trigger.clone(),
                            method: r.method.clone(),
                            url: r.url_format.clone(),
                            headers_json: r
                                .parameters
                                .iter()
                                .find(|p| p.kind == "HeaderJson")
                                .map(|p| p.value.clone())
                                .unwrap_or_default(),
                            body: body_of(r),
                            outputs: r
                                .outputs
                                .iter()
                                .map(|o| OutputForm {
                                    name: o.name.clone(),
                                    path: o.path.clone(),
                                })
                                .collect(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            contacts: ContactsForm {
                types: sync_requests
                    .iter()
                    .map(|r| ContactTypeForm {
                        name: r.name.clone(),
                        method: r.method.clone(),
                        url: r.url_format.clone(),
                    })
                    .collect(),
                popup_mode: setting(sync, "ContactUrlType"),
                popup_url_format: setting(sync, "URLFormat"),
                popup_field_path: setting(sync, "ContactFieldForUri"),
                fields,
                mapping_differs,
                mapping_edited: false,
            },
            create_contact: CreateContactForm {
                enabled: on(&info.create_new_contact),
                types: view
                    .scenario("CreateNewContact")
                    .map(|s| {
                        s.requests
                            .iter()
                            .map(|r| CreateContactTypeForm {
                                name: r.name.clone(),
                                url: r.url_format.clone(),
                                body: body_of(r),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            call_journal: CallJournalForm {
                enabled: on(&info.call_journal),
                method: journal_request
                    .map(|r| r.method.clone())
                    .unwrap_or_default(),
                url: journal_request
                    .map(|r| r.url_format.clone())
                    .unwrap_or_default(),
                body: journal_request.map(body_of).unwrap_or_default(),
                subject: adjustable(journal, "Subject"),
                description: adjustable(journal, "Description"),
                play_call_recording: adjustable(journal, "PlayCallRecording"),
                disable_missed_call_records: adjustable(journal, "DisableMissedCallRecords"),
                need_sync_contact: on(&setting(journal, "NeedSyncContact")),
            },
            ticket: TicketForm {
                enabled: on(&info.create_new_ticket),
                method: ticket_request.map(|r| r.method.clone()).unwrap_or_default(),
                url: ticket_request
                    .map(|r| r.url_format.clone())
                    .unwrap_or_default(),
                body: ticket_request.map(body_of).unwrap_or_default(),
                subject: adjustable(ticket, "Subject"),
                description: adjustable(ticket, "Description"),
            },
        };
        for (name, value) in auth_settings(&mut form.auth) {
            *value = setting(auth, name);
        }
        for (name, value) in pagination_settings(&mut form.user_association) {
            *value = setting(users, name);
        }
        form
    }
}

// ---- Writing: form + original → template -------------------------------------------

/// The children of `parent` named `name`, created (appended) if missing.
fn child_mut<'a>(parent: &'a mut XmlElement, name: &str) -> &'a mut XmlElement {
    let index = match parent
        .children
        .iter()
        .position(|n| matches!(n, XmlNode::Element(e) if e.name == name))
    {
        Some(index) => index,
        None => {
            parent
                .children
                .push(XmlNode::Element(XmlElement::new(name)));
            parent.children.len() - 1
        }
    };
    match &mut parent.children[index] {
        XmlNode::Element(element) => element,
        _ => unreachable!("index points at an element"),
    }
}

/// The first child element matching `matches`, if any.
fn find_mut(
    parent: &mut XmlElement,
    matches: impl Fn(&XmlElement) -> bool,
) -> Option<&mut XmlElement> {
    parent.children.iter_mut().find_map(|node| match node {
        XmlNode::Element(element) if matches(element) => Some(element),
        _ => None,
    })
}

fn has_child(parent: &XmlElement, matches: impl Fn(&XmlElement) -> bool) -> bool {
    parent.elements().any(matches)
}

fn element(name: &str, attributes: &[(&str, &str)]) -> XmlElement {
    XmlElement {
        name: name.to_string(),
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

/// Sets an attribute the form shows; an empty value is only written over an existing one,
/// so applying an unedited form adds nothing.
fn set_attr(target: &mut XmlElement, name: &str, value: &str) {
    if !value.is_empty() || target.attribute(name).is_some() {
        target.set_attribute(name, value);
    }
}

fn set_switch(target: &mut XmlElement, name: &str, enabled: bool) {
    set_attr(target, name, if enabled { "1" } else { "" });
    if !enabled && target.attribute(name).is_some() {
        target.set_attribute(name, "0");
    }
}

fn scenario_exists(root: &XmlElement, id: &str) -> bool {
    root.child("Scenarios").is_some_and(|list| {
        has_child(list, |e| {
            e.name == "Scenario" && e.attribute("Id") == Some(id)
        })
    })
}

fn scenario_mut<'a>(root: &'a mut XmlElement, id: &str, kind: &str) -> &'a mut XmlElement {
    let scenarios = child_mut(root, "Scenarios");
    let exists = has_child(scenarios, |e| {
        e.name == "Scenario" && e.attribute("Id") == Some(id)
    });
    if !exists {
        scenarios.children.push(XmlNode::Element(element(
            "Scenario",
            &[("Id", id), ("Type", kind)],
        )));
    }
    find_mut(scenarios, |e| {
        e.name == "Scenario" && e.attribute("Id") == Some(id)
    })
    .expect("the scenario exists now")
}

fn is_setting(e: &XmlElement, name: &str) -> bool {
    e.name == "Parameter"
        && e.attribute("Name") == Some(name)
        && e.attribute("Father").unwrap_or_default().is_empty()
}

/// Sets `attribute` to `value` on the child of `parent`'s `container` that `matches`; when
/// there is none and `value` is not empty, appends the element `create` makes. An empty
/// value never creates anything, so applying an unedited form adds nothing.
fn upsert(
    parent: &mut XmlElement,
    container: &str,
    matches: impl Fn(&XmlElement) -> bool,
    attribute: &str,
    value: &str,
    create: impl FnOnce() -> XmlElement,
) {
    let exists = parent
        .child(container)
        .is_some_and(|c| has_child(c, &matches));
    if exists {
        if let Some(target) = find_mut(child_mut(parent, container), &matches) {
            target.set_attribute(attribute, value);
        }
    } else if !value.is_empty() {
        child_mut(parent, container)
            .children
            .push(XmlNode::Element(create()));
    }
}

/// Sets a scenario setting (`<Parameter Name Value>` without a group), in place.
fn set_setting(scenario: &mut XmlElement, name: &str, value: &str) {
    upsert(
        scenario,
        "Parameters",
        |e| is_setting(e, name),
        "Value",
        value,
        || element("Parameter", &[("Name", name), ("Value", value)]),
    );
}

fn set_flag(scenario: &mut XmlElement, name: &str, enabled: bool) {
    let exists = scenario
        .child("Parameters")
        .is_some_and(|p| has_child(p, |e| is_setting(e, name)));
    if enabled || exists {
        set_setting(scenario, name, if enabled { "1" } else { "0" });
    }
}

fn set_adjustable(scenario: &mut XmlElement, name: &str, adjustable: &Adjustable) {
    set_flag(scenario, &format!("Enable{name}"), adjustable.editable);
    set_setting(scenario, name, &adjustable.value);
}

/// Replaces the children matching `matches` with `replacement`, where the first of them
/// stood (or at the end).
fn replace_group(
    parent: &mut XmlElement,
    matches: impl Fn(&XmlElement) -> bool,
    replacement: Vec<XmlElement>,
) {
    let first = parent
        .children
        .iter()
        .position(|n| matches!(n, XmlNode::Element(e) if matches(e)));
    parent
        .children
        .retain(|n| !matches!(n, XmlNode::Element(e) if matches(e)));
    let at = first
        .unwrap_or(parent.children.len())
        .min(parent.children.len());
    parent
        .children
        .splice(at..at, replacement.into_iter().map(XmlNode::Element));
}

fn request_mut<'a>(
    scenario: &'a mut XmlElement,
    name: &str,
    default_method: &str,
) -> &'a mut XmlElement {
    let requests = child_mut(scenario, "Requests");
    let exists = has_child(requests, |e| {
        e.name == "Request" && e.attribute("Name") == Some(name)
    });
    if !exists {
        requests.children.push(XmlNode::Element(element(
            "Request",
            &[
                ("Name", name),
                ("Method", default_method),
                ("ResponseType", "application/json"),
                ("RequestEncoding", ""),
                ("URLFormat", ""),
            ],
        )));
    }
    find_mut(requests, |e| {
        e.name == "Request" && e.attribute("Name") == Some(name)
    })
    .expect("the request exists now")
}

/// Keeps only the requests named in `names` (existing ones keep their place and content).
fn keep_requests(scenario: &mut XmlElement, names: &[&str]) {
    if let Some(requests) = find_mut(scenario, |e| e.name == "Requests") {
        requests.children.retain(|n| match n {
            XmlNode::Element(e) if e.name == "Request" => {
                names.contains(&e.attribute("Name").unwrap_or_default())
            }
            _ => true,
        });
    }
}

fn is_body(e: &XmlElement) -> bool {
    e.name == "Parameter"
        && e.attribute("Name") == Some("Data")
        && matches!(e.attribute("Type").unwrap_or_default(), "Body" | "")
}

fn set_body(request: &mut XmlElement, body: &str) {
    upsert(request, "Parameters", is_body, "Value", body, || {
        element(
            "Parameter",
            &[("Name", "Data"), ("Type", "Body"), ("Value", body)],
        )
    });
}

fn set_output(request: &mut XmlElement, name: &str, path: &str) {
    let is_output = |e: &XmlElement| e.name == "Output" && e.attribute("Name") == Some(name);
    upsert(request, "Outputs", is_output, "Path", path, || {
        element("Output", &[("Name", name), ("Path", path), ("Type", "")])
    });
}

fn set_request_basics(request: &mut XmlElement, method: &str, url: &str) {
    set_attr(request, "Method", method);
    set_attr(request, "URLFormat", url);
}

impl TemplateForm {
    /// A new template from this form alone.
    pub fn to_new_document(&self) -> XmlDocument {
        let blank = XmlDocument {
            version: Some("1.0".into()),
            root: XmlElement::new("Information"),
        };
        self.apply(&blank)
    }

    /// `original` with what this form shows written into it; nothing else changes.
    pub fn apply(&self, original: &XmlDocument) -> XmlDocument {
        let mut document = original.clone();
        let root = &mut document.root;
        for (name, value) in [
            ("Provider", &self.provider),
            ("Name", &self.name),
            ("Key", &self.key),
            ("Logo", &self.logo_file_name),
            ("Remark", &self.remark),
            ("Version", &self.version),
            ("AuthType", &self.auth.method),
            ("MaxConcurrentRequest", &self.max_concurrent_request),
        ] {
            set_attr(root, name, value);
        }
        set_switch(root, "UserAssociation", self.user_association.enabled);
        set_switch(root, "CallJournal", self.call_journal.enabled);
        set_switch(root, "CreateNewContact", self.create_contact.enabled);
        set_switch(root, "CreateNewTicket", self.ticket.enabled);
        child_mut(root, "Scenarios");

        self.apply_auth(scenario_mut(root, "AuthMethod", "AUTH"));
        if self.user_association.enabled || scenario_exists(root, "UserAssociation") {
            self.apply_user_association(scenario_mut(root, "UserAssociation", "REST"));
        }
        if !self.contacts.types.is_empty() || scenario_exists(root, "SyncContactAuto") {
            self.apply_contacts(scenario_mut(root, "SyncContactAuto", "REST"));
        }
        if self.create_contact.enabled || scenario_exists(root, "CreateNewContact") {
            let scenario = scenario_mut(root, "CreateNewContact", "REST");
            let names: Vec<&str> = self
                .create_contact
                .types
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            keep_requests(scenario, &names);
            for contact_type in &self.create_contact.types {
                let request = request_mut(scenario, &contact_type.name, "POST");
                set_attr(request, "URLFormat", &contact_type.url);
                set_body(request, &contact_type.body);
            }
        }
        if self.call_journal.enabled || scenario_exists(root, "CallJournal") {
            let journal = &self.call_journal;
            let scenario = scenario_mut(root, "CallJournal", "REST");
            set_adjustable(scenario, "Subject", &journal.subject);
            set_adjustable(scenario, "Description", &journal.description);
            set_adjustable(scenario, "PlayCallRecording", &journal.play_call_recording);
            set_adjustable(
                scenario,
                "DisableMissedCallRecords",
                &journal.disable_missed_call_records,
            );
            set_flag(scenario, "NeedSyncContact", journal.need_sync_contact);
            let request = request_mut(scenario, "CallJournal", "POST");
            set_request_basics(request, &journal.method, &journal.url);
            set_body(request, &journal.body);
        }
        if self.ticket.enabled || scenario_exists(root, "CreateNewTicket") {
            let scenario = scenario_mut(root, "CreateNewTicket", "REST");
            set_adjustable(scenario, "Subject", &self.ticket.subject);
            set_adjustable(scenario, "Description", &self.ticket.description);
            let request = request_mut(scenario, "CreateNewTicket", "POST");
            set_request_basics(request, &self.ticket.method, &self.ticket.url);
            set_body(request, &self.ticket.body);
        }
        if !self.follow_ups.is_empty() || scenario_exists(root, "FollowUp") {
            self.apply_follow_ups(scenario_mut(root, "FollowUp", "REST"));
        }
        document
    }

    fn apply_auth(&self, scenario: &mut XmlElement) {
        let auth = &self.auth;
        let mut settings = auth.clone();
        for (name, value) in auth_settings(&mut settings) {
            set_setting(scenario, name, value);
        }
        let fields = auth
            .custom_fields
            .iter()
            .map(|f| {
                element(
                    "Parameter",
                    &[
                        ("Father", "CustomFieldList"),
                        ("Name", &f.name),
                        ("Value", &f.value),
                        ("Editor", &f.editor),
                        ("Title", &f.title),
                    ],
                )
            })
            .collect::<Vec<_>>();
        let headers = self
            .headers
            .iter()
            .map(|h| {
                let mut header = element(
                    "Parameter",
                    &[
                        ("Father", "PopulateTemplateString"),
                        ("Type", "Header"),
                        ("Name", &h.name),
                        ("Value", &h.value),
                    ],
                );
                set_attr(&mut header, "Description", &h.description);
                header
            })
            .collect::<Vec<_>>();
        let unchanged_fields = self.custom_fields_match(scenario);
        let unchanged_headers = self.headers_match(scenario);
        let needs_parameters = !fields.is_empty() || !headers.is_empty();
        if needs_parameters || scenario.child("Parameters").is_some() {
            let parameters = child_mut(scenario, "Parameters");
            if !unchanged_fields {
                replace_group(
                    parameters,
                    |e| e.attribute("Father") == Some("CustomFieldList"),
                    fields,
                );
            }
            if !unchanged_headers {
                replace_group(
                    parameters,
                    |e| {
                        e.attribute("Father") == Some("PopulateTemplateString")
                            && e.attribute("Type") == Some("Header")
                    },
                    headers,
                );
            }
        }
    }

    /// True when the scenario already holds exactly the form's custom fields, so applying
    /// leaves those elements (and any extra attributes on them) untouched.
    fn custom_fields_match(&self, scenario: &XmlElement) -> bool {
        let view = read_auth_lists(scenario);
        view.0 == self.auth.custom_fields
    }

    fn headers_match(&self, scenario: &XmlElement) -> bool {
        read_auth_lists(scenario).1 == self.headers
    }

    fn apply_user_association(&self, scenario: &mut XmlElement) {
        let users = &self.user_association;
        let mut settings = users.clone();
        for (name, value) in pagination_settings(&mut settings) {
            set_setting(scenario, name, value);
        }
        let request = request_mut(scenario, "UserAssociation", "GET");
        set_request_basics(request, &users.method, &users.url);
        for (name, path) in USER_OUTPUTS.iter().zip(&users.output_paths) {
            set_output(request, name, path);
        }
    }

    fn apply_contacts(&self, scenario: &mut XmlElement) {
        let contacts = &self.contacts;
        set_setting(scenario, "ContactUrlType", &contacts.popup_mode);
        set_setting(scenario, "URLFormat", &contacts.popup_url_format);
        set_setting(scenario, "ContactFieldForUri", &contacts.popup_field_path);
        for field in &contacts.fields {
            set_flag(scenario, &format!("{}Enable", field.field), field.enabled);
        }
        let names: Vec<&str> = contacts.types.iter().map(|t| t.name.as_str()).collect();
        keep_requests(scenario, &names);
        let write_mapping = !contacts.mapping_differs || contacts.mapping_edited;
        for contact_type in &contacts.types {
            let is_new = !scenario.child("Requests").is_some_and(|r| {
                has_child(r, |e| {
                    e.name == "Request" && e.attribute("Name") == Some(contact_type.name.as_str())
                })
            });
            let request = request_mut(scenario, &contact_type.name, "GET");
            set_request_basics(request, &contact_type.method, &contact_type.url);
            if write_mapping || is_new {
                for field in &contacts.fields {
                    set_output(request, &field.field, &field.path);
                }
            }
        }
    }

    fn apply_follow_ups(&self, scenario: &mut XmlElement) {
        let names: Vec<&str> = self.follow_ups.iter().map(|f| f.name.as_str()).collect();
        keep_requests(scenario, &names);
        for follow_up in &self.follow_ups {
            let request = request_mut(scenario, &follow_up.name, "POST");
            set_attr(request, "Trigger", &follow_up.trigger);
            set_request_basics(request, &follow_up.method, &follow_up.url);
            let has_headers = request
                .child("Parameters")
                .is_some_and(|p| has_child(p, |e| e.attribute("Type") == Some("HeaderJson")));
            if has_headers || !follow_up.headers_json.is_empty() {
                let parameters = child_mut(request, "Parameters");
                match find_mut(parameters, |e| e.attribute("Type") == Some("HeaderJson")) {
                    Some(headers) => headers.set_attribute("Value", &follow_up.headers_json),
                    None => parameters.children.insert(
                        0,
                        XmlNode::Element(element(
                            "Parameter",
                            &[
                                ("Name", "Headers"),
                                ("Type", "HeaderJson"),
                                ("Value", &follow_up.headers_json),
                            ],
                        )),
                    ),
                }
            }
            set_body(request, &follow_up.body);
            let unchanged = request
                .child("Outputs")
                .map(|o| {
                    o.elements()
                        .filter(|e| e.name == "Output")
                        .map(|e| OutputForm {
                            name: e.attribute("Name").unwrap_or_default().to_string(),
                            path: e.attribute("Path").unwrap_or_default().to_string(),
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
                == follow_up.outputs;
            if !unchanged {
                let outputs = follow_up
                    .outputs
                    .iter()
                    .map(|o| {
                        element(
                            "Output",
                            &[("Name", &o.name), ("Path", &o.path), ("Type", "")],
                        )
                    })
                    .collect();
                replace_group(
                    child_mut(request, "Outputs"),
                    |e| e.name == "Output",
                    outputs,
                );
            }
        }
    }
}

/// The custom fields and global headers an AuthMethod scenario element holds.
fn read_auth_lists(scenario: &XmlElement) -> (Vec<CustomFieldForm>, Vec<HeaderForm>) {
    let parameters: Vec<&XmlElement> = scenario
        .child("Parameters")
        .map(|p| p.elements().filter(|e| e.name == "Parameter").collect())
        .unwrap_or_default();
    let attr = |e: &XmlElement, name: &str| e.attribute(name).unwrap_or_default().to_string();
    let fields = parameters
        .iter()
        .filter(|e| e.attribute("Father") == Some("CustomFieldList"))
        .map(|e| CustomFieldForm {
            name: attr(e, "Name"),
            editor: attr(e, "Editor"),
            title: attr(e, "Title"),
            value: attr(e, "Value"),
        })
        .collect();
    let headers = parameters
        .iter()
        .filter(|e| {
            e.attribute("Father") == Some("PopulateTemplateString")
                && e.attribute("Type") == Some("Header")
        })
        .map(|e| HeaderForm {
            name: attr(e, "Name"),
            value: attr(e, "Value"),
            description: attr(e, "Description"),
        })
        .collect();
    (fields, headers)
}
