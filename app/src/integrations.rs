//! Integrations as the pages see them: a template connected to a CRM with the values a
//! user filled in. Secrets never travel to the browser: a secret field says whether it is
//! set, never what it is.

use serde::{Deserialize, Serialize};

use crate::template::model::Provider;

/// Where an integration stands (PORTAL.md "Integrations").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    NotConnected,
    Connected,
    TokenInvalid,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotConnected => "not_connected",
            Status::Connected => "connected",
            Status::TokenInvalid => "token_invalid",
            Status::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Status {
        match text {
            "connected" => Status::Connected,
            "token_invalid" => Status::TokenInvalid,
            "error" => Status::Error,
            _ => Status::NotConnected,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::NotConnected => "Not connected",
            Status::Connected => "Connected",
            Status::TokenInvalid => "Token invalid",
            Status::Error => "Error",
        }
    }
}

/// One tile of the Integrations grid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationCard {
    pub provider: Provider,
    pub key: String,
    pub name: String,
    pub has_logo: bool,
    pub status: Status,
    pub last_error: Option<String>,
}

/// How a custom field is edited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Password,
    List,
}

/// A field of the settings page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingField {
    pub name: String,
    pub title: String,
    pub kind: FieldKind,
    /// A list's options.
    pub options: Vec<String>,
    /// The stored value of a field that is not secret; always empty for a secret.
    pub value: String,
    /// Whether a secret field has a stored value (shown as "set", with Replace).
    pub is_set: bool,
    pub secret: bool,
}

/// OAuth 2.0's Network section: what the administrator copies into the CRM's app settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInfo {
    pub homepage_url: String,
    pub redirect_uri: String,
}

/// Everything the settings page of one integration shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationSettings {
    pub provider: Provider,
    pub key: String,
    pub name: String,
    pub auth_type: String,
    pub status: Status,
    pub last_error: Option<String>,
    /// Unix seconds.
    pub last_error_at: Option<i64>,
    pub connected_at: Option<i64>,
    /// The template's current revision, and the one the integration runs (None: never saved).
    pub template_revision: i32,
    pub running_revision: Option<i32>,
    /// The Authentication section's fields (for OAuth 2.0 without client id and secret).
    pub fields: Vec<SettingField>,
    /// OAuth 2.0 only: the Authorization section (client id and secret) and the Network section.
    pub authorization: Vec<SettingField>,
    pub network: Option<NetworkInfo>,
    /// How many global variables GetGlobalInfo stored.
    pub global_variables: usize,
    /// OAuth 2.0 and Bearer: when the token in use was issued, and when it expires (unix
    /// seconds; the expiry only when the CRM said).
    pub token_issued_at: Option<i64>,
    pub token_expires_at: Option<i64>,
}

/// What Save sends: a value per field. A secret left empty keeps its stored value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsInput {
    pub values: Vec<(String, String)>,
}

/// What Save did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveOutcome {
    pub status: Status,
    pub message: String,
    /// OAuth 2.0: where the browser goes next to authorize (the CRM's consent page).
    pub authorize_url: Option<String>,
}

/// How a template's row in Template Management shows its integration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateUse {
    pub status: Status,
    /// The template revision the integration runs; older than the template's: Apply.
    pub running_revision: i32,
}
