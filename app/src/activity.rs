//! The Activity page's rows and filters (README "Activity").

use serde::{Deserialize, Serialize};

use crate::template::model::Provider;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failed,
    /// Nothing was sent (every URL rendered empty, or the feature is off for this call).
    Skipped,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Success, Outcome::Failed, Outcome::Skipped];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// The layer a failure came from, so support knows where to look (README "Faults").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The phone system's event was refused or unreadable.
    PhoneSystem,
    /// Credentials refused, a refresh refused, the token invalid.
    Authentication,
    /// The template: a render error, an invalid mapping.
    Template,
    /// DNS, connect, timeout, TLS, an answer too large.
    Network,
    /// The CRM refused the request (HTTP 4xx).
    CrmRefused,
    /// The CRM failed (HTTP 5xx).
    CrmFailed,
    /// The CRM asked to slow down (HTTP 429).
    RateLimited,
    /// Patchbay's outbound policy refused the address, or a redirect elsewhere.
    Policy,
    /// Patchbay itself: its storage failed.
    Internal,
}

impl Fault {
    pub const ALL: [Fault; 9] = [
        Fault::PhoneSystem,
        Fault::Authentication,
        Fault::Template,
        Fault::Network,
        Fault::CrmRefused,
        Fault::CrmFailed,
        Fault::RateLimited,
        Fault::Policy,
        Fault::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Fault::PhoneSystem => "phone_system",
            Fault::Authentication => "authentication",
            Fault::Template => "template",
            Fault::Network => "network",
            Fault::CrmRefused => "crm_refused",
            Fault::CrmFailed => "crm_failed",
            Fault::RateLimited => "rate_limited",
            Fault::Policy => "policy",
            Fault::Internal => "internal",
        }
    }

    pub fn parse(text: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.as_str() == text)
    }

    /// How the pages name it.
    pub fn label(self) -> &'static str {
        match self {
            Fault::PhoneSystem => "Phone system",
            Fault::Authentication => "Authentication",
            Fault::Template => "Template",
            Fault::Network => "Network",
            Fault::CrmRefused => "CRM refused",
            Fault::CrmFailed => "CRM failed",
            Fault::RateLimited => "Rate limited",
            Fault::Policy => "Policy",
            Fault::Internal => "Patchbay",
        }
    }
}

/// One scenario run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActivityRow {
    pub id: i64,
    pub provider: Provider,
    pub key: String,
    pub integration: String,
    /// Unix milliseconds.
    pub at: i64,
    pub scenario: String,
    pub origin: String,
    pub outcome: Outcome,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub requests: u32,
    pub error: Option<String>,
    /// What the run found, in a few words (a lookup's matches, a cached contact).
    #[serde(default)]
    pub detail: Option<String>,
    /// Where a failure came from.
    #[serde(default)]
    pub fault: Option<Fault>,
}

/// What the page asks for; empty strings mean "any".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActivityFilter {
    /// `provider/key`.
    pub integration: String,
    pub scenario: String,
    pub outcome: String,
    /// A [`Fault`]'s `as_str`.
    pub fault: String,
    /// Rows older than this id (the next page).
    pub before: Option<i64>,
}

/// A page of rows, newest first, and what the filters can choose from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActivityPage {
    pub rows: Vec<ActivityRow>,
    /// `(provider/key, name)` of every integration.
    pub integrations: Vec<(String, String)>,
    /// There are older rows (ask with `before` = the last row's id).
    pub more: bool,
    /// The retention in force: at most this many rows per integration, none older than
    /// this many days.
    pub keep_rows: u64,
    pub keep_days: u64,
}

/// Queue jobs per page of Activity › Queue.
pub const QUEUE_PAGE_ROWS: u64 = 50;

/// One step of a call's work waiting, running or failed (Activity › Queue).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QueueJob {
    pub id: i32,
    pub integration: String,
    pub call_id: String,
    /// `lookup`, `ticket_before`, `contact`, `journal`, `ticket_after`.
    pub step: String,
    /// `pending`, `running`, `done`, `failed`, `discarded`.
    pub state: String,
    pub attempts: i32,
    /// Unix milliseconds: when a pending job is due.
    pub next_attempt_at: i64,
    /// Unix milliseconds of its last change.
    pub updated_at: i64,
    pub last_error: String,
    /// Where the last failure came from.
    #[serde(default)]
    pub fault: Option<Fault>,
    /// Taken over after a server stopped mid-way: its requests may have been sent twice.
    pub retaken: bool,
    /// `Inbound 5550100 → 1001`.
    pub call: String,
}

