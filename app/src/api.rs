//! Server functions: the page's calls into the server. Each checks who is calling, then
//! hands the work to the [`crate::backend`] the server provides.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};

#[cfg(feature = "ssr")]
use crate::accounts::{
    check_new_password, check_token_days, check_token_name, normalize_email, Role, TokenScope,
};
use crate::accounts::{AccountSummary, ApiTokenSummary, CreatedApiToken};
#[cfg(feature = "ssr")]
use crate::activity::ActivityFilter;
use crate::activity::{ActivityPage, QueuePage};
#[cfg(feature = "ssr")]
use crate::backend::{
    backend, require_admin, require_admin_viewer, require_signed_in, require_signed_in_viewer,
    with_status,
};
use crate::console::{ConsoleInput, RunReport};
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use crate::extensions::ExtensionSort;
use crate::extensions::{Extension, ExtensionGroup, ExtensionsPage, PickerItem};
use crate::integrations::{
    AutoAssociation, CrmUsersPage, Features, IntegrationCard, IntegrationSettings, SaveOutcome,
    SettingsInput, UserSyncProgress, UserSyncReport,
};
use crate::template::form::TemplateForm;
#[cfg(feature = "ssr")]
use crate::template::model::Provider;
use crate::template::TemplateSummary;

#[server(input = GetUrl, endpoint = "list_accounts")]
pub async fn list_accounts() -> Result<Vec<AccountSummary>, PortalError> {
    with_status(
        async {
            require_admin_viewer()?;
            backend()?.accounts.list_accounts().await
        }
        .await,
    )
}

#[server(endpoint = "create_account")]
pub async fn create_account(
    csrf_token: String,
    email: String,
    password: String,
    role: String,
) -> Result<AccountSummary, PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            let email = normalize_email(&email)?;
            check_new_password(&password)?;
            let role = Role::parse(&role)?;
            backend()?
                .accounts
                .create_account(&actor, &email, &password, role)
                .await
        }
        .await,
    )
}

#[server(endpoint = "set_account_disabled")]
pub async fn set_account_disabled(
    csrf_token: String,
    id: i32,
    disabled: bool,
) -> Result<(), PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            backend()?
                .accounts
                .set_account_disabled(&actor, id, disabled)
                .await
        }
        .await,
    )
}

#[server(endpoint = "delete_account")]
pub async fn delete_account(csrf_token: String, id: i32) -> Result<(), PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            backend()?.accounts.delete_account(&actor, id).await
        }
        .await,
    )
}

#[server(endpoint = "reset_password")]
pub async fn reset_password(
    csrf_token: String,
    id: i32,
    password: String,
) -> Result<(), PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            check_new_password(&password)?;
            backend()?
                .accounts
                .reset_password(&actor, id, &password)
                .await
        }
        .await,
    )
}

#[server(input = GetUrl, endpoint = "list_api_tokens")]
pub async fn list_api_tokens() -> Result<Vec<ApiTokenSummary>, PortalError> {
    with_status(
        async {
            require_admin_viewer()?;
            backend()?.api_tokens.list_tokens().await
        }
        .await,
    )
}

#[server(endpoint = "create_api_token")]
pub async fn create_api_token(
    csrf_token: String,
    name: String,
    scope: String,
    expires_in_days: String,
) -> Result<CreatedApiToken, PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            let name = check_token_name(&name)?;
            let scope = TokenScope::parse(&scope)?;
            let days = check_token_days(&expires_in_days)?;
            backend()?
                .api_tokens
                .create_token(&actor, &name, scope, days)
                .await
        }
        .await,
    )
}

#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(csrf_token: String, id: i32) -> Result<(), PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            backend()?.api_tokens.revoke_token(&actor, id).await
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn provider_param(text: &str) -> Result<Provider, PortalError> {
    Provider::parse(text).ok_or_else(|| {
        PortalError::invalid(
            "provider",
            format!("must be crm or helpdesk, not \"{text}\""),
        )
    })
}

#[server(input = GetUrl, endpoint = "list_templates")]
pub async fn list_templates(provider: String) -> Result<Vec<TemplateSummary>, PortalError> {
    with_status(
        async {
            require_admin_viewer()?;
            backend()?
                .templates
                .list_templates(provider_param(&provider)?)
                .await
        }
        .await,
    )
}

#[server(input = GetUrl, endpoint = "load_template_form")]
pub async fn load_template_form(
    provider: String,
    key: String,
) -> Result<TemplateForm, PortalError> {
    with_status(
        async {
            require_admin_viewer()?;
            backend()?
                .templates
                .template_form(provider_param(&provider)?, &key)
                .await
        }
        .await,
    )
}

#[server(input = GetUrl, endpoint = "load_template_text")]
pub async fn load_template_text(provider: String, key: String) -> Result<String, PortalError> {
    with_status(
        async {
            require_admin_viewer()?;
            backend()?
                .templates
                .template_text(provider_param(&provider)?, &key)
                .await
        }
        .await,
    )
}

