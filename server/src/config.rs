//! Configuration from environment variables, optionally layered over a TOML file.
//! Every setting is documented in README.md ("Configuration").

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::Deserialize;

pub use crate::accounts::bootstrap::InitialAdmin;
use crate::crypto::keys::{generate_key, EncryptionKey};
use crate::storage::create_private_dir;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path} is not valid TOML: {message}")]
    ParseFile { path: PathBuf, message: String },
    #[error("{name}: {message}")]
    Invalid { name: &'static str, message: String },
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the encryption key file {} can be read by other users (mode {:o}); allow only its owner: chmod 600 {}", .path.display(), .mode, .path.display())]
    KeyFilePermissions { path: PathBuf, mode: u32 },
    #[error("the configuration file {} holds {key}, a credential, and other users can read it (mode {:o}); allow only its owner: chmod 600 {}", .path.display(), .mode, .path.display())]
    SharedCredentialFile {
        path: PathBuf,
        key: &'static str,
        mode: u32,
    },
    #[error("cannot read or write the encryption key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Every setting, by its environment variable; the TOML file (`PATCHBAY_CONFIG`) takes each
/// lower-case without the prefix (`bind`, `queue_lease_secs`). README "Configuration" has one
/// row for each, and a test checks the three agree with every name the code reads.
pub const SETTINGS: &[&str] = &[
    "PATCHBAY_BIND",
    "PATCHBAY_PUBLIC_URL",
    "PATCHBAY_DATA_DIR",
    "PATCHBAY_DATABASE_URL",
    "PATCHBAY_ENCRYPTION_KEY",
    "PATCHBAY_ADMIN_EMAIL",
    "PATCHBAY_ADMIN_PASSWORD",
    "PATCHBAY_SITE_ROOT",
    "PATCHBAY_LOG",
    "PATCHBAY_LOG_FORMAT",
    "PATCHBAY_PREVIOUS_ENCRYPTION_KEYS",
    "PATCHBAY_TIME_ZONE",
    "PATCHBAY_CONNECT_TIMEOUT_SECS",
    "PATCHBAY_REQUEST_TIMEOUT_SECS",
    "PATCHBAY_ACTIVITY_KEEP",
    "PATCHBAY_ACTIVITY_DAYS",
    "PATCHBAY_QUEUE_MAX_ATTEMPTS",
    "PATCHBAY_QUEUE_RETRY_BASE_MS",
    "PATCHBAY_QUEUE_RETRY_MAX_SECS",
    "PATCHBAY_QUEUE_KEEP_DAYS",
    "PATCHBAY_QUEUE_LEASE_SECS",
    "PATCHBAY_OUTBOUND_DENY",
    "PATCHBAY_OUTBOUND_ALLOW",
    "PATCHBAY_MAX_CONNECTIONS",
    "PATCHBAY_HEADER_TIMEOUT_SECS",
    "PATCHBAY_HANDLER_TIMEOUT_SECS",
    "PATCHBAY_IDLE_TIMEOUT_SECS",
    "PATCHBAY_SHUTDOWN_GRACE_SECS",
    "PATCHBAY_PBX_HEARTBEAT_SECS",
    "PATCHBAY_PBX_LEASE_SECS",
    "PATCHBAY_PBX_RECONNECT_MAX_SECS",
    "PATCHBAY_SMTP_URL",
    "PATCHBAY_SMTP_FROM",
    "PATCHBAY_NOTIFY_WEBHOOK_URL",
    "PATCHBAY_NOTIFY_WEBHOOK_SECRET",
    "PATCHBAY_NOTIFY_INTERVAL_SECS",
    "PATCHBAY_TRUSTED_PROXIES",
];

/// The optional TOML file: the same settings as the environment variables, lower-case and
/// without the `PATCHBAY_` prefix. The environment wins over the file. A file that holds a
/// credential (the keys, the admin password, the SMTP URL, the webhook secret, a database
/// URL with a password) must be readable by its owner only.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<String>,
    public_url: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    site_root: Option<PathBuf>,
    admin_email: Option<String>,
    trusted_proxies: Option<String>,
    time_zone: Option<String>,
    connect_timeout_secs: Option<u64>,
    request_timeout_secs: Option<u64>,
    activity_keep: Option<u64>,
    activity_days: Option<u64>,
    queue_max_attempts: Option<u64>,
    queue_retry_base_ms: Option<u64>,
    queue_retry_max_secs: Option<u64>,
    queue_lease_secs: Option<u64>,
    queue_keep_days: Option<u64>,
    outbound_deny: Option<String>,
    outbound_allow: Option<String>,
    max_connections: Option<u64>,
    header_timeout_secs: Option<u64>,
    handler_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    shutdown_grace_secs: Option<u64>,
    pbx_heartbeat_secs: Option<u64>,
    pbx_lease_secs: Option<u64>,
    pbx_reconnect_max_secs: Option<u64>,
    encryption_key: Option<String>,
    previous_encryption_keys: Option<String>,
    admin_password: Option<String>,
    log: Option<String>,
    log_format: Option<String>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    notify_webhook_url: Option<String>,
    notify_webhook_secret: Option<String>,
    notify_interval_secs: Option<u64>,
}