/// A page of the queue and how many jobs are in each state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QueuePage {
    pub counts: Vec<(String, u64)>,
    pub jobs: Vec<QueueJob>,
    pub total: u64,
    pub offset: u64,
}

/// The bucket bounds of CRM latency counted per hour, in milliseconds; a run that waited
/// longer than the last counts as "slower".
pub const LATENCY_BUCKETS_MS: [u64; 12] = [
    50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 10_000,
];

/// The hours the health card sums.
pub const HEALTH_WINDOW_HOURS: i64 = 24;

/// Answers in a row on which an output that used to read values read nothing before it is
/// flagged as drift (README "Drift").
pub const DRIFT_STREAK: i64 = 20;
/// The share of answers an output must have read a value on before its streak, to count as
/// one that "used to read values".
pub const DRIFT_MIN_SHARE_PERCENT: u64 = 50;

/// An output that stopped reading values: the CRM renamed a field, or the answer's shape
/// changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DriftFlag {
    /// `Scenario/Request`.
    pub step: String,
    pub output: String,
    /// Answers in a row that read nothing.
    pub streak: u64,
    /// The share (percent) of earlier answers that read a value.
    pub share_before: u64,
}

impl DriftFlag {
    pub fn message(&self) -> String {
        format!(
            "{} ({}) read nothing on the last {} answers; it read a value on {} % before.",
            self.output, self.step, self.streak, self.share_before
        )
    }
}

/// An integration's health over the last [`HEALTH_WINDOW_HOURS`] (README "Health").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IntegrationHealth {
    pub successes: u64,
    /// Failures by layer, most first; layers without failures left out.
    pub failures: Vec<(Fault, u64)>,
    /// CRM latency: the bucket bound the median and the 95th percentile fall in (`None`
    /// without runs that sent a request; `u64::MAX`: slower than the last bucket).
    pub median_ms: Option<u64>,
    pub p95_ms: Option<u64>,
    /// Queue jobs waiting or running, and failed (Activity › Queue).
    pub backlog: u64,
    pub failed_jobs: u64,
    /// Unix milliseconds of the last run that succeeded (any age).
    pub last_success_at: Option<i64>,
    /// Outputs that stopped reading values.
    #[serde(default)]
    pub drift: Vec<DriftFlag>,
}

impl IntegrationHealth {
    pub fn failed(&self) -> u64 {
        self.failures.iter().map(|(_, n)| n).sum()
    }
}

/// The bucket bound a latency counts in.
pub fn latency_bucket(ms: u64) -> u64 {
    LATENCY_BUCKETS_MS
        .into_iter()
        .find(|bound| ms <= *bound)
        .unwrap_or(u64::MAX)
}

/// The bucket bound the `q` quantile (0..=1) of the counted latencies falls in.
pub fn latency_quantile(buckets: &[(u64, u64)], q: f64) -> Option<u64> {
    let total: u64 = buckets.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let rank = ((total as f64) * q).ceil().max(1.0) as u64;
    let mut sorted = buckets.to_vec();
    sorted.sort();
    let mut seen = 0;
    sorted.into_iter().find_map(|(bound, n)| {
        seen += n;
        (seen >= rank).then_some(bound)
    })
}

/// How the pages say a bucket bound.
pub fn latency_label(bound: Option<u64>) -> String {
    match bound {
        None => "\u{2014}".into(),
        Some(u64::MAX) => format!("> {} ms", LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.len() - 1]),
        Some(ms) => format!("\u{2264} {ms} ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_fall_in_the_bucket_that_holds_their_rank() {
        assert_eq!(latency_bucket(0), 50);
        assert_eq!(latency_bucket(301), 500);
        assert_eq!(latency_bucket(10_001), u64::MAX);
        // 90 fast, 10 slow: the median is fast, p95 slow.
        let buckets = [(100, 90), (3_000, 10)];
        assert_eq!(latency_quantile(&buckets, 0.5), Some(100));
        assert_eq!(latency_quantile(&buckets, 0.95), Some(3_000));
        assert_eq!(latency_quantile(&[], 0.5), None);
        assert_eq!(latency_label(Some(u64::MAX)), "> 10000 ms");
    }

    #[test]
    fn every_fault_reads_back_from_its_name() {
        for fault in Fault::ALL {
            assert_eq!(Fault::parse(fault.as_str()), Some(fault));
        }
    }
}
