//! The server's integration tests: one binary (linking the whole dependency tree once),
//! one module per area. `common` starts real servers, databases and stand-ins for them all.
//! Run one area with `cargo test -p server --test it accounts_http::`, one test by its full
//! name, e.g. `cargo test -p server --test it sqlite::first_admin_signs_in`.

#[macro_use]
mod common;

mod accounts_http;
mod admin_cli;
mod agents_http;
mod api_tokens_http;
mod association_http;
mod attacker_http;
mod backup_processes;
mod docs;
mod eval_cli;
mod events_http;
mod executor;
mod extensions_http;
mod fidelity_http;
mod fuzz_scenarios;
mod gallery_http;
mod hardening_http;
mod import_3cx_http;
mod integrations_http;
mod limits_processes;
mod logs_processes;
mod lookup_http;
mod metrics_processes;
mod oauth_http;
mod openapi_http;
mod phone_system_http;
mod production_http;
mod queue_processes;
mod readme;
mod rest_api_http;
mod run_cli;
mod scenarios_http;
mod service_unit;
mod storage;
mod template_cli;
mod templates_http;
mod two_instances;
mod user_sync_http;
