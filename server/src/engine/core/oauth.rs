//! OAuth 2.0 and Bearer tokens as pure decisions (docs/oauth2.md):
//! the authorization URL, the token, refresh and revocation requests a template describes,
//! what a token endpoint's answer means, and when a token is due for a refresh.
//!
//! The requests are built here rather than by the `oauth2` crate's clients because a
//! template decides their shape (form or JSON body, a custom refresh body and method,
//! fields already in the URL); the crate makes the PKCE pair and the state value.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::auth::{AuthSettings, ClientCredentials, CLIENT_ID, CLIENT_SECRET};
use super::render::{RenderError, Renderer};
use super::request::{encode_body, Method, OutboundRequest, FORM_ENCODING, JSON_ENCODING};
use super::response::{describe_non_json, Received};
use super::url_guard::{check_url, check_user_values_in_host, UrlError};
use super::Variables;

/// A token known to expire is refreshed this long before it does, so a request never
/// leaves with a token that dies on the way.
pub const EXPIRY_MARGIN_SECS: i64 = 60;
/// How much of a token endpoint's answer a message quotes when it is not OAuth JSON.
pub const QUOTED_TOKEN_ANSWER_CHARS: usize = 200;

/// The template variables of the token a request is sent with (docs/template-format.md
/// "Variables").
pub const ACCESS_TOKEN_VARIABLE: &str = "AccessToken";
pub const REFRESH_TOKEN_VARIABLE: &str = "RefreshToken";
pub const REDIRECT_URI_VARIABLE: &str = "redirect_uri";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("TokenRefreshMethod {0:?} is not one of GET, POST, PUT, PATCH")]
    Method(String),
    #[error("there is no refresh token to refresh with; authorize again")]
    NoRefreshToken,
}

/// What the server adds to the authorization URL.
pub struct AuthorizationRequest<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub state: &'a str,
    /// The S256 code challenge, when PKCE is on.
    pub code_challenge: Option<&'a str>,
}

