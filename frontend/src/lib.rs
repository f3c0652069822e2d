//! The browser entry point: hydrates the server-rendered page.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // An Err only means the executor was set up already.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    // The page's own code is a lazily loaded chunk: hydration waits for it, and only then
    // is the page marked ready for clicks.
    leptos::task::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        app::mark_hydrated();
    });
}
