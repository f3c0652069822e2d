//! Notifications as the pages show them (README "Notifications").

use serde::{Deserialize, Serialize};

/// One notification sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRow {
    /// Unix milliseconds.
    pub at: i64,
    /// The integration's name; none for the deployment's (the phone system).
    pub integration: Option<String>,
    pub condition: String,
    pub message: String,
    /// Where it went, or why it did not.
    pub delivery: String,
}

/// Where notifications go, and the last ones sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationsView {
    /// `e-mail via smtp.example.com from …`, `webhook https://…`; empty: nowhere.
    pub channels: Vec<String>,
    pub recent: Vec<NotificationRow>,
}

/// Notifications listed on a page.
pub const RECENT_NOTIFICATIONS: u64 = 20;
