//! Reading a CRM's answer: did it succeed, does it say the token is invalid, and what do
//! the request's outputs find in it (docs/template-language.md "Paths": zipped by index).

use std::collections::BTreeMap;

use app::lang::mapping::{zip_json_outputs, MappingError};
use app::template::model::RequestView;

use super::auth::AuthSettings;
use super::Variables;

/// A response as the executor received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
    /// The `Link` header (RFC 8288), for link pagination.
    pub link: Option<String>,
    /// The `Retry-After` header (seconds or an HTTP date), honoured by the queue's retries.
    pub retry_after: Option<String>,
}

/// The most a `Retry-After` may postpone a retry: a CRM cannot park a journal for a day.
pub const MAX_RETRY_AFTER_SECS: u64 = 3_600;

/// How long `Retry-After` asks to wait, at `now`: delta-seconds or an HTTP date, capped at
/// [`MAX_RETRY_AFTER_SECS`]; `None` when absent or unreadable.
pub fn retry_after_secs(header: Option<&str>, now: std::time::SystemTime) -> Option<u64> {
    let header = header?.trim();
    let secs = match header.parse::<u64>() {
        Ok(secs) => secs,
        Err(_) => httpdate::parse_http_date(header)
            .ok()?
            .duration_since(now)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    };
    Some(secs.min(MAX_RETRY_AFTER_SECS))
}

/// What a response means for the request that got it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Success,
    /// 401, or a non-2xx answer whose body holds a TokenErrorMap value: the credentials or
    /// the token are not accepted.
    TokenInvalid,
    Failed {
        status: u16,
    },
}

pub fn judge(received: &Received, auth: &AuthSettings) -> Verdict {
    if (200..300).contains(&received.status) {
        return Verdict::Success;
    }
    let listed = auth
        .token_error_values
        .iter()
        .any(|value| received.body.contains(value.as_str()));
    if received.status == 401 || listed {
        Verdict::TokenInvalid
    } else {
        Verdict::Failed {
            status: received.status,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error("request {request}: the answer is not JSON ({what}), so its outputs cannot be read")]
    NotJson { request: String, what: String },
    #[error("request {request}: {source}")]
    Mapping {
        request: String,
        source: MappingError,
    },
}

/// The request's mapped outputs over the response, one map per result. A request without
/// mapped outputs reads nothing and accepts any answer.
pub fn read_outputs(
    request: &RequestView,
    received: &Received,
    variables: &Variables,
) -> Result<Vec<BTreeMap<String, String>>, ResponseError> {
    let outputs: Vec<(&str, &str)> = request
        .outputs
        .iter()
        .filter(|o| !o.path.trim().is_empty())
        .map(|o| (o.name.as_str(), o.path.as_str()))
        .collect();
    if outputs.is_empty() {
        return Ok(Vec::new());
    }
    zip_json_outputs(&received.body, &outputs, variables).map_err(|source| match source {
        MappingError::InvalidJson => ResponseError::NotJson {
            request: request.name.clone(),
            what: describe_non_json(received),
        },
        source => ResponseError::Mapping {
            request: request.name.clone(),
            source,
        },
    })
}

/// "HTML (text/html)", "an empty body", "invalid JSON": what a person can act on.
pub fn describe_non_json(received: &Received) -> String {
    let content_type = received
        .content_type
        .as_deref()
        .unwrap_or("no content type");
    if received.body.trim().is_empty() {
        "an empty body".into()
    } else if content_type.contains("html") || received.body.trim_start().starts_with('<') {
        format!("HTML, {content_type}")
    } else {
        format!("invalid JSON, {content_type}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::template::model::{OutputView, TemplateView};

    #[test]
    fn retry_after_reads_seconds_and_http_dates_within_a_bound() {
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(784_111_777);
        assert_eq!(retry_after_secs(Some(" 120 "), now), Some(120));
        // 30 s after `now` (Sun, 06 Nov 1994 08:49:37 GMT).
        assert_eq!(
            retry_after_secs(Some("Sun, 06 Nov 1994 08:50:07 GMT"), now),
            Some(30)
        );
        assert_eq!(
            retry_after_secs(Some("Sun, 06 Nov 1994 08:00:00 GMT"), now),
            Some(0),
            "a date passed"
        );
        assert_eq!(
            retry_after_secs(Some("86400"), now),
            Some(MAX_RETRY_AFTER_SECS)
        );
        assert_eq!(retry_after_secs(Some("soon"), now), None);
        assert_eq!(retry_after_secs(None, now), None);
    }

    fn received(status: u16, body: &str) -> Received {
        Received {
            status,
            content_type: Some("application/json".into()),
            body: body.into(),
            link: None,
            retry_after: None,
        }
    }

    #[test]
    fn a_401_or_a_token_error_map_match_means_token_invalid() {
        let xml = r#"<Information Provider="crm" Name="n" Key="k" AuthType="bearer"><Scenarios>
            <Scenario Id="AuthMethod" Type="AUTH"><Parameters>
              <Parameter Father="TokenErrorMap" Type="TokenInvalid" Name="e" Value="INVALID_OAUTHTOKEN"/>
            </Parameters></Scenario></Scenarios></Information>"#;
        let auth = AuthSettings::read(&TemplateView::read(
            &app::template::xml::parse(xml).unwrap(),
        ));
        assert_eq!(
            judge(&received(200, "INVALID_OAUTHTOKEN"), &auth),
            Verdict::Success
        );
        assert_eq!(judge(&received(401, ""), &auth), Verdict::TokenInvalid);
        assert_eq!(
            judge(&received(400, r#"{"code":"INVALID_OAUTHTOKEN"}"#), &auth),
            Verdict::TokenInvalid
        );
        assert_eq!(
            judge(&received(500, "oops"), &auth),
            Verdict::Failed { status: 500 }
        );
    }

    #[test]
    fn outputs_are_zipped_and_html_is_named() {
        let request = RequestView {
            name: "Contacts".into(),
            outputs: vec![
                OutputView {
                    name: "ContactsId".into(),
                    path: "data.#.id".into(),
                    kind: String::new(),
                },
                OutputView {
                    name: "FirstName".into(),
                    path: "data.#.first".into(),
                    kind: String::new(),
                },
                OutputView {
                    name: "Company".into(),
                    path: String::new(),
                    kind: String::new(),
                },
            ],
            ..Default::default()
        };
        let results = read_outputs(
            &request,
            &received(
                200,
                r#"{"data":[{"id":1,"first":"Ann"},{"id":2,"first":"Bob"}]}"#,
            ),
            &Variables::new(),
        )
        .unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[1]["FirstName"], "Bob");
        assert!(!results[0].contains_key("Company"));
        let html = Received {
            status: 200,
            content_type: Some("text/html; charset=utf-8".into()),
            body: "<html>login</html>".into(),
            link: None,
            retry_after: None,
        };
        let error = read_outputs(&request, &html, &Variables::new()).unwrap_err();
        assert!(error.to_string().contains("HTML, text/html"), "{error}");
    }
}
