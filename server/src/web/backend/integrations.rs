//! The Integrations pages' calls, over [`IntegrationsService`].

use app::accounts::CurrentUser;
use app::activity::{ActivityFilter, ActivityPage};
use app::api::integrations::IntegrationAdmin;
use app::console::{ConsoleInput, RunReport};
use app::error::PortalError;
use app::integrations::{
    AutoAssociation, CachedContactsPage, CrmUsersPage, Features, IntegrationCard,
    IntegrationSettings, SaveOutcome, SettingsInput, UserSyncProgress, UserSyncReport,
};
use app::template::model::Provider;
use async_trait::async_trait;

use super::storage_failure;
use crate::integrations::service::{IntegrationError, IntegrationsService};
use crate::integrations::test_cases::Revision;
use crate::integrations::test_cases::TestCaseStoreError;
use app::activity::IntegrationHealth;
use app::test_cases::{ApplyResult, NewTestCase, TestCase, TestRun};

pub struct IntegrationsAdmin {
    pub service: IntegrationsService,
}

impl From<IntegrationError> for PortalError {
    fn from(error: IntegrationError) -> Self {
        match error {
            IntegrationError::NotFound { key } => {
                PortalError::NotFound(format!("The template {key}"))
            }
            IntegrationError::Invalid { field, message } => PortalError::invalid(&field, message),
            IntegrationError::Conflict(message) => PortalError::Conflict(message),
            IntegrationError::CredentialsRejected(_) => {
                PortalError::invalid("Authentication", format!("is not accepted. {error}"))
            }
            IntegrationError::TestFailed(_)
            | IntegrationError::TokenFailed(_)
            | IntegrationError::Template(_) => PortalError::Upstream(error.to_string()),
            IntegrationError::Storage(_)
            | IntegrationError::TemplateStore(_)
            | IntegrationError::Secret(_) => storage_failure("integration", error),
            IntegrationError::TestCases(ref store) => match store {
                TestCaseStoreError::LimitReached => PortalError::Conflict(error.to_string()),
                TestCaseStoreError::NotFound(_) => PortalError::NotFound(error.to_string()),
                TestCaseStoreError::Corrupt { .. } | TestCaseStoreError::Db(_) => {
                    storage_failure("test case", error)
                }
            },
            // The page asks Apply through `apply_template`, which answers this as a result.
            IntegrationError::TestCasesFailed(_) => PortalError::Conflict(error.to_string()),
        }
    }
}

#[async_trait]
impl IntegrationAdmin for IntegrationsAdmin {
    async fn list_integrations(
        &self,
        provider: Provider,
    ) -> Result<Vec<IntegrationCard>, PortalError> {
        self.service.list(provider).await.map_err(PortalError::from)
    }

    async fn integration_settings(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<IntegrationSettings, PortalError> {
        Ok(self.service.settings(provider, key).await?)
    }

    async fn save_integration(
        &self,
        actor: &CurrentUser,
        session_secret: &str,
        provider: Provider,
        key: &str,
        input: SettingsInput,
    ) -> Result<SaveOutcome, PortalError> {
        self.service
            .save(&actor.email, session_secret, provider, key, &input)
            .await
            .map_err(|error| {
                tracing::info!(actor = %actor.email, provider = provider.as_str(), %key, %error, "integration not saved");
                PortalError::from(error)
            })
    }

    async fn disconnect_integration(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<String, PortalError> {
        Ok(self.service.disconnect(&actor.email, provider, key).await?)
    }

    async fn check_integration(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<String, PortalError> {
        Ok(self.service.check(&actor.email, provider, key).await?)
    }

    async fn apply_template(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        anyway: bool,
    ) -> Result<ApplyResult, PortalError> {
        match self
            .service
            .apply(&actor.email, provider, key, anyway)
            .await
        {
            Ok(applied) => Ok(ApplyResult {
                applied: Some(applied.revision),
                tests: applied.tests,
                overridden: applied.overridden,
            }),
            Err(IntegrationError::TestCasesFailed(tests)) => Ok(ApplyResult {
                applied: None,
                tests: Some(tests),
                overridden: false,
            }),
            Err(error) => Err(error.into()),
        }
    }

    async fn roll_back(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<i32, PortalError> {
        Ok(self.service.roll_back(&actor.email, provider, key).await?)
    }

    async fn test_cases(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<Vec<TestCase>, PortalError> {
        Ok(self.service.test_cases(provider, key).await?)
    }

    async fn save_test_case(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        id: Option<i32>,
        case: NewTestCase,
    ) -> Result<TestCase, PortalError> {
        Ok(self
            .service
            .save_test_case(&actor.email, provider, key, id, &case)
            .await?)
    }

    async fn delete_test_case(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        id: i32,
    ) -> Result<(), PortalError> {
        Ok(self
            .service
            .delete_test_case(&actor.email, provider, key, id)
            .await?)
    }

    async fn run_test_cases(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<TestRun, PortalError> {
        Ok(self
            .service
            .run_test_cases(&actor.email, provider, key, Revision::Running)
            .await?)
    }

    async fn integration_health(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<IntegrationHealth, PortalError> {
        Ok(self.service.health(provider, key).await?)
    }

    async fn save_features(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        features: Features,
    ) -> Result<(), PortalError> {
        Ok(self
            .service
            .save_features(&actor.email, provider, key, features)
            .await?)
    }

    async fn run_console(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        input: ConsoleInput,
    ) -> Result<RunReport, PortalError> {
        Ok(self
            .service
            .console(&actor.email, provider, key, &input)
            .await?)
    }

    async fn activity(&self, filter: ActivityFilter) -> Result<ActivityPage, PortalError> {
        Ok(self.service.activity(&filter).await?)
    }

    async fn sync_crm_users(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<UserSyncReport, PortalError> {
        Ok(self.service.sync_users(&actor.email, provider, key).await?)
    }

    async fn crm_user_sync_progress(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<UserSyncProgress, PortalError> {
        Ok(self.service.user_sync_progress(provider, key).await?)
    }

    async fn crm_users(
        &self,
        provider: Provider,
        key: &str,
        search: &str,
        offset: u64,
    ) -> Result<CrmUsersPage, PortalError> {
        Ok(self
            .service
            .crm_users(provider, key, search, offset)
            .await?)
    }

    async fn cached_contacts(
        &self,
        provider: Provider,
        key: &str,
        search: &str,
        offset: u64,
    ) -> Result<CachedContactsPage, PortalError> {
        Ok(self
            .service
            .cached_contacts(provider, key, search, offset)
            .await?)
    }

    async fn clear_contact_cache(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<u64, PortalError> {
        Ok(self
            .service
            .clear_contact_cache(&actor.email, provider, key)
            .await?)
    }

    async fn associate_automatically(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        apply: bool,
    ) -> Result<AutoAssociation, PortalError> {
        Ok(self
            .service
            .associate_automatically(&actor.email, provider, key, apply)
            .await?)
    }

    async fn associate(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        crm_id: &str,
        numbers: &[String],
    ) -> Result<Vec<String>, PortalError> {
        Ok(self
            .service
            .associate(&actor.email, provider, key, crm_id, numbers)
            .await?)
    }
}
