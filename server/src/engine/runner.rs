//! Sending a connected template's requests (docs/template-format.md "Requests"): the one
//! place a scenario's request is rendered, sent through the token keeper, judged, traced
//! and its outputs read.
//! Contact lookup (`lookup`) and the other scenarios (`scenario`) are built on [`Runner`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::time::Instant;

use app::template::model::{RequestView, TemplateView};

use super::core::redact::excerpt;
use super::core::render::Renderer;
use super::core::request::{GlobalHeaders, OutboundRequest, RequestContext};
use super::core::response::{judge, read_outputs, Received, Verdict};
use super::core::trace::Tracer;
use super::core::Variables;
use super::executor::SendError;
use super::tokens::{AuthorizedError, Credentials, TokenError, TokenKeeper};
pub use crate::storage::drift::Observation;
use app::activity::Fault;

/// How Activity's detail of a shadowed run starts.
pub const SHADOW_NOTE: &str = "Shadow mode, not sent: ";
/// How much of a shadowed request's body Activity keeps.
const SHADOW_BODY_CHARS: usize = 500;

/// Scenarios whose requests change the CRM: shadow mode holds them back.
fn writes_to_crm(scenario: &str) -> bool {
    matches!(
        scenario,
        "CreateNewContact" | "CallJournal" | "CreateNewTicket" | "UpdateTicket" | "FollowUp"
    )
}

/// How much of a CRM's answer an error quotes.
pub const QUOTED_ANSWER_CHARS: usize = 300;

/// A step that failed, named `Scenario/Request`.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
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
        /// What `Retry-After` asked for, in seconds.
        retry_after_secs: Option<u64>,
    },
    #[error("{step}: the CRM refused the token (HTTP {status})")]
    TokenRefused {
        step: String,
        status: u16,
        /// The start of the refusal, for whoever explains it (Save's connection test).
        excerpt: String,
    },
    #[error("{step}: {message}")]
    Template { step: String, message: String },
}

impl StepError {
    /// The layer the failure came from (README "Faults").
    pub fn fault(&self) -> Fault {
        match self {
            StepError::Send { source, .. } => match source {
                AuthorizedError::Token(TokenError::Storage(_) | TokenError::Secret(_)) => {
                    Fault::Internal
                }
                AuthorizedError::Token(_) => Fault::Authentication,
                AuthorizedError::Request(_) => Fault::Template,
                AuthorizedError::Send(sent) => match sent {
                    SendError::Refused { .. }
                    | SendError::RedirectElsewhere { .. }
                    | SendError::RedirectScheme { .. } => Fault::Policy,
                    SendError::Timeout { .. }
                    | SendError::Connect { .. }
                    | SendError::TooManyRedirects { .. }
                    | SendError::TooLarge { .. }
                    | SendError::Other { .. } => Fault::Network,
                },
            },
            StepError::Answer { status: 429, .. } => Fault::RateLimited,
            StepError::Answer { status, .. } if *status >= 500 => Fault::CrmFailed,
            StepError::Answer { .. } => Fault::CrmRefused,
            StepError::TokenRefused { .. } => Fault::Authentication,
            StepError::Template { .. } => Fault::Template,
        }
    }

    /// Whether trying again later may succeed: the network, 429 and 5xx (docs/template-format.md
    /// "Requests"; the queue retries these).
    pub fn is_transient(&self) -> bool {
        match self {
            StepError::Send { source, .. } => matches!(source, AuthorizedError::Send(_)),
            StepError::Answer { status, .. } => *status == 429 || *status >= 500,
            StepError::TokenRefused { .. } | StepError::Template { .. } => false,
        }
    }
}

/// What a run of requests read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Each sent request's first result, merged in order (a later request's value wins).
    pub outputs: BTreeMap<String, String>,
    /// Requests whose URL rendered empty (`Scenario/Request`).
    pub skipped: Vec<String>,
    /// What GetGlobalInfo and follow-ups read: the integration's global variables.
    pub globals: BTreeMap<String, String>,
}

