use leptos::nonce::use_nonce;
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

/// Pages that work as plain HTML forms (they post to the server's form handlers): they are
/// served without the WebAssembly bundle, so a first visit to sign in costs a few
/// kilobytes. What they need of a script is [`PLAIN_PAGE_SCRIPT`].
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
pub const PLAIN_PAGES: &[&str] = &["/login", "/setup"];

/// The plain pages' one script: the password's Show/Hide button (a `button` with
/// `aria-controls` and `aria-pressed`, as the component renders it) and the `data-hydrated`
/// marker, set once the page is parsed (interactive, as a hydrated page is).
pub const PLAIN_PAGE_SCRIPT: &str = r#"document.addEventListener("DOMContentLoaded",function(){document.querySelectorAll("button[aria-controls][aria-pressed]").forEach(function(b){b.addEventListener("click",function(){var i=document.getElementById(b.getAttribute("aria-controls"));var show=i.type==="password";i.type=show?"text":"password";b.setAttribute("aria-pressed",String(show));b.textContent=show?"Hide":"Show";});});document.body.setAttribute("data-hydrated","true");});"#;

/// Whether this request is for one of the [`PLAIN_PAGES`].
fn requested_page_is_plain() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .is_some_and(|parts| PLAIN_PAGES.contains(&parts.uri.path()))
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

/// The HTML document around the app. Runs on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let viewer_json = Viewer::current().to_meta_content();
    let scripts = if requested_page_is_plain() {
        view! { <script nonce=use_nonce() inner_html=PLAIN_PAGE_SCRIPT></script> }.into_any()
    } else {
        view! { <HydrationScripts options=options.clone() /> }.into_any()
    };
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name=VIEWER_META_NAME content=viewer_json />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HashedStylesheet options=options.clone() id="patchbay-style" />
                {scripts}
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
