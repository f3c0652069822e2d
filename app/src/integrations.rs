//! Integrations as the pages see them: a template connected to a CRM with the values a
//! user filled in. Secrets never travel to the browser: a secret field says whether it is
//! set, never what it is.

use serde::{Deserialize, Serialize};

use crate::calls::CallDirection;
use crate::template::model::Provider;

/// Where an integration stands (README "Connecting an integration").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Password,
    List,
}

/// A field of the settings page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NetworkInfo {
    pub homepage_url: String,
    pub redirect_uri: String,
}

/// Everything the settings page of one integration shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// The revision it ran before the last Apply or rollback: Roll back's target.
    #[serde(default)]
    pub previous_revision: Option<i32>,
    /// The account its notifications go to.
    #[serde(default)]
    pub owner: Option<String>,
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
    /// The Features section: what the template offers and what was chosen.
    pub feature_options: FeatureOptions,
    pub features: Features,
    /// The template lists CRM users (UserAssociation): the page offers Sync.
    pub user_association: bool,
}

/// What Save sends: a value per field. A secret left empty keeps its stored value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsInput {
    pub values: Vec<(String, String)>,
}

/// What Save did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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

/// The Features section's choices (docs/scenarios.md "The Features section"), stored with
/// the integration. A text left `None` uses the template's default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Features {
    pub contacts: ContactFeatures,
    pub create_contact: CreateContactFeatures,
    pub journal: JournalFeatures,
    pub ticket: TicketFeatures,
    pub users: UserFeatures,
    #[serde(default)]
    pub rollout: RolloutFeatures,
}

/// The most extensions and groups a pilot names.
pub const MAX_PILOT_ENTRIES: usize = 1_000;

/// A staged rollout (README "Pilot rollout and shadow mode"): calls of only some extensions
/// (by number, or an extension group's members), independent of User Association; and a
/// shadow mode that looks callers up but only records what contacts, journals and tickets
/// it would have written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RolloutFeatures {
    /// Extension numbers; with `groups` empty too, every extension.
    pub extensions: Vec<String>,
    /// Extension group names.
    pub groups: Vec<String>,
    pub shadow: bool,
}

impl RolloutFeatures {
    /// Whether the pilot names any extension or group (else every extension takes part).
    pub fn limited(&self) -> bool {
        !self.extensions.is_empty() || !self.groups.is_empty()
    }

    /// Whether calls of extension `number` take part, given the named groups' members.
    pub fn includes(&self, number: &str, group_members: &[String]) -> bool {
        !self.limited()
            || self.extensions.iter().any(|n| n == number)
            || group_members.iter().any(|n| n == number)
    }
}

/// User Association kept in step with the phone system (README "Phone system").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct UserFeatures {
    /// After each extension sync from the PBX, sync the CRM users and Associate
    /// Automatically, so new staff are associated without anyone pressing a button.
    pub after_extension_sync: bool,
}

/// Synchronize Contacts Automatically (docs/scenarios.md "Contacts, the cache and number
/// formats").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ContactFeatures {
    /// Look callers up when a call rings; off, calls go on without a contact (the lookup
    /// API and the console still ask).
    pub sync: bool,
    /// The SyncContactAuto requests (contact types) to search, in the template's order;
    /// empty: all of them.
    pub contact_types: Vec<String>,
    /// The name Patchbay's phonebook (the contact cache) is shown under.
    pub phonebook: String,
    /// Ask the CRM on every call; off, a contact read less than `cache_minutes` ago is
    /// taken from the cache.
    pub always_query: bool,
    pub cache_minutes: u32,
    /// What to do when a number matches several contacts.
    pub several_matches: MatchRule,
    /// The number formats tried in order until one finds a contact.
    pub number_formats: Vec<NumberFormat>,
    /// The country a number without its country code is read in (ISO 3166 code, `US`);
    /// empty: such numbers cannot be written as E.164.
    pub default_country: String,
    /// How many trailing digits `last_digits` keeps.
    pub last_digits: u8,
    /// The number Save and Check connection look up when the template has no
    /// GetGlobalInfo; empty: [`SAMPLE_PHONE`].
    pub test_number: String,
}