/// Creates (`key` absent) or edits a template through the editor's form. JSON-encoded: the
/// form is nested; the CSRF middleware reads `csrf_token` from the JSON object.
#[server(input = Json, endpoint = "save_template")]
pub async fn save_template(
    csrf_token: String,
    provider: String,
    key: Option<String>,
    form: TemplateForm,
) -> Result<TemplateSummary, PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            backend()?
                .templates
                .save_template(&actor, provider_param(&provider)?, key.as_deref(), form)
                .await
        }
        .await,
    )
}

#[server(input = Json, endpoint = "delete_templates")]
pub async fn delete_templates(
    csrf_token: String,
    provider: String,
    keys: Vec<String>,
    disconnect: bool,
) -> Result<u64, PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            backend()?
                .templates
                .delete_templates(&actor, provider_param(&provider)?, &keys, disconnect)
                .await
        }
        .await,
    )
}

#[server(input = GetUrl, endpoint = "list_integrations")]
pub async fn list_integrations(provider: String) -> Result<Vec<IntegrationCard>, PortalError> {
    with_status(
        async {
            require_signed_in_viewer()?;
            backend()?
                .integrations
                .list_integrations(provider_param(&provider)?)
                .await
        }
        .await,
    )
}

#[server(input = GetUrl, endpoint = "integration_settings")]
pub async fn load_integration_settings(
    provider: String,
    key: String,
) -> Result<IntegrationSettings, PortalError> {
    with_status(
        async {
            require_signed_in_viewer()?;
            backend()?
                .integrations
                .integration_settings(provider_param(&provider)?, &key)
                .await
        }
        .await,
    )
}

#[server(input = Json, endpoint = "save_integration")]
pub async fn save_integration(
    csrf_token: String,
    provider: String,
    key: String,
    input: SettingsInput,
) -> Result<SaveOutcome, PortalError> {
    with_status(
        async {
            let actor = require_signed_in(&csrf_token)?;
            backend()?
                .integrations
                .save_integration(&actor, &csrf_token, provider_param(&provider)?, &key, input)
                .await
        }
        .await,
    )
}

#[server(endpoint = "disconnect_integration")]
pub async fn disconnect_integration(
    csrf_token: String,
    provider: String,
    key: String,
) -> Result<String, PortalError> {
    with_status(
        async {
            let actor = require_signed_in(&csrf_token)?;
            backend()?
                .integrations
                .disconnect_integration(&actor, provider_param(&provider)?, &key)
                .await
        }
        .await,
    )
}

#[server(endpoint = "check_integration")]
pub async fn check_integration(
    csrf_token: String,
    provider: String,
    key: String,
) -> Result<String, PortalError> {
    with_status(
        async {
            let actor = require_signed_in(&csrf_token)?;
            backend()?
                .integrations
                .check_integration(&actor, provider_param(&provider)?, &key)
                .await
        }
        .await,
    )
}

#[server(endpoint = "apply_template")]
pub async fn apply_template(
    csrf_token: String,
    provider: String,
    key: String,
) -> Result<i32, PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            backend()?
                .integrations
                .apply_template(&actor, provider_param(&provider)?, &key)
                .await
        }
        .await,
    )
}

#[server(input = Json, endpoint = "save_features")]
pub async fn save_features(
    csrf_token: String,
    provider: String,
    key: String,
    features: Features,
) -> Result<(), PortalError> {
    with_status(
        async {
            let actor = require_signed_in(&csrf_token)?;
            backend()?
                .integrations
                .save_features(&actor, provider_param(&provider)?, &key, features)
                .await
        }
        .await,
    )
}

/// The test console. A run sends requests to the CRM, so it is a state change: CSRF.
#[server(input = Json, endpoint = "run_console")]
pub async fn run_console(
    csrf_token: String,
    provider: String,
    key: String,
    input: ConsoleInput,
) -> Result<RunReport, PortalError> {
    with_status(
        async {
            let actor = require_signed_in(&csrf_token)?;
            backend()?
                .integrations
                .run_console(&actor, provider_param(&provider)?, &key, input)
                .await
        }
        .await,
    )
}

/// A page of Activity; empty filters mean "any".
#[server(input = GetUrl, endpoint = "list_activity")]
pub async fn list_activity(
    #[server(default)] integration: String,
    #[server(default)] scenario: String,
    #[server(default)] outcome: String,
    #[server(default)] before: Option<i64>,
) -> Result<ActivityPage, PortalError> {
    with_status(
        async {
            require_signed_in_viewer()?;
            let filter = ActivityFilter {
                integration,
                scenario,
                outcome,
                before,
            };
            backend()?.integrations.activity(filter).await
        }
        .await,
    )
}

/// Syncs the integration's CRM users; any signed-in user may (README "CRM user sync").
#[server(endpoint = "sync_crm_users")]
pub async fn sync_crm_users(
    csrf_token: String,
    provider: String,
    key: String,
) -> Result<UserSyncReport, PortalError> {
    with_status(
        async {
            let actor = require_signed_in(&csrf_token)?;
            backend()?
                .integrations
                .sync_crm_users(&actor, provider_param(&provider)?, &key)
                .await
        }
        .await,
    )
}

