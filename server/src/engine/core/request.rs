//! A template request rendered into what is sent (docs/template-format.md "Requests"): URL,
//! headers and body rendered with the template language; authentication and global headers
//! applied; a request whose URL renders empty is skipped.

use app::template::model::{AuthType, RequestView};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::auth::AuthSettings;
use super::render::{RenderError, Renderer};
use super::url_guard::{check_url, check_user_values_in_host, UrlError};
use super::Variables;

pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// `RequestEncoding` values: a form, or (empty, the default) JSON.
pub const FORM_ENCODING: &str = "form";
pub const JSON_ENCODING: &str = "";
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// A request ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboundRequest {
    /// The template request's name, for messages and traces.
    pub name: String,
    pub method: Method,
    pub url: url::Url,
    /// In order; names compared without case, a later one replaces an earlier one.
    pub headers: Vec<(String, String)>,
    pub body: Option<OutboundBody>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboundBody {
    pub content_type: &'static str,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn parse(text: &str) -> Option<Method> {
        match text.trim().to_ascii_uppercase().as_str() {
            "" | "GET" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "PUT" => Some(Method::Put),
            "PATCH" => Some(Method::Patch),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error(
        "request {request}: the method {method:?} is not one of GET, POST, PUT, PATCH, DELETE"
    )]
    Method { request: String, method: String },
    #[error("request {request}: the header {name:?} is not a valid header (a name of letters, digits and -, a value without line breaks)")]
    Header { request: String, name: String },
    #[error("request {request}: its Headers (JSON) parameter is not a JSON object of header names and values: {reason}")]
    HeaderJson { request: String, reason: String },
}

/// Everything a request renders with.
pub struct RequestContext<'a> {
    pub renderer: &'a Renderer,
    pub auth: &'a AuthSettings,
    pub variables: &'a Variables,
    /// Names of the text fields a user fills in (see `url_guard`).
    pub user_fields: &'a [String],
    pub access_token: Option<&'a str>,
}

/// Which requests carry the template's global headers: those of the REST scenarios, never
/// authorization, token or follow-up requests (docs/template-format.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalHeaders {
    Apply,
    Omit,
}

impl RequestContext<'_> {
    /// Renders `request` of `scenario`; `None` when its URL renders empty (skipped).
    pub fn render(
        &self,
        scenario: &str,
        request: &RequestView,
        global: GlobalHeaders,
    ) -> Result<Option<OutboundRequest>, RequestError> {
        let label = |part: &str| format!("{part} of request {scenario}/{}", request.name);
        let url_label = label("URLFormat");
        let url = self
            .renderer
            .render(&url_label, &request.url_format, self.variables)?;
        if url.trim().is_empty() {
            return Ok(None);
        }
        check_user_values_in_host(
            self.renderer,
            &url_label,
            &request.url_format,
            self.variables,
            self.user_fields,
        )?;
        let url = check_url(&url_label, &url)?;
        let method = Method::parse(&request.method).ok_or_else(|| RequestError::Method {
            request: request.name.clone(),
            method: request.method.clone(),
        })?;

        let mut headers = Vec::new();
        if let Some(authorization) = self.authorization()? {
            headers.push(("Authorization".to_owned(), authorization));
        }
        let global_headers = match global {
            GlobalHeaders::Apply => self.auth.global_headers.as_slice(),
            GlobalHeaders::Omit => &[],
        };
        let own_headers = request
            .headers()
            .map(|p| (p.name.trim().to_owned(), p.value.clone()));
        for (name, template) in global_headers.iter().cloned().chain(own_headers) {
            let value = self.renderer.render(
                &label(&format!("header {name}")),
                &template,
                self.variables,
            )?;
            set_header(&mut headers, &request.name, name, value)?;
        }
        for parameter in request.header_json() {
            for (name, value) in
                self.header_json(&label("Headers (JSON)"), request, &parameter.value)?
            {
                set_header(&mut headers, &request.name, name, value)?;
            }
        }

        let body = match request.body() {
            Some(body) => {
                let text = self
                    .renderer
                    .render(&label("body"), &body.value, self.variables)?;
                encode_body(&request.request_encoding, text)
            }
            None => None,
        };
        Ok(Some(OutboundRequest {
            name: request.name.clone(),
            method,
            url,
            headers,
            body,
        }))
    }

    /// A follow-up's `Type="HeaderJson"` headers (docs/scenarios.md "FollowUp"): a JSON object
    /// whose string values are templates. Each value is rendered on its own, so a rendered
    /// quote cannot break the object; a text that is JSON only once rendered (an `{{if}}`
    /// around an entry) is rendered first and read after.
    fn header_json(
        &self,
        label: &str,
        request: &RequestView,
        text: &str,
    ) -> Result<Vec<(String, String)>, RequestError> {
        let invalid = |reason: String| RequestError::HeaderJson {
            request: request.name.clone(),
            reason,
        };
        type Object = serde_json::Map<String, serde_json::Value>;
        let (object, values_are_templates) = match serde_json::from_str::<Object>(text) {
            Ok(object) => (object, true),
            Err(_) => {
                let rendered = self.renderer.render(label, text, self.variables)?;
                if rendered.trim().is_empty() {
                    return Ok(Vec::new());
                }
                let object = serde_json::from_str::<Object>(&rendered)
                    .map_err(|e| invalid(e.to_string()))?;
                (object, false)
            }
        };
        object
            .into_iter()
            .map(|(name, value)| {
                let text = match value {
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                };
                let value = if values_are_templates {
                    self.renderer
                        .render(&format!("{label}: {name}"), &text, self.variables)?
                } else {
                    text
                };
                Ok((name.trim().to_owned(), value))
            })
            .collect()
    }

    /// The Authorization header the auth method computes (docs/template-format.md "Requests").
    pub fn authorization(&self) -> Result<Option<String>, RenderError> {
        Ok(match self.auth.method {
            AuthType::None => None,
            AuthType::Basic => {
                let credential = self.renderer.render(
                    "Base64EncodedCredential",
                    &self.auth.credential,
                    self.variables,
                )?;
                Some(format!("Basic {}", BASE64.encode(credential)))
            }
            AuthType::OAuth2 | AuthType::Bearer => self
                .access_token
                .filter(|token| !token.is_empty())
                .map(|token| format!("{} {token}", self.auth.token_type)),
        })
    }
}

