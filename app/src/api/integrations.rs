//! Integrations: the Integrations and Activity pages' calls and [`IntegrationAdmin`]
//! (implemented in `server/src/web/backend/integrations.rs`).

#[cfg(feature = "ssr")]
use super::{
    backend, provider_param, require_admin, require_signed_in, require_signed_in_viewer,
    with_status,
};
#[cfg(feature = "ssr")]
use crate::accounts::CurrentUser;
#[cfg(feature = "ssr")]
use crate::activity::ActivityFilter;
use crate::activity::{ActivityPage, IntegrationHealth};
use crate::console::{ConsoleInput, RunReport};
use crate::error::PortalError;
use crate::integrations::{
    AutoAssociation, CachedContactsPage, CrmUsersPage, Features, IntegrationCard,
    IntegrationSettings, SaveOutcome, SettingsInput, UserSyncProgress, UserSyncReport,
};
#[cfg(feature = "ssr")]
use crate::template::model::Provider;
use crate::test_cases::{ApplyResult, NewTestCase, TestCase, TestRun};
#[cfg(feature = "ssr")]
use async_trait::async_trait;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

/// Integrations as the Integrations pages need them. Any signed-in user may connect and
/// disconnect; applying a template's new revision is Template Management's (admins).
#[cfg(feature = "ssr")]
#[async_trait]
pub trait IntegrationAdmin: Send + Sync + 'static {
    async fn list_integrations(
        &self,
        provider: Provider,
    ) -> Result<Vec<IntegrationCard>, PortalError>;
    async fn integration_settings(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<IntegrationSettings, PortalError>;
    /// Checks the values, tests them against the CRM (Basic, Bearer, None), then stores;
    /// OAuth 2.0 starts an authorization bound to `session_secret` (the session's own
    /// secret, its unmasked CSRF token) and answers where the browser goes.
    async fn save_integration(
        &self,
        actor: &CurrentUser,
        session_secret: &str,
        provider: Provider,
        key: &str,
        input: SettingsInput,
    ) -> Result<SaveOutcome, PortalError>;
    /// Forgets secrets and tokens (revoking them at the CRM when the template says how);
    /// answers what happened.
    async fn disconnect_integration(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<String, PortalError>;
    /// Sends the connection test with the stored values and tokens; answers what happened.
    async fn check_integration(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<String, PortalError>;
    /// Moves the integration to the template's current revision after its test cases pass
    /// against it (or `anyway`); answers what happened.
    async fn apply_template(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        anyway: bool,
    ) -> Result<ApplyResult, PortalError>;
    /// Returns the integration to the revision it ran before; answers that revision.
    async fn roll_back(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<i32, PortalError>;
    async fn test_cases(&self, provider: Provider, key: &str)
        -> Result<Vec<TestCase>, PortalError>;
    /// Saves a new case (`id` none) or a case's new content.
    async fn save_test_case(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        id: Option<i32>,
        case: NewTestCase,
    ) -> Result<TestCase, PortalError>;
    async fn delete_test_case(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        id: i32,
    ) -> Result<(), PortalError>;
    /// Runs every case against the revision the integration runs.
    async fn run_test_cases(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<TestRun, PortalError>;
    /// The last 24 hours: successes, failures by layer, CRM latency, the queue.
    async fn integration_health(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<IntegrationHealth, PortalError>;
    /// Stores the Features section.
    async fn save_features(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        features: Features,
    ) -> Result<(), PortalError>;
    /// The test console: runs a scenario with sample values; every secret masked.
    async fn run_console(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        input: ConsoleInput,
    ) -> Result<RunReport, PortalError>;
    /// A page of the Activity record.
    async fn activity(&self, filter: ActivityFilter) -> Result<ActivityPage, PortalError>;
    /// Syncs the integration's CRM users (or joins the sync under way).
    async fn sync_crm_users(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<UserSyncReport, PortalError>;
    async fn crm_user_sync_progress(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<UserSyncProgress, PortalError>;
    async fn crm_users(
        &self,
        provider: Provider,
        key: &str,
        search: &str,
        offset: u64,
    ) -> Result<CrmUsersPage, PortalError>;
    /// A page of the integration's phonebook (its contact cache), newest first.
    async fn cached_contacts(
        &self,
        provider: Provider,
        key: &str,
        search: &str,
        offset: u64,
    ) -> Result<CachedContactsPage, PortalError>;
    /// Empties the phonebook; answers how many entries went.
    async fn clear_contact_cache(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
    ) -> Result<u64, PortalError>;
    /// Associate Automatically: what it would do (`apply` false) or did.
    async fn associate_automatically(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        apply: bool,
    ) -> Result<AutoAssociation, PortalError>;
    /// Sets the CRM user's extensions; answers them as stored.
    async fn associate(
        &self,
        actor: &CurrentUser,
        provider: Provider,
        key: &str,
        crm_id: &str,
        numbers: &[String],
    ) -> Result<Vec<String>, PortalError>;
}

#[server(input = GetUrl, endpoint = "list_integrations")]
pub async fn list_integrations(provider: String) -> Result<Vec<IntegrationCard>, PortalError> {
    with_status(async {
        require_signed_in_viewer()?;
        backend()?
            .integrations
            .list_integrations(provider_param(&provider)?)
            .await
    })
    .await
}

#[server(input = GetUrl, endpoint = "integration_settings")]
pub async fn load_integration_settings(
    provider: String,
    key: String,
) -> Result<IntegrationSettings, PortalError> {
    with_status(async {
        require_signed_in_viewer()?;
        backend()?
            .integrations
            .integration_settings(provider_param(&provider)?, &key)
            .await
    })
    .await
}

#[server(input = Json, endpoint = "save_integration")]
pub async fn save_integration(
    csrf_token: String,
    provider: String,
    key: String,
    input: SettingsInput,
) -> Result<SaveOutcome, PortalError> {
    with_status(async {
        let actor = require_signed_in(&csrf_token)?;
        // The session's own token, not the masked copy this page sent: the callback, on
        // another page, checks the session's.
        let session_secret = crate::viewer::SessionCsrfToken::from_request().0;
        backend()?
            .integrations
            .save_integration(
                &actor,
                &session_secret,
                provider_param(&provider)?,
                &key,
                input,
            )
            .await
    })
    .await
}

#[server(endpoint = "disconnect_integration")]
pub async fn disconnect_integration(
    csrf_token: String,
    provider: String,
    key: String,
) -> Result<String, PortalError> {
    with_status(async {
        let actor = require_signed_in(&csrf_token)?;
        backend()?
            .integrations
            .disconnect_integration(&actor, provider_param(&provider)?, &key)
            .await
    })
    .await
}

#[server(endpoint = "check_integration")]
pub async fn check_integration(
    csrf_token: String,
    provider: String,
    key: String,
) -> Result<String, PortalError> {
    with_status(async {
        let actor = require_signed_in(&csrf_token)?;
        backend()?
            .integrations
            .check_integration(&actor, provider_param(&provider)?, &key)
            .await
    })
    .await
}

/// Apply (administrators): the test cases run against the new revision first; a failure
/// stops it unless `anyway`.
#[server(endpoint = "apply_template")]
pub async fn apply_template(
    csrf_token: String,
    provider: String,
    key: String,
    #[server(default)] anyway: bool,
) -> Result<ApplyResult, PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?
            .integrations
            .apply_template(&actor, provider_param(&provider)?, &key, anyway)
            .await
    })
    .await
}

/// Roll back (administrators): the integration runs the revision it ran before.
#[server(endpoint = "roll_back_integration")]
pub async fn roll_back_integration(
    csrf_token: String,
    provider: String,
    key: String,
) -> Result<i32, PortalError> {
    with_status(async {
        let actor = require_admin(&csrf_token)?;
        backend()?
            .integrations
            .roll_back(&actor, provider_param(&provider)?, &key)
            .await
    })
    .await
}

/// The integration's test cases; any signed-in user (as the console).
#[server(input = GetUrl, endpoint = "list_test_cases")]
pub async fn list_test_cases(provider: String, key: String) -> Result<Vec<TestCase>, PortalError> {
    with_status(async {
        require_signed_in_viewer()?;
        backend()?
            .integrations
            .test_cases(provider_param(&provider)?, &key)
            .await
    })
    .await
}

#[server(input = Json, endpoint = "save_test_case")]
pub async fn save_test_case(
    csrf_token: String,
    provider: String,
    key: String,
    id: Option<i32>,
    case: NewTestCase,
) -> Result<TestCase, PortalError> {
    with_status(async {
        let actor = require_signed_in(&csrf_token)?;
        backend()?
            .integrations
            .save_test_case(&actor, provider_param(&provider)?, &key, id, case)
            .await
    })
    .await
}

#[server(endpoint = "delete_test_case")]
pub async fn delete_test_case(
    csrf_token: String,
    provider: String,
    key: String,
    id: i32,
) -> Result<(), PortalError> {
    with_status(async {
        let actor = require_signed_in(&csrf_token)?;
        backend()?
            .integrations
            .delete_test_case(&actor, provider_param(&provider)?, &key, id)
            .await
    })
    .await
}

#[server(endpoint = "run_test_cases")]
pub async fn run_test_cases(
    csrf_token: String,
    provider: String,
    key: String,
) -> Result<TestRun, PortalError> {
    with_status(async {
        let actor = require_signed_in(&csrf_token)?;
        backend()?
            .integrations
            .run_test_cases(&actor, provider_param(&provider)?, &key)
            .await
    })
    .await
}

#[server(input = GetUrl, endpoint = "integration_health")]
pub async fn load_integration_health(
    provider: String,
    key: String,
) -> Result<IntegrationHealth, PortalError> {
    with_status(async {
        require_signed_in_viewer()?;
        backend()?
            .integrations
            .integration_health(provider_param(&provider)?, &key)
            .await
    })
    .await
}

#[server(input = Json, endpoint = "save_features")]
pub async fn save_features(
    csrf_token: String,
    provider: String,
    key: String,
    features: Features,
) -> Result<(), PortalError> {
    with_status(async {
        let actor = require_signed_in(&csrf_token)?;
        backend()?
            .integrations
            .save_features(&actor, provider_param(&provider)?, &key, features)
            .await
    })
    .await
}

/// The test console. A run sends requests to the CRM, so it is a state change: CSRF.
#[server(input = Json, endpoint = "run_console")]
pub async fn run_console(
    csrf_token: String,
    provider: String,
    key: String,
    input: ConsoleInput,
) -> Result<RunReport, PortalError> {
    with_status(async {
        let actor = require_signed_in(&csrf_token)?;
        backend()?
            .integrations
            .run_console(&actor, provider_param(&provider)?, &key, input)
            .await
    })
    .await
}

/// A page of Activity; empty filters mean "any".
#[server(input = GetUrl, endpoint = "list_activity")]
pub async fn list_activity(
    #[server(default)] integration: String,
    #[server(default)] scenario: String,
    #[server(default)] outcome: String,
    #[server(default)] fault: String,
    #[server(default)] before: Option<i64>,
) -> Result<ActivityPage, PortalError> {
    with_status(async {
        require_signed_in_viewer()?;
        let filter = ActivityFilter {
            integration,
            scenario,
            outcome,
            fault,
            before,
        };
        backend()?.integrations.activity(filter).await
    })
    .await
}

/// Syncs the integration's CRM users; any signed-in user may (README "CRM user sync").
#[server(endpoint = "sync_crm_users")]
pub async fn sync_crm_users(
    csrf_token: String,
    provider: String,
    key: String,
) -> Result<UserSyncReport, PortalError> {
    with_status(async {
        let actor = require_signed_in(&csrf_token)?;
        backend()?
            .integrations
            .sync_crm_users(&actor, provider_param(&provider)?, &key)
            .await
    })
    .await
}

#[server(input = GetUrl, endpoint = "crm_user_sync_progress")]
pub async fn crm_user_sync_progress(
    provider: String,
    key: String,
) -> Result<UserSyncProgress, PortalError> {
    with_status(async {
        require_signed_in_viewer()?;
        backend()?
            .integrations
            .crm_user_sync_progress(provider_param(&provider)?, &key)
            .await
    })
    .await
}

#[server(input = GetUrl, endpoint = "list_crm_users")]
pub async fn list_crm_users(
    provider: String,
    key: String,
    #[server(default)] search: String,
    #[server(default)] offset: u64,
) -> Result<CrmUsersPage, PortalError> {
    with_status(async {
        require_signed_in_viewer()?;
        backend()?
            .integrations
            .crm_users(provider_param(&provider)?, &key, &search, offset)
            .await
    })
    .await
}

/// A page of the integration's phonebook (docs/scenarios.md "Contacts, the cache and number
/// formats"); any signed-in user, as for lookups.
#[server(input = GetUrl, endpoint = "list_cached_contacts")]
pub async fn list_cached_contacts(
    provider: String,
    key: String,
    #[server(default)] search: String,
    #[server(default)] offset: u64,
) -> Result<CachedContactsPage, PortalError> {
    with_status(async {
        require_signed_in_viewer()?;
        backend()?
            .integrations
            .cached_contacts(provider_param(&provider)?, &key, &search, offset)
            .await
    })
    .await
}

/// Empties the phonebook: every ring asks the CRM again.
#[server(endpoint = "clear_contact_cache")]
pub async fn clear_contact_cache(
    csrf_token: String,
    provider: String,
    key: String,
) -> Result<u64, PortalError> {
    with_status(async {
        let actor = require_signed_in(&csrf_token)?;
        backend()?
            .integrations
            .clear_contact_cache(&actor, provider_param(&provider)?, &key)
            .await
    })
    .await
}

/// Associate Automatically (README "User association"): with `apply` false, what it would
/// do, for the confirmation; with `apply` true, done. Any signed-in user may.
#[server(endpoint = "associate_automatically")]
pub async fn associate_automatically(
    csrf_token: String,
    provider: String,
    key: String,
    apply: bool,
) -> Result<AutoAssociation, PortalError> {
    with_status(async {
        let actor = require_signed_in(&csrf_token)?;
        backend()?
            .integrations
            .associate_automatically(&actor, provider_param(&provider)?, &key, apply)
            .await
    })
    .await
}

/// Sets a CRM user's extensions (a group picked in the page arrives as its members).
#[server(input = Json, endpoint = "associate_extensions")]
pub async fn associate_extensions(
    csrf_token: String,
    provider: String,
    key: String,
    crm_id: String,
    numbers: Vec<String>,
) -> Result<Vec<String>, PortalError> {
    with_status(async {
        let actor = require_signed_in(&csrf_token)?;
        backend()?
            .integrations
            .associate(&actor, provider_param(&provider)?, &key, &crm_id, &numbers)
            .await
    })
    .await
}