/// How many requests a run sent and the last status answered, for the Activity page.
#[derive(Debug, Default)]
pub struct RunStats {
    requests: AtomicU32,
    last_status: AtomicU16,
    /// What the run found, in a few words (a lookup's matches), for Activity's detail.
    note: std::sync::Mutex<Option<String>>,
    fault: std::sync::Mutex<Option<Fault>>,
    crm_ms: std::sync::atomic::AtomicU64,
    /// Which outputs read a value, on answers that carried data (drift).
    observed: std::sync::Mutex<Vec<Observation>>,
    shadowed: std::sync::atomic::AtomicBool,
}

impl RunStats {
    pub fn note(&self, text: String) {
        *self.note.lock().unwrap_or_else(|e| e.into_inner()) = Some(text);
    }

    pub fn noted(&self) -> Option<String> {
        self.note.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn requests(&self) -> u32 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn last_status(&self) -> Option<u16> {
        Some(self.last_status.load(Ordering::Relaxed)).filter(|s| *s != 0)
    }

    /// Where the run's last failed step failed.
    pub fn fault(&self) -> Option<Fault> {
        *self.fault.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes which of `request`'s outputs read a value in its first result, when the answer
    /// carried data (at least one did): an answer that found nothing says nothing of drift.
    fn observe(&self, scenario: &str, request: &RequestView, first: &BTreeMap<String, String>) {
        let read = |name: &str| first.get(name).is_some_and(|v| !v.is_empty());
        if !request.outputs.iter().any(|o| read(&o.name)) {
            return;
        }
        let step = format!("{scenario}/{}", request.name);
        let mut observed = self.observed.lock().unwrap_or_else(|e| e.into_inner());
        observed.extend(request.outputs.iter().map(|o| Observation {
            step: step.clone(),
            output: o.name.clone(),
            read: read(&o.name),
        }));
    }

    /// Marks the run failed in `fault`'s layer (a failure outside any step: storage).
    pub fn failed_in(&self, fault: Fault) {
        *self.fault.lock().unwrap_or_else(|e| e.into_inner()) = Some(fault);
    }

    /// A request shadow mode did not send: noted (what it would have sent, for Activity).
    fn shadowed(&self, request: &OutboundRequest) {
        let body = request
            .body
            .as_ref()
            .map(|b| format!(" {}", excerpt(&b.text, SHADOW_BODY_CHARS)))
            .unwrap_or_default();
        let line = format!("{} {}{body}", request.method.as_str(), request.url);
        let mut note = self.note.lock().unwrap_or_else(|e| e.into_inner());
        let text = match note.take() {
            Some(before) if before.starts_with(SHADOW_NOTE) => format!("{before}; {line}"),
            _ => format!("{SHADOW_NOTE}{line}"),
        };
        *note = Some(text);
        self.shadowed.store(true, Ordering::Relaxed);
    }

    /// Whether shadow mode held back a request of this run.
    pub fn was_shadowed(&self) -> bool {
        self.shadowed.load(Ordering::Relaxed)
    }

    /// What the run's outputs read, for drift.
    pub fn observations(&self) -> Vec<Observation> {
        std::mem::take(&mut *self.observed.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Milliseconds spent waiting for the CRM's answers.
    pub fn crm_ms(&self) -> u64 {
        self.crm_ms.load(Ordering::Relaxed)
    }
}

/// One integration's template and credentials, ready to send its requests.
pub struct Runner<'a> {
    pub keeper: &'a TokenKeeper,
    pub renderer: &'a Renderer,
    pub credentials: &'a Credentials,
    pub view: &'a TemplateView,
    /// Names of the text fields a user fills in (see `url_guard`).
    pub user_fields: &'a [String],
    /// Records each request and answer, for the console and `patchbay run`.
    pub tracer: Option<&'a Tracer>,
    pub stats: Option<&'a RunStats>,
    /// Shadow mode (README "Pilot rollout and shadow mode"): requests of scenarios that
    /// write are rendered and noted, never sent.
    pub shadow: bool,
}

impl<'a> Runner<'a> {
    pub fn new(
        keeper: &'a TokenKeeper,
        renderer: &'a Renderer,
        credentials: &'a Credentials,
        view: &'a TemplateView,
        user_fields: &'a [String],
    ) -> Runner<'a> {
        Runner {
            keeper,
            renderer,
            credentials,
            view,
            user_fields,
            tracer: None,
            stats: None,
            shadow: false,
        }
    }

    /// Renders the requests of scenarios that write, notes what they would send, sends
    /// none of them (when `shadow`).
    pub fn shadowed(self, shadow: bool) -> Runner<'a> {
        Runner { shadow, ..self }
    }

    /// Records every step in `tracer`.
    pub fn traced(self, tracer: &'a Tracer) -> Runner<'a> {
        Runner {
            tracer: Some(tracer),
            ..self
        }
    }

    /// Says what the run found, for Activity (when counted).
    pub fn note(&self, text: String) {
        if let Some(stats) = self.stats {
            stats.note(text);
        }
    }

    /// Counts requests and statuses in `stats`.
    pub fn counted(self, stats: &'a RunStats) -> Runner<'a> {
        Runner {
            stats: Some(stats),
            ..self
        }
    }
}

impl Runner<'_> {
    pub(super) fn context<'v>(
        &'v self,
        variables: &'v Variables,
        access_token: Option<&'v str>,
    ) -> RequestContext<'v> {
        RequestContext {
            renderer: self.renderer,
            auth: &self.credentials.auth,
            variables,
            user_fields: self.user_fields,
            access_token,
        }
    }

