//! What a page loads, in its three states shown one way everywhere: a line while it loads,
//! the error as an alert when it failed, the page's own view once it is there.

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::components::page_data::PageData;
use crate::error::PortalError;

/// The notice for something that failed to load: an alert, so a screen reader says it.
pub fn failed(error: impl std::fmt::Display) -> AnyView {
    view! { <p class="notice notice-error" role="alert">{error.to_string()}</p> }.into_any()
}

/// `resource` loading (`loading` shown; the last value stays while it reloads), failed
/// ([`failed`]) or loaded (`then` with its value).
#[component]
pub fn Loaded<T, F, V>(
    resource: PageData<Result<T, PortalError>>,
    loading: &'static str,
    then: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=move || view! { <p>{loading}</p> }>
            {move || {
                let then = then.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => then(value).into_any(),
                        Err(error) => failed(error),
                    }
                })
            }}
        </Transition>
    }
}
