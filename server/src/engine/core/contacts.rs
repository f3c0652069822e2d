//! Contact lookup as decisions (docs/scenarios.md "SyncContactAuto";
//! docs/template-format.md "Scenario parameters"): which requests run in which order, how
//! a result is completed by its `<Outputs Next="…">` Common request, and the popup URL.
//! The edge (`engine::lookup`) sends the requests.

use std::collections::BTreeMap;

use app::template::model::{RequestView, ScenarioView, TemplateView};

use super::render::{RenderError, Renderer};
use super::Variables;

pub use super::numbers::PHONE_VARIABLE;
/// The output holding a contact's id in the CRM.
pub const CONTACT_ID_OUTPUT: &str = "ContactsId";
/// Contact fields that are always read, whatever their `<Field>Enable` switch says.
const ALWAYS_ENABLED: [&str; 2] = [CONTACT_ID_OUTPUT, "FirstName"];
/// Fields read only to build the popup URL: the reference says they "will not appear in
/// the PBX contact details", so a lookup's answer leaves them out.
pub const URL_ONLY_FIELDS: [&str; 1] = ["CustomValue"];
/// The most matches a lookup lists for an agent to pick (`MatchRule::All`); each may
/// cost a Next request.
pub const MAX_LISTED_MATCHES: usize = 10;

/// `request` without the outputs whose `<Field>Enable` switch is `0` in `scenario`
/// (docs/template-format.md "Scenario parameters"): a field switched off is not read.
/// A field without a switch is read, as templates written before the switches expect.
pub fn enabled_outputs(scenario: &ScenarioView, request: &RequestView) -> RequestView {
    let mut enabled = request.clone();
    enabled.outputs.retain(|output| {
        ALWAYS_ENABLED.contains(&output.name.as_str())
            || scenario
                .setting(&format!("{}Enable", output.name))
                .map(str::trim)
                != Some("0")
    });
    enabled
}

/// A found contact's fields as shown and answered: empty values and URL-only fields left
/// out.
pub fn shown_fields(fields: BTreeMap<String, String>) -> BTreeMap<String, String> {
    fields
        .into_iter()
        .filter(|(name, value)| !value.is_empty() && !URL_ONLY_FIELDS.contains(&name.as_str()))
        .collect()
}

pub use app::console::FoundContact;

/// The contact types in the template's order, optionally narrowed to `selected` (in the
/// template's order still: the first type with a result wins).
pub fn contact_types<'a>(view: &'a TemplateView, selected: &[String]) -> Vec<&'a RequestView> {
    view.scenario("SyncContactAuto")
        .map(|s| {
            s.requests
                .iter()
                .filter(|r| selected.is_empty() || selected.contains(&r.name))
                .collect()
        })
        .unwrap_or_default()
}

/// The Common request a result continues with (`<Outputs Next="X">`), if the template has
/// it. `Err` names a Next that points nowhere.
pub fn next_request<'a>(
    view: &'a TemplateView,
    request: &RequestView,
) -> Result<Option<&'a RequestView>, String> {
    let next = request.outputs_next.trim();
    if next.is_empty() {
        return Ok(None);
    }
    view.scenario("Common")
        .and_then(|s| s.request(next))
        .map(Some)
        .ok_or_else(|| {
            format!(
                "request {} continues with Next=\"{next}\", but the Common scenario has no request of that name",
                request.name
            )
        })
}

/// Fills the outputs of `result` that are still empty from what the Next request found.
pub fn fill_empty(result: &mut BTreeMap<String, String>, more: &BTreeMap<String, String>) {
    for (name, value) in more {
        let slot = result.entry(name.clone()).or_default();
        if slot.is_empty() {
            slot.clone_from(value);
        }
    }
}

/// The variables a result's own requests (Next, the popup URL) render with: the lookup's
/// variables, the result's outputs, and `ContactSyncType`, `ContactId`.
pub fn result_variables(
    variables: &Variables,
    contact_type: &str,
    result: &BTreeMap<String, String>,
) -> Variables {
    let mut all = variables.clone();
    all.extend(result.clone());
    all.insert("ContactSyncType".into(), contact_type.to_owned());
    if let Some(id) = result.get(CONTACT_ID_OUTPUT) {
        all.insert("ContactId".into(), id.clone());
    }
    all
}

/// The popup URL: URLFormat rendered with the result's variables
/// (`ContactUrlType=specify_url_format`, the default), or the value the ContactFieldForUri
/// path found (`retrieve_from_contact`, passed in as `from_contact`). Empty is none.
pub fn popup_url(
    renderer: &Renderer,
    scenario: &ScenarioView,
    variables: &Variables,
    from_contact: Option<&str>,
) -> Result<Option<String>, RenderError> {
    let url = match scenario.setting("ContactUrlType").map(str::trim) {
        Some("retrieve_from_contact") => from_contact.unwrap_or_default().to_owned(),
        _ => renderer.render(
            "URLFormat of SyncContactAuto",
            scenario.setting("URLFormat").unwrap_or_default(),
            variables,
        )?,
    };
    let url = url.trim();
    Ok((!url.is_empty()).then(|| url.to_owned()))
}

/// A search answered 204 No Content found nothing (Zoho CRM answers a search without a
/// match so): there is no body to read outputs from.
pub fn found_nothing(received: &super::response::Received) -> bool {
    received.status == 204
}