/// The rendered AuthEndPoint plus, each only when the URL does not have it yet: the
/// parameters of the rendered AdditionalQueryString, then `response_type`, `client_id`,
/// `redirect_uri`, `scope`, `state` and the PKCE challenge. The template's own text wins:
/// real templates put `client_id` and `redirect_uri` into AuthEndPoint themselves.
pub fn authorization_url(
    renderer: &Renderer,
    auth: &AuthSettings,
    variables: &Variables,
    request: &AuthorizationRequest,
) -> Result<url::Url, OAuthError> {
    // The URL goes to the browser: it never carries a secret, whatever the template says
    // (the client secret belongs in the token request the server sends).
    let visible = auth.without_secrets(variables);
    let mut url = endpoint_url(
        renderer,
        auth,
        "AuthEndPoint",
        &auth.auth_endpoint,
        &visible,
    )?;
    let extra = renderer.render("AdditionalQueryString", &auth.additional_query, &visible)?;
    let extra = extra.trim().trim_start_matches(['?', '&']);
    let mut added: Vec<(String, String)> = url::form_urlencoded::parse(extra.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    let mut ours = vec![
        ("response_type", "code"),
        (CLIENT_ID, request.client_id),
        ("redirect_uri", request.redirect_uri),
        ("scope", auth.scope.as_str()),
        ("state", request.state),
    ];
    if let Some(challenge) = request.code_challenge {
        ours.push(("code_challenge", challenge));
        ours.push(("code_challenge_method", "S256"));
    }
    added.extend(
        ours.into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    for (name, value) in added {
        if !url.query_pairs().any(|(k, _)| k == name.as_str()) {
            url.query_pairs_mut().append_pair(&name, &value);
        }
    }
    Ok(url)
}

/// An endpoint rendered under the same rules as every request URL: `http`/`https` with a
/// host, and no user-typed value in its scheme or host (`url_guard`).
fn endpoint_url(
    renderer: &Renderer,
    auth: &AuthSettings,
    what: &str,
    endpoint: &str,
    variables: &Variables,
) -> Result<url::Url, OAuthError> {
    check_user_values_in_host(renderer, what, endpoint, variables, &auth.user_fields())?;
    let rendered = renderer.render(what, endpoint, variables)?;
    Ok(check_url(what, &rendered)?)
}

/// Which token a token request asks for.
pub enum Grant<'a> {
    /// The callback's code exchange.
    AuthorizationCode {
        code: &'a str,
        redirect_uri: &'a str,
        code_verifier: Option<&'a str>,
    },
    Refresh {
        refresh_token: &'a str,
    },
    /// Bearer's token request on connect (and its refresh when no refresh token came).
    ClientCredentials,
}

/// A request to TokenEndPoint (or, for a refresh, TokenRefreshEndPoint with its own method,
/// content type and body template). `variables` hold the custom fields, `client_id` and
/// `client_secret` among them, and for a refresh `AccessToken` and `RefreshToken`.
pub fn token_request(
    renderer: &Renderer,
    auth: &AuthSettings,
    variables: &Variables,
    grant: &Grant,
) -> Result<OutboundRequest, OAuthError> {
    let refresh = matches!(grant, Grant::Refresh { .. });
    let (what, endpoint) = if refresh && !auth.refresh_endpoint.is_empty() {
        ("TokenRefreshEndPoint", &auth.refresh_endpoint)
    } else {
        ("TokenEndPoint", &auth.token_endpoint)
    };
    let mut url = endpoint_url(renderer, auth, what, endpoint, variables)?;
    let method = match (refresh, auth.refresh_method.trim()) {
        (true, text) if !text.is_empty() => match Method::parse(text) {
            Some(Method::Delete) | None => return Err(OAuthError::Method(text.to_owned())),
            Some(method) => method,
        },
        _ => Method::Post,
    };
    let json = if refresh {
        auth.refresh_body_is_json()
    } else {
        auth.token_body_is_json()
    };
    let ClientProof {
        headers,
        fields: client_fields,
    } = client_authentication(auth, variables);

    let text = if refresh && !auth.refresh_body.trim().is_empty() {
        renderer.render("TokenRefreshBody", &auth.refresh_body, variables)?
    } else {
        let mut fields: Vec<(&str, &str)> = match grant {
            Grant::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                let mut fields = vec![
                    ("grant_type", "authorization_code"),
                    ("code", *code),
                    ("redirect_uri", *redirect_uri),
                ];
                if let Some(verifier) = code_verifier {
                    fields.push(("code_verifier", *verifier));
                }
                fields
            }
            Grant::Refresh { refresh_token } => {
                vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", *refresh_token),
                ]
            }
            Grant::ClientCredentials => vec![("grant_type", "client_credentials")],
        };
        fields.extend(client_fields);
        // A field the URL already carries (some templates write `?grant_type=…`) is not
        // sent twice; an empty one is not sent at all.
        let in_url: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        fields.retain(|(name, value)| !value.is_empty() && !in_url.iter().any(|k| k == name));
        if method == Method::Get {
            for (name, value) in fields {
                url.query_pairs_mut().append_pair(name, value);
            }
            String::new()
        } else {
            json_object(fields)
        }
    };
    let encoding = if json { JSON_ENCODING } else { FORM_ENCODING };
    Ok(OutboundRequest {
        name: what.to_owned(),
        method,
        url,
        headers,
        body: encode_body(encoding, text),
    })
}

/// How the client proves itself on token, refresh and revocation requests, as
/// CredentialType says: the headers to send (`Accept` too) and the fields to add to the
/// body. Without a client id there is no Basic header to make.
fn client_authentication<'a>(auth: &AuthSettings, variables: &'a Variables) -> ClientProof<'a> {
    let client_id = variables.get(CLIENT_ID).map(String::as_str).unwrap_or("");
    let client_secret = variables
        .get(CLIENT_SECRET)
        .map(String::as_str)
        .unwrap_or("");
    let mut headers = vec![("Accept".to_owned(), "application/json".to_owned())];
    let mut fields = Vec::new();
    match auth.client_credentials {
        ClientCredentials::InBody => {
            fields.push((CLIENT_ID, client_id));
            fields.push((CLIENT_SECRET, client_secret));
        }
        ClientCredentials::BasicHeader if !client_id.is_empty() => {
            headers.push(client_basic_header(client_id, client_secret));
        }
        ClientCredentials::BasicHeader => {}
    }
    ClientProof { headers, fields }
}

struct ClientProof<'a> {
    headers: Vec<(String, String)>,
    fields: Vec<(&'static str, &'a str)>,
}

/// Body fields as a JSON object of strings (`encode_body` makes a form of it when asked).
fn json_object(fields: Vec<(&str, &str)>) -> String {
    let object: Map<String, Value> = fields
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect();
    Value::Object(object).to_string()
}