impl FileConfig {
    /// The settings read as text through one lookup (the environment first), by variable.
    fn text_settings(&self) -> Vec<(&'static str, String)> {
        [
            ("PATCHBAY_ENCRYPTION_KEY", self.encryption_key.clone()),
            (
                "PATCHBAY_PREVIOUS_ENCRYPTION_KEYS",
                self.previous_encryption_keys.clone(),
            ),
            ("PATCHBAY_ADMIN_PASSWORD", self.admin_password.clone()),
            ("PATCHBAY_SMTP_URL", self.smtp_url.clone()),
            ("PATCHBAY_SMTP_FROM", self.smtp_from.clone()),
            (
                "PATCHBAY_NOTIFY_WEBHOOK_URL",
                self.notify_webhook_url.clone(),
            ),
            (
                "PATCHBAY_NOTIFY_WEBHOOK_SECRET",
                self.notify_webhook_secret.clone(),
            ),
            (
                "PATCHBAY_NOTIFY_INTERVAL_SECS",
                self.notify_interval_secs.map(|n| n.to_string()),
            ),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect()
    }

    /// The credentials in the file, by their key, for the permission check.
    fn credentials(&self) -> Vec<&'static str> {
        let password_in_url = self
            .database_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .is_some_and(|u| u.password().is_some());
        [
            ("encryption_key", self.encryption_key.is_some()),
            (
                "previous_encryption_keys",
                self.previous_encryption_keys.is_some(),
            ),
            ("admin_password", self.admin_password.is_some()),
            ("smtp_url", self.smtp_url.is_some()),
            (
                "notify_webhook_secret",
                self.notify_webhook_secret.is_some(),
            ),
            ("database_url", password_in_url),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
        .collect()
    }
}

/// The log's filter and format (`PATCHBAY_LOG`, `PATCHBAY_LOG_FORMAT`, or the file's `log`
/// and `log_format`): read before the rest, since logging starts first. A file that cannot
/// be read gives nothing here; [`Config::from_env`] reports it.
pub fn log_settings() -> (Option<String>, Option<String>) {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let file = env("PATCHBAY_CONFIG")
        .and_then(|path| read_file_config(Path::new(&path)).ok())
        .unwrap_or_default();
    (
        env("PATCHBAY_LOG").or(file.log),
        env("PATCHBAY_LOG_FORMAT").or(file.log_format),
    )
}

/// Where the encryption key came from, so start-up can warn about a generated one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    /// `encryption_key` in the configuration file.
    ConfigFile,
    KeyFile,
    Generated,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// Base URL as the browser sees it, without a trailing slash.
    pub public_url: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Directory with `pkg/` (the WebAssembly bundle and stylesheet).
    pub site_root: PathBuf,
    pub encryption_key: EncryptionKey,
    pub key_source: KeySource,
    pub initial_admin: Option<InitialAdmin>,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` headers name the client
    /// (`PATCHBAY_TRUSTED_PROXIES`, comma-separated CIDRs or addresses). Empty: the
    /// connection's own address is the client, and those headers are ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Keys that only decrypt: values still under them are re-encrypted by `patchbay secrets
    /// rotate` (`PATCHBAY_PREVIOUS_ENCRYPTION_KEYS`, or the key file's further lines).
    pub previous_keys: Vec<EncryptionKey>,
    /// The server's zone for template functions (`PATCHBAY_TIME_ZONE`): an IANA name such as
    /// `Europe/Berlin`, or a fixed offset such as `+08:00`. Default UTC.
    pub time_zone: TimeZoneSetting,
    /// Outbound requests to CRMs: connecting (default 5 s) and the whole request (15 s).
    pub connect_timeout: std::time::Duration,
    pub request_timeout: std::time::Duration,
    /// The Activity page's record per integration: at most `rows` runs
    /// (`PATCHBAY_ACTIVITY_KEEP`, default 1000), none older than `days`
    /// (`PATCHBAY_ACTIVITY_DAYS`, default 30).
    pub activity: crate::storage::activity::Retention,
    /// The call queue's retries and leases (README "Call events").
    pub queue: crate::queue::service::QueueSettings,
    /// The phone system link's timing (`PATCHBAY_PBX_HEARTBEAT_SECS`, default 20;
    /// `PATCHBAY_PBX_LEASE_SECS`, default 45; `PATCHBAY_PBX_RECONNECT_MAX_SECS`, default 60).
    pub phone_link: crate::phone_system::service::LinkSettings,
    /// Where integration requests may connect (`PATCHBAY_OUTBOUND_DENY`,
    /// `PATCHBAY_OUTBOUND_ALLOW`; SECURITY.md "Outbound requests").
    pub outbound: crate::engine::core::outbound::OutboundPolicy,
    /// What one client may hold (`PATCHBAY_MAX_CONNECTIONS`, `PATCHBAY_HEADER_TIMEOUT_SECS`,
    /// `PATCHBAY_HANDLER_TIMEOUT_SECS`, `PATCHBAY_IDLE_TIMEOUT_SECS`), and what requests and
    /// queue jobs get to finish when the server stops (`PATCHBAY_SHUTDOWN_GRACE_SECS`).
    pub connections: crate::web::listener::ConnectionLimits,
    /// Where notifications go (`PATCHBAY_SMTP_URL`, `PATCHBAY_SMTP_FROM`,
    /// `PATCHBAY_NOTIFY_WEBHOOK_URL`, `PATCHBAY_NOTIFY_WEBHOOK_SECRET`) and how often their
    /// conditions are checked (`PATCHBAY_NOTIFY_INTERVAL_SECS`, default 60). The SMTP URL and
    /// the secret are credentials: a configuration file holding them must be its owner's only.
    pub notifications: crate::notifications::service::Channels,
}

/// A configured time zone and the name it was configured with.
#[derive(Clone)]
pub struct TimeZoneSetting {
    pub name: String,
    pub zone: jiff::tz::TimeZone,
}

impl std::fmt::Debug for TimeZoneSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl TimeZoneSetting {
    pub fn utc() -> TimeZoneSetting {
        TimeZoneSetting {
            name: "UTC".into(),
            zone: jiff::tz::TimeZone::UTC,
        }
    }

    /// An IANA name from the bundled time-zone database, or a fixed offset (`UTC`, `Z`,
    /// `+08:00`, `-0530`) as the template functions parse it.
    pub fn parse(text: &str) -> Result<TimeZoneSetting, ConfigError> {
        let text = text.trim();
        let zone = match app::lang::functions::parse_offset(text) {
            Some(seconds) => jiff::tz::Offset::from_seconds(seconds)
                .map(jiff::tz::TimeZone::fixed)
                .ok(),
            None => jiff::tz::TimeZone::get(text).ok(),
        };
        zone.map(|zone| TimeZoneSetting {
            name: text.to_owned(),
            zone,
        })
        .ok_or_else(|| ConfigError::Invalid {
            name: "PATCHBAY_TIME_ZONE",
            message: format!(
                "\"{text}\" is neither a time zone name like Europe/Berlin nor an offset like +08:00"
            ),
        })
    }

