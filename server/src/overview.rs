//! The Overview page's facts (README "Overview"): where a deployment stands in its setup
//! (`app::overview::setup_steps` decides the checklist), each connected integration's
//! health, the queue. A domain module above the others: it only reads them.

use app::integrations::Status;
use app::overview::{setup_steps, HealthCard, Overview, SetupFacts};
use app::phone_system::LinkState;
use app::template::model::Provider;

use crate::integrations::service::{IntegrationError, IntegrationsService};
use crate::phone_system::service::{PhoneSystemError, PhoneSystemService};
use crate::queue::service::{IntakeError, QueueService};
use crate::storage::associations::AssociationRepository;
use crate::storage::extensions::ExtensionRepository;

#[derive(Debug, thiserror::Error)]
pub enum OverviewError {
    #[error(transparent)]
    Integrations(#[from] IntegrationError),
    #[error(transparent)]
    PhoneSystem(#[from] PhoneSystemError),
    #[error(transparent)]
    Queue(#[from] IntakeError),
    #[error("storage failed: {0}")]
    Storage(#[from] sea_orm::DbErr),
}

#[derive(Clone)]
pub struct OverviewService {
    pub integrations: IntegrationsService,
    pub phone_system: PhoneSystemService,
    pub queue: QueueService,
    pub extensions: ExtensionRepository,
    pub associations: AssociationRepository,
}

impl OverviewService {
    /// What `/metrics` reads from the database at a scrape: the queue's jobs per state and
    /// the age of its oldest open ones, and whether the phone system is connected.
    pub async fn metrics_snapshot(
        &self,
        call_streams: usize,
    ) -> Result<crate::metrics::Snapshot, OverviewError> {
        let now_ms = crate::clock::unix_now_ms();
        let queue_jobs = self.queue.counts().await?;
        let queue_oldest_seconds = self
            .queue
            .queue
            .oldest_open()
            .await?
            .into_iter()
            .map(|(state, at_ms)| (state.to_owned(), (now_ms - at_ms).max(0) / 1000))
            .collect();
        let phone = self.phone_system.view().await?;
        Ok(crate::metrics::Snapshot {
            queue_jobs,
            queue_oldest_seconds,
            call_streams,
            phone_system_connected: phone.status == LinkState::Connected,
        })
    }

    pub async fn overview(&self) -> Result<Overview, OverviewError> {
        let phone = self.phone_system.view().await?;
        let mut facts = SetupFacts {
            phone_system: (!matches!(phone.status, LinkState::NotConfigured | LinkState::Refused))
                .then(|| phone.status.label().to_owned()),
            extensions: self.extensions.count().await?,
            associations: self.associations.count().await?,
            calls_seen: phone.last_event_at.is_some(),
            ..SetupFacts::default()
        };
        let mut cards = Vec::new();
        for provider in [Provider::Crm, Provider::Helpdesk] {
            let listed = self.integrations.list(provider).await?;
            facts.templates += listed.len();
            for card in listed
                .into_iter()
                .filter(|c| c.status != Status::NotConnected)
            {
                facts.connected += 1;
                let settings = self.integrations.settings(provider, &card.key).await?;
                if settings.user_association {
                    facts.listing_users += 1;
                }
                let cases = self.integrations.test_cases(provider, &card.key).await?;
                if cases.is_empty() {
                    facts.without_cases.push(card.name.clone());
                } else if cases
                    .iter()
                    .any(|c| c.last.as_ref().is_some_and(|r| !r.passed))
                {
                    facts.failing_cases.push(card.name.clone());
                }
                cards.push(HealthCard {
                    health: self.integrations.health(provider, &card.key).await?,
                    provider,
                    key: card.key,
                    name: card.name,
                    status: card.status,
                });
            }
        }
        let queue = self.queue.page("", 0).await?.counts;
        // Events a relay posts with a token are not in the phone system's status.
        facts.calls_seen |= queue.iter().any(|(_, n)| *n > 0);
        Ok(Overview {
            steps: setup_steps(&facts),
            cards,
            queue,
        })
    }
}
