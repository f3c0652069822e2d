//! The phone system (README "Phone system"): a Yeastar P-Series connected as it really
//! works. `webhook` checks the PBX's signed posts; `openapi` speaks its Open API (tokens,
//! extension list, recordings); `service` keeps the settings, the status, the one token of
//! the deployment and the extension sync; `link` holds the Open API connection (the
//! WebSocket of events, the token, the scheduled sync) in the instance that has the lease;
//! `tally` counts events without a database write per event.

pub mod link;
pub mod openapi;
pub mod service;
pub mod tally;
pub mod webhook;
