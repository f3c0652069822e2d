//! The phone system's service: its settings (secrets sealed, bound to what they were saved
//! with), the status the page shows, signed webhooks into the queue, the one Open API token
//! of the deployment, the extension sync and call recordings.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use app::extensions::Extension as ExtensionFields;
use app::phone_system::{
    event_name, Delivery, EventCount, ExtensionSyncReport, LinkState, PhoneSystemInput,
    PhoneSystemView, MAX_SETTING_CHARS, MAX_SYNC_MINUTES, MAX_WEBHOOK_SECRET_CHARS,
    MIN_SYNC_MINUTES, MIN_WEBHOOK_SECRET_CHARS, YEASTAR_WEBHOOK_PATH,
};
use futures_util::{Stream, StreamExt};
use sea_orm::DbErr;
use url::Url;

use super::openapi::{OpenApi, OpenApiError, TokenAnswer};
use super::tally::{day_of, EventTally};
use super::webhook;
use crate::crypto::cipher::{CipherError, SecretCipher};
use crate::engine::executor::{shown_url, Executor, SendError};
use crate::queue::service::{Accepted, IntakeError, QueueService, Source};
use crate::storage::entities::phone_system::Model;
use crate::storage::extensions::ExtensionRepository;
use crate::storage::integrations::StoredSecret;
use crate::storage::phone_system::{
    IssuedTokens, PhoneSystemRepository, SettingsChange, SettingsRow,
};
use crate::storage::unix_now;

/// The secrets' names.
pub const CLIENT_SECRET: &str = "client_secret";
pub const WEBHOOK_SECRET: &str = "webhook_secret";
pub const PREVIOUS_WEBHOOK_SECRET: &str = "previous_webhook_secret";
pub const ACCESS_TOKEN: &str = "access_token";
pub const REFRESH_TOKEN: &str = "refresh_token";
const TOKENS: [&str; 2] = [ACCESS_TOKEN, REFRESH_TOKEN];

/// How long the webhook Secret replaced last is still accepted: time to paste the new one
/// into the PBX (or the PBX's into Patchbay) without losing an event in between.
pub const WEBHOOK_ROTATION_SECS: i64 = 24 * 3600;
/// A stored access token is used while it has this long left.
pub const TOKEN_MIN_LEFT_SECS: i64 = 60;
/// The connection's holder renews its token when this little is left (of 30 minutes).
pub const TOKEN_RENEW_LEFT_SECS: i64 = 300;
/// How long an instance that does not hold the connection waits for its holder's token.
pub const TOKEN_WAIT: Duration = Duration::from_secs(5);
/// The largest recording streamed (a long call in WAV is about 1 MB a minute).
pub const MAX_RECORDING_BYTES: u64 = 512 * 1024 * 1024;

/// The link's timing (`PATCHBAY_PBX_HEARTBEAT_SECS`, `PATCHBAY_PBX_LEASE_SECS`,
/// `PATCHBAY_PBX_RECONNECT_MAX_SECS`).
#[derive(Clone, Copy, Debug)]
pub struct LinkSettings {
    /// Between heartbeats on the WebSocket; the PBX drops a connection idle for 60 s.
    pub heartbeat: Duration,
    /// How long the connection's lease lasts unrenewed: another instance takes over within
    /// this much after its holder dies.
    pub lease: Duration,
    /// The longest wait between reconnection attempts.
    pub reconnect_max: Duration,
}