    /// The offset in force at each instant, as the template functions ask for it.
    pub fn offsets(&self) -> app::lang::functions::ZoneOffset {
        let zone = self.zone.clone();
        std::sync::Arc::new(move |seconds| {
            jiff::Timestamp::from_second(seconds)
                .map(|instant| zone.to_offset(instant).seconds())
                .unwrap_or(0)
        })
    }
}

/// The longest timeout an operator may configure for outbound requests.
pub const MAX_OUTBOUND_TIMEOUT_SECS: u64 = 300;
/// The most Activity rows kept per integration.
pub const MAX_ACTIVITY_KEEP: u64 = 1_000_000;
/// The most days Activity rows are kept.
pub const MAX_ACTIVITY_DAYS: u64 = 3_650;
/// The most attempts a queued step may be given.
pub const MAX_QUEUE_ATTEMPTS: u64 = 1_000;
/// The longest first retry delay, in milliseconds.
pub const MAX_QUEUE_RETRY_BASE_MS: u64 = 3_600_000;
/// The longest delay between two attempts, and the longest lease, in seconds.
pub const MAX_QUEUE_DELAY_SECS: u64 = 86_400;
/// The longest phone system link interval (heartbeat, lease, reconnection wait) in seconds.
pub const MAX_PBX_LINK_SECS: u64 = 3_600;

