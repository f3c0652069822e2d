//! Everything the server and the browser share: the page tree, components, server functions
//! and the types that travel between them. Built with `ssr` into the server and with
//! `hydrate` into the WebAssembly bundle.

pub mod accounts;
pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod components;
pub mod error;
pub mod lang;
pub mod pages;
pub mod template;
pub mod viewer;

mod root;
pub use root::{shell, App};