impl Default for LinkSettings {
    fn default() -> Self {
        LinkSettings {
            heartbeat: Duration::from_secs(20),
            lease: Duration::from_secs(45),
            reconnect_max: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PhoneSystemError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("the phone system's Open API is not configured: save its base URL, Client ID and Client Secret on the Phone system page")]
    NotConfigured,
    #[error("the PBX refused the Client ID and Secret ({0}); save them again to try once more")]
    Refused(String),
    #[error(
        "no Open API token yet: another Patchbay instance holds the connection and has none ({0})"
    )]
    NoToken(String),
    #[error("{0}")]
    OpenApi(#[from] OpenApiError),
    #[error("the recording is larger than {} MiB", MAX_RECORDING_BYTES / (1024 * 1024))]
    RecordingTooLarge,
    #[error("the PBX answered the recording download with HTTP {0}")]
    RecordingStatus(u16),
    #[error("a stored phone system secret cannot be opened: {0}")]
    Cipher(#[from] CipherError),
    #[error("storage failed: {0}")]
    Storage(#[from] DbErr),
}

/// Why a webhook post is refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("no webhook Secret is configured: paste the PBX's Secret on the Phone system page, or send an `events` API token")]
    NoSecret,
    #[error("the X-Signature header does not sign this body under the configured webhook Secret")]
    BadSignature,
    #[error(transparent)]
    Intake(#[from] IntakeError),
    #[error(transparent)]
    PhoneSystem(#[from] PhoneSystemError),
}

/// A recording on its way from the PBX.
pub struct Recording {
    pub content_type: String,
    pub length: Option<u64>,
    pub file_name: String,
    pub body: Pin<Box<dyn Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send>>,
}

#[derive(Clone)]
pub struct PhoneSystemService {
    pub repo: PhoneSystemRepository,
    pub cipher: Arc<SecretCipher>,
    pub executor: Arc<Executor>,
    pub extensions: ExtensionRepository,
    pub queue: QueueService,
    pub shared: LinkShared,
    pub public_url: String,
    pub link: LinkSettings,
}

/// What every copy of the service in one process shares.
#[derive(Clone)]
pub struct LinkShared {
    /// Events counted in this process, added to the stored counts.
    pub tally: Arc<EventTally>,
    /// Wakes this process's link when the settings change.
    pub wake: Arc<tokio::sync::Notify>,
    /// This process's name in the connection's lease.
    pub instance: Arc<str>,
    /// One token request at a time in this process.
    pub token_lock: Arc<tokio::sync::Mutex<()>>,
}

impl LinkShared {
    pub fn new() -> Self {
        LinkShared {
            tally: Arc::default(),
            wake: Arc::default(),
            instance: crate::crypto::random_token().into(),
            token_lock: Arc::default(),
        }
    }
}

impl Default for LinkShared {
    fn default() -> Self {
        Self::new()
    }
}

/// What the Client Secret and the tokens are bound to: the base URL they were saved with,
/// so they open only for the PBX they were meant for.
pub fn secret_owner(base_url: &str) -> String {
    format!("phone-system {base_url}")
}

/// The webhook Secrets verify what arrives; they are sent nowhere.
const WEBHOOK_OWNER: &str = "phone-system webhook";

fn owner_of(name: &str, base_url: &str) -> String {
    if name == WEBHOOK_SECRET || name == PREVIOUS_WEBHOOK_SECRET {
        WEBHOOK_OWNER.to_owned()
    } else {
        secret_owner(base_url)
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> PhoneSystemError {
    PhoneSystemError::Invalid {
        field,
        message: message.into(),
    }
}

/// The base URL as stored: `scheme://host[:port]`, http or https, no credentials.
fn read_base_url(text: &str) -> Result<String, PhoneSystemError> {
    let text = text.trim();
    let url = Url::parse(text).map_err(|e| {
        invalid(
            "base_url",
            format!("{e}: enter the PBX's address, such as https://192.168.5.150:8088"),
        )
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid("base_url", "use http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("base_url", "the address has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "base_url",
            "the address must not carry a user name or password",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "base_url",
            "the address must not carry a query or fragment",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn check_length(field: &'static str, text: &str) -> Result<(), PhoneSystemError> {
    if text.chars().count() > MAX_SETTING_CHARS {
        return Err(invalid(
            field,
            format!("at most {MAX_SETTING_CHARS} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(field, "control characters are not allowed"));
    }
    Ok(())
}

fn has_open_api(model: &Model) -> bool {
    !model.base_url.is_empty() && !model.client_id.is_empty()
}

impl PhoneSystemService {
    fn api(&self, base_url: &str) -> Result<OpenApi, PhoneSystemError> {
        Ok(OpenApi {
            executor: self.executor.clone(),
            base: Url::parse(base_url).map_err(|_| PhoneSystemError::NotConfigured)?,
        })
    }

    async fn open_secret(
        &self,
        name: &str,
        base_url: &str,
    ) -> Result<Option<String>, PhoneSystemError> {
        match self.repo.secret(name).await? {
            Some(stored) => Ok(Some(stored.open(&self.cipher, &owner_of(name, base_url))?)),
            None => Ok(None),
        }
    }

    fn seal(
        &self,
        name: &str,
        base_url: &str,
        value: &str,
    ) -> Result<StoredSecret, PhoneSystemError> {
        Ok(StoredSecret::seal(
            &self.cipher,
            &owner_of(name, base_url),
            name,
            value,
        )?)
    }

    /// The phone system as the page shows it.
    pub async fn view(&self) -> Result<PhoneSystemView, PhoneSystemError> {
        let now = unix_now();
        let webhook_url = format!(
            "{}{YEASTAR_WEBHOOK_PATH}",
            self.public_url.trim_end_matches('/')
        );
        let day = day_of(now);
        let (pending_last, pending_counts) = self.shared.tally.pending(&day);
        let mut counts = self.repo.counts(&day).await?;
        for (event_type, count) in pending_counts {
            match counts.iter_mut().find(|(t, _)| *t == event_type) {
                Some((_, stored)) => *stored += count,
                None => counts.push((event_type, count)),
            }
        }
        counts.sort();
        let events_today = counts
            .into_iter()
            .map(|(event_type, count)| EventCount {
                name: event_name(&event_type).to_owned(),
                event_type,
                count,
            })
            .collect();
        let Some(model) = self.repo.get().await? else {
            let mut view = PhoneSystemView {
                webhook_url,
                events_today,
                sync_minutes: app::phone_system::DEFAULT_SYNC_MINUTES,
                ..PhoneSystemView::default()
            };
            if let Some((at, event_type, channel)) = pending_last {
                (
                    view.last_event_at,
                    view.last_event_type,
                    view.last_event_channel,
                ) = (Some(at), event_type, channel);
            }
            return Ok(view);
        };
        let names: Vec<String> = self
            .repo
            .secrets()
            .await?
            .into_iter()
            .map(|s| s.name)
            .collect();
        let set = |name: &str| names.iter().any(|n| n == name);
        let status = if has_open_api(&model) {
            match LinkState::parse(&model.status) {
                LinkState::NotConfigured | LinkState::WebhookOnly => LinkState::Connecting,
                state => state,
            }
        } else {
            LinkState::WebhookOnly
        };
        let mut last = model.last_event_at.map(|at| {
            (
                at,
                model.last_event_type.clone(),
                model.last_event_channel.clone(),
            )
        });
        if let Some(pending) = pending_last {
            if last.as_ref().is_none_or(|stored| stored.0 <= pending.0) {
                last = Some(pending);
            }
        }
        let (last_event_at, last_event_type, last_event_channel) = match last {
            Some((at, event_type, channel)) => (Some(at), event_type, channel),
            None => (None, String::new(), String::new()),
        };
        Ok(PhoneSystemView {
            base_url: model.base_url.clone(),
            client_id: model.client_id.clone(),
            client_secret_set: set(CLIENT_SECRET),
            webhook_secret_set: set(WEBHOOK_SECRET),
            previous_webhook_secret_until: model
                .previous_webhook_until
                .filter(|until| *until > now && set(PREVIOUS_WEBHOOK_SECRET)),
            delivery: Delivery::parse(&model.delivery).unwrap_or_default(),
            sync_minutes: model.sync_minutes.max(0) as u32,
            webhook_url,
            status,
            status_detail: if status == LinkState::WebhookOnly {
                String::new()
            } else {
                model.status_detail.clone()
            },
            status_at: model.status_at,
            token_expires_at: model.token_expires_at.filter(|_| set(ACCESS_TOKEN)),
            last_heartbeat_at: model.last_heartbeat_at,
            last_event_at,
            last_event_type,
            last_event_channel,
            events_today,
            last_sync_at: model.last_sync_at,
            last_sync_result: model.last_sync_result.clone(),
        })
    }

    /// Saves the settings: checked whole, then written in one transaction. A Client Secret
    /// is bound to the base URL: changing the address or the Client ID needs it again. A new
    /// webhook Secret leaves the one it replaces valid for [`WEBHOOK_ROTATION_SECS`].
    pub async fn save(
        &self,
        actor: &str,
        input: PhoneSystemInput,
    ) -> Result<PhoneSystemView, PhoneSystemError> {
        let now = unix_now();
        let existing = self.repo.get().await?;
        let base_url = if input.base_url.trim().is_empty() {
            String::new()
        } else {
            read_base_url(&input.base_url)?
        };
        let client_id = input.client_id.trim().to_owned();
        check_length("base_url", &base_url)?;
        check_length("client_id", &client_id)?;
        let new_client_secret = input.client_secret.as_deref().map(str::trim);
        if let Some(secret) = new_client_secret {
            check_length("client_secret", secret)?;
        }
        let new_webhook_secret = input.webhook_secret.as_deref().map(str::trim);
        if let Some(secret) = new_webhook_secret.filter(|s| !s.is_empty()) {
            let chars = secret.chars().count();
            if !(MIN_WEBHOOK_SECRET_CHARS..=MAX_WEBHOOK_SECRET_CHARS).contains(&chars)
                || secret.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(invalid(
                    "webhook_secret",
                    format!("paste the Secret the PBX shows for the webhook ({MIN_WEBHOOK_SECRET_CHARS} to {MAX_WEBHOOK_SECRET_CHARS} characters without spaces; the PBX generates 32)"),
                ));
            }
        }
        if input.sync_minutes != 0
            && !(MIN_SYNC_MINUTES..=MAX_SYNC_MINUTES).contains(&input.sync_minutes)
        {
            return Err(invalid(
                "sync_minutes",
                format!("0 (only by hand) or {MIN_SYNC_MINUTES} to {MAX_SYNC_MINUTES} minutes"),
            ));
        }
        let stored_client_secret = self.repo.secret(CLIENT_SECRET).await?.is_some();
        let (old_base, old_client) = existing
            .as_ref()
            .map(|m| (m.base_url.clone(), m.client_id.clone()))
            .unwrap_or_default();
        let connection_changed = old_base != base_url || old_client != client_id;
        let client_secret_after = match new_client_secret {
            Some(secret) => !secret.is_empty(),
            None => stored_client_secret,
        };
        if connection_changed && stored_client_secret && new_client_secret.is_none() {
            return Err(invalid(
                "client_secret",
                "enter the Client Secret again: it is kept only for the base URL and Client ID it was saved with",
            ));
        }
        let open_api = !base_url.is_empty() || !client_id.is_empty() || client_secret_after;
        if open_api {
            if base_url.is_empty() {
                return Err(invalid("base_url", "the Open API needs the PBX's address"));
            }
            if client_id.is_empty() {
                return Err(invalid(
                    "client_id",
                    "the Open API needs the Client ID (Integrations › API on the PBX)",
                ));
            }
            if !client_secret_after {
                return Err(invalid(
                    "client_secret",
                    "the Open API needs the Client Secret (Integrations › API on the PBX)",
                ));
            }
        }
        if input.delivery.uses_websocket() && !open_api {
            return Err(invalid(
                "delivery",
                "events over the WebSocket need the Open API: enter the base URL, Client ID and Client Secret",
            ));
        }
        let reconnect = connection_changed || new_client_secret.is_some();
        if reconnect && existing.is_some() {
            // The old token belongs to the old connection: give it back to the PBX, which
            // holds at most 8 per application.
            self.revoke_stored(&old_base).await;
        }
        let mut put = Vec::new();
        let mut remove = Vec::new();
        match new_client_secret {
            Some("") => remove.push(CLIENT_SECRET),
            Some(secret) => put.push(self.seal(CLIENT_SECRET, &base_url, secret)?),
            None => {}
        }
        let mut previous_webhook_until = None;
        match new_webhook_secret {
            Some("") => remove.extend([WEBHOOK_SECRET, PREVIOUS_WEBHOOK_SECRET]),
            Some(secret) => {
                let current = self.open_secret(WEBHOOK_SECRET, &base_url).await?;
                if current.as_deref() != Some(secret) {
                    if let Some(current) = current {
                        put.push(self.seal(PREVIOUS_WEBHOOK_SECRET, &base_url, &current)?);
                        previous_webhook_until = Some(now + WEBHOOK_ROTATION_SECS);
                    }
                    put.push(self.seal(WEBHOOK_SECRET, &base_url, secret)?);
                }
            }
            None => {}
        }
        if !open_api {
            remove.push(CLIENT_SECRET);
        }
        self.repo
            .save(
                SettingsChange {
                    settings: SettingsRow {
                        base_url,
                        client_id,
                        delivery: input.delivery.as_str().to_owned(),
                        sync_minutes: input.sync_minutes as i32,
                    },
                    put,
                    remove,
                    reconnect,
                    previous_webhook_until,
                    actor: actor.to_owned(),
                    now,
                },
                &TOKENS,
            )
            .await?;
        tracing::info!(actor, reconnect, "phone system settings saved");
        self.shared.wake.notify_waiters();
        self.view().await
    }

    /// Revokes the stored token (best effort) and forgets it.
    async fn revoke_stored(&self, base_url: &str) {
        if let Ok(Some(access)) = self.open_secret(ACCESS_TOKEN, base_url).await {
            if let Ok(api) = self.api(base_url) {
                if let Err(error) = api.revoke(&access).await {
                    tracing::info!(%error, "the PBX did not revoke the old Open API token");
                }
            }
        }
        if let Err(error) = self.repo.clear_tokens(&TOKENS).await {
            tracing::warn!(%error, "cannot forget the old Open API token");
        }
    }

    /// Disconnects from the Open API: the token revoked, the Client Secret forgotten, events
    /// by webhook only.
    pub async fn disconnect(&self, actor: &str) -> Result<PhoneSystemView, PhoneSystemError> {
        let Some(model) = self.repo.get().await? else {
            return self.view().await;
        };
        self.save(
            actor,
            PhoneSystemInput {
                base_url: String::new(),
                client_id: String::new(),
                client_secret: Some(String::new()),
                webhook_secret: None,
                delivery: Delivery::Webhook,
                sync_minutes: model.sync_minutes.max(0) as u32,
            },
        )
        .await
    }

    /// A webhook post: let in when `X-Signature` signs the raw body under the webhook
    /// Secret (or the one it replaced, while rotating), then queued like any event.
    pub async fn accept_signed(
        &self,
        signature: &str,
        body: &[u8],
    ) -> Result<Accepted, WebhookError> {
        let now = unix_now();
        let model = self.repo.get().await.map_err(PhoneSystemError::from)?;
        let mut secrets = Vec::new();
        if let Some(current) = self.open_secret(WEBHOOK_SECRET, "").await? {
            secrets.push(current);
        }
        if model
            .as_ref()
            .and_then(|m| m.previous_webhook_until)
            .is_some_and(|until| until > now)
        {
            if let Some(previous) = self.open_secret(PREVIOUS_WEBHOOK_SECRET, "").await? {
                secrets.push(previous);
            }
        }
        if secrets.is_empty() {
            return Err(WebhookError::NoSecret);
        }
        if !webhook::verify(signature, body, &secrets) {
            return Err(WebhookError::BadSignature);
        }
        Ok(self.accept(body, "webhook").await?)
    }

    /// An event already let in (a signed webhook, the WebSocket, an `events` token),
    /// counted and queued.
    pub async fn accept(&self, body: &[u8], channel: &str) -> Result<Accepted, IntakeError> {
        let accepted = self.queue.accept(Source::Yeastar, body).await?;
        self.shared
            .tally
            .record(&webhook::event_type(body), channel, unix_now());
        Ok(accepted)
    }

    /// The server stops: the counts of events not yet stored are written, and this
    /// instance's lease on the phone system's connection is released, so another instance
    /// connects at once rather than when the lease would have passed.
    pub async fn release_link(&self) {
        self.flush_tally().await;
        if let Err(error) = self.repo.release_lease(&self.shared.instance).await {
            tracing::warn!(%error, "stopping: cannot release the phone system's lease; another server takes it when it passes");
        }
    }

    /// Stores what the tally counted since the last time.
    pub async fn flush_tally(&self) {
        let (last, counts) = self.shared.tally.take();
        if last.is_none() && counts.is_empty() {
            return;
        }
        let last_ref = last
            .as_ref()
            .map(|(at, t, c)| (*at, t.as_str(), c.as_str()));
        if let Err(error) = self.repo.add_events(last_ref, &counts).await {
            tracing::warn!(%error, "cannot store the phone system's event counts");
            self.shared.tally.restore(last, counts);
        }
    }

    /// The Open API and a token with at least [`TOKEN_MIN_LEFT_SECS`] left (`renew`: a
    /// new one unless it has more than [`TOKEN_RENEW_LEFT_SECS`]). One token per
    /// deployment: only the connection's lease holder asks the PBX for one; another
    /// instance waits for the holder's.
    pub async fn access_token(&self, renew: bool) -> Result<(OpenApi, String), PhoneSystemError> {
        let _one_at_a_time = self.shared.token_lock.lock().await;
        let started = tokio::time::Instant::now();
        loop {
            let model = self
                .repo
                .get()
                .await?
                .filter(has_open_api)
                .ok_or(PhoneSystemError::NotConfigured)?;
            if LinkState::parse(&model.status) == LinkState::Refused {
                return Err(PhoneSystemError::Refused(model.status_detail));
            }
            let api = self.api(&model.base_url)?;
            let now = unix_now();
            let wanted_left = if renew {
                TOKEN_RENEW_LEFT_SECS
            } else {
                TOKEN_MIN_LEFT_SECS
            };
            if model
                .token_expires_at
                .is_some_and(|at| at - now > wanted_left)
            {
                if let Some(access) = self.open_secret(ACCESS_TOKEN, &model.base_url).await? {
                    return Ok((api, access));
                }
            }
            let until = now + self.link.lease.as_secs() as i64;
            if self
                .repo
                .try_lease(&self.shared.instance, now, until)
                .await?
            {
                let access = self.new_token(&api, &model).await?;
                return Ok((api, access));
            }
            if started.elapsed() > TOKEN_WAIT {
                return Err(PhoneSystemError::NoToken(model.status_detail));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Refreshes the token, or gets a new one when there is none or the refresh is refused;
    /// a refused `get_token` is not tried again (the PBX blocks an address after 5).
    async fn new_token(&self, api: &OpenApi, model: &Model) -> Result<String, PhoneSystemError> {
        let now = unix_now();
        let refresh = match model.refresh_expires_at {
            Some(at) if at - now > TOKEN_MIN_LEFT_SECS => {
                self.open_secret(REFRESH_TOKEN, &model.base_url).await?
            }
            _ => None,
        };
        let refreshed = match refresh {
            Some(refresh) => match api.refresh_token(&refresh).await {
                Ok(answer) => Some(answer),
                Err(OpenApiError::Send(error)) => return Err(self.unreachable(error).await),
                Err(error) => {
                    tracing::info!(%error, "the PBX refused the token refresh; asking for a new token");
                    None
                }
            },
            None => None,
        };
        let answer = match refreshed {
            Some(answer) => answer,
            None => {
                let secret = self
                    .open_secret(CLIENT_SECRET, &model.base_url)
                    .await?
                    .ok_or(PhoneSystemError::NotConfigured)?;
                match api.get_token(&model.client_id, &secret).await {
                    Ok(answer) => answer,
                    Err(OpenApiError::Refused { errcode, errmsg }) => {
                        let detail = format!("errcode {errcode}: {errmsg}");
                        self.repo.clear_tokens(&TOKENS).await?;
                        self.repo
                            .set_status(LinkState::Refused.as_str(), &detail, now)
                            .await?;
                        tracing::warn!(%detail, "the PBX refused the Open API credentials; not trying again until they are saved again");
                        return Err(PhoneSystemError::Refused(detail));
                    }
                    Err(OpenApiError::Send(error)) => return Err(self.unreachable(error).await),
                    Err(error) => return Err(error.into()),
                }
            }
        };
        self.store(model, answer).await
    }

    async fn unreachable(&self, error: SendError) -> PhoneSystemError {
        let detail = error.to_string();
        if let Err(db) = self
            .repo
            .set_status(LinkState::Unreachable.as_str(), &detail, unix_now())
            .await
        {
            tracing::warn!(error = %db, "cannot store the phone system's status");
        }
        OpenApiError::Send(error).into()
    }

    async fn store(&self, model: &Model, answer: TokenAnswer) -> Result<String, PhoneSystemError> {
        let now = unix_now();
        let tokens = IssuedTokens {
            access: self.seal(ACCESS_TOKEN, &model.base_url, &answer.access_token)?,
            refresh: self.seal(REFRESH_TOKEN, &model.base_url, &answer.refresh_token)?,
            access_expires_at: now + answer.access_token_expire_time.clamp(0, 86_400),
            refresh_expires_at: now + answer.refresh_token_expire_time.clamp(0, 30 * 86_400),
        };
        self.repo.store_tokens(tokens).await?;
        Ok(answer.access_token)
    }

    /// Runs `call` with a token; a refusal by the PBX (a token it no longer honours) is
    /// tried once more with a new one.
    async fn with_token<T, F, Fut>(&self, call: F) -> Result<T, PhoneSystemError>
    where
        F: Fn(OpenApi, String) -> Fut,
        Fut: std::future::Future<Output = Result<T, OpenApiError>>,
    {
        let (api, access) = self.access_token(false).await?;
        match call(api, access).await {
            Err(OpenApiError::Failed { .. }) => {
                self.repo.clear_tokens(&TOKENS).await?;
                let (api, access) = self.access_token(false).await?;
                Ok(call(api, access).await?)
            }
            other => Ok(other?),
        }
    }

    /// Makes the directory the PBX's extension list (all pages): new numbers added, names
    /// and e-mails updated, extensions the PBX no longer has removed with their
    /// associations. The result is stored for the status either way.
    pub async fn sync_extensions(&self) -> Result<ExtensionSyncReport, PhoneSystemError> {
        let result = self.sync_extensions_once().await;
        let text = match &result {
            Ok(report) => report.summary(),
            Err(error) => format!("failed: {error}"),
        };
        self.repo.sync_finished(unix_now(), &text).await?;
        match &result {
            Ok(report) => {
                tracing::info!(summary = %report.summary(), "extensions synced from the PBX")
            }
            Err(error) => tracing::warn!(%error, "extension sync failed"),
        }
        result
    }

    async fn sync_extensions_once(&self) -> Result<ExtensionSyncReport, PhoneSystemError> {
        let listed = self
            .with_token(|api, access| async move { api.extensions(&access).await })
            .await?;
        let mut rows: Vec<ExtensionFields> = Vec::new();
        for extension in listed {
            let mut fields = directory_row(&extension);
            if crate::directory::import::refusal(&fields).is_some() {
                // An e-mail the directory refuses must not cost the extension its place.
                fields.email.clear();
            }
            match crate::directory::import::refusal(&fields) {
                None if !rows.iter().any(|r| r.number == fields.number) => rows.push(fields),
                None => {}
                Some(refusal) => tracing::info!(
                    number = %fields.number,
                    %refusal,
                    "an extension of the PBX is not taken into the directory"
                ),
            }
        }
        let (added, updated, removed) = self.extensions.replace_with_pbx(&rows).await?;
        let users = match self.queue.integrations.after_extension_sync().await {
            Ok(lines) => lines,
            Err(error) => vec![format!("user association not updated: {error}")],
        };
        Ok(ExtensionSyncReport {
            listed: rows.len(),
            added,
            updated,
            removed,
            users,
        })
    }

    /// The recording named `file`, streamed from the PBX (its download URL asked with the
    /// Open API token, then fetched), at most [`MAX_RECORDING_BYTES`].
    pub async fn recording(&self, file: &str) -> Result<Recording, PhoneSystemError> {
        let file_owned = file.to_owned();
        let url = self
            .with_token(|api, access| {
                let file = file_owned.clone();
                async move { api.recording_url(&access, &file).await }
            })
            .await?;
        let response = self.executor.open(&url).await.map_err(OpenApiError::from)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            tracing::info!(url = %shown_url(&url), status, "the PBX refused a recording download");
            return Err(PhoneSystemError::RecordingStatus(status));
        }
        // The announced length, read from the header itself: a wrapped body may not pass
        // its size on.
        let length = response
            .headers()
            .get(reqwest::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .or(response.content_length());
        if length.is_some_and(|l| l > MAX_RECORDING_BYTES) {
            return Err(PhoneSystemError::RecordingTooLarge);
        }
        let content_type = recording_type(
            response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            file,
        );
        let mut sent: u64 = 0;
        let body = response.bytes_stream().map(move |chunk| {
            let chunk = chunk.map_err(std::io::Error::other)?;
            sent += chunk.len() as u64;
            if sent > MAX_RECORDING_BYTES {
                return Err(std::io::Error::other(
                    "the recording is larger than the limit",
                ));
            }
            Ok(chunk)
        });
        Ok(Recording {
            content_type,
            length,
            file_name: file.to_owned(),
            body: Box::pin(body),
        })
    }
}

/// Re-seals every phone system secret not under the current key (`patchbay secrets
/// rotate`); answers how many.
pub async fn rotate_secrets(
    repo: &PhoneSystemRepository,
    cipher: &SecretCipher,
) -> Result<u64, PhoneSystemError> {
    let base_url = repo.get().await?.map(|m| m.base_url).unwrap_or_default();
    let mut rotated = 0;
    for secret in repo.secrets().await? {
        if secret.key_id == cipher.current_key_id() {
            continue;
        }
        let owner = owner_of(&secret.name, &base_url);
        let plain = secret.open(cipher, &owner)?;
        let sealed = StoredSecret::seal(cipher, &owner, &secret.name, &plain)?;
        if repo
            .reencrypt_secret(
                &secret.name,
                &secret.ciphertext,
                &sealed.ciphertext,
                &sealed.key_id,
            )
            .await?
        {
            rotated += 1;
        }
    }
    Ok(rotated)
}

/// Whether the phone system's scheduled extension sync is due at `now`.
pub fn sync_due(model: &Model, now: i64) -> bool {
    if !has_open_api(model) || model.sync_minutes <= 0 {
        return false;
    }
    let every = i64::from(model.sync_minutes) * 60;
    model.last_sync_at.is_none_or(|at| now - at >= every)
}

/// An extension of the PBX as a directory row: the caller ID name split into first and
/// last name at its first space, the e-mail in lower case.
pub fn directory_row(extension: &super::openapi::PbxExtension) -> ExtensionFields {
    let name = extension.caller_id_name.trim();
    let (first, last) = name.split_once(' ').unwrap_or((name, ""));
    crate::directory::import::normalize(ExtensionFields {
        number: extension.number.clone(),
        first_name: first.to_owned(),
        last_name: last.trim().to_owned(),
        email: extension.email_addr.clone(),
        source: app::extensions::ExtensionSource::Pbx,
    })
}

/// A recording's content type: the PBX's when it says audio, else by the file's extension.
pub fn recording_type(announced: Option<&str>, file: &str) -> String {
    if let Some(announced) = announced.filter(|t| t.starts_with("audio/")) {
        return announced.to_owned();
    }
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".wav") {
        "audio/wav".into()
    } else if lower.ends_with(".mp3") {
        "audio/mpeg".into()
    } else if lower.ends_with(".ogg") {
        "audio/ogg".into()
    } else {
        "application/octet-stream".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_kept_without_a_trailing_slash() {
        assert_eq!(
            read_base_url(" https://192.168.5.150:8088/ ").unwrap(),
            "https://192.168.5.150:8088"
        );
        assert_eq!(
            read_base_url("http://pbx.local").unwrap(),
            "http://pbx.local"
        );
        for bad in [
            "ftp://pbx",
            "pbx.local",
            "https://user:pw@pbx",
            "https://pbx/?a=1",
        ] {
            assert!(
                matches!(
                    read_base_url(bad),
                    Err(PhoneSystemError::Invalid {
                        field: "base_url",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_pbx_extension_becomes_a_directory_row() {
        let row = directory_row(&super::super::openapi::PbxExtension {
            number: " 2001 ".into(),
            caller_id_name: "Ann Van Dyke".into(),
            email_addr: "Ann@Example.com".into(),
            mobile_number: String::new(),
        });
        assert_eq!(
            (
                row.number.as_str(),
                row.first_name.as_str(),
                row.last_name.as_str()
            ),
            ("2001", "Ann", "Van Dyke")
        );
        assert_eq!(row.email, "ann@example.com");
        assert_eq!(row.source, app::extensions::ExtensionSource::Pbx);
    }

    #[test]
    fn recordings_are_served_as_audio() {
        assert_eq!(recording_type(Some("audio/x-wav"), "a.wav"), "audio/x-wav");
        assert_eq!(
            recording_type(Some("application/octet-stream"), "a.WAV"),
            "audio/wav"
        );
        assert_eq!(recording_type(None, "a.mp3"), "audio/mpeg");
        assert_eq!(recording_type(None, "a.bin"), "application/octet-stream");
    }
}