impl Config {
    /// Reads the process environment (and the file named by `PATCHBAY_CONFIG`).
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::load(&|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// `env` looks a variable up; tests pass a map instead of the process environment.
    pub fn load(env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let file = match env("PATCHBAY_CONFIG") {
            Some(path) => {
                let path = PathBuf::from(path);
                let file = read_file_config(&path)?;
                if let Some(key) = file.credentials().first() {
                    refuse_shared_file(&path, |mode| ConfigError::SharedCredentialFile {
                        path: path.clone(),
                        key,
                        mode,
                    })?;
                }
                file
            }
            None => FileConfig::default(),
        };
        let setting = |name: &str, from_file: Option<String>| env(name).or(from_file);
        let file_texts = file.text_settings();
        // The settings read only as text: the environment, then the file.
        let text = |name: &str| {
            env(name).or_else(|| {
                file_texts
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.clone())
                    .filter(|v| !v.is_empty())
            })
        };

        let bind_text =
            setting("PATCHBAY_BIND", file.bind).unwrap_or_else(|| "127.0.0.1:3000".into());
        let bind: SocketAddr = bind_text.parse().map_err(|_| ConfigError::Invalid {
            name: "PATCHBAY_BIND",
            message: format!("\"{bind_text}\" is not an address like 127.0.0.1:3000"),
        })?;

        let public_url = setting("PATCHBAY_PUBLIC_URL", file.public_url)
            .unwrap_or_else(|| format!("http://{bind}"));
        let parsed = url::Url::parse(&public_url).map_err(|e| ConfigError::Invalid {
            name: "PATCHBAY_PUBLIC_URL",
            message: format!("\"{public_url}\" is not a URL: {e}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ConfigError::Invalid {
                name: "PATCHBAY_PUBLIC_URL",
                message: "must start with http:// or https://".into(),
            });
        }
        let public_url = public_url.trim_end_matches('/').to_string();

        let data_dir = env("PATCHBAY_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database_url =
            setting("PATCHBAY_DATABASE_URL", file.database_url).unwrap_or_else(|| {
                format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.join("patchbay.db").display()
                )
            });
        let site_root = env("PATCHBAY_SITE_ROOT")
            .map(PathBuf::from)
            .or(file.site_root)
            .unwrap_or_else(|| PathBuf::from("target/site"));

        let initial_admin = match (
            setting("PATCHBAY_ADMIN_EMAIL", file.admin_email),
            text("PATCHBAY_ADMIN_PASSWORD"),
        ) {
            (Some(email), Some(password)) => Some(InitialAdmin { email, password }),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Invalid {
                    name: "PATCHBAY_ADMIN_EMAIL",
                    message:
                        "set both PATCHBAY_ADMIN_EMAIL and PATCHBAY_ADMIN_PASSWORD, or neither"
                            .into(),
                })
            }
        };

        let (encryption_key, mut previous_keys, key_source) = match text("PATCHBAY_ENCRYPTION_KEY")
        {
            Some(key) => (
                parse_key(&key, "PATCHBAY_ENCRYPTION_KEY")?,
                Vec::new(),
                if env("PATCHBAY_ENCRYPTION_KEY").is_some() {
                    KeySource::Environment
                } else {
                    KeySource::ConfigFile
                },
            ),
            None => load_or_generate_key(&data_dir)?,
        };
        for text in text("PATCHBAY_PREVIOUS_ENCRYPTION_KEYS")
            .unwrap_or_default()
            .split(',')
            .filter(|t| !t.trim().is_empty())
        {
            previous_keys.push(parse_key(text, "PATCHBAY_PREVIOUS_ENCRYPTION_KEYS")?);
        }

        let time_zone = match setting("PATCHBAY_TIME_ZONE", file.time_zone) {
            Some(text) => TimeZoneSetting::parse(&text)?,
            None => TimeZoneSetting::utc(),
        };
        // A whole number from 1 to `max` (`unit` names it in messages: " seconds" or "").
        let count =
            |name: &'static str, from_file: Option<u64>, default: u64, max: u64, unit: &str| {
                let value = match env(name) {
                    Some(text) => text
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| ConfigError::Invalid {
                            name,
                            message: format!(
                                "\"{text}\" is not a whole number{}",
                                if unit.is_empty() {
                                    String::new()
                                } else {
                                    format!(" of{unit}")
                                }
                            ),
                        })?,
                    None => from_file.unwrap_or(default),
                };
                if !(1..=max).contains(&value) {
                    return Err(ConfigError::Invalid {
                        name,
                        message: format!("must be 1 to {max}{unit}"),
                    });
                }
                Ok(value)
            };
        let seconds = |name, from_file, default| {
            count(
                name,
                from_file,
                default,
                MAX_OUTBOUND_TIMEOUT_SECS,
                " seconds",
            )
            .map(std::time::Duration::from_secs)
        };
        let connect_timeout = seconds(
            "PATCHBAY_CONNECT_TIMEOUT_SECS",
            file.connect_timeout_secs,
            5,
        )?;
        let request_timeout = seconds(
            "PATCHBAY_REQUEST_TIMEOUT_SECS",
            file.request_timeout_secs,
            15,
        )?;

        let activity = crate::storage::activity::Retention {
            rows: count(
                "PATCHBAY_ACTIVITY_KEEP",
                file.activity_keep,
                crate::storage::activity::DEFAULT_KEEP_ROWS,
                MAX_ACTIVITY_KEEP,
                "",
            )?,
            days: count(
                "PATCHBAY_ACTIVITY_DAYS",
                file.activity_days,
                crate::storage::activity::DEFAULT_KEEP_DAYS,
                MAX_ACTIVITY_DAYS,
                " days",
            )?,
        };

        let queue_defaults = crate::queue::service::QueueSettings::default();
        let queue = crate::queue::service::QueueSettings {
            max_attempts: count(
                "PATCHBAY_QUEUE_MAX_ATTEMPTS",
                file.queue_max_attempts,
                queue_defaults.max_attempts,
                MAX_QUEUE_ATTEMPTS,
                "",
            )?,
            retry_base_ms: count(
                "PATCHBAY_QUEUE_RETRY_BASE_MS",
                file.queue_retry_base_ms,
                queue_defaults.retry_base_ms,
                MAX_QUEUE_RETRY_BASE_MS,
                " ms",
            )?,
            retry_max_ms: count(
                "PATCHBAY_QUEUE_RETRY_MAX_SECS",
                file.queue_retry_max_secs,
                queue_defaults.retry_max_ms / 1000,
                MAX_QUEUE_DELAY_SECS,
                " seconds",
            )? * 1000,
            lease_ms: count(
                "PATCHBAY_QUEUE_LEASE_SECS",
                file.queue_lease_secs,
                queue_defaults.lease_ms / 1000,
                MAX_QUEUE_DELAY_SECS,
                " seconds",
            )? * 1000,
            keep_days: count(
                "PATCHBAY_QUEUE_KEEP_DAYS",
                file.queue_keep_days,
                queue_defaults.keep_days,
                MAX_ACTIVITY_DAYS,
                " days",
            )?,
            ..queue_defaults
        };

        let link_defaults = crate::phone_system::service::LinkSettings::default();
        let pbx_seconds = |name, from_file, default: std::time::Duration| {
            count(
                name,
                from_file,
                default.as_secs(),
                MAX_PBX_LINK_SECS,
                " seconds",
            )
            .map(std::time::Duration::from_secs)
        };
        let phone_link = crate::phone_system::service::LinkSettings {
            heartbeat: pbx_seconds(
                "PATCHBAY_PBX_HEARTBEAT_SECS",
                file.pbx_heartbeat_secs,
                link_defaults.heartbeat,
            )?,
            lease: pbx_seconds(
                "PATCHBAY_PBX_LEASE_SECS",
                file.pbx_lease_secs,
                link_defaults.lease,
            )?,
            reconnect_max: pbx_seconds(
                "PATCHBAY_PBX_RECONNECT_MAX_SECS",
                file.pbx_reconnect_max_secs,
                link_defaults.reconnect_max,
            )?,
        };
        if phone_link.lease <= phone_link.heartbeat {
            return Err(ConfigError::Invalid {
                name: "PATCHBAY_PBX_LEASE_SECS",
                message: format!(
                    "must be longer than PATCHBAY_PBX_HEARTBEAT_SECS ({} s): the holder renews its lease at each heartbeat",
                    phone_link.heartbeat.as_secs()
                ),
            });
        }
        if phone_link.heartbeat.as_secs() >= 60 {
            return Err(ConfigError::Invalid {
                name: "PATCHBAY_PBX_HEARTBEAT_SECS",
                message: "must be under 60 s: the PBX drops a WebSocket idle for 60 s".into(),
            });
        }

        let trusted_proxies = parse_trusted_proxies(
            &setting("PATCHBAY_TRUSTED_PROXIES", file.trusted_proxies).unwrap_or_default(),
        )?;

        let outbound = crate::engine::core::outbound::OutboundPolicy::parse(
            &setting("PATCHBAY_OUTBOUND_DENY", file.outbound_deny).unwrap_or_default(),
            &setting("PATCHBAY_OUTBOUND_ALLOW", file.outbound_allow).unwrap_or_default(),
        )
        .map_err(|e| ConfigError::Invalid {
            name: e.setting,
            message: e.to_string(),
        })?;

        let connection_defaults = crate::web::listener::ConnectionLimits::default();
        let connections = crate::web::listener::ConnectionLimits {
            max_connections: count(
                "PATCHBAY_MAX_CONNECTIONS",
                file.max_connections,
                connection_defaults.max_connections as u64,
                crate::web::listener::MAX_CONNECTIONS as u64,
                "",
            )? as usize,
            header_timeout: seconds(
                "PATCHBAY_HEADER_TIMEOUT_SECS",
                file.header_timeout_secs,
                connection_defaults.header_timeout.as_secs(),
            )?,
            request_timeout: seconds(
                "PATCHBAY_HANDLER_TIMEOUT_SECS",
                file.handler_timeout_secs,
                connection_defaults.request_timeout.as_secs(),
            )?,
            idle_timeout: seconds(
                "PATCHBAY_IDLE_TIMEOUT_SECS",
                file.idle_timeout_secs,
                connection_defaults.idle_timeout.as_secs(),
            )?,
            shutdown_grace: seconds(
                "PATCHBAY_SHUTDOWN_GRACE_SECS",
                file.shutdown_grace_secs,
                connection_defaults.shutdown_grace.as_secs(),
            )?,
        };
        if connections.idle_timeout <= connections.request_timeout {
            return Err(ConfigError::Invalid {
                name: "PATCHBAY_IDLE_TIMEOUT_SECS",
                message: format!(
                    "must be longer than PATCHBAY_HANDLER_TIMEOUT_SECS ({} s): nothing moves on a connection while its handler works",
                    connections.request_timeout.as_secs()
                ),
            });
        }

        let notifications = notification_channels(&text)?;

        Ok(Config {
            notifications,
            connections,
            outbound,
            trusted_proxies,
            bind,
            public_url,
            data_dir,
            database_url,
            site_root,
            encryption_key,
            previous_keys,
            key_source,
            initial_admin,
            time_zone,
            connect_timeout,
            request_timeout,
            activity,
            queue,
            phone_link,
        })
    }

    pub fn uses_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

