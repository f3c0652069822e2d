//! A template's revision history, shared by the History page and the server (README
//! "Revisions and rollback"): every saved revision with who saved it and when, and the
//! side-by-side difference of two.

use serde::{Deserialize, Serialize};

/// How many saved revisions of a template are kept; older ones go, except the revision its
/// integration runs and the one it ran before.
pub const MAX_KEPT_REVISIONS: i32 = 50;

/// Lines of unchanged text shown around each change.
pub const DIFF_CONTEXT_LINES: usize = 3;

/// One kept revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionSummary {
    pub revision: i32,
    /// Who saved it (an account's e-mail); empty when saved before history was kept.
    pub author: String,
    /// Unix seconds.
    pub saved_at: i64,
}

/// A template's history as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateHistory {
    pub name: String,
    /// The template's current revision.
    pub current: i32,
    /// The revision its integration runs, and the one it ran before (Roll back's target).
    pub running: Option<i32>,
    pub previous: Option<i32>,
    /// Newest first.
    pub revisions: Vec<RevisionSummary>,
}

/// How a row of the side-by-side view differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Same,
    Removed,
    Added,
    /// A line replaced: the old on the left, the new on the right.
    Changed,
    /// Unchanged lines left out between two changes.
    Folded,
}

/// One row of the side-by-side view: a line of each revision (numbered from 1), or none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffRow {
    pub change: Change,
    pub left: Option<(usize, String)>,
    pub right: Option<(usize, String)>,
}

/// Two revisions side by side: the changed lines with [`DIFF_CONTEXT_LINES`] around them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionDiff {
    pub from: i32,
    pub to: i32,
    pub rows: Vec<DiffRow>,
    /// Lines added and removed.
    pub added: usize,
    pub removed: usize,
}
