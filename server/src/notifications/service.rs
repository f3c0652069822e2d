//! Checking the conditions and delivering notifications: e-mail to the integration's owner
//! (or, without one, to every active administrator) through SMTP, and a webhook signed as
//! Yeastar signs its own (`X-Signature`: Base64 HMAC-SHA256 of the body under a shared
//! secret), at most once per condition and hour.

use std::sync::Arc;
use std::time::Duration;

use app::accounts::Role;
use app::notifications::{NotificationRow, NotificationsView, RECENT_NOTIFICATIONS};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;

use super::conditions::{due, integration_alerts, phone_system_alert, Alert, IntegrationFacts};
use crate::engine::core::request::{Method, OutboundBody, OutboundRequest};
use crate::engine::executor::{Executor, Lane};
use crate::integrations::service::{IntegrationError, IntegrationsService};
use crate::phone_system::service::{PhoneSystemError, PhoneSystemService};
use crate::storage::accounts::AccountRepository;
use crate::storage::notifications::NotificationRepository;

/// How often the conditions are checked unless configured.
pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(60);
/// Notifications sent are listed this long, then pruned.
pub const KEEP_NOTIFICATIONS_MS: i64 = 30 * 86_400_000;
/// How long an SMTP server may take for one message.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
/// The executor lane of notification webhooks (integrations' lanes are their ids, > 0).
const WEBHOOK_LANE: Lane = Lane {
    integration_id: -1,
    max_concurrent: 2,
};

