//! Every fixture template: valid ones parse, validate cleanly and survive a canonical
//! write unchanged; malformed ones are refused with a position.

use std::path::PathBuf;

use app::template::model::{documented_attribute_order, TemplateView};
use app::template::validate::validate_text;
use app::template::xml::{parse, write_ordered};

fn fixtures() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/templates");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .map(|entry| entry.expect("fixture entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "xml"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).expect("fixture text"))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 3, "fixtures missing from {}", dir.display());
    files
}

fn is_malformed(name: &str) -> bool {
    name.starts_with("malformed-")
}

fn is_invalid(name: &str) -> bool {
    name.starts_with("invalid-")
}

#[test]
fn valid_fixtures_round_trip_through_the_canonical_writer() {
    for (name, text) in fixtures().into_iter().filter(|(n, _)| !is_malformed(n)) {
        let document = parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let written = write_ordered(&document, documented_attribute_order);
        let again = parse(&written).unwrap_or_else(|e| panic!("{name} rewritten: {e}\n{written}"));
        assert_eq!(again, document, "{name}: the tree changed through write");
        assert_eq!(
            write_ordered(&again, documented_attribute_order),
            written,
            "{name}: write(parse(x)) is not stable"
        );
        assert_eq!(
            TemplateView::read(&again),
            TemplateView::read(&document),
            "{name}"
        );
    }
}

#[test]
fn valid_fixtures_have_no_findings_and_invalid_ones_have_errors() {
    for (name, text) in fixtures() {
        let (document, report) = validate_text(&text);
        if is_malformed(&name) {
            assert!(document.is_none(), "{name} parsed");
            let finding = &report.findings[0];
            assert!(
                finding.location.line.is_some() && finding.location.column.is_some(),
                "{name}"
            );
        } else if is_invalid(&name) {
            assert!(report.has_errors(), "{name} validated cleanly");
        } else {
            assert_eq!(report.findings, vec![], "{name}");
        }
    }
}