/// `Authorization: Basic` for a client (RFC 6749 2.3.1: both parts form-encoded first).
fn client_basic_header(client_id: &str, client_secret: &str) -> (String, String) {
    let encode =
        |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    let pair = format!("{}:{}", encode(client_id), encode(client_secret));
    (
        "Authorization".to_owned(),
        format!("Basic {}", BASE64.encode(pair)),
    )
}

/// An RFC 7009 revocation request for `token` to the template's TokenRevokeEndPoint.
pub fn revocation_request(
    renderer: &Renderer,
    auth: &AuthSettings,
    variables: &Variables,
    token: &str,
    hint: &str,
) -> Result<Option<OutboundRequest>, OAuthError> {
    if auth.revoke_endpoint.trim().is_empty() {
        return Ok(None);
    }
    let rendered = renderer.render("TokenRevokeEndPoint", &auth.revoke_endpoint, variables)?;
    if rendered.trim().is_empty() {
        return Ok(None);
    }
    let url = endpoint_url(
        renderer,
        auth,
        "TokenRevokeEndPoint",
        &auth.revoke_endpoint,
        variables,
    )?;
    let ClientProof {
        headers,
        fields: client_fields,
    } = client_authentication(auth, variables);
    let mut fields = vec![("token", token), ("token_type_hint", hint)];
    fields.extend(client_fields);
    fields.retain(|(_, v)| !v.is_empty());
    Ok(Some(OutboundRequest {
        name: "TokenRevokeEndPoint".to_owned(),
        method: Method::Post,
        url,
        headers,
        // RFC 7009 revocation requests are always forms.
        body: encode_body(FORM_ENCODING, json_object(fields)),
    }))
}

/// A token endpoint's successful answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenGrant {
    pub access_token: String,
    /// A new (rotated) refresh token; `None` keeps the one in use.
    pub refresh_token: Option<String>,
    pub token_type: Option<String>,
    pub expires_in: Option<i64>,
    /// The answer's other top-level values (Salesforce's `instance_url`, Zoho's
    /// `api_domain`), as the global variables `TokenResponse_<name>` (docs/variables.md).
    pub answer_values: BTreeMap<String, String>,
}

pub use app::template::validate::TOKEN_RESPONSE_PREFIX;
/// At most this many of a token answer's other values are kept, each at most
/// [`MAX_TOKEN_RESPONSE_VALUE_CHARS`] long: the token endpoint decides what it sends.
pub const MAX_TOKEN_RESPONSE_VALUES: usize = 20;
pub const MAX_TOKEN_RESPONSE_VALUE_CHARS: usize = 2048;