/// Adds or replaces (names compared without case) a header after checking it can be sent
/// as it is: a value with a line break would smuggle in headers of its own.
pub fn set_header(
    headers: &mut Vec<(String, String)>,
    request: &str,
    name: String,
    value: String,
) -> Result<(), RequestError> {
    let valid_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    let valid_value = !value.chars().any(|c| c.is_control() && c != '\t');
    if !valid_name || !valid_value {
        return Err(RequestError::Header {
            request: request.to_owned(),
            name,
        });
    }
    headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(&name));
    headers.push((name, value));
    Ok(())
}

/// An empty body is none. `RequestEncoding="form"` sends a form: a rendered JSON object
/// becomes its fields (non-string values as their JSON text), other text is sent as it is.
pub fn encode_body(encoding: &str, text: String) -> Option<OutboundBody> {
    if text.trim().is_empty() {
        return None;
    }
    if !encoding.trim().eq_ignore_ascii_case(FORM_ENCODING) {
        return Some(OutboundBody {
            content_type: JSON_CONTENT_TYPE,
            text,
        });
    }
    let text = match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text) {
        Ok(fields) => {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in &fields {
                match value {
                    serde_json::Value::String(s) => form.append_pair(name, s),
                    other => form.append_pair(name, &other.to_string()),
                };
            }
            form.finish()
        }
        Err(_) => text,
    };
    Some(OutboundBody {
        content_type: FORM_CONTENT_TYPE,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::template::model::{ParameterView, TemplateView};

    fn auth(xml_params: &str, method: &str) -> AuthSettings {
        let xml = format!(
            r#"<Information Provider="crm" Name="n" Key="k" AuthType="{method}"><Scenarios>
            <Scenario Id="AuthMethod" Type="AUTH"><Parameters>
              <Parameter Name="AuthMethod" Value="{method}"/>{xml_params}
            </Parameters></Scenario></Scenarios></Information>"#
        );
        AuthSettings::read(&TemplateView::read(
            &app::template::xml::parse(&xml).unwrap(),
        ))
    }

    fn request(url: &str, headers: &[(&str, &str)], body: Option<&str>) -> RequestView {
        let mut parameters: Vec<ParameterView> = headers
            .iter()
            .map(|(name, value)| ParameterView {
                name: name.to_string(),
                value: value.to_string(),
                father: "PopulateTemplateString".into(),
                kind: "Header".into(),
                ..Default::default()
            })
            .collect();
        if let Some(body) = body {
            parameters.push(ParameterView {
                name: "Data".into(),
                value: body.into(),
                kind: "Body".into(),
                ..Default::default()
            });
        }
        RequestView {
            name: "Contacts".into(),
            method: "POST".into(),
            url_format: url.into(),
            parameters,
            ..Default::default()
        }
    }

    fn context<'a>(
        renderer: &'a Renderer,
        auth: &'a AuthSettings,
        variables: &'a Variables,
        access_token: Option<&'a str>,
    ) -> RequestContext<'a> {
        RequestContext {
            renderer,
            auth,
            variables,
            user_fields: &[],
            access_token,
        }
    }

    fn vars() -> Variables {
        Variables::from([
            ("username".into(), "ann".into()),
            ("password".into(), "pw".into()),
            ("Phone".into(), "+4930 1234".into()),
        ])
    }

    #[test]
    fn basic_auth_global_and_own_headers_in_their_order_of_precedence() {
        let auth = auth(
            r#"<Parameter Name="Base64EncodedCredential" Value="{{.username}}:{{.password}}"/>
               <Parameter Father="PopulateTemplateString" Type="Header" Name="X-Org" Value="global"/>
               <Parameter Father="PopulateTemplateString" Type="Header" Name="X-Keep" Value="kept"/>"#,
            "basic",
        );
        let (renderer, variables) = (Renderer::utc(), vars());
        let context = context(&renderer, &auth, &variables, None);
        let sent = context
            .render(
                "SyncContactAuto",
                &request(
                    "https://crm.example/search?phone={{UrlEncode .Phone}}",
                    &[("x-org", "own")],
                    Some(r#"{"phone":"{{.Phone}}"}"#),
                ),
                GlobalHeaders::Apply,
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            sent.url.as_str(),
            "https://crm.example/search?phone=+4930%201234"
        );
        assert_eq!(
            sent.headers,
            [
                (
                    "Authorization".to_owned(),
                    format!("Basic {}", BASE64.encode("ann:pw"))
                ),
                ("X-Keep".to_owned(), "kept".to_owned()),
                ("x-org".to_owned(), "own".to_owned()),
            ]
        );
        assert_eq!(sent.body.unwrap().text, r#"{"phone":"+4930 1234"}"#);

        let follow_up = context
            .render(
                "FollowUp",
                &request("https://crm.example/", &[], None),
                GlobalHeaders::Omit,
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            follow_up.headers.len(),
            1,
            "no global headers: {:?}",
            follow_up.headers
        );
    }

    #[test]
    fn a_follow_ups_header_json_is_sent_as_headers() {
        let auth = auth("", "none");
        let (renderer, variables) = (Renderer::utc(), vars());
        let context = context(&renderer, &auth, &variables, None);
        let with_json = |json: &str| {
            let mut follow_up = request("https://crm.example/", &[], None);
            follow_up.parameters.push(ParameterView {
                name: "Headers".into(),
                value: json.into(),
                kind: "HeaderJson".into(),
                ..Default::default()
            });
            context.render("FollowUp", &follow_up, GlobalHeaders::Omit)
        };
        let sent = with_json(r#"{"X-Session": "{{.username}} \"q\"", "X-Count": 3}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            sent.headers,
            [
                ("X-Count".to_owned(), "3".to_owned()),
                ("X-Session".to_owned(), r#"ann "q""#.to_owned()),
            ]
        );
        let conditional = with_json(r#"{{if .password}}{"X-Key": "{{.password}}"}{{end}}"#)
            .unwrap()
            .unwrap();
        assert_eq!(conditional.headers, [("X-Key".to_owned(), "pw".to_owned())]);
        assert!(with_json("").unwrap().unwrap().headers.is_empty());
        assert!(matches!(
            with_json("[1]"),
            Err(RequestError::HeaderJson { .. })
        ));
        assert!(matches!(
            with_json(r#"{"X-Bad": "a\nb"}"#),
            Err(RequestError::Header { .. })
        ));
    }

    #[test]
    fn bearer_uses_the_token_type_and_a_template_authorization_wins() {
        let auth = auth(
            r#"<Parameter Name="TokenType" Value="Zoho-oauthtoken"/>"#,
            "bearer",
        );
        let (renderer, variables) = (Renderer::utc(), vars());
        let context = context(&renderer, &auth, &variables, Some("tok"));
        let sent = context
            .render(
                "GetGlobalInfo",
                &request("https://crm.example/me", &[], None),
                GlobalHeaders::Apply,
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            sent.headers,
            [("Authorization".to_owned(), "Zoho-oauthtoken tok".to_owned())]
        );
        let own = context
            .render(
                "GetGlobalInfo",
                &request(
                    "https://crm.example/me",
                    &[("authorization", "Token {{.password}}")],
                    None,
                ),
                GlobalHeaders::Apply,
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            own.headers,
            [("authorization".to_owned(), "Token pw".to_owned())]
        );
    }

    #[test]
    fn an_empty_url_skips_and_bad_urls_headers_and_methods_are_refused() {
        let auth = auth("", "none");
        let (renderer, variables) = (Renderer::utc(), vars());
        let context = context(&renderer, &auth, &variables, None);
        let render = |r: RequestView| context.render("CallJournal", &r, GlobalHeaders::Apply);
        assert_eq!(
            render(request("{{if .RecordPath}}https://x/{{end}}", &[], None)),
            Ok(None)
        );
        assert!(matches!(
            render(request("file:///etc/passwd", &[], None)),
            Err(RequestError::Url(UrlError::Scheme { .. }))
        ));
        assert!(matches!(
            render(request(
                "https://x.example/",
                &[("X-A", "a\r\nX-Injected: 1")],
                None
            )),
            Err(RequestError::Header { .. })
        ));
        let mut odd = request("https://x.example/", &[], None);
        odd.method = "TRACE".into();
        assert!(matches!(render(odd), Err(RequestError::Method { .. })));
    }

    #[test]
    fn a_form_body_sends_a_json_objects_fields() {
        let body = encode_body(
            "form",
            r#"{"grant_type":"client_credentials","n":1}"#.into(),
        )
        .unwrap();
        assert_eq!(body.content_type, FORM_CONTENT_TYPE);
        assert_eq!(body.text, "grant_type=client_credentials&n=1");
        assert_eq!(encode_body("form", "a=b".into()).unwrap().text, "a=b");
        assert_eq!(encode_body("", "  ".into()), None);
    }
}
