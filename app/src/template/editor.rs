//! What the template editor page needs from the template model, kept here so
//! it is shared and tested without a browser: a new template's starting form,
//! the canonical text of a document, where a finding belongs in the form, and
//! the logo carried inside the XML.

use super::form::{ContactFieldForm, TemplateForm, UserAssociationForm};
use super::model::{documented_attribute_order, Provider, CONTACT_FIELDS};
use super::validate::Location;
use super::xml::{write_ordered, XmlDocument, XmlElement, XmlNode};

/// The canonical text of a template (documented attributes first, two-space indent).
pub fn canonical_text(document: &XmlDocument) -> String {
    write_ordered(document, documented_attribute_order)
}

/// The form of a new template: what an author always fills in, with the
/// vendor's defaults.
pub fn new_form(provider: Provider, key: String) -> TemplateForm {
    let mut form = TemplateForm {
        provider: provider.as_str().into(),
        key,
        version: "1.0.0".into(),
        max_concurrent_request: "5".into(),
        ..TemplateForm::default()
    };
    form.auth.method = "none".into();
    form.contacts.popup_mode = "specify_url_format".into();
    form.contacts.fields = CONTACT_FIELDS
        .iter()
        .map(|field| ContactFieldForm {
            field: (*field).into(),
            // Contact ID and First Name are always on (README "Templates REST API").
            enabled: matches!(*field, "ContactsId" | "FirstName"),
            path: String::new(),
        })
        .collect();
    form.call_journal.method = "POST".into();
    form.ticket.method = "POST".into();
    form.user_association.method = "GET".into();
    form.user_association.pagination = "disabled".into();
    form
}

fn auth_field(parameter: &str) -> Option<&'static str> {
    Some(match parameter {
        "AuthMethod" => "auth.method",
        "CredentialType" => "auth.credential_type",
        "Base64EncodedCredential" => "auth.credential",
        "AuthEndPoint" => "auth.auth_endpoint",
        "TokenEndPoint" => "auth.token_endpoint",
        "TokenContentType" => "auth.token_content_type",
        "Scope" => "auth.scope",
        "AdditionalQueryString" => "auth.additional_query",
        "TokenType" => "auth.token_type",
        "TokenRefreshMethod" => "auth.refresh_method",
        "TokenRefreshEndPoint" => "auth.refresh_endpoint",
        "TokenRefreshContentType" => "auth.refresh_content_type",
        "TokenRefreshTime" => "auth.refresh_time",
        "TokenRefreshBody" => "auth.refresh_body",
        _ => return None,
    })
}

fn is_body(parameter: Option<&str>) -> bool {
    matches!(parameter, Some("Data" | "Body"))
}

