//! What Prometheus scrapes at `/metrics` (README "Metrics"), in its text format. Counters
//! and histograms are kept by the code that does the work (a leaf any layer may use, as
//! the process's one registry); what the database knows (the queue) and what is open now
//! (streams, the phone system's connection) is read when scraped ([`Snapshot`]).
//!
//! Every label has bounded values: routes as the router declares them (never a raw path),
//! integrations by id (at most 10 per provider), status classes, outcome names.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// The route as declared (`/api/v1/templates/{provider}`), or `unmatched`.
    pub route: String,
    pub method: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CrmLabels {
    pub integration: String,
    /// `2xx` … `5xx` for an answer; `timeout`, `connect`, `refused`, `too_large`, `error`.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IntegrationLabel {
    pub integration: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub integration: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub source: String,
    /// `queued`, `replay`, `ignored` or `refused`.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: String,
}

type Histograms = Family<IntegrationLabel, Histogram, fn() -> Histogram>;

/// A CRM request's time, 5 ms to about 40 s.
fn crm_latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    crm_requests: Family<CrmLabels, Counter>,
    crm_seconds: Histograms,
    token_refreshes: Family<OutcomeLabels, Counter>,
    events: Family<EventLabels, Counter>,
    queue_jobs: Family<StateLabel, Gauge>,
    queue_oldest_seconds: Family<StateLabel, Gauge>,
    call_streams: Gauge,
    phone_system_connected: Gauge,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

/// What the database and the open connections say at a scrape.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Jobs per state.
    pub queue_jobs: Vec<(String, u64)>,
    /// Per open state (`pending`, `running`), the age of its oldest job in seconds.
    pub queue_oldest_seconds: Vec<(String, i64)>,
    /// Agents' call streams open in this process.
    pub call_streams: usize,
    /// Whether this process holds the phone system's connection, connected.
    pub phone_system_connected: bool,
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("patchbay");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            http_requests.clone(),
        );
        let crm_requests = Family::<CrmLabels, Counter>::default();
        registry.register(
            "crm_requests",
            "Requests sent to CRMs, by integration id and outcome",
            crm_requests.clone(),
        );
        let crm_seconds: Histograms = Family::new_with_constructor(crm_latency_histogram);
        registry.register(
            "crm_request_seconds",
            "How long CRM requests took, by integration id",
            crm_seconds.clone(),
        );
        let token_refreshes = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "token_refreshes",
            "OAuth 2.0 and Bearer token refreshes, by integration id and outcome (ok, failed)",
            token_refreshes.clone(),
        );
        let events = Family::<EventLabels, Counter>::default();
        registry.register(
            "events_received",
            "Call events received, by source and outcome",
            events.clone(),
        );
        let queue_jobs = Family::<StateLabel, Gauge>::default();
        registry.register(
            "queue_jobs",
            "Queue jobs in each state (all servers of the database)",
            queue_jobs.clone(),
        );
        let queue_oldest_seconds = Family::<StateLabel, Gauge>::default();
        registry.register(
            "queue_oldest_job_age_seconds",
            "Age of the oldest pending or running queue job",
            queue_oldest_seconds.clone(),
        );
        let call_streams = Gauge::default();
        registry.register(
            "call_streams_open",
            "Agents' call streams open on this server",
            call_streams.clone(),
        );
        let phone_system_connected = Gauge::default();
        registry.register(
            "phone_system_connected",
            "1 when this server holds the phone system's WebSocket, connected",
            phone_system_connected.clone(),
        );
        Metrics {
            registry,
            http_requests,
            crm_requests,
            crm_seconds,
            token_refreshes,
            events,
            queue_jobs,
            queue_oldest_seconds,
            call_streams,
            phone_system_connected,
        }
    }

    pub fn http_request(&self, route: &str, method: &str, status: u16) {
        self.http_requests
            .get_or_create(&HttpLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status: status.to_string(),
            })
            .inc();
    }

    /// A CRM request of integration `integration_id` ended with `outcome` after `seconds`.
    pub fn crm_request(&self, integration_id: i32, outcome: &str, seconds: f64) {
        let integration = integration_id.to_string();
        self.crm_requests
            .get_or_create(&CrmLabels {
                integration: integration.clone(),
                outcome: outcome.to_owned(),
            })
            .inc();
        self.crm_seconds
            .get_or_create(&IntegrationLabel { integration })
            .observe(seconds);
    }

    pub fn token_refresh(&self, integration_id: i32, ok: bool) {
        self.token_refreshes
            .get_or_create(&OutcomeLabels {
                integration: integration_id.to_string(),
                outcome: if ok { "ok" } else { "failed" }.to_owned(),
            })
            .inc();
    }

    pub fn event(&self, source: &str, outcome: &str) {
        self.events
            .get_or_create(&EventLabels {
                source: source.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The text Prometheus reads, with `snapshot`'s values.
    pub fn render(&self, snapshot: &Snapshot) -> String {
        self.queue_jobs.clear();
        for (state, count) in &snapshot.queue_jobs {
            self.queue_jobs
                .get_or_create(&StateLabel {
                    state: state.clone(),
                })
                .set(*count as i64);
        }
        self.queue_oldest_seconds.clear();
        for (state, age) in &snapshot.queue_oldest_seconds {
            self.queue_oldest_seconds
                .get_or_create(&StateLabel {
                    state: state.clone(),
                })
                .set(*age);
        }
        self.call_streams.set(snapshot.call_streams as i64);
        self.phone_system_connected
            .set(i64::from(snapshot.phone_system_connected));
        let mut text = String::new();
        // Writing into a String does not fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_shows_the_snapshot_and_what_was_counted() {
        let metrics = Metrics::new();
        metrics.token_refresh(3, true);
        metrics.token_refresh(3, false);
        metrics.crm_request(3, "5xx", 0.2);
        let text = metrics.render(&Snapshot {
            queue_jobs: vec![("pending".into(), 4), ("failed".into(), 1)],
            queue_oldest_seconds: vec![("pending".into(), 90)],
            call_streams: 2,
            phone_system_connected: true,
        });
        for line in [
            r#"patchbay_token_refreshes_total{integration="3",outcome="ok"} 1"#,
            r#"patchbay_token_refreshes_total{integration="3",outcome="failed"} 1"#,
            r#"patchbay_crm_requests_total{integration="3",outcome="5xx"} 1"#,
            r#"patchbay_crm_request_seconds_bucket{integration="3",le="0.32"} 1"#,
            r#"patchbay_crm_request_seconds_bucket{integration="3",le="0.16"} 0"#,
            r#"patchbay_queue_jobs{state="pending"} 4"#,
            r#"patchbay_queue_oldest_job_age_seconds{state="pending"} 90"#,
            "patchbay_call_streams_open 2",
            "patchbay_phone_system_connected 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        // A later scrape forgets states that have no jobs any more.
        let text = metrics.render(&Snapshot::default());
        assert!(!text.contains(r#"state="pending""#), "{text}");
    }
}
