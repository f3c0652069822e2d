//! An integration's test cases (README "Test cases"): saved from a console run or written
//! by hand, run all at once against the revision the integration runs or the template's
//! newest (before Apply). A case whose scenario writes runs dry; one that only reads runs
//! live, leaving an Activity row (origin `test`).

use app::template::model::Provider;
use app::test_cases::{check, writes, CaseResult, NewTestCase, TestCase, TestRun};

pub use crate::storage::test_cases::TestCaseStoreError;

use super::activity::origin;
use super::scenarios::check_console_input;
use super::service::{
    template_in_use_of, ConnectedIntegration, IntegrationError, IntegrationsService,
};

/// Which revision a run tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revision {
    /// The one the integration runs.
    Running,
    /// The template's newest, which Apply would move the integration to.
    Newest,
}

impl IntegrationsService {
    /// The integration's cases, oldest first, each with its last result.
    pub async fn test_cases(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<Vec<TestCase>, IntegrationError> {
        let template = self.template_of(provider, key).await?;
        Ok(self.test_cases.list(template.id).await?)
    }

    /// Saves a case (a new one, or `id`'s new content), checked like the console's input.
    pub async fn save_test_case(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
        id: Option<i32>,
        case: &NewTestCase,
    ) -> Result<TestCase, IntegrationError> {
        if let Some((field, message)) = case.problem() {
            return Err(IntegrationError::Invalid { field, message });
        }
        check_console_input(&case.input)?;
        let template = self.template_of(provider, key).await?;
        let saved = match id {
            None => self.test_cases.create(template.id, case, actor).await?,
            Some(id) => self.test_cases.update(template.id, id, case).await?,
        };
        tracing::info!(%actor, provider = provider.as_str(), %key, case = saved.id, "test case saved");
        Ok(saved)
    }

    pub async fn delete_test_case(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
        id: i32,
    ) -> Result<(), IntegrationError> {
        let template = self.template_of(provider, key).await?;
        self.test_cases.delete(template.id, id).await?;
        tracing::info!(%actor, provider = provider.as_str(), %key, case = id, "test case deleted");
        Ok(())
    }

    /// Runs every case against `revision`; each result is kept with its case.
    pub async fn run_test_cases(
        &self,
        actor: &str,
        provider: Provider,
        key: &str,
        revision: Revision,
    ) -> Result<TestRun, IntegrationError> {
        let (template, mut integration) = self.connected_rows(provider, key, "Test cases").await?;
        let cases = self.test_cases.list(template.id).await?;
        if revision == Revision::Newest {
            integration.template_revision = template.revision;
            integration.template_xml = template.record.xml.clone();
        }
        let in_use = template_in_use_of(template, Some(integration.clone()))?;
        let tested = in_use.revision;
        let connected = self
            .ready(ConnectedIntegration {
                provider,
                key: key.to_owned(),
                in_use,
                integration,
            })
            .await?;
        let mut run = TestRun {
            revision: tested,
            results: Vec::with_capacity(cases.len()),
        };
        for case in cases {
            let mut input = case.input.clone();
            input.dry_run = writes(&input.scenario);
            let checks = match self.run_console_on(&connected, &input, origin::TEST).await {
                Ok(report) => check(&case.expect, &report),
                // The revision has no such scenario: every expectation fails with why.
                Err(error) => case
                    .expect
                    .iter()
                    .map(|expectation| app::test_cases::Check {
                        expectation: expectation.clone(),
                        passed: Some(false),
                        got: error.to_string(),
                    })
                    .collect(),
            };
            let result = CaseResult {
                case_id: case.id,
                name: case.name,
                scenario: input.scenario,
                dry_run: input.dry_run,
                passed: CaseResult::judge(&checks),
                checks,
                revision: tested,
                at: crate::storage::unix_now(),
            };
            self.test_cases.record_result(&result).await?;
            run.results.push(result);
        }
        tracing::info!(%actor, provider = provider.as_str(), %key, revision = tested, cases = run.results.len(), failed = run.failed(), "test cases run");
        Ok(run)
    }
}