#[test]
fn the_canonical_writer_puts_documented_attributes_first() {
    let text = r#"<Information Custom="x" Key="k" Provider="crm"><Scenarios><Scenario Type="REST" Id="CallJournal"/></Scenarios></Information>"#;
    let written = write_ordered(&parse(text).unwrap(), documented_attribute_order);
    assert!(
        written.contains(r#"<Information Provider="crm" Key="k" Custom="x">"#),
        "{written}"
    );
    assert!(
        written.contains(r#"<Scenario Id="CallJournal" Type="REST"/>"#),
        "{written}"
    );
}

mod form {
    use super::*;
    use app::template::form::TemplateForm;

    fn valid_fixtures() -> Vec<(String, app::template::xml::XmlDocument)> {
        fixtures()
            .into_iter()
            .filter(|(name, _)| !is_malformed(name) && !is_invalid(name))
            .map(|(name, text)| {
                let document = parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
                (name, document)
            })
            .collect()
    }

    fn canonical(document: &app::template::xml::XmlDocument) -> String {
        write_ordered(document, documented_attribute_order)
    }

    #[test]
    fn applying_an_unedited_form_changes_nothing() {
        for (name, document) in valid_fixtures() {
            let form = TemplateForm::read(&document);
            let applied = form.apply(&document);
            assert_eq!(canonical(&applied), canonical(&document), "{name}");
            assert_eq!(
                TemplateForm::read(&applied),
                form,
                "{name}: form → template → form"
            );
        }
    }

    #[test]
    fn a_template_built_from_the_form_alone_reads_back_as_the_same_form_and_validates() {
        for (name, document) in valid_fixtures() {
            let mut form = TemplateForm::read(&document);
            // A new template gets one mapping for every contact type.
            form.contacts.mapping_differs = false;
            let created = form.to_new_document();
            assert_eq!(TemplateForm::read(&created), form, "{name}");
            let (_, report) = validate_text(&canonical(&created));
            assert!(
                !report.has_errors(),
                "{name}: {:?}",
                report.errors().collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn an_edit_changes_only_its_own_lines_and_keeps_hand_written_content() {
        let (_, document) = valid_fixtures()
            .into_iter()
            .find(|(name, _)| name == "crm-extended-configurations.xml")
            .expect("the extended fixture");
        let before = canonical(&document);
        let mut form = TemplateForm::read(&document);
        form.name = "Atlas CRM (renamed)".into();
        form.call_journal.url = "https://api.atlas.example/v4/calls".into();
        let after = canonical(&form.apply(&document));

        assert_eq!(before.lines().count(), after.lines().count(), "{after}");
        let changed: Vec<(&str, &str)> = before
            .lines()
            .zip(after.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(changed.len(), 2, "{changed:#?}");
        assert!(changed[0].1.contains("Name=\"Atlas CRM (renamed)\""));
        assert!(changed[1]
            .1
            .contains("URLFormat=\"https://api.atlas.example/v4/calls\""));
        for kept in [
            "x-author=\"integrations team\"",
            "<!-- Extended configuration",
            "<AtlasExtras Mode=\"beta\">",
            "RetryPolicy=\"aggressive\"",
            "<Outputs Next=\"CompanyAddress\">",
            "Id=\"GetGlobalInfo\"",
            "Id=\"SearchContact\"",
            "Father=\"TokenErrorMap\"",
        ] {
            assert!(after.contains(kept), "{kept} lost:\n{after}");
        }
    }

    #[test]
    fn differing_contact_mappings_are_kept_until_the_mapping_is_edited() {
        let (_, document) = valid_fixtures()
            .into_iter()
            .find(|(name, _)| name == "crm-oauth2-every-contact-field.xml")
            .expect("the OAuth2 fixture");
        let mut form = TemplateForm::read(&document);
        assert!(
            form.contacts.mapping_differs,
            "Contacts and Leads map differently"
        );
        let leads_street = |doc: &app::template::xml::XmlDocument| {
            TemplateView::read(doc)
                .scenario("SyncContactAuto")
                .and_then(|s| s.request("Leads"))
                .and_then(|r| {
                    r.outputs
                        .iter()
                        .find(|o| o.name == "Street")
                        .map(|o| o.path.clone())
                })
        };
        assert_eq!(leads_street(&document), None);

        form.remark = "edited elsewhere".into();
        assert_eq!(
            leads_street(&form.apply(&document)),
            None,
            "mapping untouched"
        );

        form.contacts.mapping_edited = true;
        let street = form
            .contacts
            .fields
            .iter_mut()
            .find(|f| f.field == "Street")
            .unwrap();
        street.path = "data.#.Street".into();
        let applied = form.apply(&document);
        assert_eq!(
            leads_street(&applied),
            Some("data.#.Street".into()),
            "written to every type"
        );
        assert!(!TemplateForm::read(&applied).contacts.mapping_differs);
    }

    #[test]
    fn contact_types_follow_ups_and_custom_fields_can_be_added_and_removed() {
        let (_, document) = valid_fixtures()
            .into_iter()
            .find(|(name, _)| name == "crm-bearer-follow-ups.xml")
            .expect("the bearer fixture");
        let mut form = TemplateForm::read(&document);
        form.follow_ups.retain(|f| f.name != "RefreshAudit");
        form.auth.custom_fields.pop();
        form.contacts
            .types
            .push(app::template::form::ContactTypeForm {
                name: "companies".into(),
                method: "GET".into(),
                url: "https://{{.tenant}}.orbit.example/api/companies?phone={{UrlEncode .Phone}}"
                    .into(),
            });
        let applied = form.apply(&document);
        let again = TemplateForm::read(&applied);
        assert_eq!(again, form);
        let view = TemplateView::read(&applied);
        assert!(view
            .scenario("FollowUp")
            .unwrap()
            .request("RefreshAudit")
            .is_none());
        let companies = view
            .scenario("SyncContactAuto")
            .unwrap()
            .request("companies")
            .unwrap();
        assert_eq!(
            companies.outputs.len(),
            form.contacts
                .fields
                .iter()
                .filter(|f| !f.path.is_empty())
                .count()
        );
    }
}

/// The CRM templates the server's tests, benches and browser tests upload
/// (`fixtures/crm/`): each parses and has no error, so a test fails for what it checks and
/// not for a broken fixture. Warnings are allowed: a test CRM asks only what its test needs.
#[test]
fn test_crm_fixtures_have_no_errors_and_call_one_origin() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/crm");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures/crm") {
        let path = entry.expect("fixture entry").path();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).expect("fixture text");
        let (document, report) = validate_text(&text);
        assert!(document.is_some(), "{name}: {:?}", report.findings);
        assert!(!report.has_errors(), "{name}: {:?}", report.findings);
        let view = TemplateView::read(&document.unwrap());
        for request in view.scenarios.iter().flat_map(|s| &s.requests) {
            // Or the instance the (replaced) token endpoint names in its answer.
            assert!(
                request.url_format.contains("https://crm.example.com/")
                    || request
                        .url_format
                        .starts_with("{{.TokenResponse_instance_url}}/"),
                "{name}: request {} goes to {}, not the origin tests replace",
                request.name,
                request.url_format
            );
        }
        seen += 1;
    }
    assert!(seen >= 5, "fixtures missing from {}", dir.display());
}
