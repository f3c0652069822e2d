use leptos::nonce::use_nonce;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};
use leptos_router::{Lazy, LazyRoute};

use crate::components::toast::{provide_toasts, ToastRegion};
use crate::pages::{
    AccountsPage, ActivityPage, CallsPage, ExtensionsPage, HomePage, IntegrationSettingsPage,
    IntegrationTestsPage, IntegrationsPage, LoginPage, NotFoundPage, PhoneSystemPage,
    ResetPasswordPage, SetupPage, TemplateEditorPage, TemplateHistoryPage, TemplatesPage,
};
use crate::site_assets::SiteAssets;
use crate::viewer::{Viewer, VIEWER_META_NAME};

/// Pages that work as plain HTML forms (they post to the server's form handlers): they are
/// served without the WebAssembly bundle, so a first visit to sign in costs a few
/// kilobytes. What they need of a script is [`PLAIN_PAGE_SCRIPT`].
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
pub const PLAIN_PAGES: &[&str] = &["/login", "/setup", "/reset-password"];

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
pub fn shell(assets: &SiteAssets) -> impl IntoView {
    let viewer_json = Viewer::current().to_meta_content();
    let nonce = use_nonce();
    let scripts = if requested_page_is_plain() {
        view! { <script nonce=nonce inner_html=PLAIN_PAGE_SCRIPT></script> }.into_any()
    } else {
        // Lazy routes find their files' names in this context (`preload_page_group`).
        if let Some(split) = &assets.split {
            provide_context(split.clone());
        }
        // The app's glue script and WebAssembly, fetched while the page parses.
        view! {
            <link rel="modulepreload" href=assets.script.clone() crossorigin="anonymous" />
            <link
                rel="preload"
                href=assets.wasm.clone()
                r#as="fetch"
                r#type="application/wasm"
                crossorigin="anonymous"
            />
            <script type="module" nonce=nonce inner_html=assets.boot_script.clone()></script>
        }
        .into_any()
    };
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name=VIEWER_META_NAME content=viewer_json />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" id="patchbay-style" href=assets.stylesheet.clone() />
                {scripts}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Lazily loaded pages, in groups: each group is a split point of the site build
/// (`wasm-split`), whose code comes in the chunks it needs, loaded when one of its pages is
/// first shown; a direct visit preloads them as one file, the group's pack. Each split point
/// costs every page a little (each set of split points sharing code becomes a chunk, with its
/// own imports and its entry in the loader), so pages that need mostly the same code share a
/// group (ARCHITECTURE.md, "The browser bundle").
macro_rules! lazy_page_group {
    ($group:ident, $preload:ident, $pages:ident { $($route:ident => $page:ident),+ $(,)? }) => {
        // Each variant is named after the route it stands for.
        #[allow(clippy::enum_variant_names)]
        #[derive(Clone, Copy)]
        #[repr(u8)]
        enum $pages {
            $($route),+
        }

        #[lazy]
        fn $group(page: $pages) -> AnyView {
            match page {
                $($pages::$route => view! { <$page /> }.into_any()),+
            }
        }

        $(
            struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                async fn view(_this: Self) -> AnyView {
                    #[cfg(feature = "ssr")]
                    preload_page_group(stringify!($group));
                    $group($pages::$route).await
                }

                async fn preload() {
                    #[cfg(feature = "hydrate")]
                    $preload().await;
                }
            }
        )+
    };
}