/// The id of the form field a finding is about (the editor marks that
/// field), or `None` when the form does not show it.
pub fn field_for(form: &TemplateForm, location: &Location) -> Option<String> {
    let attribute = location.attribute.as_deref();
    let parameter = location.parameter.as_deref();
    let request = location.request.as_deref();
    let Some(scenario) = location.scenario.as_deref() else {
        return Some(
            match attribute? {
                "Name" => "name",
                "Key" => "key",
                "Version" => "version",
                "Remark" => "remark",
                "MaxConcurrentRequest" => "max_concurrent_request",
                "AuthType" => "auth.method",
                "Logo" => "logo",
                _ => return None,
            }
            .into(),
        );
    };
    let output = attribute.and_then(|a| a.strip_prefix("Path of output "));
    let url_or_body = |prefix: String| {
        if attribute == Some("URLFormat") {
            Some(format!("{prefix}.url"))
        } else if is_body(parameter) {
            Some(format!("{prefix}.body"))
        } else {
            None
        }
    };
    match scenario {
        "AuthMethod" => match parameter {
            Some(p) => auth_field(p).map(str::to_string).or_else(|| {
                form.auth
                    .custom_fields
                    .iter()
                    .position(|f| f.name == p)
                    .map(|i| format!("auth.custom_fields.{i}.name"))
            }),
            None => Some("auth.method".into()),
        },
        "UserAssociation" => output
            .and_then(UserAssociationForm::field_id_of_output)
            .or(Some("user_association.url".into())),
        "CallJournal" => url_or_body("call_journal".into()),
        "CreateNewTicket" => url_or_body("ticket".into()),
        "SyncContactAuto" => {
            let i = form
                .contacts
                .types
                .iter()
                .position(|t| Some(t.name.as_str()) == request)?;
            if attribute == Some("URLFormat") {
                Some(format!("contacts.types.{i}.url"))
            } else {
                // A finding about one output marks its path; one about the whole mapping
                // (no phone field mapped) is shown above the mapping table.
                output
                    .and_then(|name| form.contacts.field_id_of_output(name))
                    .or(Some("contacts.fields".into()))
            }
        }
        "CreateNewContact" => {
            let i = form
                .create_contact
                .types
                .iter()
                .position(|t| Some(t.name.as_str()) == request)?;
            url_or_body(format!("create_contact.types.{i}"))
        }
        "FollowUp" => {
            let i = form
                .follow_ups
                .iter()
                .position(|f| Some(f.name.as_str()) == request)?;
            url_or_body(format!("follow_ups.{i}")).or(Some(format!("follow_ups.{i}.url")))
        }
        _ => {
            let header = parameter.and_then(|p| form.headers.iter().position(|h| h.name == p));
            header.map(|i| format!("headers.{i}.value"))
        }
    }
}

/// The template's logo as a `data:` URL for a preview, if it carries one.
pub fn logo_data_url(document: &XmlDocument) -> Option<String> {
    let logo = document.root.child("LogoImage")?;
    let media_type = logo.attribute("MediaType").unwrap_or("image/png");
    let data: String = logo.text().split_whitespace().collect();
    (!data.is_empty()).then(|| format!("data:{media_type};base64,{data}"))
}