/// A token answer's top-level values besides the tokens themselves, named
/// `TokenResponse_<name>`: strings, numbers and booleans under names a template can write
/// (letters, digits, `_`). Anything holding a token (`id_token`) stays out: it is a secret.
fn answer_values(answer: &Map<String, Value>) -> BTreeMap<String, String> {
    const READ_ELSEWHERE: [&str; 4] = ["access_token", "refresh_token", "token_type", "expires_in"];
    answer
        .iter()
        .filter(|(name, _)| {
            !READ_ELSEWHERE.contains(&name.as_str())
                && !name.to_ascii_lowercase().contains("token")
                && !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
        .filter_map(|(name, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            (text.chars().count() <= MAX_TOKEN_RESPONSE_VALUE_CHARS)
                .then(|| (format!("{TOKEN_RESPONSE_PREFIX}{name}"), text))
        })
        .take(MAX_TOKEN_RESPONSE_VALUES)
        .collect()
}

/// A token endpoint's refusal or failure, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the token endpoint answered HTTP {status}: {reason}")]
pub struct TokenRefusal {
    pub status: u16,
    /// The OAuth `error` code, when the answer had one.
    pub error: Option<String>,
    pub reason: String,
}

impl TokenRefusal {
    /// The grant (code or refresh token) is spent, revoked or expired: only a new
    /// authorization helps.
    pub fn is_invalid_grant(&self) -> bool {
        self.error.as_deref() == Some("invalid_grant")
    }

    /// The client id or secret, or the grant, was refused (as opposed to an outage).
    pub fn is_refusal(&self) -> bool {
        self.error.is_some() || matches!(self.status, 400 | 401 | 403)
    }
}

/// Reads a token endpoint's answer (RFC 6749 5.1 and 5.2). Providers differ in small
/// ways accepted here: `expires_in` as a string, a 200 that carries an `error`.
pub fn read_token_response(received: &Received) -> Result<TokenGrant, TokenRefusal> {
    let answer: Option<Map<String, Value>> = serde_json::from_str(&received.body).ok();
    let text = |name: &str| {
        answer.as_ref().and_then(|a| match a.get(name)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let ok = (200..300).contains(&received.status);
    match text("access_token") {
        Some(access_token) if ok && text("error").is_none() => Ok(TokenGrant {
            access_token,
            refresh_token: text("refresh_token"),
            token_type: text("token_type"),
            expires_in: text("expires_in").and_then(|s| s.parse::<f64>().ok().map(|f| f as i64)),
            answer_values: answer.as_ref().map(answer_values).unwrap_or_default(),
        }),
        _ => {
            let error = text("error");
            let reason = match (&error, text("error_description")) {
                (Some(error), Some(description)) => format!("{error}: {description}"),
                (Some(error), None) => error.clone(),
                _ if answer.is_none() => describe_non_json(received),
                _ => "the answer has no access_token".to_owned(),
            };
            Err(TokenRefusal {
                status: received.status,
                error,
                reason: super::redact::excerpt(&reason, QUOTED_TOKEN_ANSWER_CHARS),
            })
        }
    }
}

/// What the engine knows about a stored token, for [`refresh_due`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenClock {
    pub now: i64,
    /// When the token was issued or last refreshed.
    pub refreshed_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// Whether a token should be refreshed before it is used: it expires within
/// [`EXPIRY_MARGIN_SECS`] (or half its lifetime, when that is shorter), or TokenRefreshTime
/// has passed since it was issued. A template
/// with NoNeedRefreshAccessToken refreshes only a refused token.
pub fn refresh_due(auth: &AuthSettings, clock: TokenClock) -> bool {
    if !auth.uses_tokens() || !auth.scheduled_refresh {
        return false;
    }
    // A short-lived token (some live a minute) is renewed at half its life, not at once.
    let expiring = clock.expires_at.is_some_and(|at| {
        let lifetime = clock
            .refreshed_at
            .map_or(i64::MAX, |from| at.saturating_sub(from));
        let margin = EXPIRY_MARGIN_SECS.min(lifetime / 2).max(0);
        clock.now >= at.saturating_sub(margin)
    });
    let scheduled = match (auth.refresh_every_minutes, clock.refreshed_at) {
        (Some(minutes), Some(at)) => {
            let every = i64::try_from(minutes.saturating_mul(60)).unwrap_or(i64::MAX);
            clock.now >= at.saturating_add(every)
        }
        _ => false,
    };
    expiring || scheduled
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::template::model::TemplateView;
    use app::template::xml::parse;
    use std::collections::BTreeMap;

    fn auth(parameters: &str) -> AuthSettings {
        AuthSettings::read(&TemplateView::read(
            &parse(&format!(
                r#"<Information Provider="crm" Name="n" Key="k" AuthType="oauth2"><Scenarios>
                <Scenario Id="AuthMethod" Type="AUTH"><Parameters>
                <Parameter Name="AuthMethod" Value="oauth2"/>{parameters}
                </Parameters></Scenario></Scenarios></Information>"#
            ))
            .unwrap(),
        ))
    }

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>()
    }

    fn renderer() -> Renderer {
        Renderer::utc()
    }

    fn query(url: &url::Url) -> Vec<(String, String)> {
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn refresh_r1(auth: &AuthSettings, variables: &Variables) -> OutboundRequest {
        let grant = Grant::Refresh {
            refresh_token: "r1",
        };
        token_request(&renderer(), auth, variables, &grant).unwrap()
    }

    const REQUEST: AuthorizationRequest = AuthorizationRequest {
        client_id: "cid",
        redirect_uri: "https://pbx.example/cb/",
        state: "st4te",
        code_challenge: Some("ch4llenge"),
    };

    #[test]
    fn the_authorization_url_adds_only_what_the_template_lacks() {
        let auth = auth(
            r#"<Parameter Name="AuthEndPoint" Value="https://crm.example/auth?client_id={{.client_id}}&amp;redirect_uri={{.redirect_uri}}"/>
               <Parameter Name="Scope" Value="contacts.read,calls.write"/>
               <Parameter Name="AdditionalQueryString" Value="access_type=offline&amp;state=ignored&amp;prompt=consent"/>"#,
        );
        let variables = vars(&[
            ("client_id", "from-template"),
            ("redirect_uri", "https://pbx.example/cb/"),
        ]);
        let url = authorization_url(&renderer(), &auth, &variables, &REQUEST).unwrap();
        assert_eq!(
            query(&url),
            owned(&[
                ("client_id", "from-template"),
                ("redirect_uri", "https://pbx.example/cb/"),
                ("access_type", "offline"),
                ("state", "ignored"),
                ("prompt", "consent"),
                ("response_type", "code"),
                ("scope", "contacts.read,calls.write"),
                ("code_challenge", "ch4llenge"),
                ("code_challenge_method", "S256"),
            ])
        );
    }

    #[test]
    fn the_authorization_url_without_pkce_or_scope() {
        let auth = auth(r#"<Parameter Name="AuthEndPoint" Value="https://crm.example/auth"/>"#);
        let request = AuthorizationRequest {
            code_challenge: None,
            ..REQUEST
        };
        let url = authorization_url(&renderer(), &auth, &vars(&[]), &request).unwrap();
        assert_eq!(
            query(&url),
            owned(&[
                ("response_type", "code"),
                ("client_id", "cid"),
                ("redirect_uri", "https://pbx.example/cb/"),
                ("state", "st4te"),
            ])
        );
    }

    #[test]
    fn an_authorization_endpoint_that_is_not_http_is_refused() {
        let auth = auth(r#"<Parameter Name="AuthEndPoint" Value="javascript:alert(1)"/>"#);
        let error = authorization_url(&renderer(), &auth, &vars(&[]), &REQUEST).unwrap_err();
        assert!(error.to_string().contains("only http and https"), "{error}");
    }

    #[test]
    fn the_code_exchange_as_a_form_with_the_secret_in_the_body() {
        let auth = auth(r#"<Parameter Name="TokenEndPoint" Value="https://crm.example/token"/>"#);
        let variables = vars(&[("client_id", "cid"), ("client_secret", "s3cret")]);
        let grant = Grant::AuthorizationCode {
            code: "c0de",
            redirect_uri: "https://pbx.example/cb/",
            code_verifier: Some("v3rifier"),
        };
        let request = token_request(&renderer(), &auth, &variables, &grant).unwrap();
        assert_eq!(request.method, Method::Post);
        let body = request.body.unwrap();
        assert_eq!(body.content_type, "application/x-www-form-urlencoded");
        assert_eq!(
            body.text,
            "client_id=cid&client_secret=s3cret&code=c0de&code_verifier=v3rifier&grant_type=authorization_code&redirect_uri=https%3A%2F%2Fpbx.example%2Fcb%2F"
        );
        assert!(!request.headers.iter().any(|(n, _)| n == "Authorization"));
    }

    #[test]
    fn a_refresh_as_json_with_basic_client_credentials() {
        let auth = auth(
            r#"<Parameter Name="TokenEndPoint" Value="https://crm.example/token"/>
               <Parameter Name="TokenRefreshContentType" Value="application/json"/>
               <Parameter Name="CredentialType" Value="client_secret_basic"/>"#,
        );
        let variables = vars(&[("client_id", "c id"), ("client_secret", "s:cret")]);
        let request = refresh_r1(&auth, &variables);
        let body = request.body.unwrap();
        assert_eq!(body.content_type, "application/json");
        assert_eq!(
            serde_json::from_str::<Value>(&body.text).unwrap(),
            serde_json::json!({"grant_type": "refresh_token", "refresh_token": "r1"})
        );
        let basic = BASE64.encode("c+id:s%3Acret");
        assert!(request
            .headers
            .contains(&("Authorization".to_owned(), format!("Basic {basic}"))));
    }

    #[test]
    fn a_refresh_with_its_own_endpoint_method_and_body() {
        let auth = auth(
            r#"<Parameter Name="TokenEndPoint" Value="https://crm.example/token"/>
               <Parameter Name="TokenRefreshEndPoint" Value="https://crm.example/refresh?grant_type=refresh_token"/>
               <Parameter Name="TokenRefreshMethod" Value="PUT"/>
               <Parameter Name="TokenRefreshBody" Value='{"token":"{{.RefreshToken}}","app":"{{.client_id}}"}'/>"#,
        );
        let variables = vars(&[("client_id", "cid"), ("RefreshToken", "r1")]);
        let request = refresh_r1(&auth, &variables);
        assert_eq!(request.method, Method::Put);
        assert_eq!(request.url.path(), "/refresh");
        assert_eq!(request.body.unwrap().text, "app=cid&token=r1");
    }

    #[test]
    fn fields_in_the_url_are_not_repeated_and_a_get_refresh_sends_a_query() {
        let auth = auth(
            r#"<Parameter Name="TokenEndPoint" Value="https://crm.example/token?client_id=cid"/>
               <Parameter Name="TokenRefreshMethod" Value="GET"/>"#,
        );
        let variables = vars(&[("client_id", "cid"), ("client_secret", "s3cret")]);
        let request = refresh_r1(&auth, &variables);
        assert_eq!(request.method, Method::Get);
        assert!(request.body.is_none());
        assert_eq!(
            query(&request.url),
            owned(&[
                ("client_id", "cid"),
                ("grant_type", "refresh_token"),
                ("refresh_token", "r1"),
                ("client_secret", "s3cret"),
            ])
        );
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
    fn token_answers_are_read_leniently_and_refusals_explained() {
        let grant = read_token_response(&received(
            200,
            r#"{"access_token":"a1","refresh_token":"r2","expires_in":"3599","token_type":"bearer"}"#,
        ))
        .unwrap();
        assert_eq!(grant.refresh_token.as_deref(), Some("r2"));
        assert_eq!(grant.expires_in, Some(3599));
        assert!(grant.answer_values.is_empty());

        let salesforce = read_token_response(&received(
            200,
            &format!(
                r#"{{"access_token":"a1","instance_url":"https://eu5.my.salesforce.com","issued_at":1700000000,"id_token":"secret","signature":"s=","api-domain":"x","scope":{{"a":1}},"long":"{}"}}"#,
                "x".repeat(MAX_TOKEN_RESPONSE_VALUE_CHARS + 1)
            ),
        ))
        .unwrap();
        assert_eq!(
            salesforce.answer_values,
            BTreeMap::from([
                (
                    "TokenResponse_instance_url".to_owned(),
                    "https://eu5.my.salesforce.com".to_owned()
                ),
                (
                    "TokenResponse_issued_at".to_owned(),
                    "1700000000".to_owned()
                ),
                ("TokenResponse_signature".to_owned(), "s=".to_owned()),
            ]),
            "no tokens, no names a template cannot write, no objects, no overlong values"
        );

        let refusal = read_token_response(&received(
            400,
            r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
        ))
        .unwrap_err();
        assert!(refusal.is_invalid_grant());
        assert_eq!(
            refusal.to_string(),
            "the token endpoint answered HTTP 400: invalid_grant: grant request is invalid"
        );

        let no_token = read_token_response(&received(200, r#"{"token":"x"}"#)).unwrap_err();
        assert_eq!(no_token.reason, "the answer has no access_token");
        assert!(!no_token.is_refusal());

        let html = Received {
            status: 500,
            content_type: Some("text/html".into()),
            body: "<html>oops</html>".into(),
            link: None,
            retry_after: None,
        };
        let refusal = read_token_response(&html).unwrap_err();
        assert!(!refusal.is_invalid_grant() && !refusal.is_refusal());
        assert!(refusal.reason.contains("text/html"), "{}", refusal.reason);
    }

    #[test]
    fn refresh_is_due_before_expiry_and_on_schedule_unless_turned_off() {
        let every_25 = auth("");
        let clock = |refreshed_at, expires_at| TokenClock {
            now: 10_000,
            refreshed_at,
            expires_at,
        };
        assert!(!refresh_due(&every_25, clock(Some(9_000), None)));
        assert!(refresh_due(&every_25, clock(Some(10_000 - 25 * 60), None)));
        assert!(refresh_due(&every_25, clock(Some(7_000), Some(10_030))));
        assert!(!refresh_due(&every_25, clock(Some(9_990), Some(10_100))));

        // A token issued for 20 s is renewed after 10, not at once.
        assert!(!refresh_due(&every_25, clock(Some(9_995), Some(10_015))));
        assert!(refresh_due(&every_25, clock(Some(9_990), Some(10_010))));

        let never = auth(r#"<Parameter Name="TokenRefreshTime" Value="0"/>"#);
        assert!(!refresh_due(&never, clock(Some(0), None)));
        assert!(refresh_due(&never, clock(Some(0), Some(10_000))));

        let off =
            auth(r#"<Parameter Father="AuthOption" Name="NoNeedRefreshAccessToken" Value="1"/>"#);
        assert!(!refresh_due(&off, clock(Some(0), Some(0))));
    }
}
