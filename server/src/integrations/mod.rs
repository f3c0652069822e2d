//! Integrations: a template connected to a CRM with the values a user filled in, its
//! secrets encrypted (`crypto::cipher`), its status; connecting proves the values with a
//! test request through the engine's executor (`service`). Key rotation (`rotation`)
//! re-encrypts every stored secret under the current key.

pub mod rotation;
pub mod service;
