//! Every fixture template: valid ones parse, validate cleanly and survive a canonical
//! write unchanged; malformed ones are refused with a position.

use std::path::PathBuf;

use app::template::model::{documented_attribute_order, TemplateView};
use app::template::validate::validate_text;
use app::template::xml::{parse, write_ordered};

fn fixtures() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates");
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
