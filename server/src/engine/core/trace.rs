//! What a run shows its author (the test console, `patchbay run`): each step's request as
//! sent and the answer, with every secret masked: the Authorization header's credentials
//! always, and each secret value wherever it appears (URL, headers, bodies), also
//! percent- or base64-encoded (`redact`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use super::redact::{redact, MASK};
use super::request::OutboundRequest;
use super::response::Received;

/// A request's or an answer's body is shown up to this many characters, then folded.
pub const MAX_SHOWN_BODY_CHARS: usize = 20_000;

pub use app::console::{ShownRequest, ShownResponse, TraceStep};

/// A request as its author sees it: the Authorization header's credentials always masked,
/// each secret value masked wherever it appears.
pub fn shown_request(request: &OutboundRequest, secrets: &[&str]) -> ShownRequest {
    ShownRequest {
        method: request.method.as_str().to_owned(),
        url: redact(request.url.as_str(), secrets),
        headers: request
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if name.eq_ignore_ascii_case("authorization") {
                    match value.split_once(' ') {
                        Some((scheme, _)) => format!("{scheme} {MASK}"),
                        None => MASK.to_owned(),
                    }
                } else {
                    redact(value, secrets)
                };
                (name.clone(), shown)
            })
            .collect(),
        body: request
            .body
            .as_ref()
            .map(|b| redact(&fold(&b.text), secrets)),
        folded: request
            .body
            .as_ref()
            .is_some_and(|b| b.text.chars().count() > MAX_SHOWN_BODY_CHARS),
    }
}

/// The first [`MAX_SHOWN_BODY_CHARS`] characters of a body.
fn fold(text: &str) -> String {
    text.chars().take(MAX_SHOWN_BODY_CHARS).collect()
}

/// An answer pretty-printed when it is JSON, folded after [`MAX_SHOWN_BODY_CHARS`].
pub fn shown_response(received: &Received, secrets: &[&str]) -> ShownResponse {
    let pretty = serde_json::from_str::<serde_json::Value>(&received.body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| received.body.clone());
    let folded = pretty.chars().count() > MAX_SHOWN_BODY_CHARS;
    let body = fold(&pretty);
    ShownResponse {
        status: received.status,
        content_type: received.content_type.clone(),
        body: redact(&body, secrets),
        folded,
    }
}

/// Collects the steps of one run, masked as they are recorded.
#[derive(Default)]
pub struct Tracer {
    secrets: Vec<String>,
    steps: Mutex<Vec<TraceStep>>,
}

impl Tracer {
    pub fn new(secrets: Vec<String>) -> Tracer {
        Tracer {
            secrets,
            steps: Mutex::new(Vec::new()),
        }
    }

    pub fn record(
        &self,
        step: &str,
        request: &OutboundRequest,
        received: Option<&Received>,
        elapsed: Duration,
    ) {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        let shown = TraceStep {
            step: step.to_owned(),
            request: shown_request(request, &secrets),
            response: received.map(|r| shown_response(r, &secrets)),
            outputs: BTreeMap::new(),
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            error: None,
        };
        self.lock().push(shown);
    }

    /// A request rendered but not sent (a dry run), masked like the steps.
    pub fn show(&self, request: &OutboundRequest) -> ShownRequest {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        shown_request(request, &secrets)
    }

    /// What the last recorded step's outputs read (its first result), masked.
    pub fn outputs(&self, outputs: &BTreeMap<String, String>) {
        let masked = outputs
            .iter()
            .map(|(name, value)| (name.clone(), self.mask(value)))
            .collect();
        if let Some(last) = self.lock().last_mut() {
            last.outputs = masked;
        }
    }

    /// Why the last recorded step failed, masked.
    pub fn fail(&self, error: &str) {
        let masked = self.mask(error);
        if let Some(last) = self.lock().last_mut() {
            last.error = Some(masked);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<TraceStep>> {
        self.steps.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Masks `text` as the steps are masked (for errors and results).
    pub fn mask(&self, text: &str) -> String {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        redact(text, &secrets)
    }

    pub fn steps(&self) -> Vec<TraceStep> {
        self.lock().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::core::request::{encode_body, Method, JSON_ENCODING};

    #[test]
    fn secrets_are_masked_in_every_part_of_a_step() {
        let request = OutboundRequest {
            name: "Contacts".into(),
            method: Method::Post,
            url: url::Url::parse("https://crm.example/c?key=s3cret-Key").unwrap(),
            headers: vec![
                ("Authorization".into(), "Basic YW5uOnB3".into()),
                ("X-Key".into(), "s3cret-Key".into()),
            ],
            body: encode_body(JSON_ENCODING, r#"{"k":"s3cret-Key"}"#.into()),
        };
        let received = Received {
            status: 200,
            content_type: Some("application/json".into()),
            body: r#"{"echo":"s3cret-Key","n":1}"#.into(),
            link: None,
            retry_after: None,
        };
        let tracer = Tracer::new(vec!["s3cret-Key".into()]);
        tracer.record(
            "SyncContactAuto/Contacts",
            &request,
            Some(&received),
            Duration::from_millis(12),
        );
        let step = &tracer.steps()[0];
        let shown = serde_json::to_string(step).unwrap();
        assert!(!shown.contains("s3cret-Key"), "{shown}");
        assert!(!shown.contains("YW5uOnB3"), "{shown}");
        assert_eq!(step.request.headers[0].1, format!("Basic {MASK}"));
        assert_eq!(
            step.response.as_ref().unwrap().body,
            format!("{{\n  \"echo\": \"{MASK}\",\n  \"n\": 1\n}}")
        );
        assert_eq!(step.elapsed_ms, 12);
    }

    #[test]
    fn a_long_answer_is_folded_after_the_limit() {
        let long = format!(r#"{{"text": "{}"}}"#, "é".repeat(MAX_SHOWN_BODY_CHARS));
        let received = Received {
            status: 200,
            content_type: Some("application/json".into()),
            body: long,
            link: None,
            retry_after: None,
        };
        let shown = shown_response(&received, &[]);
        assert!(shown.folded);
        assert_eq!(shown.body.chars().count(), MAX_SHOWN_BODY_CHARS);
        let short = shown_response(
            &Received {
                body: "[1]".into(),
                ..received
            },
            &[],
        );
        assert!(!short.folded);
    }

    #[test]
    fn a_long_request_body_is_folded_like_an_answer() {
        let request = OutboundRequest {
            name: "CallJournal".into(),
            method: Method::Post,
            url: url::Url::parse("https://crm.example/journal").unwrap(),
            headers: Vec::new(),
            body: encode_body(JSON_ENCODING, "x".repeat(15 * 1024 * 1024)),
        };
        let shown = shown_request(&request, &[]);
        assert!(shown.folded);
        assert_eq!(shown.body.unwrap().chars().count(), MAX_SHOWN_BODY_CHARS);
        let short = OutboundRequest {
            body: encode_body(JSON_ENCODING, "{}".into()),
            ..request
        };
        assert!(!shown_request(&short, &[]).folded);
    }
}
