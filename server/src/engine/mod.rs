//! The integration engine: a pure core (`core`: render, decide, extract) with the I/O at
//! its edge (`executor`: the one HTTP client every outbound request goes through;
//! `tokens`: OAuth 2.0 and Bearer tokens kept fresh, one refresh at a time per integration
//! across server instances; `runner`: a template's requests sent, judged, traced and read;
//! `lookup` and `scenario`: each scenario's steps on the runner; `console`: one run as an
//! author sees it, for the test console and `patchbay run`; `users`: CRM users page by page).

pub mod console;
pub mod core;
pub mod executor;
pub mod lookup;
pub mod runner;
pub mod scenario;
pub mod tokens;
pub mod users;