/// Where notifications go (`PATCHBAY_SMTP_URL`, `PATCHBAY_SMTP_FROM`,
/// `PATCHBAY_NOTIFY_WEBHOOK_URL`, `PATCHBAY_NOTIFY_WEBHOOK_SECRET`; README "Notifications").
#[derive(Clone, Debug, Default)]
pub struct Channels {
    /// lettre's SMTP URL: `smtps://user:password@host:465`, `smtp://host:587?tls=required`.
    pub smtp_url: Option<String>,
    pub from: Option<Mailbox>,
    pub webhook_url: Option<url::Url>,
    pub webhook_secret: Option<String>,
    pub check_interval: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Integrations(#[from] IntegrationError),
    #[error(transparent)]
    PhoneSystem(#[from] PhoneSystemError),
    #[error("notification storage failed: {0}")]
    Storage(#[from] sea_orm::DbErr),
    #[error("no channel is configured: set PATCHBAY_SMTP_URL and PATCHBAY_SMTP_FROM, or PATCHBAY_NOTIFY_WEBHOOK_URL")]
    NoChannel,
}

#[derive(Clone)]
pub struct NotificationsService {
    pub integrations: IntegrationsService,
    pub phone_system: PhoneSystemService,
    pub accounts: AccountRepository,
    pub sent: NotificationRepository,
    pub executor: Arc<Executor>,
    pub channels: Channels,
}

impl NotificationsService {
    /// Checks every condition and notifies those due; answers how many were sent.
    pub async fn check(&self) -> Result<usize, NotifyError> {
        let now_ms = crate::storage::unix_now_ms();
        let mut sent = 0;
        for watched in self.integrations.watched().await? {
            let facts = IntegrationFacts {
                name: watched.name.clone(),
                status: watched.status,
                token_expires_at: watched.token_expires_at,
                has_refresh_token: watched.has_refresh_token,
                drift: watched.health.drift.clone(),
                failed_jobs: watched.health.failed_jobs,
            };
            for alert in integration_alerts(&facts, now_ms / 1000) {
                if self
                    .notify(
                        Some(watched.id),
                        Some(&watched.name),
                        watched.owner.as_deref(),
                        &alert,
                        now_ms,
                    )
                    .await?
                {
                    sent += 1;
                }
            }
        }
        let phone = self.phone_system.view().await?;
        if let Some(alert) = phone_system_alert(phone.status, &phone.status_detail) {
            if self.notify(None, None, None, &alert, now_ms).await? {
                sent += 1;
            }
        }
        self.sent.prune(now_ms - KEEP_NOTIFICATIONS_MS).await?;
        Ok(sent)
    }

    /// Sends `alert` unless it was sent within the hour; false when it was not due.
    async fn notify(
        &self,
        integration_id: Option<i32>,
        integration: Option<&str>,
        owner: Option<&str>,
        alert: &Alert,
        now_ms: i64,
    ) -> Result<bool, NotifyError> {
        if !due(
            self.sent
                .last_sent(integration_id, &alert.condition)
                .await?,
            now_ms,
        ) {
            return Ok(false);
        }
        let delivery = self.deliver(integration, owner, alert, now_ms).await?;
        tracing::info!(condition = %alert.condition, integration = integration.unwrap_or("-"), %delivery, "notification sent");
        self.sent
            .record(
                integration_id,
                &alert.condition,
                &alert.message,
                now_ms,
                &delivery,
            )
            .await?;
        Ok(true)
    }

    /// Delivers on every configured channel; says where it went and what failed.
    async fn deliver(
        &self,
        integration: Option<&str>,
        owner: Option<&str>,
        alert: &Alert,
        now_ms: i64,
    ) -> Result<String, NotifyError> {
        let mut outcomes = Vec::new();
        if self.channels.smtp_url.is_some() && self.channels.from.is_some() {
            let recipients = self.recipients(owner).await?;
            let subject = format!("Patchbay: {}", integration.unwrap_or("the phone system"));
            outcomes.push(
                match self.send_mail(&recipients, &subject, &alert.message).await {
                    Ok(()) => format!("e-mail to {}", recipients.join(", ")),
                    Err(error) => format!("e-mail failed: {error}"),
                },
            );
        }
        if let Some(url) = &self.channels.webhook_url {
            let body = json!({
                "condition": alert.condition,
                "integration": integration,
                "message": alert.message,
                "at": now_ms,
            })
            .to_string();
            outcomes.push(match self.post_webhook(url, body).await {
                Ok(status) => format!("webhook HTTP {status}"),
                Err(error) => format!("webhook failed: {error}"),
            });
        }
        if outcomes.is_empty() {
            outcomes.push("not sent: no channel configured".into());
        }
        Ok(outcomes.join("; "))
    }

    /// The owner when that account is active, else every active administrator.
    async fn recipients(&self, owner: Option<&str>) -> Result<Vec<String>, NotifyError> {
        let accounts = self.accounts.list().await?;
        let active = |email: &str| accounts.iter().any(|a| a.email == email && !a.disabled);
        if let Some(owner) = owner.filter(|o| active(o)) {
            return Ok(vec![owner.to_owned()]);
        }
        Ok(accounts
            .iter()
            .filter(|a| a.role == Role::Admin && !a.disabled)
            .map(|a| a.email.clone())
            .collect())
    }

    async fn send_mail(&self, to: &[String], subject: &str, text: &str) -> Result<(), String> {
        let (Some(url), Some(from)) = (&self.channels.smtp_url, &self.channels.from) else {
            return Err("SMTP is not configured".into());
        };
        let mut message = Message::builder().from(from.clone()).subject(subject);
        for address in to {
            message = message.to(address
                .parse::<Mailbox>()
                .map_err(|e| format!("{address}: {e}"))?);
        }
        let message = message.body(text.to_owned()).map_err(|e| e.to_string())?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| e.to_string())?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn post_webhook(&self, url: &url::Url, body: String) -> Result<u16, String> {
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        if let Some(secret) = &self.channels.webhook_secret {
            headers.push((
                "X-Signature".to_owned(),
                crate::phone_system::webhook::signature(secret, body.as_bytes()),
            ));
        }
        let request = OutboundRequest {
            name: "notification".into(),
            method: Method::Post,
            url: url.clone(),
            headers,
            body: Some(OutboundBody {
                content_type: "application/json",
                text: body,
            }),
        };
        let exchange = self
            .executor
            .send(WEBHOOK_LANE, &request)
            .await
            .map_err(|e| e.to_string())?;
        let status = exchange.received.status;
        if (200..300).contains(&status) {
            Ok(status)
        } else {
            Err(format!("HTTP {status}"))
        }
    }

    /// A test notification on every channel, to `actor`'s address; recorded like the others.
    pub async fn send_test(&self, actor: &str) -> Result<String, NotifyError> {
        if self.channels.webhook_url.is_none() && self.channels.smtp_url.is_none() {
            return Err(NotifyError::NoChannel);
        }
        let now_ms = crate::storage::unix_now_ms();
        let alert = Alert {
            condition: "test".into(),
            message: format!("A test notification, sent by {actor}."),
        };
        let delivery = self.deliver(None, Some(actor), &alert, now_ms).await?;
        self.sent
            .record(None, &alert.condition, &alert.message, now_ms, &delivery)
            .await?;
        Ok(delivery)
    }

    /// Where notifications go and the last ones (of `provider`/`key` when given).
    pub async fn view(
        &self,
        of: Option<(app::template::model::Provider, &str)>,
    ) -> Result<NotificationsView, NotifyError> {
        let integration_id = match of {
            Some((provider, key)) => Some(self.integrations.integration_id(provider, key).await?),
            None => None,
        };
        let mut channels = Vec::new();
        if let (Some(url), Some(from)) = (&self.channels.smtp_url, &self.channels.from) {
            let host = url::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default();
            channels.push(format!("e-mail via {host} from {from}"));
        }
        if let Some(url) = &self.channels.webhook_url {
            let signed = if self.channels.webhook_secret.is_some() {
                ", signed"
            } else {
                ", unsigned"
            };
            channels.push(format!(
                "webhook {}{signed}",
                crate::engine::executor::shown_url(url)
            ));
        }
        // Names only: the health `watched` reads is not needed here.
        let names = self.integrations.names().await?;
        let recent = self
            .sent
            .recent(integration_id, RECENT_NOTIFICATIONS)
            .await?
            .into_iter()
            .map(|row| NotificationRow {
                at: row.at_ms,
                integration: row
                    .integration_id
                    .map(|id| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))),
                condition: row.condition,
                message: row.message,
                delivery: row.delivery,
            })
            .collect();
        Ok(NotificationsView { channels, recent })
    }
}

/// Checks the conditions every `interval`, for as long as the server runs.
pub fn spawn_checks(service: NotificationsService) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(service.channels.check_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(error) = service.check().await {
                tracing::warn!(%error, "notifications not checked");
            }
        }
    });
}
