//! The test console's run and what it shows (README "The test console"): the same report
//! `patchbay run` prints. Every value in it has been masked by the server before it leaves
//! (`engine::core::trace`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::calls::Call;

/// The scenarios the console runs, in the order the page offers them.
pub const CONSOLE_SCENARIOS: [&str; 7] = [
    "SyncContactAuto",
    "SearchContact",
    "CreateNewContact",
    "CallJournal",
    "CreateNewTicket",
    "GetGlobalInfo",
    "FollowUp",
];

/// What the console sends: a scenario and sample values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ConsoleInput {
    pub scenario: String,
    /// SyncContactAuto and CreateNewContact: the number; SearchContact: the search text.
    pub phone: String,
    /// CreateNewContact: the names the new contact gets.
    pub first_name: String,
    pub last_name: String,
    /// CallJournal and CreateNewTicket.
    pub call: Call,
    /// Render only, send nothing.
    pub dry_run: bool,
}

/// A request as it was (or would be) sent, secrets masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ShownRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The body was too long and is cut, like an answer's.
    #[serde(default)]
    pub folded: bool,
}

/// An answer, secrets masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ShownResponse {
    pub status: u16,
    pub content_type: Option<String>,
    /// Pretty-printed when it is JSON.
    pub body: String,
    /// The body was too long and is cut (`MAX_SHOWN_BODY_CHARS` on the server).
    pub folded: bool,
}

/// One step of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TraceStep {
    /// `Scenario/Request`.
    pub step: String,
    pub request: ShownRequest,
    /// `None` in a dry run.
    pub response: Option<ShownResponse>,
    /// What this step's outputs read (first result), masked.
    pub outputs: BTreeMap<String, String>,
    pub elapsed_ms: u64,
    /// Why this step failed, if it did.
    pub error: Option<String>,
}

/// A contact a lookup found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FoundContact {
    /// The contact type that matched: the name of its SyncContactAuto request.
    pub contact_type: String,
    /// Output name → value, empty outputs left out.
    pub fields: BTreeMap<String, String>,
    pub popup_url: Option<String>,
}

/// A run's report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunReport {
    pub scenario: String,
    pub dry_run: bool,
    pub steps: Vec<TraceStep>,
    /// Requests whose URL rendered empty, skipped (`Scenario/Request`).
    pub skipped: Vec<String>,
    /// Lookups: the contact found.
    pub contact: Option<FoundContact>,
    /// The variables the run produced (outputs, globals), masked.
    pub outputs: BTreeMap<String, String>,
    /// Why the run stopped, if it did; the failed step says more.
    pub error: Option<String>,
    pub elapsed_ms: u64,
}