    /// One request through the token keeper, judged: `Ok(None)` when its URL rendered
    /// empty; an answer other than success is an error (404 included: lookups read it as
    /// "not found").
    pub async fn send(
        &self,
        scenario: &str,
        request: &RequestView,
        variables: &Variables,
        global: GlobalHeaders,
    ) -> Result<Option<Received>, StepError> {
        self.send_to(scenario, request, variables, global, None)
            .await
    }

    /// [`Runner::send`], to `url` instead of the rendered URL when given (the pages of a
    /// paginated request).
    pub async fn send_to(
        &self,
        scenario: &str,
        request: &RequestView,
        variables: &Variables,
        global: GlobalHeaders,
        url: Option<&url::Url>,
    ) -> Result<Option<Received>, StepError> {
        let step = format!("{scenario}/{}", request.name);
        let render = |access_token: Option<&str>| {
            let rendered = self
                .context(variables, access_token)
                .render(scenario, request, global)?;
            Ok(rendered.map(|mut rendered| {
                if let Some(url) = url {
                    rendered.url = url.clone();
                }
                rendered
            }))
        };
        let started = Instant::now();
        if self.shadow && writes_to_crm(scenario) {
            let rendered = render(None).map_err(|source| StepError::Send {
                step: step.clone(),
                source: AuthorizedError::Request(source),
            })?;
            if let (Some(stats), Some(rendered)) = (self.stats, rendered) {
                stats.shadowed(&rendered);
            }
            return Ok(None);
        }
        let sent = match self.keeper.send(self.credentials, render).await {
            Ok(sent) => sent,
            Err(source) => {
                if let (Some(tracer), Ok(Some(attempted))) = (self.tracer, render(None)) {
                    tracer.record(&step, &attempted, None, started.elapsed());
                    tracer.fail(&source.to_string());
                }
                let error = StepError::Send { step, source };
                self.count_failure(&error);
                return Err(error);
            }
        };
        let Some(sent) = sent else {
            return Ok(None);
        };
        if let Some(stats) = self.stats {
            stats.requests.fetch_add(1, Ordering::Relaxed);
            stats
                .last_status
                .store(sent.exchange.received.status, Ordering::Relaxed);
            let waited = u64::try_from(sent.exchange.elapsed.as_millis()).unwrap_or(u64::MAX);
            stats.crm_ms.fetch_add(waited, Ordering::Relaxed);
        }
        if let Some(tracer) = self.tracer {
            tracer.record(
                &step,
                &sent.request,
                Some(&sent.exchange.received),
                started.elapsed(),
            );
        }
        let received = sent.exchange.received;
        let error = match judge(&received, &self.credentials.auth) {
            Verdict::Success => return Ok(Some(received)),
            Verdict::TokenInvalid => StepError::TokenRefused {
                step,
                status: received.status,
                excerpt: excerpt(&received.body, QUOTED_ANSWER_CHARS),
            },
            Verdict::Failed { status } => StepError::Answer {
                step,
                status,
                excerpt: excerpt(&received.body, QUOTED_ANSWER_CHARS),
                retry_after_secs: crate::engine::core::response::retry_after_secs(
                    received.retry_after.as_deref(),
                    std::time::SystemTime::now(),
                ),
            },
        };
        self.trace_failure(&error);
        Err(error)
    }