/// Puts a logo into the template as its `<LogoImage>` (replacing one that
/// is there), so the logo travels with the downloaded XML: `base64`, its
/// bytes in standard base64 (the page has the browser encode them). The
/// bytes must have passed [`super::logo::check_logo`]; `media_type` is what
/// it found.
pub fn set_logo(document: &mut XmlDocument, media_type: &str, base64: String) {
    let mut element = XmlElement::new("LogoImage");
    element.set_attribute("MediaType", media_type);
    element.children.push(XmlNode::Text(base64));
    let children = &mut document.root.children;
    match children
        .iter_mut()
        .find(|n| matches!(n, XmlNode::Element(e) if e.name == "LogoImage"))
    {
        Some(existing) => *existing = XmlNode::Element(element),
        None => children.insert(0, XmlNode::Element(element)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::form::ContactsForm;
    use crate::template::validate::validate_document;

    #[test]
    fn a_new_form_with_a_name_and_a_phone_field_is_a_valid_template() {
        let mut form = new_form(Provider::Crm, "acme".into());
        form.name = "Acme".into();
        form.contacts
            .types
            .push(crate::template::form::ContactTypeForm {
                name: "Contacts".into(),
                method: "GET".into(),
                url: "https://acme.test/contacts?phone={{.Phone}}".into(),
            });
        for field in &mut form.contacts.fields {
            if field.field == "BusinessNumber" {
                field.enabled = true;
                field.path = "data.#.phone".into();
            }
            if field.enabled && field.path.is_empty() {
                field.path = format!("data.#.{}", field.field.to_lowercase());
            }
        }
        let report = validate_document(&form.to_new_document());
        assert!(!report.has_errors(), "{:?}", report.findings);
    }

    #[test]
    fn findings_point_at_their_form_fields() {
        let mut form = new_form(Provider::Crm, "acme".into());
        form.name = String::new();
        form.call_journal.enabled = true;
        form.call_journal.url = "https://x.test/{{.Broken".into();
        let report = validate_document(&form.to_new_document());
        let fields: Vec<Option<String>> = report
            .findings
            .iter()
            .map(|f| field_for(&form, &f.location))
            .collect();
        assert!(
            fields.contains(&Some("name".into())),
            "{:?}",
            report.findings
        );
        assert!(
            fields.contains(&Some("call_journal.url".into())),
            "{:?}",
            report.findings
        );
    }

    #[test]
    fn findings_about_one_output_mark_that_outputs_path() {
        let mut form = new_form(Provider::Crm, "acme".into());
        form.user_association.enabled = true;
        form.user_association.url = "https://x.test/users".into();
        form.user_association.output_paths[3] = "data.#.{{.Broken".into();
        form.contacts
            .types
            .push(crate::template::form::ContactTypeForm {
                name: "Contacts".into(),
                method: "GET".into(),
                url: "https://x.test/c?phone={{.Phone}}".into(),
            });
        let report = validate_document(&form.to_new_document());
        let fields: Vec<Option<String>> = report
            .findings
            .iter()
            .map(|f| field_for(&form, &f.location))
            .collect();
        // Email is the fourth user output; ContactsId the first contact field.
        assert!(
            fields.contains(&Some(UserAssociationForm::output_field_id(3))),
            "{:?}",
            report.findings
        );
        assert_eq!(
            UserAssociationForm::output_field_id(3),
            "user_association.outputs.3"
        );
        let contacts_id = form
            .contacts
            .fields
            .iter()
            .position(|f| f.field == "ContactsId")
            .unwrap();
        assert!(
            fields.contains(&Some(ContactsForm::path_field_id(contacts_id))),
            "{:?} {:?}",
            fields,
            report.findings
        );
    }

    #[test]
    fn the_logo_goes_into_the_xml_and_comes_back_as_a_preview() {
        let mut document = new_form(Provider::Crm, "acme".into()).to_new_document();
        set_logo(&mut document, "image/png", "AQID".into());
        set_logo(&mut document, "image/png", "BAUG".into());
        assert_eq!(
            document
                .root
                .elements()
                .filter(|e| e.name == "LogoImage")
                .count(),
            1
        );
        assert_eq!(
            logo_data_url(&document).as_deref(),
            Some("data:image/png;base64,BAUG")
        );
        assert!(canonical_text(&document)
            .contains("<LogoImage MediaType=\"image/png\">BAUG</LogoImage>"));
    }
}

/// What the editor shows instead of a password field's default value: the
/// value never travels to the page, and a save that still carries the mask
/// keeps the stored value.
pub const PASSWORD_MASK: &str = "••••••••";

/// A password custom field's `<Parameter>`, whose `Value` is a default secret.
fn is_password_field(element: &XmlElement) -> bool {
    element.name == "Parameter"
        && element.attribute("Father") == Some("CustomFieldList")
        && element.attribute("Editor") == Some("password")
}

fn password_defaults(element: &mut XmlElement, visit: &mut dyn FnMut(&mut XmlElement)) {
    if is_password_field(element) {
        visit(element);
    }
    for child in &mut element.children {
        if let XmlNode::Element(e) = child {
            password_defaults(e, visit);
        }
    }
}

/// Replaces the default values of password custom fields with
/// [`PASSWORD_MASK`]; true when there was one to mask.
pub fn mask_password_defaults(document: &mut XmlDocument) -> bool {
    let mut masked = false;
    password_defaults(&mut document.root, &mut |p| {
        if p.attribute("Value").is_some_and(|v| !v.is_empty()) {
            p.set_attribute("Value", PASSWORD_MASK);
            masked = true;
        }
    });
    masked
}

/// The stored text with the default value of every password custom field replaced by
/// [`PASSWORD_MASK`], byte for byte otherwise; `None` when there is none to mask (or the
/// text does not parse, which a stored template always does).
pub fn mask_password_defaults_in_text(source: &str) -> Option<String> {
    let document = crate::template::xml::parse(source).ok()?;
    let mut values: Vec<(usize, usize)> = Vec::new();
    let mut pending = vec![&document.root];
    while let Some(element) = pending.pop() {
        let is_password_default =
            is_password_field(element) && element.attribute("Value").is_some_and(|v| !v.is_empty());
        if let (true, Some(tag)) = (is_password_default, element.source_offset) {
            let start = crate::template::xml::attribute_value_offset(source, tag, "Value");
            let quote = source[..start].chars().next_back();
            if let Some(quote @ ('"' | '\'')) = quote {
                if let Some(length) = source[start..].find(quote) {
                    values.push((start, start + length));
                }
            }
        }
        pending.extend(element.elements());
    }
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mut masked = String::with_capacity(source.len());
    let mut copied = 0;
    for (start, end) in values {
        masked.push_str(&source[copied..start]);
        masked.push_str(PASSWORD_MASK);
        copied = end;
    }
    masked.push_str(&source[copied..]);
    Some(masked)
}

/// Puts back the stored default of every password custom field whose value
/// is still the mask (matched by the field's Name); true when one was.
pub fn restore_password_defaults(document: &mut XmlDocument, stored: &XmlDocument) -> bool {
    let mut originals: Vec<(String, String)> = Vec::new();
    let mut stored = stored.clone();
    password_defaults(&mut stored.root, &mut |p| {
        if let (Some(name), Some(value)) = (p.attribute("Name"), p.attribute("Value")) {
            originals.push((name.to_string(), value.to_string()));
        }
    });
    let mut restored = false;
    password_defaults(&mut document.root, &mut |p| {
        if p.attribute("Value") == Some(PASSWORD_MASK) {
            let name = p.attribute("Name").unwrap_or_default().to_string();
            let original = originals
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone());
            p.set_attribute("Value", original.unwrap_or_default());
            restored = true;
        }
    });
    restored
}

#[cfg(test)]
mod masking_tests {
    use super::*;
    use crate::template::xml::parse;

    const WITH_SECRET: &str = r#"<Information Name="x"><Scenarios><Scenario Id="AuthMethod"><Parameters>
<Parameter Father="CustomFieldList" Name="password" Editor="password" Title="Password" Value="s3cret"/>
<Parameter Father="CustomFieldList" Name="user" Editor="string" Title="User" Value="ada"/>
</Parameters></Scenario></Scenarios></Information>"#;

    #[test]
    fn password_defaults_are_masked_for_the_page_and_restored_on_save() {
        let stored = parse(WITH_SECRET).expect("parses");
        let mut shown = stored.clone();
        assert!(mask_password_defaults(&mut shown));
        let text = canonical_text(&shown);
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("Value=\"ada\""));
        let mut saved = parse(&text).expect("parses");
        assert!(restore_password_defaults(&mut saved, &stored));
        assert!(canonical_text(&saved).contains("Value=\"s3cret\""));
        // A default the author changed is kept as typed.
        let mut changed = parse(&text.replace(PASSWORD_MASK, "new-default")).expect("parses");
        assert!(!restore_password_defaults(&mut changed, &stored));
        assert!(canonical_text(&changed).contains("Value=\"new-default\""));
    }

    #[test]
    fn masking_the_text_changes_only_the_secret_values() {
        let masked = mask_password_defaults_in_text(WITH_SECRET).expect("a secret to mask");
        assert_eq!(masked, WITH_SECRET.replace("s3cret", PASSWORD_MASK));
        let single_quoted = WITH_SECRET.replace(r#"Value="s3cret""#, "Value='s3cret'");
        let masked = mask_password_defaults_in_text(&single_quoted).expect("a secret");
        assert_eq!(masked, single_quoted.replace("s3cret", PASSWORD_MASK));
        assert_eq!(
            mask_password_defaults_in_text(&WITH_SECRET.replace("s3cret", "")),
            None
        );
    }
}