#[server(input = GetUrl, endpoint = "crm_user_sync_progress")]
pub async fn crm_user_sync_progress(
    provider: String,
    key: String,
) -> Result<UserSyncProgress, PortalError> {
    with_status(
        async {
            require_signed_in_viewer()?;
            backend()?
                .integrations
                .crm_user_sync_progress(provider_param(&provider)?, &key)
                .await
        }
        .await,
    )
}

#[server(input = GetUrl, endpoint = "list_crm_users")]
pub async fn list_crm_users(
    provider: String,
    key: String,
    #[server(default)] search: String,
    #[server(default)] offset: u64,
) -> Result<CrmUsersPage, PortalError> {
    with_status(
        async {
            require_signed_in_viewer()?;
            backend()?
                .integrations
                .crm_users(provider_param(&provider)?, &key, &search, offset)
                .await
        }
        .await,
    )
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
    with_status(
        async {
            let actor = require_signed_in(&csrf_token)?;
            backend()?
                .integrations
                .associate_automatically(&actor, provider_param(&provider)?, &key, apply)
                .await
        }
        .await,
    )
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
    with_status(
        async {
            let actor = require_signed_in(&csrf_token)?;
            backend()?
                .integrations
                .associate(&actor, provider_param(&provider)?, &key, &crm_id, &numbers)
                .await
        }
        .await,
    )
}

/// A page of the extension directory; any signed-in user may read it.
#[server(input = GetUrl, endpoint = "list_extensions")]
pub async fn list_extensions(
    #[server(default)] search: String,
    #[server(default)] sort: String,
    #[server(default)] descending: bool,
    #[server(default)] offset: u64,
) -> Result<ExtensionsPage, PortalError> {
    with_status(
        async {
            require_signed_in_viewer()?;
            backend()?
                .directory
                .extensions(&search, ExtensionSort::parse(&sort), descending, offset)
                .await
        }
        .await,
    )
}

/// Adds an extension (`original` empty) or changes the one numbered `original`.
#[server(input = Json, endpoint = "save_extension")]
pub async fn save_extension(
    csrf_token: String,
    original: Option<String>,
    extension: Extension,
) -> Result<(), PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            backend()?
                .directory
                .save_extension(&actor, original.as_deref(), extension)
                .await
        }
        .await,
    )
}

#[server(endpoint = "delete_extension")]
pub async fn delete_extension(csrf_token: String, number: String) -> Result<(), PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            backend()?.directory.delete_extension(&actor, &number).await
        }
        .await,
    )
}

#[server(input = GetUrl, endpoint = "list_extension_groups")]
pub async fn list_extension_groups() -> Result<Vec<ExtensionGroup>, PortalError> {
    with_status(
        async {
            require_signed_in_viewer()?;
            backend()?.directory.groups().await
        }
        .await,
    )
}

/// Creates (`id` None) or changes an extension group.
#[server(input = Json, endpoint = "save_extension_group")]
pub async fn save_extension_group(
    csrf_token: String,
    id: Option<i32>,
    name: String,
    members: Vec<String>,
) -> Result<(), PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            backend()?
                .directory
                .save_group(&actor, id, &name, &members)
                .await
        }
        .await,
    )
}

#[server(endpoint = "delete_extension_group")]
pub async fn delete_extension_group(csrf_token: String, id: i32) -> Result<(), PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            backend()?.directory.delete_group(&actor, id).await
        }
        .await,
    )
}

/// The association picker's matches for `search`: groups and extensions.
#[server(input = GetUrl, endpoint = "pick_extensions")]
pub async fn pick_extensions(
    #[server(default)] search: String,
) -> Result<Vec<PickerItem>, PortalError> {
    with_status(
        async {
            require_signed_in_viewer()?;
            backend()?.directory.picker(&search).await
        }
        .await,
    )
}

/// Activity › Queue: jobs in `state` (empty: pending, running and failed).
#[server(input = GetUrl, endpoint = "list_queue")]
pub async fn list_queue(
    #[server(default)] state: String,
    #[server(default)] offset: u64,
) -> Result<QueuePage, PortalError> {
    with_status(
        async {
            require_signed_in_viewer()?;
            backend()?.queue.queue(&state, offset).await
        }
        .await,
    )
}

/// A failed queue job tried again now (administrators).
#[server(endpoint = "retry_queue_job")]
pub async fn retry_queue_job(csrf_token: String, id: i32) -> Result<(), PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            backend()?.queue.retry_job(&actor, id).await
        }
        .await,
    )
}

/// A failed queue job set aside for good (administrators).
#[server(endpoint = "discard_queue_job")]
pub async fn discard_queue_job(csrf_token: String, id: i32) -> Result<(), PortalError> {
    with_status(
        async {
            let actor = require_admin(&csrf_token)?;
            backend()?.queue.discard_job(&actor, id).await
        }
        .await,
    )
}
