//! Which revision of its template an integration runs (README "Revisions and rollback"):
//! Apply moves it to the newest after its test cases pass against it (an administrator may
//! apply anyway, which is recorded); Roll back returns it to the revision it ran before.
//! Both leave an Activity row (origin `revision`) and clear the contact cache, since
//! another revision may read contacts differently.

use app::template::model::Provider;
use app::test_cases::TestRun;

use super::activity::{origin, run_started, Run};
use super::service::{IntegrationError, IntegrationsService};
use super::test_cases::Revision;
use crate::engine::runner::RunStats;

/// What Apply did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub revision: i32,
    /// The test cases run against it first (none when the integration has none).
    pub tests: Option<TestRun>,
    /// Applied although cases failed.
    pub overridden: bool,
}

impl IntegrationsService {
    /// Moves the integration to the template's newest revision. Its test cases run against
    /// that revision first; a failure stops Apply unless `anyway`.
    pub async fn apply(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
        anyway: bool,
    ) -> Result<Applied, IntegrationError> {
        let running = self.template_in_use(provider, key).await?;
        let Some(integration) = running.integration else {
            return Err(IntegrationError::invalid(
                "Apply",
                format!("no integration uses the template {key}"),
            ));
        };
        let template = running.template;
        let has_cases = !self.test_cases.list(template.id).await?.is_empty();
        let tests = if has_cases {
            Some(
                self.run_test_cases(actor, provider, key, Revision::Newest)
                    .await?,
            )
        } else {
            None
        };
        let failed = tests.as_ref().is_some_and(|t| !t.passed());
        if failed && !anyway {
            return Err(IntegrationError::TestCasesFailed(
                tests.expect("failed implies a run"),
            ));
        }
        let from = integration.template_revision;
        self.move_to(
            integration.id,
            from,
            template.revision,
            &template.record.xml,
        )
        .await?;
        let mut detail = format!(
            "revision {from} \u{2192} {} applied by {actor}",
            template.revision
        );
        if let Some(tests) = tests.as_ref().filter(|_| failed) {
            detail.push_str(&format!(
                " although {} of {} test cases failed",
                tests.failed(),
                tests.results.len()
            ));
            tracing::warn!(%actor, provider = provider.as_str(), %key, failed = tests.failed(), "template applied although test cases failed");
        }
        self.record_revision_change(integration.id, "Apply", detail)
            .await;
        tracing::info!(%actor, provider = provider.as_str(), %key, from, to = template.revision, "template applied to its integration");
        Ok(Applied {
            revision: template.revision,
            tests,
            overridden: failed,
        })
    }

    /// Returns the integration to the revision it ran before the last Apply or rollback.
    pub async fn roll_back(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
    ) -> Result<i32, IntegrationError> {
        let running = self.template_in_use(provider, key).await?;
        let Some(integration) = running.integration else {
            return Err(IntegrationError::invalid(
                "Roll back",
                format!("no integration uses the template {key}"),
            ));
        };
        let Some(previous) = integration.previous_template_revision else {
            return Err(IntegrationError::invalid(
                "Roll back",
                "the integration has not run another revision",
            ));
        };
        let Some((_, xml)) = self
            .templates
            .revision(running.template.id, previous)
            .await?
        else {
            return Err(IntegrationError::invalid(
                "Roll back",
                format!("revision {previous} is no longer kept"),
            ));
        };
        let from = integration.template_revision;
        self.move_to(integration.id, from, previous, &xml).await?;
        self.record_revision_change(
            integration.id,
            "Rollback",
            format!("revision {from} \u{2192} {previous} rolled back by {actor}"),
        )
        .await;
        tracing::info!(%actor, provider = provider.as_str(), %key, from, to = previous, "integration rolled back");
        Ok(previous)
    }

    async fn move_to(
        &self,
        integration_id: i32,
        from: i32,
        to: i32,
        xml: &str,
    ) -> Result<(), IntegrationError> {
        if !self
            .integrations
            .apply_revision(integration_id, from, to, xml)
            .await?
        {
            return Err(IntegrationError::Conflict(
                "the integration changed revision meanwhile; reload and try again".into(),
            ));
        }
        self.contact_cache.clear(integration_id).await?;
        // Another revision reads other paths: drift starts over.
        self.activity.drift().clear(integration_id).await?;
        Ok(())
    }

    async fn record_revision_change(&self, integration_id: i32, what: &str, detail: String) {
        let stats = RunStats::default();
        stats.note(detail);
        self.record_run(Run {
            integration_id,
            scenario: what,
            origin: origin::REVISION,
            started: run_started(),
            stats: &stats,
            masked_error: None,
        })
        .await;
    }
}
