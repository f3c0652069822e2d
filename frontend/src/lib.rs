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

/// Room for `wasm-split` to move the read-only data (the pages' texts, about a third of the
/// bundle) into the chunks whose code uses it. It lays each module's data out anew, padded
/// per module, and when that comes out longer than the segment the linker wrote it keeps all
/// of the data in the main module, which every page loads (measured: 68 KB brotli more on
/// every page). These bytes are in the segment but used by nothing, so they are the room;
/// `.ci/build-site` fails if the split falls back all the same. Not zero, or they would go
/// to `.bss` instead.
#[used]
static SPLIT_DATA_ROOM: [u8; 2048] = [0xA5; 2048];
