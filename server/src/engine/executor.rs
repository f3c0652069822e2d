//! The one HTTP client every outbound request goes through (docs/template-format.md "Requests";
//! SECURITY.md "Outbound requests"): one `reqwest` client with the configured timeouts,
//! responses read up to [`MAX_RESPONSE_BYTES`] while they stream, at most [`MAX_REDIRECTS`]
//! redirects and only within the origin the request named (its credentials and template
//! headers never follow a redirect elsewhere), connections only where the outbound policy
//! allows (checked on every resolved address), and at most MaxConcurrentRequest requests in
//! flight per integration: further requests wait their turn rather than fail.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::core::outbound::{OutboundPolicy, Refused};
use super::core::request::{Method, OutboundRequest};
use super::core::response::Received;

/// The largest response body read; a longer one is refused without being held in memory.
pub const MAX_RESPONSE_BYTES: usize = 10 * 1024 * 1024;
/// Redirects followed per request; a loop ends here.
pub const MAX_REDIRECTS: usize = 5;
/// The most requests in flight per integration whatever its template says
/// (docs/template-format.md: MaxConcurrentRequest is 1..100).
pub const MAX_CONCURRENT_REQUESTS: usize = 100;

#[derive(Debug, Clone)]
pub struct ExecutorSettings {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Where requests may connect (`PATCHBAY_OUTBOUND_DENY` / `_ALLOW`).
    pub policy: OutboundPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("{url} did not answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("{url} redirected more than {MAX_REDIRECTS} times (a redirect loop?)")]
    TooManyRedirects { url: String },
    #[error("{url} redirected to a {scheme}: URL; only http and https are followed")]
    RedirectScheme { url: String, scheme: String },
    #[error("{url} redirected to {target}, another origin; the request's credentials and headers stay with the origin the template named, so the redirect is not followed")]
    RedirectElsewhere { url: String, target: String },
    #[error("{url} is not reached: {reason}")]
    Refused { url: String, reason: Refused },
    #[error("the answer of {url} is larger than {} MiB", MAX_RESPONSE_BYTES / (1024 * 1024))]
    TooLarge { url: String },
    #[error("the request to {url} failed: {reason}")]
    Other { url: String, reason: String },
}

/// How a request ended, as the `outcome` label of `patchbay_crm_requests` says it.
fn outcome_name(result: &Result<Received, SendError>) -> &'static str {
    match result {
        Ok(received) => match received.status {
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            500..=599 => "5xx",
            _ => "other",
        },
        Err(SendError::Timeout { .. }) => "timeout",
        Err(SendError::Connect { .. }) => "connect",
        Err(SendError::Refused { .. }) => "refused",
        Err(SendError::TooLarge { .. }) => "too_large",
        Err(_) => "error",
    }
}

/// A response with how long it took.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub received: Received,
    pub elapsed: Duration,
}

/// Which integration a request belongs to, for its concurrency limit.
#[derive(Debug, Clone, Copy)]
pub struct Lane {
    pub integration_id: i32,
    pub max_concurrent: usize,
}

pub struct Executor {
    client: reqwest::Client,
    settings: ExecutorSettings,
    lanes: LaneGates,
}

/// One gate per integration with its MaxConcurrentRequest places (1 to
/// [`MAX_CONCURRENT_REQUESTS`]). The executor's bounds requests in flight; the queue's
/// bounds steps between starting and being recorded.
#[derive(Default)]
pub struct LaneGates {
    gates: Mutex<HashMap<i32, (usize, Arc<Semaphore>)>>,
    /// Told when a gate is made or resized: its places are now known (the queue claims
    /// only what its lanes can start).
    changed: Option<Arc<tokio::sync::Notify>>,
}

impl LaneGates {
    /// Gates that tell `changed` whenever an integration's number of places becomes known.
    pub fn notifying(changed: Arc<tokio::sync::Notify>) -> LaneGates {
        LaneGates {
            gates: Mutex::default(),
            changed: Some(changed),
        }
    }

    /// The places of the integration's gate, once a request or step has made it.
    pub fn places(&self, integration_id: i32) -> Option<usize> {
        let gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        gates.get(&integration_id).map(|(places, _)| *places)
    }

    /// The lane's gate. A new template revision with another limit gets a new gate;
    /// holders of the old one finish there.
    pub fn gate(&self, lane: Lane) -> Arc<Semaphore> {
        let permits = lane.max_concurrent.clamp(1, MAX_CONCURRENT_REQUESTS);
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        let known = gates.get(&lane.integration_id).map(|(places, _)| *places);
        if known != Some(permits) {
            gates.insert(
                lane.integration_id,
                (permits, Arc::new(Semaphore::new(permits))),
            );
            if let Some(changed) = &self.changed {
                changed.notify_one();
            }
        }
        gates[&lane.integration_id].1.clone()
    }
}