fn parse_trusted_proxies(text: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError::Invalid {
                    name: "PATCHBAY_TRUSTED_PROXIES",
                    message: format!(
                        "\"{entry}\" is not an address or a CIDR range like 10.0.0.0/8"
                    ),
                })
        })
        .collect()
}

fn read_file_config(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::ParseFile {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn parse_key(text: &str, name: &'static str) -> Result<EncryptionKey, ConfigError> {
    let bytes = BASE64
        .decode(text.trim())
        .map_err(|_| ConfigError::Invalid {
            name,
            message: "must be 32 bytes in base64 (generate one with `openssl rand -base64 32`)"
                .into(),
        })?;
    let key: [u8; 32] = bytes.try_into().map_err(|_| ConfigError::Invalid {
        name,
        message: "must decode to exactly 32 bytes".into(),
    })?;
    Ok(EncryptionKey(key))
}

pub const KEY_FILE_NAME: &str = "encryption.key";

/// A key kept beside the database survives restarts; losing it makes stored secrets
/// unreadable, which is why start-up warns when it had to create one. The file's first line
/// is the current key; further lines are previous keys a rotation has not finished with.
/// The longest check interval of notifications, in seconds.
pub const MAX_NOTIFY_INTERVAL_SECS: u64 = 3_600;

fn notification_channels(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<crate::notifications::service::Channels, ConfigError> {
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let smtp_url = set("PATCHBAY_SMTP_URL");
    if let Some(url) = &smtp_url {
        let parsed = url::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "smtp" | "smtps"));
        if parsed.is_none() {
            return Err(ConfigError::Invalid {
                name: "PATCHBAY_SMTP_URL",
                message: "must be a URL like smtps://user:password@mail.example.com:465 or smtp://mail.example.com:587?tls=required".into(),
            });
        }
    }
    let from =
        match set("PATCHBAY_SMTP_FROM") {
            Some(text) => Some(text.parse::<lettre::message::Mailbox>().map_err(|e| {
                ConfigError::Invalid {
                    name: "PATCHBAY_SMTP_FROM",
                    message: format!(
                        "\"{text}\" is not an address like Patchbay <patchbay@example.com>: {e}"
                    ),
                }
            })?),
            None => None,
        };
    if smtp_url.is_some() != from.is_some() {
        return Err(ConfigError::Invalid {
            name: "PATCHBAY_SMTP_FROM",
            message: "PATCHBAY_SMTP_URL and PATCHBAY_SMTP_FROM go together".into(),
        });
    }
    let webhook_url = match set("PATCHBAY_NOTIFY_WEBHOOK_URL") {
        Some(text) => Some(
            url::Url::parse(&text)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "PATCHBAY_NOTIFY_WEBHOOK_URL",
                    message: format!("\"{text}\" is not an http or https URL"),
                })?,
        ),
        None => None,
    };
    let interval = match set("PATCHBAY_NOTIFY_INTERVAL_SECS") {
        Some(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=MAX_NOTIFY_INTERVAL_SECS).contains(n))
            .ok_or_else(|| ConfigError::Invalid {
                name: "PATCHBAY_NOTIFY_INTERVAL_SECS",
                message: format!("must be 1 to {MAX_NOTIFY_INTERVAL_SECS} seconds"),
            })?,
        None => crate::notifications::service::DEFAULT_CHECK_INTERVAL.as_secs(),
    };
    Ok(crate::notifications::service::Channels {
        smtp_url,
        from,
        webhook_url,
        webhook_secret: set("PATCHBAY_NOTIFY_WEBHOOK_SECRET"),
        check_interval: std::time::Duration::from_secs(interval),
    })
}

