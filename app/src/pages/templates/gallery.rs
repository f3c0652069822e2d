//! Templates › Add from gallery: the gallery's ready-made templates for this provider, each
//! with what to get from the CRM first; Add copies one into the list.

use leptos::prelude::*;

use crate::api::templates::{list_gallery, AddFromGallery};
use crate::components::loaded::Loaded;
use crate::components::page_data::page_data;
use crate::components::toast::use_toasts;
use crate::gallery::GalleryEntry;
use crate::template::model::Provider;
use crate::viewer::Viewer;

#[component]
pub fn GallerySection(
    provider: Provider,
    /// The list is full: nothing can be added.
    full: bool,
    /// Called after a template was added.
    on_added: Callback<()>,
) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let toasts = use_toasts();
    let csrf_token = StoredValue::new(viewer.csrf_token.clone());
    let open = RwSignal::new(false);
    let add = ServerAction::<AddFromGallery>::new();
    Effect::new(move |_| match add.value().get() {
        Some(Ok(added)) => {
            toasts.success(format!("{} added to the templates.", added.name));
            on_added.run(());
        }
        Some(Err(error)) => toasts.error(error.to_string()),
        None => {}
    });
    let entry_view = move |entry: GalleryEntry| {
        let id = entry.id.clone();
        let scenarios = entry.scenarios.join(", ");
        view! {
            <li class="gallery-entry" data-gallery=entry.id.clone()>
                <h3>{entry.name.clone()}</h3>
                <p class="help">{format!("{} · {scenarios}", entry.authentication)}</p>
                <p><strong>"What you need: "</strong>{entry.needs.clone()}</p>
                <p>
                    <a href=entry.docs_url.clone() rel="noopener noreferrer" target="_blank">
                        {format!("{}'s API documentation", entry.name)}
                    </a>
                </p>
                <button
                    class="button"
                    disabled=move || full || add.pending().get()
                    aria-label=format!("Add {}", entry.name)
                    on:click=move |_| {
                        add.dispatch(AddFromGallery {
                            csrf_token: csrf_token.get_value(),
                            id: id.clone(),
                        });
                    }
                >
                    "Add"
                </button>
            </li>
        }
    };
    let render = move |entries: Vec<GalleryEntry>| {
        let shown = entries
            .into_iter()
            .filter(|e| e.provider == provider)
            .map(entry_view)
            .collect_view();
        view! { <ul class="gallery-list">{shown}</ul> }
    };
    view! {
        <details class="card gallery" on:toggle=move |_| open.set(true)>
            <summary>"Add from gallery"</summary>
            <p class="help">
                "Ready-made templates, each proven against a stand-in of its CRM's API. Adding one copies it here; edit it like any other."
            </p>
            // Read only once the section is opened: most visits never need it, and the page
            // carries no resource for it.
            <Show when=move || open.get()>
                <Loaded
                    resource=page_data(|| (), |_| list_gallery())
                    loading="Loading the gallery…"
                    then=render
                />
            </Show>
        </details>
    }
}
