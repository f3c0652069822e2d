//! Integrations: a template connected to a CRM with the values a user filled in, its
//! secrets encrypted (`crypto::cipher`), its status. One `IntegrationsService`, its methods
//! in one file per job:
//!
//! - `service`: the service, its error, and an integration in its three stages:
//!   [`service::TemplateInUse`] (the template it runs, parsed, the stored row if any),
//!   [`service::ConnectedIntegration`] (a connected one, nothing opened yet) and
//!   [`service::ReadyIntegration`] (secrets opened, credentials and variables assembled,
//!   ready to send through the engine's `Runner`).
//! - `connection`: the settings page, Save; `connection_test`: the test request that
//!   proves values before they are stored, and Check connection.
//! - `revisions`: Apply (the template's newest revision, after its test cases) and Roll
//!   back (to the revision run before); `test_cases`: cases saved and run.
//! - `oauth`: an authorization in the browser and its redirect callback; `tokens`: tokens
//!   issued, refreshed on a schedule, revoked at Disconnect.
//! - `scenarios`: the test console, Features, global variables; `activity`: the record
//!   every run leaves; `lookup`: a contact lookup across integrations; `contacts`: one
//!   integration's lookup through its contact cache (Always Query, the cache's age).
//! - `users`: CRM users synced (`user_syncs`: those running in this process); `association`: extensions associated with them; `calls`: a
//!   call event's steps, run by the queue; `agent_contacts`: a contact an agent creates from
//!   the call popup.
//! - `rotation`: every stored secret re-encrypted under the current key.

pub mod activity;
pub mod agent_contacts;
pub mod association;
pub mod calls;
pub mod connection;
pub mod connection_test;
pub mod contacts;
pub mod health;
pub mod lookup;
pub mod oauth;
pub mod revisions;
pub mod rotation;
pub mod runbook;
pub mod scenarios;
pub mod service;
pub mod test_cases;
pub mod tokens;
pub mod user_syncs;
pub mod users;
