use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::toast::{provide_toasts, ToastRegion};
use crate::pages::{
    AccountsPage, ActivityPage, CallsPage, ExtensionsPage, HomePage, IntegrationSettingsPage,
    IntegrationsPage, LoginPage, NotFoundPage, PhoneSystemPage, SetupPage, TemplateEditorPage,
    TemplateHistoryPage, TemplatesPage,
};
use crate::viewer::{Viewer, VIEWER_META_NAME};

/// The HTML document around the app. Runs on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let viewer_json = Viewer::current().to_meta_content();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name=VIEWER_META_NAME content=viewer_json />
                <HashedStylesheet options=options.clone() id="patchbay-style" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(Viewer::current());
    provide_toasts();
    mark_hydrated();

    view! {
        <Title formatter=|page: String| format!("{page} · Patchbay") />
        <Router>
            <Routes fallback=|| view! { <NotFoundPage /> }>
                <Route path=path!("/") view=HomePage />
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/setup") view=SetupPage />
                <Route path=path!("/accounts") view=AccountsPage />
                <Route path=path!("/activity") view=ActivityPage />
                <Route path=path!("/calls") view=CallsPage />
                <Route path=path!("/extensions") view=ExtensionsPage />
                <Route path=path!("/phone-system") view=PhoneSystemPage />
                <Route path=path!("/templates/:provider") view=TemplatesPage />
                <Route path=path!("/templates/:provider/new") view=TemplateEditorPage />
                <Route path=path!("/templates/:provider/:key/edit") view=TemplateEditorPage />
                <Route path=path!("/templates/:provider/:key/history") view=TemplateHistoryPage />
                <Route path=path!("/integrations/:provider") view=IntegrationsPage />
                <Route path=path!("/integrations/:provider/:key") view=IntegrationSettingsPage />
            </Routes>
        </Router>
        <ToastRegion />
    }
}

/// Browser tests wait for this attribute: a click that lands before hydration is lost.
fn mark_hydrated() {
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
