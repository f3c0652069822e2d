//! Turns an uploaded or submitted template text into what storage keeps: the text exactly as
//! given (so an unedited download is byte for byte the upload), the logo carried in
//! `<LogoImage>`, and the validator's warnings. Pure: no I/O.

use app::template::logo::check_logo;
use app::template::model::{Provider, TemplateView};
use app::template::validate::{validate_text, Finding, Location, Severity};
use app::template::xml::XmlDocument;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use crate::storage::templates::{Logo, TemplateRecord};

/// A template the validator accepted, ready for storage.
#[derive(Debug, Clone)]
pub struct AcceptedTemplate {
    pub record: TemplateRecord,
}

/// Why a text was refused: the validator's errors (and warnings, for context).
#[derive(Debug, Clone)]
pub struct Refusal {
    pub findings: Vec<Finding>,
}

impl Refusal {
    /// "line 3 column 7: raw '&' …" for the first error, so one line says what and where.
    pub fn summary(&self) -> String {
        let first = self.findings.iter().find(|f| f.severity == Severity::Error);
        match first {
            Some(finding) => match (finding.location.line, finding.location.column) {
                (Some(line), Some(column)) => {
                    format!("line {line} column {column}: {}", finding.message)
                }
                _ => finding.message.clone(),
            },
            None => "the template is not valid".to_string(),
        }
    }
}

/// The codes intake reports besides the validator's (docs/validator.md explains them).
pub const INTAKE_CODES: [&str; 1] = ["logo.invalid"];

fn error(code: &str, message: String, location: Location) -> Finding {
    Finding::new(Severity::Error, code, message, location)
}

/// Reads `<LogoImage MediaType="…">BASE64</LogoImage>`; the media type is taken from the
/// image bytes, not from the attribute.
fn logo_from(document: &XmlDocument) -> Result<Option<Logo>, Box<Finding>> {
    let Some(element) = document.root.child("LogoImage") else {
        return Ok(None);
    };
    let location = Location {
        attribute: Some("LogoImage".into()),
        ..Default::default()
    };
    let text: String = element
        .text()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = BASE64.decode(text.as_bytes()).map_err(|e| {
        error(
            "logo.base64",
            format!("<LogoImage> is not valid base64: {e}"),
            location.clone(),
        )
    })?;
    let media_type =
        check_logo(&bytes).map_err(|e| error("logo.invalid", e.to_string(), location))?;
    Ok(Some(Logo {
        bytes,
        media_type: media_type.to_string(),
    }))
}

pub fn accept(text: &str) -> Result<AcceptedTemplate, Refusal> {
    let (document, report) = validate_text(text);
    let Some(document) = document else {
        return Err(Refusal {
            findings: report.findings,
        });
    };
    let mut findings = report.findings;
    let logo = match logo_from(&document) {
        Ok(logo) => logo,
        Err(finding) => {
            findings.push(*finding);
            None
        }
    };
    if findings.iter().any(|f| f.severity == Severity::Error) {
        return Err(Refusal { findings });
    }
    let view = TemplateView::read(&document);
    let Some(provider) = Provider::parse(&view.info.provider) else {
        // The validator already refuses unknown providers; this keeps the type honest.
        return Err(Refusal { findings });
    };
    Ok(AcceptedTemplate {
        record: TemplateRecord {
            provider,
            key: view.info.key,
            name: view.info.name,
            remark: view.info.remark,
            version: view.info.version,
            xml: text.to_string(),
            logo,
            warnings: findings,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(extra: &str) -> String {
        format!(
            "<Information Provider=\"helpdesk\" Name=\"Desk\" Key=\"desk\" Version=\"2.0\" AuthType=\"none\" MaxConcurrentRequest=\"3\">\n{extra}<Scenarios>\n<Scenario Id=\"AuthMethod\" Type=\"AUTH\"><Parameters><Parameter Name=\"AuthMethod\" Value=\"none\"/></Parameters></Scenario>\n</Scenarios>\n</Information>\n"
        )
    }

    #[test]
    fn the_text_is_kept_exactly_and_the_fields_are_read() {
        let text = template("");
        let accepted = accept(&text).unwrap();
        assert_eq!(accepted.record.xml, text);
        assert_eq!(accepted.record.provider, Provider::Helpdesk);
        assert_eq!(accepted.record.key, "desk");
        assert_eq!(accepted.record.version, "2.0");
        assert!(accepted.record.logo.is_none());
    }

    #[test]
    fn a_logo_image_is_restored_from_base64() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let text = template(&format!(
            "<LogoImage MediaType=\"image/jpeg\">{}</LogoImage>\n",
            BASE64.encode(png)
        ));
        let logo = accept(&text).unwrap().record.logo.unwrap();
        assert_eq!(logo.bytes, png);
        assert_eq!(
            logo.media_type, "image/png",
            "taken from the bytes, not the attribute"
        );
    }

    #[test]
    fn a_bad_logo_refuses_the_template() {
        let text = template(&format!(
            "<LogoImage>{}</LogoImage>\n",
            BASE64.encode("plain text")
        ));
        let refusal = accept(&text).unwrap_err();
        assert!(
            refusal.findings.iter().any(|f| f.code == "logo.invalid"),
            "{:?}",
            refusal.findings
        );
        let text = template("<LogoImage>***</LogoImage>\n");
        assert!(accept(&text)
            .unwrap_err()
            .findings
            .iter()
            .any(|f| f.code == "logo.base64"));
    }

    #[test]
    fn malformed_text_is_refused_with_its_position() {
        let refusal = accept("<Information Name=\"a&b\"/>").unwrap_err();
        assert_eq!(refusal.findings[0].code, "xml.malformed");
        assert_eq!(refusal.findings[0].location.column, Some(21));
    }
}