/// Puts the preload link of `group`'s pack (its chunks in one file, `.ci/name-bundle.mjs`) and
/// of the chunks' loader in the page's head (server only), from the route's own reactive owner.
///
/// Leptos writes preload links itself after rendering, but looks up the manifest and the
/// head's meta context from whatever reactive owner the thread last left current: on a page
/// rendered whole before it is sent (`SsrMode::Async`) that was often none, and about one
/// page in six went out without its preloads, so the browser fetched the group's code only
/// once hydration asked for it (leptos_integration_utils 0.8.9, `from_app`). Leptos' own
/// registration goes to a set of this route's that nobody reads, so the links are written
/// once; and Leptos would name the manifest's files `<name>.wasm`, where a pack is a `.bin`.
#[cfg(feature = "ssr")]
fn preload_page_group(group: &str) {
    use leptos_meta::Link;

    provide_context(leptos::PrefetchLazyFn::default());
    let Some(manifest) = use_context::<leptos::WasmSplitManifest>() else {
        return;
    };
    let Some(manifest) = manifest.0.try_read_value() else {
        return;
    };
    let (pkg_path, files_of, loader) = &*manifest;
    // The manifest names a group `<group>_<hash of the #[lazy] call site>`.
    let files = files_of
        .iter()
        .find(|(name, _)| {
            name.strip_prefix(group)
                .and_then(|rest| rest.strip_prefix('_'))
                .is_some_and(|hash| hash.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|(_, files)| files);
    let Some(files) = files else {
        return;
    };
    // `anonymous`, as the shell's own preloads: the loader's fetches and imports are
    // same-origin CORS requests, which only a preload in that mode serves.
    for file in files {
        // to_html registers a leptos_meta tag with the head; it writes nothing here.
        _ = view! {
            <Link
                rel="preload"
                href=format!("{pkg_path}/{file}")
                as_="fetch"
                crossorigin="anonymous"
            />
        }
        .to_html();
    }
    _ = view! { <Link rel="modulepreload" href=format!("{pkg_path}/{loader}") crossorigin="anonymous" /> }
        .to_html();
}

// What is going on: the overview, Activity and the phone system's connection.
lazy_page_group!(operations_pages, __preload_operations_pages, OperationsPages {
    HomeRoute => HomePage,
    ActivityRoute => ActivityPage,
    PhoneSystemRoute => PhoneSystemPage,
});
// Who: the accounts and the extension directory with its CSV import.
lazy_page_group!(directory_pages, __preload_directory_pages, DirectoryPages {
    AccountsRoute => AccountsPage,
    ExtensionsRoute => ExtensionsPage,
});
// The agents' page, open all day: an agent's browser loads none of the administrators' pages.
lazy_page_group!(agent_pages, __preload_agent_pages, AgentPages {
    CallsRoute => CallsPage,
});
// The lists of templates: by provider, a template's history, and the grid of integrations.
lazy_page_group!(template_pages, __preload_template_pages, TemplatePages {
    TemplatesRoute => TemplatesPage,
    TemplateHistoryRoute => TemplateHistoryPage,
    IntegrationsRoute => IntegrationsPage,
});
// The editor alone: its live checks bring the template language, validator and XML reader,
// which the list does not need.
lazy_page_group!(editor_pages, __preload_editor_pages, EditorPages {
    TemplateEditorRoute => TemplateEditorPage,
});
lazy_page_group!(settings_pages, __preload_settings_pages, SettingsPages {
    IntegrationSettingsRoute => IntegrationSettingsPage,
});
// The test cases and the test console, the heaviest code of an integration's pages: the
// settings page, without them, stays within its budget.
lazy_page_group!(testing_pages, __preload_testing_pages, TestingPages {
    IntegrationTestsRoute => IntegrationTestsPage,
});

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(Viewer::current());
    provide_toasts();

    view! {
        <Title formatter=|page: String| format!("{page} · Patchbay") />
        // The busiest pages, whose data are the database's alone, render at once when it is
        // there (SsrMode::Async): streaming them out of order took 15 to 25 % of their
        // throughput under load (README "The front end's weight"). Pages that may wait on
        // something slower stream as usual.
        <Router>
            <Routes fallback=|| view! { <NotFoundPage /> }>
                <Route path=path!("/") view={Lazy::<HomeRoute>::new()} />
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/setup") view=SetupPage />
                <Route path=path!("/reset-password") view=ResetPasswordPage />
                <Route path=path!("/accounts") view={Lazy::<AccountsRoute>::new()} />
                <Route path=path!("/activity") view={Lazy::<ActivityRoute>::new()} />
                <Route path=path!("/calls") view={Lazy::<CallsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/extensions") view={Lazy::<ExtensionsRoute>::new()} />
                <Route path=path!("/phone-system") view={Lazy::<PhoneSystemRoute>::new()} />
                <Route
                    path=path!("/templates/:provider")
                    view={Lazy::<TemplatesRoute>::new()}
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/templates/:provider/new")
                    view={Lazy::<TemplateEditorRoute>::new()}
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/templates/:provider/:key/edit")
                    view={Lazy::<TemplateEditorRoute>::new()}
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/templates/:provider/:key/history")
                    view={Lazy::<TemplateHistoryRoute>::new()}
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/integrations/:provider")
                    view={Lazy::<IntegrationsRoute>::new()}
                />
                <Route
                    path=path!("/integrations/:provider/:key")
                    view={Lazy::<IntegrationSettingsRoute>::new()}
                />
                <Route
                    path=path!("/integrations/:provider/:key/tests")
                    view={Lazy::<IntegrationTestsRoute>::new()}
                />
            </Routes>
        </Router>
        <ToastRegion />
    }
}

/// Marks the page ready for clicks (`data-hydrated` on `<body>`) once hydration, the lazily
/// loaded page included, is done: browser tests wait for it, since a click that lands
/// before hydration is lost.
pub fn mark_hydrated() {
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