/// One entry of Patchbay's phonebook (the contact cache), as the integration page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CachedContactRow {
    /// The number as it was asked for.
    pub number: String,
    pub name: String,
    pub contact_type: String,
    pub popup_url: Option<String>,
    /// When the CRM was read, unix seconds.
    pub read_at: i64,
}

/// Rows per page of the phonebook on the integration page.
pub const PHONEBOOK_PAGE_ROWS: u64 = 50;

/// A page of the phonebook.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CachedContactsPage {
    pub contacts: Vec<CachedContactRow>,
    /// How many match the search in all.
    pub total: u64,
    pub offset: u64,
}

/// The number the connection test looks up unless the Features say another.
pub const SAMPLE_PHONE: &str = "5550100";
/// How long a cached contact is used without asking the CRM, unless the Features say.
pub const DEFAULT_CACHE_MINUTES: u32 = 60;
/// The longest a cached contact may be used (a week).
pub const MAX_CACHE_MINUTES: u32 = 7 * 24 * 60;
pub const DEFAULT_LAST_DIGITS: u8 = 9;

impl Default for ContactFeatures {
    fn default() -> Self {
        ContactFeatures {
            sync: true,
            contact_types: Vec::new(),
            phonebook: String::new(),
            always_query: false,
            cache_minutes: DEFAULT_CACHE_MINUTES,
            several_matches: MatchRule::default(),
            number_formats: Vec::new(),
            default_country: String::new(),
            last_digits: DEFAULT_LAST_DIGITS,
            test_number: String::new(),
        }
    }
}

impl ContactFeatures {
    pub fn test_number(&self) -> &str {
        match self.test_number.trim() {
            "" => SAMPLE_PHONE,
            number => number,
        }
    }
}

/// What a lookup does when a number matches more than one contact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MatchRule {
    /// The first result of the first contact type (in the template's order) that has
    /// one; later types are not asked. The vendor's behaviour.
    #[default]
    First,
    /// Every contact type is asked; a number that matches more than one contact finds none
    /// (the answer says how many matched).
    Refuse,
    /// Every contact type is asked and every match is listed for the agent to pick; the
    /// call's journal and ticket use the first.
    All,
}

impl MatchRule {
    pub const ALL: [MatchRule; 3] = [MatchRule::First, MatchRule::Refuse, MatchRule::All];

    pub fn as_str(self) -> &'static str {
        match self {
            MatchRule::First => "first",
            MatchRule::Refuse => "refuse",
            MatchRule::All => "all",
        }
    }

    pub fn parse(text: &str) -> MatchRule {
        MatchRule::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            MatchRule::First => "Take the first match (in contact type order)",
            MatchRule::Refuse => "Refuse when several contacts match",
            MatchRule::All => "List every match for the agent to pick",
        }
    }
}

/// A way of writing a phone number for a CRM's search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NumberFormat {
    /// As the phone system or the caller sent it.
    AsReceived,
    /// Digits only: `+1 (555) 010-0` gives `15550100`.
    Digits,
    /// E.164 (`+15550100`), read in the default country when it has no country code.
    E164,
    /// The national format's digits (`5550100`).
    National,
    /// The last digits (see `last_digits`): for CRMs that store numbers in many ways.
    LastDigits,
}

