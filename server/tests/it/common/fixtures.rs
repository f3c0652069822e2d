//! CRM templates shared by the Rust tests, the benches and the browser tests, as files in
//! `fixtures/crm/` (valid as written: `app/tests/it/template_fixtures.rs` checks every
//! one). A file calls its CRM [`FIXTURE_CRM`]; a test points it at its stand-in and changes
//! only what that test varies, on the parsed tree (never by editing text), so what a test
//! uploads is always a well-formed template.

use std::path::PathBuf;

use app::template::model::documented_attribute_order;
use app::template::xml::{parse, write_ordered, XmlDocument, XmlElement, XmlNode};

/// The CRM origin every fixture file names; [`Fixture::at`] replaces it.
pub const FIXTURE_CRM: &str = "https://crm.example.com";

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/crm")
}

/// A fixture template, parsed, on its way to a test.
#[derive(Clone, Debug)]
pub struct Fixture {
    name: String,
    document: XmlDocument,
}

impl Fixture {
    /// `fixtures/crm/{name}`; a missing or malformed file fails the test that asked.
    pub fn load(name: &str) -> Self {
        let path = fixture_dir().join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let document = parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        Fixture {
            name: name.to_string(),
            document,
        }
    }

    /// Sets an attribute of `<Information>` (Key, Provider, AuthType, a scenario switch...).
    pub fn set(mut self, attribute: &str, value: impl Into<String>) -> Self {
        self.document.root.set_attribute(attribute, value);
        self
    }

    /// Leaves out the scenario with this Id.
    pub fn without_scenario(mut self, id: &str) -> Self {
        let scenarios = self.scenarios();
        let before = scenarios.children.len();
        scenarios
            .children
            .retain(|node| !matches!(node, XmlNode::Element(e) if e.attribute("Id") == Some(id)));
        assert!(
            scenarios.children.len() < before,
            "{}: no scenario {id}",
            self.name
        );
        self
    }

    /// Sets (or adds) the scenario-level `<Parameter Name=…>` of scenario `id`.
    pub fn parameter(mut self, id: &str, name: &str, value: &str) -> Self {
        let parameters = self.scenario_parameters(id);
        match parameters.children.iter_mut().find_map(|node| match node {
            XmlNode::Element(e) if e.attribute("Name") == Some(name) => Some(e),
            _ => None,
        }) {
            Some(existing) => existing.set_attribute("Value", value),
            None => {
                let mut added = XmlElement::new("Parameter");
                added.set_attribute("Name", name);
                added.set_attribute("Value", value);
                parameters.children.push(XmlNode::Element(added));
            }
        }
        self
    }

    /// Adds a `<Parameter>` with these attributes to scenario `id` (one with a `Father`, say).
    pub fn add_parameter(mut self, id: &str, attributes: &[(&str, &str)]) -> Self {
        let mut added = XmlElement::new("Parameter");
        for (name, value) in attributes {
            added.set_attribute(name, *value);
        }
        self.scenario_parameters(id)
            .children
            .push(XmlNode::Element(added));
        self
    }

    /// Removes the scenario-level `<Parameter Name=…>` of scenario `id`.
    pub fn without_parameter(mut self, id: &str, name: &str) -> Self {
        self.scenario_parameters(id).children.retain(
            |node| !matches!(node, XmlNode::Element(e) if e.attribute("Name") == Some(name)),
        );
        self
    }

    /// Sets an attribute (`URLFormat`, `Trigger`…) of request `request` of scenario `id`.
    pub fn request_attribute(
        mut self,
        id: &str,
        request: &str,
        attribute: &str,
        value: &str,
    ) -> Self {
        let name = self.name.clone();
        let requests = child_mut(self.scenario(id), "Requests")
            .unwrap_or_else(|| panic!("{name}: scenario {id} has no <Requests>"));
        let found = requests
            .children
            .iter_mut()
            .find_map(|node| match node {
                XmlNode::Element(e) if e.attribute("Name") == Some(request) => Some(e),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{name}: no request {id}/{request}"));
        found.set_attribute(attribute, value);
        self
    }

    /// The template's text with its CRM at `crm` (an origin, optionally with a path prefix).
    pub fn at(&self, crm: &str) -> String {
        write_ordered(&self.document, documented_attribute_order).replace(FIXTURE_CRM, crm)
    }

    fn scenarios(&mut self) -> &mut XmlElement {
        let name = self.name.clone();
        child_mut(&mut self.document.root, "Scenarios")
            .unwrap_or_else(|| panic!("{name}: no <Scenarios>"))
    }

    fn scenario(&mut self, id: &str) -> &mut XmlElement {
        let name = self.name.clone();
        self.scenarios()
            .children
            .iter_mut()
            .find_map(|node| match node {
                XmlNode::Element(e) if e.attribute("Id") == Some(id) => Some(e),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{name}: no scenario {id}"))
    }

    fn scenario_parameters(&mut self, id: &str) -> &mut XmlElement {
        let scenario = self.scenario(id);
        if child_mut(scenario, "Parameters").is_none() {
            scenario
                .children
                .insert(0, XmlNode::Element(XmlElement::new("Parameters")));
        }
        child_mut(scenario, "Parameters").expect("just added")
    }
}

fn child_mut<'a>(element: &'a mut XmlElement, name: &str) -> Option<&'a mut XmlElement> {
    element.children.iter_mut().find_map(|node| match node {
        XmlNode::Element(e) if e.name == name => Some(e),
        _ => None,
    })
}
