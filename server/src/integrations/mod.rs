//! Integrations: a template connected to a CRM with the values a user filled in, its
//! secrets encrypted (`crypto::cipher`), its status; connecting proves the values with a
//! test request through the engine (`service`). OAuth 2.0 connects through an
//! authorization in the browser and its redirect callback (`oauth`). Key rotation
//! (`rotation`) re-encrypts every stored secret under the current key. CRM users are
//! synced (`users`) and associated with extensions (`association`).

pub mod association;
pub mod calls;
pub mod oauth;
pub mod rotation;
pub mod scenarios;
pub mod service;
pub mod users;