impl NumberFormat {
    pub const ALL: [NumberFormat; 5] = [
        NumberFormat::AsReceived,
        NumberFormat::Digits,
        NumberFormat::E164,
        NumberFormat::National,
        NumberFormat::LastDigits,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NumberFormat::AsReceived => "as_received",
            NumberFormat::Digits => "digits",
            NumberFormat::E164 => "e164",
            NumberFormat::National => "national",
            NumberFormat::LastDigits => "last_digits",
        }
    }

    pub fn parse(text: &str) -> Option<NumberFormat> {
        NumberFormat::ALL.into_iter().find(|f| f.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            NumberFormat::AsReceived => "As received",
            NumberFormat::Digits => "Digits only",
            NumberFormat::E164 => "E.164 (+countrycode…)",
            NumberFormat::National => "National",
            NumberFormat::LastDigits => "Last digits",
        }
    }
}

/// Create New Contact: `contact_type` empty is off; neither direction ticked is manual
/// (from the test console or the API only).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CreateContactFeatures {
    pub contact_type: String,
    pub on_inbound: bool,
    pub on_outbound: bool,
}

/// Call Journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct JournalFeatures {
    pub enabled: bool,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub play_recording: Option<bool>,
    /// DisableMissedCallRecords: no journal for a call nobody answered.
    pub skip_missed: Option<bool>,
    pub calls: JournalCalls,
}

impl Default for JournalFeatures {
    fn default() -> Self {
        JournalFeatures {
            enabled: true,
            subject: None,
            description: None,
            play_recording: None,
            skip_missed: None,
            calls: JournalCalls::default(),
        }
    }
}

/// When a ticket is created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketWhen {
    #[default]
    Off,
    BeforeCall,
    AfterCall,
}

impl TicketWhen {
    pub const ALL: [TicketWhen; 3] = [
        TicketWhen::Off,
        TicketWhen::BeforeCall,
        TicketWhen::AfterCall,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketWhen::Off => "off",
            TicketWhen::BeforeCall => "before_call",
            TicketWhen::AfterCall => "after_call",
        }
    }

    pub fn parse(text: &str) -> TicketWhen {
        TicketWhen::ALL
            .into_iter()
            .find(|w| w.as_str() == text)
            .unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            TicketWhen::Off => "Off",
            TicketWhen::BeforeCall => "Before the call (when it rings)",
            TicketWhen::AfterCall => "After the call",
        }
    }
}

/// Create New Ticket (helpdesk templates).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct TicketFeatures {
    pub when: TicketWhen,
    /// The call types a ticket is made for (the reference's four); empty: every one.
    /// Stored lists of directions (`"inbound"`) read as both of its types.
    #[serde(deserialize_with = "call_types_or_directions")]
    pub call_types: Vec<CallType>,
    pub subject: Option<String>,
    pub description: Option<String>,
}

/// The reference's call types for tickets: direction and whether it was answered. Internal
/// calls have none: they get no ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallType {
    InboundAnswered,
    InboundNoAnswer,
    OutboundAnswered,
    OutboundNoAnswer,
}

impl CallType {
    pub const ALL: [CallType; 4] = [
        CallType::InboundAnswered,
        CallType::InboundNoAnswer,
        CallType::OutboundAnswered,
        CallType::OutboundNoAnswer,
    ];

    pub fn direction(self) -> CallDirection {
        match self {
            CallType::InboundAnswered | CallType::InboundNoAnswer => CallDirection::Inbound,
            CallType::OutboundAnswered | CallType::OutboundNoAnswer => CallDirection::Outbound,
        }
    }

    pub fn answered(self) -> bool {
        matches!(self, CallType::InboundAnswered | CallType::OutboundAnswered)
    }

    pub fn label(self) -> &'static str {
        match self {
            CallType::InboundAnswered => "Inbound Answered",
            CallType::InboundNoAnswer => "Inbound No Answer",
            CallType::OutboundAnswered => "Outbound Answered",
            CallType::OutboundNoAnswer => "Outbound No Answer",
        }
    }
}

