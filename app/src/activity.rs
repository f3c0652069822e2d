//! The Activity page's rows and filters (README "Activity").

use serde::{Deserialize, Serialize};

use crate::template::model::Provider;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// One scenario run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// What the page asks for; empty strings mean "any".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActivityFilter {
    /// `provider/key`.
    pub integration: String,
    pub scenario: String,
    pub outcome: String,
    /// Rows older than this id (the next page).
    pub before: Option<i64>,
}

/// A page of rows, newest first, and what the filters can choose from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Taken over after a server stopped mid-way: its requests may have been sent twice.
    pub retaken: bool,
    /// `Inbound 5550100 → 1001`.
    pub call: String,
}

/// A page of the queue and how many jobs are in each state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuePage {
    pub counts: Vec<(String, u64)>,
    pub jobs: Vec<QueueJob>,
    pub total: u64,
    pub offset: u64,
}
