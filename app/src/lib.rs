//! Everything the server and the browser share: the page tree, components, server functions
//! and the types that travel between them. Built with `ssr` into the server and with
//! `hydrate` into the WebAssembly bundle.

// Leptos view types nest deeply: the Calls page's tables pass the default limit when the
// bundle is built unoptimised.
#![recursion_limit = "256"]

// Cargo unifies features across everything one command builds: `cargo build --workspace`
// would give the server an `app` with both sides compiled in, and Leptos panics at start
// ("spawn_local called from outside of a task::LocalSet"). Refuse to build that binary.
#[cfg(all(feature = "ssr", feature = "hydrate"))]
compile_error!(
    "`app` was built with both `ssr` and `hydrate`: build the server with a plain `cargo build` \
     (the workspace's default members) and the browser bundle with `.ci/build-site`, not both in \
     one command (`--workspace` or `-p server -p frontend`)"
);

pub mod accounts;
pub mod activity;
pub mod agents;
pub mod api;
pub mod calls;
pub mod components;
pub mod console;
pub mod error;
pub mod extensions;
pub mod gallery;
pub mod history;
pub mod integrations;
pub mod lang;
pub mod notifications;
pub mod overview;
pub mod pages;
pub mod phone_system;
pub mod site_assets;
pub mod template;
pub mod test_cases;
pub mod viewer;

mod root;
pub use root::{mark_hydrated, shell, App, PLAIN_PAGES, PLAIN_PAGE_SCRIPT};