/// Reads `call_types` as call types, or as the directions earlier versions stored.
fn call_types_or_directions<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<CallType>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Type(CallType),
        Direction(CallDirection),
    }
    let stored = Vec::<Stored>::deserialize(deserializer)?;
    let mut types = Vec::new();
    for entry in stored {
        let more: Vec<CallType> = match entry {
            Stored::Type(t) => vec![t],
            Stored::Direction(d) => CallType::ALL
                .into_iter()
                .filter(|t| t.direction() == d)
                .collect(),
        };
        for t in more {
            if !types.contains(&t) {
                types.push(t);
            }
        }
    }
    Ok(types)
}

/// Which calls get a journal (docs/scenarios.md "CallJournal").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JournalCalls {
    /// Calls with a CRM contact (found or created): the vendor's behaviour.
    #[default]
    WithContacts,
    /// Every inbound and outbound call.
    External,
    /// Internal calls too.
    All,
}

impl JournalCalls {
    pub const ALL: [JournalCalls; 3] = [
        JournalCalls::WithContacts,
        JournalCalls::External,
        JournalCalls::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JournalCalls::WithContacts => "with_contacts",
            JournalCalls::External => "external",
            JournalCalls::All => "all",
        }
    }

    pub fn parse(text: &str) -> JournalCalls {
        JournalCalls::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            JournalCalls::WithContacts => "Calls with a CRM contact (found or created)",
            JournalCalls::External => "Every inbound and outbound call",
            JournalCalls::All => "Every call, internal calls too",
        }
    }
}

/// A value the template sets, and whether the integrating user may change it
/// (`Enable…=1` in the template).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Choice<T> {
    pub editable: bool,
    pub default: T,
}

/// What the template offers in the Features section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FeatureOptions {
    /// SyncContactAuto's contact types, in order.
    pub contact_types: Vec<String>,
    /// CreateNewContact's contact types, when the template enables contact creation.
    pub creatable_types: Vec<String>,
    pub journal: Option<JournalOptions>,
    pub ticket: Option<TicketOptions>,
    /// The template lists CRM users (User Association).
    pub lists_users: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JournalOptions {
    pub subject: Choice<String>,
    pub description: Choice<String>,
    /// `None`: the template has no such option.
    pub play_recording: Option<Choice<bool>>,
    pub skip_missed: Option<Choice<bool>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TicketOptions {
    pub subject: Choice<String>,
    pub description: Choice<String>,
    /// The template has an UpdateTicket request (the ticket is updated after the call).
    pub updates: bool,
}

/// What a CRM user sync did (README "CRM user sync").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserSyncReport {
    pub pages: usize,
    /// Users the CRM listed.
    pub users: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// Associations the removed users held (they go with the users).
    #[serde(default)]
    pub associations_removed: usize,
    /// Every page was read; `false` when the 100-request limit stopped it (then nobody is
    /// removed).
    pub complete: bool,
    /// A sentence for the page.
    pub message: String,
}

/// A sync under way, for the page's progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserSyncProgress {
    pub running: bool,
    pub pages: usize,
    pub users: usize,
}

/// One CRM user as the association table shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CrmUserRow {
    pub crm_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// The extensions associated with the user, ascending.
    #[serde(default)]
    pub extensions: Vec<String>,
}

/// What Associate Automatically will do (asked before, to confirm) or did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AutoAssociation {
    /// Extension–user pairs it adds.
    pub associated: usize,
    /// CRM users who gain at least one extension.
    pub users: usize,
    /// CRM users no extension shares an e-mail with.
    pub unmatched: usize,
    /// Pairs already in place.
    pub already: usize,
    /// Extensions whose e-mail matches one user but that another user already has: left
    /// as they are.
    pub conflicts: Vec<String>,
    pub applied: bool,
}

/// CRM users per page of the association table.
pub const CRM_USERS_PAGE_ROWS: u64 = 50;

/// A page of an integration's CRM users.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CrmUsersPage {
    pub users: Vec<CrmUserRow>,
    /// How many match the search in all.
    pub total: u64,
    pub offset: u64,
}
