//! Integrations › CRM and › Helpdesk: a grid of the provider's templates with their status,
//! and each one's two pages, Settings and Tests (README "Connecting an integration"). Any
//! signed-in user may connect.

mod console;
mod features;
mod phonebook;
mod production;
mod settings;
mod testing;
mod users;

pub use settings::IntegrationSettingsPage;
pub use testing::IntegrationTestsPage;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::templates::provider_label;
use crate::api::integrations::list_integrations;
use crate::components::frame::Frame;
use crate::components::loaded::failed;
use crate::components::page_data::page_data;
use crate::integrations::{IntegrationCard, Status};
use crate::template::model::Provider;

/// The CSS class of a status badge.
pub(crate) fn status_class(status: Status) -> String {
    format!("status status-{}", status.as_str())
}

/// The address of one integration's Settings page (its Tests page is under it).
pub(crate) fn settings_href(provider: Provider, key: &str) -> String {
    format!("/integrations/{}/{key}", provider.as_str())
}

/// The page for an address whose provider does not exist, titled `title`.
fn no_such_provider(title: &'static str) -> AnyView {
    view! {
        <Title text=title />
        <h1>{title}</h1>
        <p class="notice" role="alert">"There are CRM and Helpdesk integrations only."</p>
    }
    .into_any()
}

/// One integration's page in the frame: `page` for the provider and key in the address, or a
/// notice when that provider does not exist.
fn integration_page(page: fn(Provider, String) -> AnyView) -> impl IntoView {
    let target = crate::pages::provider_and_key();
    view! {
        <Frame>
            {move || match target() {
                Some((provider, key)) => page(provider, key),
                None => no_such_provider("Integration"),
            }}
        </Frame>
    }
}

/// The way back to the provider's integrations, above one integration's page.
fn breadcrumb(provider: Provider) -> impl IntoView {
    let label = provider_label(provider);
    view! {
        <p class="breadcrumb">
            <a href=format!("/integrations/{}", provider.as_str())>{format!("Integrations › {label}")}</a>
        </p>
    }
}

/// An integration's name and its status badge, at the head of its pages.
fn name_and_status(name: String, status: Status) -> impl IntoView {
    view! {
        <div class="page-head">
            <h1>{name}</h1>
            <span class=status_class(status) data-status=status.as_str()>{status.label()}</span>
        </div>
    }
}

/// One integration's two pages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IntegrationPage {
    /// Connection, features, users, health, revisions and notifications.
    Settings,
    /// The test cases and the test console.
    Tests,
}

/// The links between one integration's two pages, the current one marked.
#[component]
fn IntegrationTabs(provider: Provider, key: String, current: IntegrationPage) -> impl IntoView {
    let settings = settings_href(provider, &key);
    let tests = format!("{settings}/tests");
    let marked = move |page: IntegrationPage| (page == current).then_some("page");
    view! {
        <nav class="tabs" aria-label="This integration">
            <a href=settings aria-current=marked(IntegrationPage::Settings)>"Settings"</a>
            <a href=tests aria-current=marked(IntegrationPage::Tests)>"Tests"</a>
        </nav>
    }
}

#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let params = use_params_map();
    let provider = move || params.with(|p| p.get("provider").and_then(|p| Provider::parse(&p)));
    view! {
        <Frame>
            {move || match provider() {
                Some(provider) => view! { <IntegrationGrid provider /> }.into_any(),
                None => no_such_provider("Integrations"),
            }}
        </Frame>
    }
}

#[component]
fn IntegrationGrid(provider: Provider) -> impl IntoView {
    let label = provider_label(provider);
    let cards = page_data(
        move || provider,
        move |provider| list_integrations(provider.as_str().to_string()),
    );
    view! {
        <Title text=format!("{label} integrations") />
        <h1>"Integrations › " {label}</h1>
        <Transition fallback=|| view! { <p>"Loading integrations…"</p> }>
            {move || Suspend::new(async move {
                match cards.await {
                    Err(error) => failed(error),
                    Ok(list) if list.is_empty() => view! {
                        <div class="card empty-state">
                            <h2>{format!("No {label} templates to connect yet")}</h2>
                            <p>
                                "An administrator adds or uploads a template under "
                                <a href=format!("/templates/{}", provider.as_str())>{format!("Templates › {label}")}</a>
                                "; it then appears here to connect."
                            </p>
                        </div>
                    }
                    .into_any(),
                    Ok(list) => view! {
                        <ul class="integration-grid">
                            {list.into_iter().map(|card| view! { <IntegrationTile card /> }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn IntegrationTile(card: IntegrationCard) -> impl IntoView {
    let href = settings_href(card.provider, &card.key);
    let logo = format!(
        "/api/v1/templates/{}/{}/logo",
        card.provider.as_str(),
        card.key
    );
    view! {
        <li class="card integration-tile" data-key=card.key.clone()>
            <a href=href class="integration-link">
                <img class="logo" src=logo alt="" width="48" height="48" />
                <span class="integration-name">{card.name.clone()}</span>
            </a>
            <span class=status_class(card.status)>{card.status.label()}</span>
            {card.last_error.map(|error| view! { <p class="field-message field-error">{error}</p> })}
        </li>
    }
}