fn load_or_generate_key(
    data_dir: &Path,
) -> Result<(EncryptionKey, Vec<EncryptionKey>, KeySource), ConfigError> {
    let path = data_dir.join(KEY_FILE_NAME);
    let key_file_error = |source| ConfigError::KeyFile {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            refuse_shared_key_file(&path)?;
            let mut keys = text
                .lines()
                .filter(|line| !line.trim().is_empty())
                .map(|line| parse_key(line, "encryption key file"));
            let current = keys
                .next()
                .unwrap_or_else(|| parse_key("", "encryption key file"))?;
            let previous = keys.collect::<Result<Vec<_>, _>>()?;
            return Ok((current, previous, KeySource::KeyFile));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(key_file_error(e)),
    }
    create_private_dir(data_dir).map_err(|source| ConfigError::DataDir {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let key = generate_key();
    write_private_file(&path, &BASE64.encode(key.0)).map_err(key_file_error)?;
    Ok((key, Vec::new(), KeySource::Generated))
}

/// A key file others can read is as good as published: refuse to start rather than use it.
fn refuse_shared_key_file(path: &Path) -> Result<(), ConfigError> {
    refuse_shared_file(path, |mode| ConfigError::KeyFilePermissions {
        path: path.to_path_buf(),
        mode,
    })
}

/// Fails with `refused(mode)` when group or others may read `path`.
fn refuse_shared_file(
    path: &Path,
    refused: impl FnOnce(u32) -> ConfigError,
) -> Result<(), ConfigError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|source| ConfigError::ReadFile {
                path: path.to_path_buf(),
                source,
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(refused(mode & 0o777));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, refused);
    Ok(())
}

/// Rewrites the key file atomically (a new private file renamed over it): `current` first,
/// then the `previous` keys still needed to read stored values.
pub fn write_key_file(
    data_dir: &Path,
    current: &EncryptionKey,
    previous: &[EncryptionKey],
) -> Result<(), ConfigError> {
    let path = data_dir.join(KEY_FILE_NAME);
    let staging = data_dir.join(format!("{KEY_FILE_NAME}.new"));
    let text: Vec<String> = std::iter::once(current)
        .chain(previous)
        .map(|key| BASE64.encode(key.0))
        .collect();
    let key_file_error = |source| ConfigError::KeyFile {
        path: path.clone(),
        source,
    };
    match std::fs::remove_file(&staging) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(key_file_error(e)),
        _ => {}
    }
    write_private_file(&staging, &(text.join("\n") + "\n")).map_err(key_file_error)?;
    std::fs::rename(&staging, &path).map_err(key_file_error)
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    fn load_with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(&|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_put_sqlite_under_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let config = load_with(&[("PATCHBAY_DATA_DIR", data)]).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(config.public_url, "http://127.0.0.1:3000");
        assert_eq!(
            config.database_url,
            format!("sqlite://{data}/patchbay.db?mode=rwc")
        );
        assert!(config.initial_admin.is_none());
    }

    #[test]
    fn time_zones_are_iana_names_or_fixed_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let berlin = load_with(&[
            ("PATCHBAY_DATA_DIR", data),
            ("PATCHBAY_TIME_ZONE", "Europe/Berlin"),
        ])
        .unwrap()
        .time_zone
        .offsets();
        // 2023-01-15 is winter time (+01:00), 2023-07-15 summer time (+02:00).
        assert_eq!(berlin(1_673_784_000), 3600);
        assert_eq!(berlin(1_689_422_400), 7200);
        let fixed = load_with(&[
            ("PATCHBAY_DATA_DIR", data),
            ("PATCHBAY_TIME_ZONE", "+05:30"),
        ])
        .unwrap()
        .time_zone
        .offsets();
        assert_eq!(fixed(1_689_422_400), 19_800);
        let utc = load_with(&[("PATCHBAY_DATA_DIR", data)])
            .unwrap()
            .time_zone
            .offsets();
        assert_eq!(utc(1_689_422_400), 0);
        let error = load_with(&[
            ("PATCHBAY_DATA_DIR", data),
            ("PATCHBAY_TIME_ZONE", "Mars/Olympus"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("PATCHBAY_TIME_ZONE") && error.contains("Mars/Olympus"),
            "{error}"
        );
    }

    #[test]
    fn the_queue_settings_have_defaults_and_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let config = load_with(&[("PATCHBAY_DATA_DIR", data)]).unwrap();
        assert_eq!(
            config.queue,
            crate::queue::service::QueueSettings::default()
        );
        let config = load_with(&[
            ("PATCHBAY_DATA_DIR", data),
            ("PATCHBAY_QUEUE_MAX_ATTEMPTS", "3"),
            ("PATCHBAY_QUEUE_RETRY_BASE_MS", "50"),
            ("PATCHBAY_QUEUE_RETRY_MAX_SECS", "60"),
            ("PATCHBAY_QUEUE_LEASE_SECS", "30"),
        ])
        .unwrap();
        assert_eq!(
            (
                config.queue.max_attempts,
                config.queue.retry_base_ms,
                config.queue.retry_max_ms,
                config.queue.lease_ms
            ),
            (3, 50, 60_000, 30_000)
        );
        for (name, bad, message) in [
            ("PATCHBAY_QUEUE_MAX_ATTEMPTS", "0", "must be 1 to 1000"),
            ("PATCHBAY_QUEUE_MAX_ATTEMPTS", "1001", "must be 1 to 1000"),
            (
                "PATCHBAY_QUEUE_RETRY_BASE_MS",
                "3600001",
                "must be 1 to 3600000 ms",
            ),
            (
                "PATCHBAY_QUEUE_LEASE_SECS",
                "86401",
                "must be 1 to 86400 seconds",
            ),
        ] {
            let error = load_with(&[("PATCHBAY_DATA_DIR", data), (name, bad)])
                .unwrap_err()
                .to_string();
            assert!(error.contains(name) && error.contains(message), "{error}");
        }
    }

    #[test]
    fn outbound_timeouts_have_defaults_and_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let config = load_with(&[("PATCHBAY_DATA_DIR", data)]).unwrap();
        assert_eq!(config.connect_timeout.as_secs(), 5);
        assert_eq!(config.request_timeout.as_secs(), 15);
        let config = load_with(&[
            ("PATCHBAY_DATA_DIR", data),
            ("PATCHBAY_REQUEST_TIMEOUT_SECS", "30"),
        ])
        .unwrap();
        assert_eq!(config.request_timeout.as_secs(), 30);
        for bad in ["0", "301", "soon"] {
            let error = load_with(&[
                ("PATCHBAY_DATA_DIR", data),
                ("PATCHBAY_CONNECT_TIMEOUT_SECS", bad),
            ])
            .unwrap_err()
            .to_string();
            assert!(error.contains("PATCHBAY_CONNECT_TIMEOUT_SECS"), "{error}");
        }
    }

    #[test]
    fn connection_limits_and_the_outbound_policy_have_defaults_and_bounds() {
        use crate::web::listener::ConnectionLimits;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let config = load_with(&[("PATCHBAY_DATA_DIR", data)]).unwrap();
        assert_eq!(config.connections, ConnectionLimits::default());
        assert_eq!(config.outbound, Default::default());
        let config = load_with(&[
            ("PATCHBAY_DATA_DIR", data),
            ("PATCHBAY_MAX_CONNECTIONS", "50"),
            ("PATCHBAY_HEADER_TIMEOUT_SECS", "3"),
            ("PATCHBAY_HANDLER_TIMEOUT_SECS", "30"),
            ("PATCHBAY_IDLE_TIMEOUT_SECS", "31"),
            ("PATCHBAY_SHUTDOWN_GRACE_SECS", "7"),
            ("PATCHBAY_OUTBOUND_DENY", "127.0.0.0/8"),
        ])
        .unwrap();
        assert_eq!(config.connections.max_connections, 50);
        assert_eq!(config.connections.header_timeout.as_secs(), 3);
        assert_eq!(config.connections.shutdown_grace.as_secs(), 7);
        assert_ne!(config.outbound, Default::default());
        for (name, bad, says) in [
            ("PATCHBAY_MAX_CONNECTIONS", "0", "must be 1 to 100000"),
            ("PATCHBAY_HEADER_TIMEOUT_SECS", "301", "must be 1 to 300"),
            ("PATCHBAY_SHUTDOWN_GRACE_SECS", "0", "must be 1 to 300"),
            (
                "PATCHBAY_IDLE_TIMEOUT_SECS",
                "120",
                "must be longer than PATCHBAY_HANDLER_TIMEOUT_SECS",
            ),
            (
                "PATCHBAY_OUTBOUND_ALLOW",
                "crm.example, http://x/",
                "\"http://x/\" is not an address",
            ),
        ] {
            let error = load_with(&[("PATCHBAY_DATA_DIR", data), (name, bad)])
                .unwrap_err()
                .to_string();
            assert!(error.contains(name) && error.contains(says), "{error}");
        }
    }

    #[test]
    fn activity_retention_has_defaults_and_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let config = load_with(&[("PATCHBAY_DATA_DIR", data)]).unwrap();
        assert_eq!(config.activity.rows, 1_000);
        assert_eq!(config.activity.days, 30);
        let config = load_with(&[
            ("PATCHBAY_DATA_DIR", data),
            ("PATCHBAY_ACTIVITY_KEEP", "50"),
            ("PATCHBAY_ACTIVITY_DAYS", "7"),
        ])
        .unwrap();
        assert_eq!((config.activity.rows, config.activity.days), (50, 7));
        for (name, bad, says) in [
            ("PATCHBAY_ACTIVITY_KEEP", "0", "must be 1 to 1000000"),
            ("PATCHBAY_ACTIVITY_KEEP", "1000001", "must be 1 to 1000000"),
            ("PATCHBAY_ACTIVITY_DAYS", "3651", "must be 1 to 3650 days"),
            (
                "PATCHBAY_ACTIVITY_DAYS",
                "a week",
                "is not a whole number of days",
            ),
        ] {
            let error = load_with(&[("PATCHBAY_DATA_DIR", data), (name, bad)])
                .unwrap_err()
                .to_string();
            assert!(error.contains(name) && error.contains(says), "{error}");
        }
    }

    #[test]
    fn previous_keys_come_from_the_environment_or_the_key_files_further_lines() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let (old, new) = (generate_key(), generate_key());
        let config = load_with(&[
            ("PATCHBAY_DATA_DIR", data),
            ("PATCHBAY_ENCRYPTION_KEY", &BASE64.encode(new.0)),
            ("PATCHBAY_PREVIOUS_ENCRYPTION_KEYS", &BASE64.encode(old.0)),
        ])
        .unwrap();
        assert_eq!(config.encryption_key, new);
        assert_eq!(config.previous_keys, vec![old.clone()]);

        write_key_file(dir.path(), &new, std::slice::from_ref(&old)).unwrap();
        let config = load_with(&[("PATCHBAY_DATA_DIR", data)]).unwrap();
        assert_eq!(config.key_source, KeySource::KeyFile);
        assert_eq!(
            (config.encryption_key, config.previous_keys),
            (new, vec![old])
        );
    }

    #[test]
    fn a_generated_key_is_written_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let first = load_with(&[("PATCHBAY_DATA_DIR", data)]).unwrap();
        assert_eq!(first.key_source, KeySource::Generated);
        let second = load_with(&[("PATCHBAY_DATA_DIR", data)]).unwrap();
        assert_eq!(second.key_source, KeySource::KeyFile);
        assert_eq!(first.encryption_key, second.encryption_key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_data_directory_is_private_and_a_shared_key_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        load_with(&[("PATCHBAY_DATA_DIR", data.to_str().unwrap())]).unwrap();
        let mode = std::fs::metadata(&data).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);

        let key = data.join(KEY_FILE_NAME);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_with(&[("PATCHBAY_DATA_DIR", data.to_str().unwrap())]).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("can be read by other users (mode 644)"),
            "{message}"
        );
        assert!(message.contains("chmod 600"), "{message}");
    }

    #[test]
    fn trusted_proxies_are_cidrs_or_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let config = load_with(&[
            ("PATCHBAY_DATA_DIR", data),
            ("PATCHBAY_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,::1"),
        ])
        .unwrap();
        let shown: Vec<String> = config
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(shown, ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]);
        let err = load_with(&[
            ("PATCHBAY_DATA_DIR", data),
            ("PATCHBAY_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local"),
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("\"proxy.local\" is not an address"),
            "{err}"
        );
    }

    #[test]
    fn a_short_key_is_refused_with_the_variable_name() {
        let err = load_with(&[("PATCHBAY_ENCRYPTION_KEY", "c2hvcnQ=")]).unwrap_err();
        assert!(err.to_string().contains("PATCHBAY_ENCRYPTION_KEY"), "{err}");
    }

    #[test]
    fn the_file_is_read_and_the_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("patchbay.toml");
        std::fs::write(
            &file,
            "bind = \"127.0.0.1:4000\"\npublic_url = \"https://pbx.example.com/\"\n",
        )
        .unwrap();
        let data = dir.path().to_str().unwrap();
        let config = load_with(&[
            ("PATCHBAY_CONFIG", file.to_str().unwrap()),
            ("PATCHBAY_DATA_DIR", data),
            ("PATCHBAY_BIND", "127.0.0.1:5000"),
        ])
        .unwrap();
        assert_eq!(config.bind.port(), 5000);
        assert_eq!(config.public_url, "https://pbx.example.com");
        assert!(config.uses_https());
    }

    #[test]
    fn unknown_file_settings_and_half_an_admin_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "admin_pasword = \"x\"\n").unwrap();
        let err = load_with(&[("PATCHBAY_CONFIG", file.to_str().unwrap())]).unwrap_err();
        assert!(matches!(err, ConfigError::ParseFile { .. }), "{err}");

        let data = dir.path().to_str().unwrap();
        let err = load_with(&[
            ("PATCHBAY_DATA_DIR", data),
            ("PATCHBAY_ADMIN_EMAIL", "a@b.co"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("PATCHBAY_ADMIN_PASSWORD"), "{err}");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let config = load_with(&[
            ("PATCHBAY_DATA_DIR", dir.path().to_str().unwrap()),
            ("PATCHBAY_ADMIN_EMAIL", "admin@example.com"),
            ("PATCHBAY_ADMIN_PASSWORD", "correct horse battery"),
        ])
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("correct horse battery"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    /// A valid sample value for each setting, as the TOML file writes it.
    fn sample_value(name: &str, dir: &Path) -> String {
        let key = BASE64.encode([7u8; 32]);
        let previous = BASE64.encode([8u8; 32]);
        let text = |v: &str| format!("{v:?}");
        match name {
            "PATCHBAY_BIND" => text("127.0.0.1:4000"),
            "PATCHBAY_PUBLIC_URL" => text("https://pb.example.com"),
            "PATCHBAY_DATA_DIR" => text(dir.to_str().unwrap()),
            "PATCHBAY_DATABASE_URL" => text(&format!("sqlite://{}/x.db?mode=rwc", dir.display())),
            "PATCHBAY_ENCRYPTION_KEY" => text(&key),
            "PATCHBAY_PREVIOUS_ENCRYPTION_KEYS" => text(&previous),
            "PATCHBAY_ADMIN_EMAIL" => text("ops@example.com"),
            "PATCHBAY_ADMIN_PASSWORD" => text("a-long-password-Lynx-2024"),
            "PATCHBAY_SITE_ROOT" => text("site"),
            "PATCHBAY_LOG" => text("debug"),
            "PATCHBAY_LOG_FORMAT" => text("json"),
            "PATCHBAY_TIME_ZONE" => text("Europe/Berlin"),
            "PATCHBAY_OUTBOUND_DENY" => text("10.0.0.0/8"),
            "PATCHBAY_OUTBOUND_ALLOW" => text("crm.example.com"),
            "PATCHBAY_SMTP_URL" => text("smtp://mail.example.com:587"),
            "PATCHBAY_SMTP_FROM" => text("Patchbay <pb@example.com>"),
            "PATCHBAY_NOTIFY_WEBHOOK_URL" => text("https://hooks.example.com/pb"),
            "PATCHBAY_NOTIFY_WEBHOOK_SECRET" => text("hook-secret"),
            "PATCHBAY_TRUSTED_PROXIES" => text("127.0.0.1"),
            "PATCHBAY_IDLE_TIMEOUT_SECS" => "60".into(),
            "PATCHBAY_HANDLER_TIMEOUT_SECS" => "30".into(),
            "PATCHBAY_PBX_LEASE_SECS" => "30".into(),
            "PATCHBAY_SHUTDOWN_GRACE_SECS" => "7".into(),
            other => {
                assert!(
                    [
                        "_SECS",
                        "_MS",
                        "_KEEP",
                        "_DAYS",
                        "_ATTEMPTS",
                        "_CONNECTIONS"
                    ]
                    .iter()
                    .any(|suffix| other.ends_with(suffix)),
                    "no sample value for {other}"
                );
                "9".into()
            }
        }
    }

    #[test]
    fn every_setting_is_read_by_the_code_documented_and_taken_from_the_file() {
        let names: BTreeSet<&str> = SETTINGS.iter().copied().collect();
        assert_eq!(names.len(), SETTINGS.len(), "a setting is listed twice");

        // Every variable the code reads is a setting, and every setting is read.
        let mut sources = Vec::new();
        crate::tidy::rust_sources(&mut sources);
        let mut read = BTreeSet::new();
        for (_, code) in &sources {
            for (at, _) in code.match_indices("\"PATCHBAY_") {
                let name: String = code[at + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                // The file's own name, and `patchbay run`'s per-field prefix.
                if name != "PATCHBAY_CONFIG" && !name.starts_with("PATCHBAY_FIELD_") {
                    read.insert(name);
                }
            }
        }
        let listed: BTreeSet<String> = names.iter().map(|n| n.to_string()).collect();
        assert_eq!(read, listed, "settings the code reads vs SETTINGS");

        // README's table has a row for each, and nothing else.
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
                .unwrap();
        let mut documented = BTreeSet::new();
        for row in readme.lines().filter(|l| l.starts_with("| `PATCHBAY_")) {
            let first_cell = row.split(" | ").next().unwrap_or_default();
            for part in first_cell.split('`').filter(|p| p.starts_with("PATCHBAY_")) {
                documented.insert(part.to_owned());
            }
        }
        assert_eq!(
            documented, listed,
            "README's configuration table vs SETTINGS"
        );

        // The file takes every one of them, lower-case without the prefix.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("patchbay.toml");
        let body: String = SETTINGS
            .iter()
            .map(|name| {
                let key = name.trim_start_matches("PATCHBAY_").to_lowercase();
                format!("{key} = {}\n", sample_value(name, dir.path()))
            })
            .collect();
        std::fs::write(&file, body).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let config = load_with(&[("PATCHBAY_CONFIG", file.to_str().unwrap())]).unwrap();
        assert_eq!(config.bind.port(), 4000);
        assert_eq!(config.key_source, KeySource::ConfigFile);
        assert_eq!(config.encryption_key.0, [7u8; 32]);
        assert_eq!(config.previous_keys.len(), 1);
        assert_eq!(
            config.initial_admin.as_ref().map(|a| a.email.as_str()),
            Some("ops@example.com")
        );
        assert_eq!(config.connections.shutdown_grace.as_secs(), 7);
        assert_eq!(config.notifications.check_interval.as_secs(), 9);
        assert!(config.notifications.smtp_url.is_some());
        assert_eq!(config.time_zone.name, "Europe/Berlin");
        // The environment wins over the file.
        let config = load_with(&[
            ("PATCHBAY_CONFIG", file.to_str().unwrap()),
            ("PATCHBAY_SHUTDOWN_GRACE_SECS", "3"),
        ])
        .unwrap();
        assert_eq!(config.connections.shutdown_grace.as_secs(), 3);
    }

    #[test]
    #[cfg(unix)]
    fn a_credential_in_a_configuration_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("patchbay.toml");
        let data = format!("data_dir = {:?}\n", dir.path().to_str().unwrap());
        std::fs::write(&file, &data).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let path = file.to_str().unwrap();
        assert!(
            load_with(&[("PATCHBAY_CONFIG", path)]).is_ok(),
            "no credential: readable is fine"
        );
        for credential in [
            format!("encryption_key = {:?}", BASE64.encode([1u8; 32])),
            "notify_webhook_secret = \"s\"".to_owned(),
            "database_url = \"postgres://pb:secret@db.example.com/pb\"".to_owned(),
        ] {
            std::fs::write(&file, format!("{data}{credential}\n")).unwrap();
            let error = load_with(&[("PATCHBAY_CONFIG", path)])
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("chmod 600") && error.contains("credential"),
                "{error}"
            );
        }
    }
}
