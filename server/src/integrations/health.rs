//! An integration's health (README "Health"): the last 24 hours from its hourly counters
//! (successes, failures by layer, CRM latency buckets), its queue backlog, its last
//! success, and the outputs that stopped reading values (drift).

use app::activity::{
    latency_quantile, DriftFlag, Fault, IntegrationHealth, DRIFT_MIN_SHARE_PERCENT, DRIFT_STREAK,
    HEALTH_WINDOW_HOURS,
};
use app::template::model::Provider;

use super::service::{IntegrationError, IntegrationsService};
use crate::storage::counters::{name, MS_PER_HOUR};

impl IntegrationsService {
    pub async fn health(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<IntegrationHealth, IntegrationError> {
        let template = self.template_of(provider, key).await?;
        let Some(integration) = self.integrations.find_by_template(template.id).await? else {
            return Ok(IntegrationHealth::default());
        };
        let since = crate::storage::unix_now_ms() - (HEALTH_WINDOW_HOURS - 1) * MS_PER_HOUR;
        let counters = self
            .activity
            .counters()
            .since(integration.id, since)
            .await?;
        let (backlog, failed_jobs) = self.queue.backlog(integration.id).await?;
        let mut health = summarize(&counters);
        health.backlog = backlog;
        health.failed_jobs = failed_jobs;
        health.last_success_at = self.activity.last_success(integration.id).await?;
        health.drift = self
            .activity
            .drift()
            .streaks(integration.id, DRIFT_STREAK)
            .await?
            .into_iter()
            .filter_map(|row| {
                let before = row.reads + row.empties - row.streak;
                let share_before = u64::try_from(row.reads * 100 / before.max(1)).unwrap_or(0);
                (row.reads > 0 && share_before >= DRIFT_MIN_SHARE_PERCENT).then(|| DriftFlag {
                    step: row.step,
                    output: row.output,
                    streak: u64::try_from(row.streak).unwrap_or(0),
                    share_before,
                })
            })
            .collect();
        Ok(health)
    }
}

/// The counters' sums as the health card shows them.
fn summarize(counters: &[(String, i64)]) -> IntegrationHealth {
    let mut health = IntegrationHealth::default();
    let mut latency = Vec::new();
    for (counter, count) in counters {
        let count = u64::try_from(*count).unwrap_or(0);
        if counter == name::SUCCESS {
            health.successes += count;
        } else if let Some(fault) = counter
            .strip_prefix(name::FAILED_PREFIX)
            .and_then(Fault::parse)
        {
            health.failures.push((fault, count));
        } else if let Some(bound) = counter
            .strip_prefix(name::LATENCY_PREFIX)
            .and_then(|b| b.parse::<u64>().ok())
        {
            latency.push((bound, count));
        }
    }
    health
        .failures
        .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    health.median_ms = latency_quantile(&latency, 0.5);
    health.p95_ms = latency_quantile(&latency, 0.95);
    health
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_sum_into_the_card() {
        let counters = vec![
            ("success".to_owned(), 40),
            ("failed:network".to_owned(), 3),
            ("failed:crm_refused".to_owned(), 7),
            ("crm_ms:100".to_owned(), 45),
            ("crm_ms:18446744073709551615".to_owned(), 5),
            ("something_new".to_owned(), 1),
        ];
        let health = summarize(&counters);
        assert_eq!(health.successes, 40);
        assert_eq!(
            health.failures,
            vec![(Fault::CrmRefused, 7), (Fault::Network, 3)]
        );
        assert_eq!(health.failed(), 10);
        assert_eq!(health.median_ms, Some(100));
        assert_eq!(health.p95_ms, Some(u64::MAX));
    }
}

/// What notifications watch of one integration (`notifications`).
#[derive(Clone, Debug)]
pub struct Watched {
    pub id: i32,
    pub provider: Provider,
    pub key: String,
    pub name: String,
    pub owner: Option<String>,
    pub status: app::integrations::Status,
    pub token_expires_at: Option<i64>,
    pub has_refresh_token: bool,
    pub health: IntegrationHealth,
}

impl IntegrationsService {
    /// Every integration that is connected or was (its token refused), with its health.
    pub async fn watched(&self) -> Result<Vec<Watched>, IntegrationError> {
        let by_template = self.integrations.by_template().await?;
        let mut watched = Vec::new();
        for provider in [Provider::Crm, Provider::Helpdesk] {
            for template in self.templates.list(provider).await? {
                let Some(integration) = by_template.get(&template.id) else {
                    continue;
                };
                if integration.status == app::integrations::Status::NotConnected {
                    continue;
                }
                let tokens = self.integrations.token_record(integration.id).await?;
                watched.push(Watched {
                    id: integration.id,
                    provider,
                    key: template.record.key.clone(),
                    name: template.record.name.clone(),
                    owner: integration.owner.clone(),
                    status: integration.status,
                    token_expires_at: integration.token_expires_at,
                    has_refresh_token: tokens.is_some_and(|t| t.refresh.is_some()),
                    health: self.health(provider, &template.record.key).await?,
                });
            }
        }
        Ok(watched)
    }

    /// The stored integration's id (for what is kept by it); not found before its first Save.
    pub async fn integration_id(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<i32, IntegrationError> {
        let template = self.template_of(provider, key).await?;
        Ok(self
            .integrations
            .find_by_template(template.id)
            .await?
            .map(|i| i.id)
            .unwrap_or(-1))
    }

    /// Makes `email` (an account's) the integration's owner.
    pub async fn set_owner(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
        email: &str,
    ) -> Result<(), IntegrationError> {
        let template = self.template_of(provider, key).await?;
        let integration = self
            .integrations
            .find_by_template(template.id)
            .await?
            .ok_or_else(|| {
                IntegrationError::invalid("Owner", "the integration is not connected yet")
            })?;
        self.integrations
            .set_owner(integration.id, email, false)
            .await?;
        tracing::info!(%actor, provider = provider.as_str(), %key, owner = %email, "integration owner changed");
        Ok(())
    }
}
