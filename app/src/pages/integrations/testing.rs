//! One integration's Tests page: its saved test cases (Run all, Write a case) and the test
//! console. Apart from the settings page: these two are the heaviest code of an integration's
//! pages, and the settings page, visited far more often, no longer loads it (README "The
//! front end's weight").

use leptos::prelude::*;
use leptos_meta::Title;

use super::console::ConsoleSection;
use super::production::{CasesChanged, TestCasesSection};
use super::{IntegrationPage, IntegrationTabs};
use crate::api::integrations::load_integration_settings;
use crate::components::loaded::Loaded;
use crate::components::page_data::page_data;
use crate::integrations::Status;
use crate::pages::templates::provider_label;
use crate::template::model::Provider;

#[component]
pub fn IntegrationTestsPage() -> impl IntoView {
    super::integration_page(|provider, key| view! { <TestsView provider key /> }.into_any())
}

#[component]
fn TestsView(provider: Provider, key: String) -> impl IntoView {
    let key_for_load = key.clone();
    let settings = page_data(
        || (),
        move |_| load_integration_settings(provider.as_str().to_string(), key_for_load.clone()),
    );
    // The console's "Save as test case" reloads the list of cases.
    provide_context(CasesChanged(RwSignal::new(0)));
    view! {
        <Title text=format!("{} integration tests", provider_label(provider)) />
        {super::breadcrumb(provider)}
        <Loaded resource=settings loading="Loading the integration…" then=move |settings| {
            let connected = settings.status != Status::NotConnected;
            let key = settings.key.clone();
            view! {
                {super::name_and_status(settings.name.clone(), settings.status)}
                <IntegrationTabs provider key=key.clone() current=IntegrationPage::Tests />
                {if connected {
                    view! {
                        <TestCasesSection provider key=key.clone() />
                        <ConsoleSection provider key />
                        <p class="help"><a href="/activity">"Activity: the recent runs of every integration"</a></p>
                    }
                    .into_any()
                } else {
                    view! {
                        <p class="notice" role="status">
                            "Test cases and the test console run against the connected CRM: connect the integration on its "
                            <a href=super::settings_href(provider, &key)>"Settings"</a>
                            " page first."
                        </p>
                    }
                    .into_any()
                }}
            }
        } />
    }
}
