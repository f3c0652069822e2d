//! A contact lookup against one connected integration (ENGINE.md "Scenario semantics",
//! SyncContactAuto): each contact type's request in order with `Phone`, through the token
//! keeper; the first type with a result wins; its first result is completed by its Next
//! Common request and given its popup URL (`core::contacts` decides each step).
//!
//! A lookup is not retried: a person is waiting for the popup (ENGINE.md "Requests").

use std::collections::BTreeMap;

use app::template::model::{OutputView, RequestView, TemplateView};

use super::core::contacts::{
    contact_types, fill_empty, next_request, popup_url, result_variables, uri_path, FoundContact,
    PHONE_VARIABLE,
};
use super::core::redact::excerpt;
use super::core::render::Renderer;
use super::core::request::{GlobalHeaders, RequestContext};
use super::core::response::{judge, read_outputs, Received, Verdict};
use super::core::trace::Tracer;
use super::core::Variables;
use super::tokens::{AuthorizedError, Credentials, TokenKeeper};

/// The output the ContactFieldForUri path is read into, beside the request's own.
const CONTACT_URI_OUTPUT: &str = "__contact_uri";
/// How much of a CRM's answer an error quotes.
pub const QUOTED_LOOKUP_ANSWER_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("{step}: {source}")]
    Send {
        step: String,
        source: AuthorizedError,
    },
    #[error("{step} was answered HTTP {status}: {excerpt}")]
    Answer {
        step: String,
        status: u16,
        excerpt: String,
    },
    #[error("{step}: the CRM refused the token (HTTP {status})")]
    TokenRefused { step: String, status: u16 },
    #[error("{step}: {message}")]
    Template { step: String, message: String },
}

/// What a lookup found: the first contact of the first type with a result, and how many
/// results that type had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    pub contact: FoundContact,
    pub matches: usize,
}

pub struct ContactLookup<'a> {
    pub keeper: &'a TokenKeeper,
    pub renderer: &'a Renderer,
    pub credentials: &'a Credentials,
    pub view: &'a TemplateView,
    /// Names of the text fields a user fills in (see `url_guard`).
    pub user_fields: &'a [String],
    /// Records each request and answer, for the console and `patchbay run`.
    pub tracer: Option<&'a Tracer>,
}

impl ContactLookup<'_> {
    /// Looks `phone` up in the contact types `selected` (all when empty), as received.
    pub async fn run(
        &self,
        variables: &Variables,
        phone: &str,
        selected: &[String],
    ) -> Result<Option<Lookup>, LookupError> {
        let Some(scenario) = self.view.scenario("SyncContactAuto") else {
            return Ok(None);
        };
        let mut variables = variables.clone();
        variables.insert(PHONE_VARIABLE.into(), phone.to_owned());
        let uri = uri_path(scenario);
        for request in contact_types(self.view, selected) {
            let mut reading = request.clone();
            if let Some(path) = uri {
                reading.outputs.push(OutputView {
                    name: CONTACT_URI_OUTPUT.into(),
                    path: path.to_owned(),
                    kind: String::new(),
                });
            }
            let step = format!("SyncContactAuto/{}", request.name);
            let Some(received) = self
                .send("SyncContactAuto", request, &variables, &step)
                .await?
            else {
                continue;
            };
            let results = read_outputs(&reading, &received, &variables).map_err(|e| {
                LookupError::Template {
                    step: step.clone(),
                    message: e.to_string(),
                }
            })?;
            let found: Vec<_> = results
                .into_iter()
                .filter(|r| {
                    r.iter()
                        .any(|(k, v)| k != CONTACT_URI_OUTPUT && !v.is_empty())
                })
                .collect();
            let Some(mut first) = found.first().cloned() else {
                continue;
            };
            let next =
                next_request(self.view, request).map_err(|message| LookupError::Template {
                    step: step.clone(),
                    message,
                })?;
            if let Some(next) = next {
                let own = result_variables(&variables, &request.name, &first);
                let step = format!("Common/{}", next.name);
                if let Some(received) = self.send("Common", next, &own, &step).await? {
                    let more =
                        read_outputs(next, &received, &own).map_err(|e| LookupError::Template {
                            step: step.clone(),
                            message: e.to_string(),
                        })?;
                    if let Some(more) = more.first() {
                        fill_empty(&mut first, more);
                    }
                }
            }
            let from_contact = first.remove(CONTACT_URI_OUTPUT);
            let own = result_variables(&variables, &request.name, &first);
            let popup =
                popup_url(self.renderer, scenario, &own, from_contact.as_deref()).map_err(|e| {
                    LookupError::Template {
                        step: "the popup URL".into(),
                        message: e.to_string(),
                    }
                })?;
            let fields: BTreeMap<String, String> =
                first.into_iter().filter(|(_, v)| !v.is_empty()).collect();
            return Ok(Some(Lookup {
                contact: FoundContact {
                    contact_type: request.name.clone(),
                    fields,
                    popup_url: popup,
                },
                matches: found.len(),
            }));
        }
        Ok(None)
    }

    /// One request through the token keeper; `None` when its URL rendered empty or the
    /// CRM answered 404 (a search that found nothing, for some CRMs).
    async fn send(
        &self,
        scenario: &str,
        request: &RequestView,
        variables: &Variables,
        step: &str,
    ) -> Result<Option<Received>, LookupError> {
        let render = |access_token: Option<&str>| {
            RequestContext {
                renderer: self.renderer,
                auth: &self.credentials.auth,
                variables,
                user_fields: self.user_fields,
                access_token,
            }
            .render(scenario, request, GlobalHeaders::Apply)
        };
        let started = std::time::Instant::now();
        let sent = self
            .keeper
            .send(self.credentials, render)
            .await
            .map_err(|source| LookupError::Send {
                step: step.to_owned(),
                source,
            })?;
        let Some(sent) = sent else {
            return Ok(None);
        };
        if let Some(tracer) = self.tracer {
            tracer.record(
                step,
                &sent.request,
                Some(&sent.exchange.received),
                started.elapsed(),
            );
        }
        let received = sent.exchange.received;
        match judge(&received, &self.credentials.auth) {
            Verdict::Success => Ok(Some(received)),
            Verdict::Failed { status: 404 } => Ok(None),
            Verdict::TokenInvalid => Err(LookupError::TokenRefused {
                step: step.to_owned(),
                status: received.status,
            }),
            Verdict::Failed { status } => Err(LookupError::Answer {
                step: step.to_owned(),
                status,
                excerpt: excerpt(&received.body, QUOTED_LOOKUP_ANSWER_CHARS),
            }),
        }
    }
}
