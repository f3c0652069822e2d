//! A strict OAuth 2.0 provider and its CRM as a loopback `wiremock` server, for the OAuth
//! tests: it rotates refresh tokens, answers `invalid_grant` to a spent one, and its API
//! accepts only the newest access token, so a double refresh or a stale token shows.

use super::Fixture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const CLIENT_ID: &str = "patchbay-client";
pub const CLIENT_SECRET: &str = "client-Secret-Caracal-7070";
pub const KEY: &str = "oauthcrm";

/// What the provider issued, and what it was asked.
#[derive(Default)]
pub struct Provider {
    /// Access tokens in issue order; only the last one is accepted.
    pub access: Vec<String>,
    /// Refresh tokens in issue order; each may be used once.
    pub refresh: Vec<String>,
    pub spent: Vec<String>,
    /// Every token request's form or JSON fields and Authorization header.
    pub token_requests: Vec<(HashMap<String, String>, Option<String>)>,
    /// `expires_in` of issued tokens (`None`: not said).
    pub expires_in: Option<i64>,
    /// When set, the token endpoint answers this instead.
    pub failure: Option<ResponseTemplate>,
}

#[derive(Clone, Default)]
pub struct StrictProvider(pub Arc<Mutex<Provider>>);

impl StrictProvider {
    fn issue(&self, provider: &mut Provider) -> Value {
        let n = provider.access.len() + 1;
        let access = format!("access-Token-{n}-Tapir");
        let refresh = format!("refresh-Token-{n}-Gecko");
        provider.access.push(access.clone());
        provider.refresh.push(refresh.clone());
        let mut answer =
            json!({"access_token": access, "refresh_token": refresh, "token_type": "Bearer"});
        if let Some(seconds) = provider.expires_in {
            answer["expires_in"] = json!(seconds);
        }
        answer
    }

    /// The CRM stops accepting the access token it issued last (revoked, expired early).
    pub fn forget_access_token(&self) {
        let mut provider = self.0.lock().unwrap();
        let n = provider.access.len();
        provider.access.push(format!("forgotten-{n}"));
    }

    pub fn refreshes(&self) -> usize {
        self.0
            .lock()
            .unwrap()
            .token_requests
            .iter()
            .filter(|(fields, _)| {
                fields.get("grant_type").map(String::as_str) == Some("refresh_token")
            })
            .count()
    }

    pub fn last_request(&self) -> (HashMap<String, String>, Option<String>) {
        self.0
            .lock()
            .unwrap()
            .token_requests
            .last()
            .cloned()
            .unwrap()
    }

    /// Every token the provider ever issued.
    pub fn tokens(&self) -> Vec<String> {
        let provider = self.0.lock().unwrap();
        provider
            .access
            .iter()
            .chain(&provider.refresh)
            .cloned()
            .collect()
    }
}

pub fn fields_of(request: &Request) -> HashMap<String, String> {
    let body = String::from_utf8_lossy(&request.body).into_owned();
    match serde_json::from_str::<HashMap<String, String>>(&body) {
        Ok(fields) => fields,
        Err(_) => url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect(),
    }
}

struct TokenEndpoint(StrictProvider);

impl Respond for TokenEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let fields = fields_of(request);
        let authorization = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut provider = self.0 .0.lock().unwrap();
        provider
            .token_requests
            .push((fields.clone(), authorization));
        if let Some(failure) = provider.failure.clone() {
            return failure;
        }
        let refused = |description: &str| {
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_grant", "error_description": description}))
        };
        match fields.get("grant_type").map(String::as_str) {
            Some("authorization_code")
                if fields.get("code").map(String::as_str) == Some("spent-code") =>
            {
                refused("the code was already used")
            }
            Some("authorization_code") => {
                ResponseTemplate::new(200).set_body_json(self.0.issue(&mut provider))
            }
            Some("client_credentials") => {
                // Client credentials get an access token only (RFC 6749 4.4.3).
                let mut answer = self.0.issue(&mut provider);
                answer.as_object_mut().unwrap().remove("refresh_token");
                provider.refresh.pop();
                ResponseTemplate::new(200).set_body_json(answer)
            }
            Some("refresh_token") => {
                let given = fields.get("refresh_token").cloned().unwrap_or_default();
                if provider.spent.contains(&given) || !provider.refresh.contains(&given) {
                    return refused("grant request is invalid");
                }
                provider.spent.push(given);
                ResponseTemplate::new(200).set_body_json(self.0.issue(&mut provider))
            }
            _ => {
                ResponseTemplate::new(400).set_body_json(json!({"error": "unsupported_grant_type"}))
            }
        }
    }
}

/// The CRM's API: accepts the newest access token only.
struct Api(StrictProvider);

impl Respond for Api {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let provider = self.0 .0.lock().unwrap();
        let given = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        match provider.access.last() {
            Some(token) if given == format!("Bearer {token}") => {
                ResponseTemplate::new(200).set_body_json(json!({"id": 7, "org": {"name": "Acme"}}))
            }
            _ => ResponseTemplate::new(401).set_body_json(json!({"error": "INVALID_SESSION_ID"})),
        }
    }
}

pub async fn strict_crm() -> (MockServer, StrictProvider) {
    let crm = MockServer::start().await;
    let provider = StrictProvider::default();
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(TokenEndpoint(provider.clone()))
        .mount(&crm)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(Api(provider.clone()))
        .mount(&crm)
        .await;
    (crm, provider)
}

/// The strict provider's OAuth 2.0 template (`fixtures/crm/strict-oauth-crm.xml`), to vary.
pub fn fixture() -> Fixture {
    Fixture::load("strict-oauth-crm.xml")
}

/// That template against `crm`.
pub fn template(crm: &str) -> String {
    fixture().at(crm)
}
