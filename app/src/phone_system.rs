//! The phone system's shared types (README "Phone system"): what the Phone system page and
//! `GET`/`PUT /api/v1/phone-system` show and take. A secret's value never travels back:
//! the view says whether one is set.

use serde::{Deserialize, Serialize};

/// Extension syncs run every hour unless the administrator says otherwise.
pub const DEFAULT_SYNC_MINUTES: u32 = 60;
/// The shortest schedule: the PBX's API is not a thing to poll.
pub const MIN_SYNC_MINUTES: u32 = 5;
/// The longest schedule: a week.
pub const MAX_SYNC_MINUTES: u32 = 7 * 24 * 60;
/// The webhook Secret's length bounds (the PBX generates 32 characters).
pub const MIN_WEBHOOK_SECRET_CHARS: usize = 16;
pub const MAX_WEBHOOK_SECRET_CHARS: usize = 128;
/// The longest base URL, Client ID or Client Secret.
pub const MAX_SETTING_CHARS: usize = 512;
/// Where the PBX posts its webhook events.
pub const YEASTAR_WEBHOOK_PATH: &str = "/api/v1/events/yeastar";

/// How the PBX's events reach Patchbay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// The PBX posts each event, signed (Integrations › API › Webhook Event Push).
    #[default]
    Webhook,
    /// Patchbay holds the Open API's WebSocket (editions without the webhook).
    Websocket,
    /// Both; an event seen on both is worked once.
    Both,
}

impl Delivery {
    pub const ALL: [Delivery; 3] = [Delivery::Webhook, Delivery::Websocket, Delivery::Both];

    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Webhook => "webhook",
            Delivery::Websocket => "websocket",
            Delivery::Both => "both",
        }
    }

    pub fn parse(text: &str) -> Option<Delivery> {
        Delivery::ALL.into_iter().find(|d| d.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Delivery::Webhook => "Webhook (the PBX posts signed events)",
            Delivery::Websocket => "WebSocket (Patchbay connects to the Open API)",
            Delivery::Both => "Both",
        }
    }

    pub fn uses_websocket(self) -> bool {
        self != Delivery::Webhook
    }
}

/// What an administrator saves. A secret left out (`null`) keeps the stored one; an empty
/// one removes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneSystemInput {
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub webhook_secret: Option<String>,
    #[serde(default)]
    pub delivery: Delivery,
    #[serde(default = "default_sync_minutes")]
    pub sync_minutes: u32,
}

fn default_sync_minutes() -> u32 {
    DEFAULT_SYNC_MINUTES
}

/// The state of the Open API connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// Nothing saved yet.
    #[default]
    NotConfigured,
    /// Webhooks only, no Open API credentials: Patchbay waits for the PBX's posts.
    WebhookOnly,
    Connecting,
    /// Patchbay holds an Open API token (and the WebSocket, if events come that way).
    Connected,
    /// The PBX refused the Client ID and Secret; nothing is tried again until they are
    /// saved again (the PBX blocks an address after 5 failures).
    Refused,
    /// The PBX did not answer or the connection dropped; Patchbay tries again.
    Unreachable,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::NotConfigured => "not_configured",
            LinkState::WebhookOnly => "webhook_only",
            LinkState::Connecting => "connecting",
            LinkState::Connected => "connected",
            LinkState::Refused => "refused",
            LinkState::Unreachable => "unreachable",
        }
    }

    pub fn parse(text: &str) -> LinkState {
        [
            LinkState::WebhookOnly,
            LinkState::Connecting,
            LinkState::Connected,
            LinkState::Refused,
            LinkState::Unreachable,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
        .unwrap_or(LinkState::NotConfigured)
    }

    pub fn label(self) -> &'static str {
        match self {
            LinkState::NotConfigured => "Not configured",
            LinkState::WebhookOnly => "Waiting for webhooks",
            LinkState::Connecting => "Connecting",
            LinkState::Connected => "Connected",
            LinkState::Refused => "Refused",
            LinkState::Unreachable => "Unreachable",
        }
    }
}

/// Events of one type received today (UTC).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCount {
    /// As the PBX numbers it (`30011`) or names it.
    pub event_type: String,
    /// What it is, when Patchbay knows (`Call Status Changed`).
    pub name: String,
    pub count: i64,
}

/// The vendor's name of an event type Patchbay acts on.
pub fn event_name(event_type: &str) -> &'static str {
    match event_type {
        "30011" => "Call Status Changed",
        "30012" => "New CDR",
        "CallStatus" => "Call status (S-Series)",
        "NewCdr" => "New CDR (S-Series)",
        _ => "",
    }
}

/// The phone system as the page and `GET /api/v1/phone-system` show it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneSystemView {
    pub base_url: String,
    pub client_id: String,
    pub client_secret_set: bool,
    pub webhook_secret_set: bool,
    /// Until when the webhook Secret replaced last is still accepted (unix seconds).
    pub previous_webhook_secret_until: Option<i64>,
    pub delivery: Delivery,
    pub sync_minutes: u32,
    /// The address to paste into the PBX's Webhook URL.
    pub webhook_url: String,
    pub status: LinkState,
    /// Why, for `refused` (the PBX's errcode and errmsg) and `unreachable`.
    pub status_detail: String,
    pub status_at: Option<i64>,
    pub token_expires_at: Option<i64>,
    pub last_heartbeat_at: Option<i64>,
    pub last_event_at: Option<i64>,
    pub last_event_type: String,
    /// `webhook`, `websocket` or `token` (a relay with an `events` token).
    pub last_event_channel: String,
    pub events_today: Vec<EventCount>,
    pub last_sync_at: Option<i64>,
    pub last_sync_result: String,
}

/// What an extension sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionSyncReport {
    /// Extensions the PBX listed.
    pub listed: usize,
    pub added: usize,
    pub updated: usize,
    /// Extensions the PBX no longer has, removed with their associations.
    pub removed: usize,
    /// What the integrations that follow each sync did (user sync and Associate
    /// Automatically), one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
}

impl ExtensionSyncReport {
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{} extensions on the PBX: {} added, {} updated, {} removed",
            self.listed, self.added, self.updated, self.removed
        );
        for line in &self.users {
            text.push_str("; ");
            text.push_str(line);
        }
        text
    }
}
