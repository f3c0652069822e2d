//! Typed views of a template: what docs/template-format.md names, read from the element tree.
//! Values stay as written (strings) so the validator can report bad ones with their place.

use serde::{Deserialize, Serialize};

use super::xml::{XmlDocument, XmlElement};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Crm,
    Helpdesk,
}

impl Provider {
    pub fn parse(text: &str) -> Option<Provider> {
        match text {
            "crm" => Some(Provider::Crm),
            "helpdesk" => Some(Provider::Helpdesk),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Crm => "crm",
            Provider::Helpdesk => "helpdesk",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthType {
    None,
    Basic,
    #[serde(rename = "oauth2")]
    OAuth2,
    Bearer,
}

impl AuthType {
    pub fn parse(text: &str) -> Option<AuthType> {
        match text {
            "none" => Some(AuthType::None),
            "basic" => Some(AuthType::Basic),
            "oauth2" => Some(AuthType::OAuth2),
            "bearer" => Some(AuthType::Bearer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::None => "none",
            AuthType::Basic => "basic",
            AuthType::OAuth2 => "oauth2",
            AuthType::Bearer => "bearer",
        }
    }
}

/// The attributes of `<Information>`, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateInfo {
    pub provider: String,
    pub name: String,
    pub key: String,
    pub logo: String,
    pub remark: String,
    pub version: String,
    pub auth_type: String,
    pub max_concurrent_request: String,
    pub user_association: String,
    pub call_journal: String,
    pub create_new_contact: String,
    pub create_new_ticket: String,
}

/// The documented attribute order of each element the format defines; the writer puts known
/// attributes in this order and unknown ones after them, as they came.
pub fn documented_attribute_order(element: &str) -> &'static [&'static str] {
    match element {
        "Information" => &[
            "Provider",
            "Name",
            "Key",
            "Logo",
            "Remark",
            "Version",
            "AuthType",
            "MaxConcurrentRequest",
            "UserAssociation",
            "CallJournal",
            "CreateNewContact",
            "CreateNewTicket",
        ],
        "LogoImage" => &["MediaType"],
        "Scenario" => &["Id", "Type"],
        "Parameter" => &[
            "Father",
            "Type",
            "Name",
            "Value",
            "Editor",
            "Title",
            "Key",
            "Description",
        ],
        "Request" => &[
            "Name",
            "Trigger",
            "Method",
            "Weight",
            "ResponseType",
            "RequestEncoding",
            "URLFormat",
        ],
        "Outputs" => &["Next"],
        "Output" => &["Name", "Path", "Type"],
        _ => &[],
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterView {
    /// Byte offset of the element in the parsed text, when it came from text.
    pub offset: Option<usize>,
    pub name: String,
    pub value: String,
    pub father: String,
    /// The `Type` attribute (`Header`, `Body`, `TokenInvalid`, `HeaderJson`, …).
    pub kind: String,
    pub editor: String,
    pub title: String,
    pub key: String,
    pub description: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputView {
    pub name: String,
    pub path: String,
    pub kind: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestView {
    pub offset: Option<usize>,
    pub name: String,
    pub method: String,
    pub response_type: String,
    pub request_encoding: String,
    pub url_format: String,
    pub weight: String,
    pub trigger: String,
    pub parameters: Vec<ParameterView>,
    /// `<Outputs Next="…">`: the Common request to run for each result.
    pub outputs_next: String,
    pub outputs: Vec<OutputView>,
}

impl RequestView {
    /// The request body (`<Parameter Name="Data" Type="Body">`), if any.
    pub fn body(&self) -> Option<&ParameterView> {
        self.parameters
            .iter()
            .find(|p| p.name == "Data" && (p.kind == "Body" || p.kind.is_empty()))
    }

    pub fn headers(&self) -> impl Iterator<Item = &ParameterView> {
        self.parameters.iter().filter(|p| p.kind == "Header")
    }

    /// A follow-up's headers: a JSON object in a `Type="HeaderJson"` parameter.
    pub fn header_json(&self) -> impl Iterator<Item = &ParameterView> {
        self.parameters.iter().filter(|p| p.kind == "HeaderJson")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioView {
    pub offset: Option<usize>,
    pub id: String,
    /// `REST` or `AUTH`.
    pub kind: String,
    pub parameters: Vec<ParameterView>,
    pub requests: Vec<RequestView>,
}

impl ScenarioView {
    /// The value of the scenario parameter `name` without a `Father` group.
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|p| p.name == name && p.father.is_empty())
            .map(|p| p.value.as_str())
    }

    pub fn group<'a>(&'a self, father: &'a str) -> impl Iterator<Item = &'a ParameterView> + 'a {
        self.parameters.iter().filter(move |p| p.father == father)
    }

    pub fn request(&self, name: &str) -> Option<&RequestView> {
        self.requests.iter().find(|r| r.name == name)
    }
}

/// Contact fields in the editor's order; each is also the `Output` name it maps to.
pub const CONTACT_FIELDS: &[&str] = &[
    "ContactsId",
    "FirstName",
    "LastName",
    "Company",
    "Email",
    "BusinessNumber",
    "BusinessNumber2",
    "BusinessFaxNumber",
    "MobileNumber",
    "MobileNumber2",
    "HomeNumber",
    "HomeNumber2",
    "HomeFaxNumber",
    "OtherNumber",
    "ZipCode",
    "Street",
    "City",
    "State",
    "Country",
    "Remark",
    "CustomValue",
];

/// The contact fields that hold phone numbers (at least one must be enabled and mapped).
pub fn is_phone_field(field: &str) -> bool {
    field.contains("Number")
}

/// What may start a follow-up (`Trigger`): the scenarios whose success the engine follows
/// up, and a token refresh (docs/scenarios.md "FollowUp").
pub const FOLLOW_UP_TRIGGERS: &[&str] = &[
    "GetGlobalInfo",
    "CreateNewContact",
    "CallJournal",
    "CreateNewTicket",
    "TokenRefresh",
];

/// The scenario ids docs/template-format.md lists.
pub const KNOWN_SCENARIOS: &[&str] = &[
    "AuthMethod",
    "UserAssociation",
    "SyncContactAuto",
    "SearchContact",
    "CreateNewContact",
    "CallJournal",
    "CreateNewTicket",
    "GetGlobalInfo",
    "Common",
    "FollowUp",
];

/// The typed view of a whole template.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateView {
    pub info: TemplateInfo,
    pub scenarios: Vec<ScenarioView>,
}

impl TemplateView {
    pub fn read(document: &XmlDocument) -> TemplateView {
        let root = &document.root;
        let attr = |name: &str| root.attribute(name).unwrap_or_default().to_string();
        let info = TemplateInfo {
            provider: attr("Provider"),
            name: attr("Name"),
            key: attr("Key"),
            logo: attr("Logo"),
            remark: attr("Remark"),
            version: attr("Version"),
            auth_type: attr("AuthType"),
            max_concurrent_request: attr("MaxConcurrentRequest"),
            user_association: attr("UserAssociation"),
            call_journal: attr("CallJournal"),
            create_new_contact: attr("CreateNewContact"),
            create_new_ticket: attr("CreateNewTicket"),
        };
        let scenarios = root
            .child("Scenarios")
            .map(|list| {
                list.elements()
                    .filter(|e| e.name == "Scenario")
                    .map(read_scenario)
                    .collect()
            })
            .unwrap_or_default();
        TemplateView { info, scenarios }
    }

    pub fn scenario(&self, id: &str) -> Option<&ScenarioView> {
        self.scenarios.iter().find(|s| s.id == id)
    }
}

fn text_attr(element: &XmlElement, name: &str) -> String {
    element.attribute(name).unwrap_or_default().to_string()
}

fn read_parameters(container: Option<&XmlElement>) -> Vec<ParameterView> {
    container
        .map(|parameters| {
            parameters
                .elements()
                .filter(|e| e.name == "Parameter")
                .map(|p| ParameterView {
                    offset: p.source_offset,
                    name: text_attr(p, "Name"),
                    value: text_attr(p, "Value"),
                    father: text_attr(p, "Father"),
                    kind: text_attr(p, "Type"),
                    editor: text_attr(p, "Editor"),
                    title: text_attr(p, "Title"),
                    key: text_attr(p, "Key"),
                    description: text_attr(p, "Description"),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn read_scenario(scenario: &XmlElement) -> ScenarioView {
    let requests = scenario
        .child("Requests")
        .map(|list| {
            list.elements()
                .filter(|e| e.name == "Request")
                .map(|request| {
                    let outputs = request.child("Outputs");
                    RequestView {
                        offset: request.source_offset,
                        name: text_attr(request, "Name"),
                        method: text_attr(request, "Method"),
                        response_type: text_attr(request, "ResponseType"),
                        request_encoding: text_attr(request, "RequestEncoding"),
                        url_format: text_attr(request, "URLFormat"),
                        weight: text_attr(request, "Weight"),
                        trigger: text_attr(request, "Trigger"),
                        parameters: read_parameters(request.child("Parameters")),
                        outputs_next: outputs.map(|o| text_attr(o, "Next")).unwrap_or_default(),
                        outputs: outputs
                            .map(|o| {
                                o.elements()
                                    .filter(|e| e.name == "Output")
                                    .map(|out| OutputView {
                                        name: text_attr(out, "Name"),
                                        path: text_attr(out, "Path"),
                                        kind: text_attr(out, "Type"),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    ScenarioView {
        offset: scenario.source_offset,
        id: text_attr(scenario, "Id"),
        kind: text_attr(scenario, "Type"),
        parameters: read_parameters(scenario.child("Parameters")),
        requests,
    }
}