/// Errors the redirect policy raises; `send` turns them into [`SendError`]s.
#[derive(Debug, thiserror::Error)]
enum RedirectRefused {
    #[error("too many redirects")]
    TooMany,
    #[error("redirect to {0}:")]
    Scheme(String),
    #[error("redirect to {0}")]
    Elsewhere(String),
}

/// Resolves host names as the system does, then keeps only the addresses the outbound
/// policy allows: the check is on the address the connection will use, so a name that
/// resolves somewhere else the second time (DNS rebinding) gains nothing.
struct PolicyResolver {
    policy: Arc<OutboundPolicy>,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusal = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|address| match policy.check(Some(&host), address.ip()) {
                    Ok(()) => true,
                    Err(refused) => {
                        refusal.get_or_insert(refused);
                        false
                    }
                })
                .collect();
            match (allowed.is_empty(), refusal) {
                (true, Some(refused)) => {
                    Err(Box::new(refused) as Box<dyn std::error::Error + Send + Sync>)
                }
                _ => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

/// An IP literal in a URL is connected to without resolving: the policy is asked here.
fn check_literal(policy: &OutboundPolicy, url: &url::Url) -> Result<(), Refused> {
    match url.host() {
        Some(url::Host::Ipv4(address)) => policy.check(None, address.into()),
        Some(url::Host::Ipv6(address)) => policy.check(None, address.into()),
        _ => Ok(()),
    }
}

impl Executor {
    pub fn new(settings: ExecutorSettings) -> Result<Executor, reqwest::Error> {
        // A redirect stays within the request's origin, so it reaches the host `send`
        // checked: the policy needs no second look at redirects.
        let redirects = reqwest::redirect::Policy::custom(|attempt| {
            let scheme = attempt.url().scheme().to_owned();
            let first = attempt.previous().first().map(url::Url::origin);
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(RedirectRefused::TooMany)
            } else if scheme != "http" && scheme != "https" {
                attempt.error(RedirectRefused::Scheme(scheme))
            } else if first.is_some_and(|origin| origin != attempt.url().origin()) {
                let target = shown_url(attempt.url());
                attempt.error(RedirectRefused::Elsewhere(target))
            } else {
                attempt.follow()
            }
        });
        let policy = Arc::new(settings.policy.clone());
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .redirect(redirects)
            .dns_resolver(Arc::new(PolicyResolver { policy }))
            .user_agent(concat!("Patchbay/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Executor {
            client,
            settings,
            lanes: LaneGates::default(),
        })
    }

    /// Sends `request` when its integration has a free slot, and reads the answer.
    pub async fn send(&self, lane: Lane, request: &OutboundRequest) -> Result<Exchange, SendError> {
        let shown = shown_url(&request.url);
        if let Err(reason) = check_literal(&self.settings.policy, &request.url) {
            tracing::info!(request = %request.name, url = %shown, %reason, "outbound request refused");
            return Err(SendError::Refused { url: shown, reason });
        }
        let gate = self.lanes.gate(lane);
        // The semaphore is never closed, so acquiring only waits.
        let _permit = gate.acquire_owned().await.ok();
        let started = Instant::now();
        let mut builder = self.client.request(
            match request.method {
                Method::Get => reqwest::Method::GET,
                Method::Post => reqwest::Method::POST,
                Method::Put => reqwest::Method::PUT,
                Method::Patch => reqwest::Method::PATCH,
                Method::Delete => reqwest::Method::DELETE,
            },
            request.url.clone(),
        );
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, body.content_type)
                .body(body.text.clone());
        }
        let result = async {
            let mut response = builder.send().await?;
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let link = header(reqwest::header::LINK);
            let retry_after = header(reqwest::header::RETRY_AFTER);
            if response
                .content_length()
                .is_some_and(|length| length > MAX_RESPONSE_BYTES as u64)
            {
                return Ok(Err(SendError::TooLarge { url: shown.clone() }));
            }
            let announced = response.content_length().unwrap_or(0) as usize;
            let mut body = Vec::with_capacity(announced.min(MAX_RESPONSE_BYTES));
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Ok(Err(SendError::TooLarge { url: shown.clone() }));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Ok(Received {
                status,
                content_type,
                // Valid UTF-8 (nearly always) is kept without a copy.
                body: String::from_utf8(body)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                link,
                retry_after,
            }))
        }
        .await
        .unwrap_or_else(|error: reqwest::Error| Err(self.describe(&shown, error)));
        let elapsed = started.elapsed();
        crate::metrics::metrics().crm_request(
            lane.integration_id,
            outcome_name(&result),
            elapsed.as_secs_f64(),
        );
        match &result {
            Ok(received) => tracing::debug!(
                request = %request.name,
                method = request.method.as_str(),
                url = %shown,
                status = received.status,
                elapsed_ms = elapsed.as_millis() as u64,
                "outbound request"
            ),
            Err(error) => tracing::info!(
                request = %request.name,
                method = request.method.as_str(),
                url = %shown,
                %error,
                "outbound request failed"
            ),
        }
        result.map(|received| Exchange { received, elapsed })
    }

    /// Opens a GET whose body the caller reads as a stream (a call recording): the outbound
    /// policy, timeouts and redirects as for [`Executor::send`]; the caller bounds the body.
    pub async fn open(&self, url: &url::Url) -> Result<reqwest::Response, SendError> {
        let shown = shown_url(url);
        check_literal(&self.settings.policy, url).map_err(|reason| SendError::Refused {
            url: shown.clone(),
            reason,
        })?;
        self.client
            .get(url.clone())
            .send()
            .await
            .map_err(|error| self.describe(&shown, error))
    }

    /// A TCP connection to `url`'s host, at an address the outbound policy allows, within
    /// the connect timeout (the phone system's WebSocket, which reqwest does not speak).
    pub async fn connect_tcp(&self, url: &url::Url) -> Result<tokio::net::TcpStream, SendError> {
        let shown = shown_url(url);
        let refused = |reason| SendError::Refused {
            url: shown.clone(),
            reason,
        };
        let connect = |reason: String| SendError::Connect {
            url: shown.clone(),
            reason,
        };
        let host = url
            .host_str()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_owned();
        let port = url.port_or_known_default().unwrap_or(80);
        let attempt = async {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|e| connect(e.to_string()))?
                .collect();
            let literal = host.parse::<std::net::IpAddr>().is_ok();
            let mut last = connect(format!("{host} has no address"));
            for address in resolved {
                let named = (!literal).then_some(host.as_str());
                if let Err(reason) = self.settings.policy.check(named, address.ip()) {
                    last = refused(reason);
                    continue;
                }
                match tokio::net::TcpStream::connect(address).await {
                    Ok(stream) => return Ok(stream),
                    Err(error) => last = connect(error.to_string()),
                }
            }
            Err(last)
        };
        tokio::time::timeout(self.settings.connect_timeout, attempt)
            .await
            .unwrap_or_else(|_| {
                Err(SendError::Timeout {
                    url: shown.clone(),
                    seconds: self.settings.connect_timeout.as_secs(),
                })
            })
    }

    fn describe(&self, url: &str, error: reqwest::Error) -> SendError {
        let url = url.to_owned();
        if error.is_timeout() {
            let limit = if error.is_connect() {
                self.settings.connect_timeout
            } else {
                self.settings.request_timeout
            };
            return SendError::Timeout {
                url,
                seconds: limit.as_secs(),
            };
        }
        if error.is_redirect() {
            let refused = std::error::Error::source(&error)
                .and_then(|source| source.downcast_ref::<RedirectRefused>());
            return match refused {
                Some(RedirectRefused::Scheme(scheme)) => SendError::RedirectScheme {
                    url,
                    scheme: scheme.clone(),
                },
                Some(RedirectRefused::Elsewhere(target)) => SendError::RedirectElsewhere {
                    url,
                    target: target.clone(),
                },
                _ => SendError::TooManyRedirects { url },
            };
        }
        if let Some(reason) = policy_refusal(&error) {
            return SendError::Refused { url, reason };
        }
        let reason = innermost_reason(&error);
        if error.is_connect() {
            SendError::Connect { url, reason }
        } else {
            SendError::Other { url, reason }
        }
    }
}

/// A URL as messages and logs show it: without user info, query or fragment, which can
/// hold credentials (token endpoints take `client_secret` in the query).
pub fn shown_url(url: &url::Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    shown
}

/// The resolver's refusal, somewhere in the chain reqwest and hyper wrap it in.
fn policy_refusal(error: &reqwest::Error) -> Option<Refused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(current) = source {
        if let Some(refused) = current.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        source = current.source();
    }
    None
}

/// The most specific cause (reqwest wraps hyper wraps io), without the URL reqwest adds.
fn innermost_reason(error: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_carry_no_credentials() {
        let url = url::Url::parse("https://user:pw@crm.example:8443/oauth/token?client_secret=s#x")
            .unwrap();
        assert_eq!(shown_url(&url), "https://crm.example:8443/oauth/token");
    }
}
