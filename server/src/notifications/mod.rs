//! Notifications to the people who own an integration (README "Notifications"): a token
//! refused or about to expire without a refresh token, drift, failed jobs piling up, the
//! phone system disconnected. `conditions` decides (pure); `service` checks every minute,
//! sends at most once per condition and hour by e-mail (SMTP, `lettre`) and a signed
//! webhook, and keeps what it sent.

pub mod conditions;
pub mod service;