    fn count_failure(&self, error: &StepError) {
        if let Some(stats) = self.stats {
            stats.failed_in(error.fault());
        }
    }

    /// The request's outputs over `received`, one map per result; the first is traced.
    pub fn read(
        &self,
        scenario: &str,
        request: &RequestView,
        received: &Received,
        variables: &Variables,
    ) -> Result<Vec<BTreeMap<String, String>>, StepError> {
        match read_outputs(request, received, variables) {
            Ok(results) => {
                if let (Some(tracer), Some(first)) = (self.tracer, results.first()) {
                    tracer.outputs(first);
                }
                if let (Some(stats), Some(first)) = (self.stats, results.first()) {
                    stats.observe(scenario, request, first);
                }
                Ok(results)
            }
            Err(e) => {
                let error = StepError::Template {
                    step: format!("{scenario}/{}", request.name),
                    message: e.to_string(),
                };
                self.trace_failure(&error);
                Err(error)
            }
        }
    }

    /// Sends `requests` in order; each request's first result becomes variables of the
    /// requests after it.
    pub async fn run_requests(
        &self,
        scenario: &str,
        requests: &[&RequestView],
        variables: &Variables,
        global: GlobalHeaders,
    ) -> Result<Outcome, StepError> {
        let mut variables = variables.clone();
        let mut outcome = Outcome::default();
        for request in requests {
            let Some(received) = self.send(scenario, request, &variables, global).await? else {
                outcome.skipped.push(format!("{scenario}/{}", request.name));
                continue;
            };
            let results = self.read(scenario, request, &received, &variables)?;
            if let Some(first) = results.into_iter().next() {
                variables.extend(first.clone());
                outcome.outputs.extend(first);
            }
        }
        Ok(outcome)
    }

    /// Renders `requests` without sending them (a dry run): each as a step without an
    /// answer; a request whose URL renders empty is listed in `skipped`.
    pub fn render_only(
        &self,
        scenario: &str,
        requests: &[&RequestView],
        variables: &Variables,
        global: GlobalHeaders,
        tracer: &Tracer,
    ) -> Result<Vec<String>, StepError> {
        let token = self.credentials.fixed_access_token.as_deref();
        let mut skipped = Vec::new();
        for request in requests {
            let step = format!("{scenario}/{}", request.name);
            match self
                .context(variables, token)
                .render(scenario, request, global)
            {
                Ok(Some(rendered)) => {
                    tracer.record(&step, &rendered, None, std::time::Duration::ZERO)
                }
                Ok(None) => skipped.push(step),
                Err(e) => {
                    return Err(StepError::Template {
                        step,
                        message: e.to_string(),
                    })
                }
            }
        }
        Ok(skipped)
    }

    /// A step failed: traced, and counted in its layer.
    pub(super) fn trace_failure(&self, error: &StepError) {
        if let Some(tracer) = self.tracer {
            tracer.fail(&error.to_string());
        }
        self.count_failure(error);
    }
}