/// ContactFieldForUri: the path that reads a contact's own URL (retrieve_from_contact).
pub fn uri_path(scenario: &ScenarioView) -> Option<&str> {
    (scenario.setting("ContactUrlType").map(str::trim) == Some("retrieve_from_contact"))
        .then(|| {
            scenario
                .setting("ContactFieldForUri")
                .unwrap_or_default()
                .trim()
        })
        .filter(|path| !path.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::template::xml::parse;

    fn view(scenarios: &str) -> TemplateView {
        TemplateView::read(
            &parse(&format!(
                r#"<Information Provider="crm" Name="n" Key="k" AuthType="none"><Scenarios>{scenarios}</Scenarios></Information>"#
            ))
            .unwrap(),
        )
    }

    const SYNC: &str = r#"<Scenario Id="SyncContactAuto" Type="REST"><Parameters>
        <Parameter Name="ContactUrlType" Value="specify_url_format"/>
        <Parameter Name="URLFormat" Value="https://crm.example/{{.ContactSyncType}}/{{.ContactId}}"/>
        </Parameters><Requests>
        <Request Name="Contacts" Method="GET" URLFormat="https://crm.example/contacts?q={{.Phone}}"><Outputs Next="Owner"><Output Name="ContactsId" Path="data.#.id"/></Outputs></Request>
        <Request Name="Leads" Method="GET" URLFormat="https://crm.example/leads?q={{.Phone}}"/>
        </Requests></Scenario>
        <Scenario Id="Common" Type="REST"><Requests><Request Name="Owner" Method="GET" URLFormat="https://crm.example/owners/{{.ContactId}}"/></Requests></Scenario>"#;

    #[test]
    fn types_keep_the_templates_order_and_a_result_builds_its_popup_url() {
        let view = view(SYNC);
        let names = |selected: &[String]| -> Vec<String> {
            contact_types(&view, selected)
                .iter()
                .map(|r| r.name.clone())
                .collect()
        };
        assert_eq!(names(&[]), ["Contacts", "Leads"]);
        assert_eq!(
            names(&["Leads".into(), "Contacts".into()]),
            ["Contacts", "Leads"]
        );
        assert_eq!(names(&["Leads".into()]), ["Leads"]);

        let result = BTreeMap::from([("ContactsId".to_owned(), "42".to_owned())]);
        let variables = result_variables(&Variables::new(), "Contacts", &result);
        let scenario = view.scenario("SyncContactAuto").unwrap();
        let url = popup_url(&Renderer::utc(), scenario, &variables, None).unwrap();
        assert_eq!(url.as_deref(), Some("https://crm.example/Contacts/42"));
        assert_eq!(uri_path(scenario), None);
    }

    #[test]
    fn next_finds_its_common_request_or_says_it_is_missing() {
        let view = view(SYNC);
        let sync = view.scenario("SyncContactAuto").unwrap();
        let next = next_request(&view, &sync.requests[0]).unwrap().unwrap();
        assert_eq!(next.name, "Owner");
        assert_eq!(next_request(&view, &sync.requests[1]).unwrap(), None);

        let broken = self::view(&SYNC.replace(r#"Name="Owner""#, r#"Name="Other""#));
        let sync = broken.scenario("SyncContactAuto").unwrap();
        let error = next_request(&broken, &sync.requests[0]).unwrap_err();
        assert!(error.contains(r#"Next="Owner""#), "{error}");
    }

    #[test]
    fn switched_off_fields_are_not_read_and_custom_value_is_not_shown() {
        let view = view(&SYNC.replace(
            r#"<Parameter Name="ContactUrlType" Value="specify_url_format"/>"#,
            r#"<Parameter Name="EmailEnable" Value="0"/><Parameter Name="FirstNameEnable" Value="0"/>
               <Parameter Name="CompanyEnable" Value="1"/>"#,
        ));
        let scenario = view.scenario("SyncContactAuto").unwrap();
        let mut request = scenario.requests[0].clone();
        for name in ["FirstName", "Email", "Company", "Street"] {
            request.outputs.push(app::template::model::OutputView {
                name: name.into(),
                path: name.to_lowercase(),
                kind: String::new(),
            });
        }
        let names: Vec<String> = enabled_outputs(scenario, &request)
            .outputs
            .into_iter()
            .map(|o| o.name)
            .collect();
        assert_eq!(
            names,
            ["ContactsId", "FirstName", "Company", "Street"],
            "Email is off; ContactsId and FirstName are always read; Street has no switch"
        );
        let shown = shown_fields(BTreeMap::from([
            ("FirstName".to_owned(), "Ann".to_owned()),
            ("CustomValue".to_owned(), "Contacts".to_owned()),
            ("Company".to_owned(), String::new()),
        ]));
        assert_eq!(
            shown,
            BTreeMap::from([("FirstName".to_owned(), "Ann".to_owned())])
        );
    }

    #[test]
    fn the_next_request_fills_only_empty_outputs() {
        let mut result = BTreeMap::from([
            ("FirstName".to_owned(), "Ann".to_owned()),
            ("Company".to_owned(), String::new()),
        ]);
        let more = BTreeMap::from([
            ("FirstName".to_owned(), "Other".to_owned()),
            ("Company".to_owned(), "Acme".to_owned()),
            ("Email".to_owned(), "ann@acme.test".to_owned()),
        ]);
        fill_empty(&mut result, &more);
        assert_eq!(result["FirstName"], "Ann");
        assert_eq!(result["Company"], "Acme");
        assert_eq!(result["Email"], "ann@acme.test");
    }
}
