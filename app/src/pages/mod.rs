//! One module per page.

mod accounts;
mod activity;
#[cfg(feature = "ssr")]
pub mod callback;
mod calls;
#[cfg(feature = "ssr")]
pub mod docs;
mod extensions;
mod home;
mod integrations;
mod login;
mod not_found;
mod phone_system;
mod queue;
mod setup;
#[cfg(feature = "ssr")]
mod standalone;
pub(crate) mod templates;

pub use accounts::AccountsPage;
pub use activity::ActivityPage;
pub use calls::CallsPage;
pub use extensions::ExtensionsPage;
pub use home::HomePage;
pub use integrations::{IntegrationSettingsPage, IntegrationTestsPage, IntegrationsPage};
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use phone_system::PhoneSystemPage;
pub use setup::{ResetPasswordPage, SetupPage};
pub use templates::{TemplateEditorPage, TemplateHistoryPage, TemplatesPage};

/// The route's `:provider` (when it is one) and `:key`, for the pages of one template or
/// integration.
pub(crate) fn provider_and_key(
) -> impl Fn() -> Option<(crate::template::model::Provider, String)> + Copy {
    let params = leptos_router::hooks::use_params_map();
    move || {
        use leptos::prelude::With;
        params.with(|p| {
            let provider = p
                .get("provider")
                .and_then(|p| crate::template::model::Provider::parse(&p))?;
            Some((provider, p.get("key")?))
        })
    }
}
