//! The engine's pure core: what a template's requests look like once rendered, how a
//! response is read, and the rules on both. No I/O, no tokio, no reqwest, no storage, so
//! each rule is tested with plain values (ARCHITECTURE.md "Invariants").
//!
//! - [`render`]: the template language with the server's time zone;
//! - [`auth`]: the AuthMethod scenario read once (method, credential, token endpoint,
//!   global headers, token error map, custom fields);
//! - [`call`]: a call's variables in the reference's names and formats;
//! - [`call_steps`]: the steps a call makes for an integration (lookup, tickets, contact,
//!   journal) at its ring and its end;
//! - [`contacts`]: contact lookup's order of types, Next requests and the popup URL;
//! - [`numbers`]: a phone number in the formats CRMs store (E.164, national, digits…),
//!   the formats a lookup tries and the contact cache's key;
//! - [`scenarios`]: what each scenario sends and when, from the template and the Features
//!   section;
//! - [`oauth`]: the authorization URL, token, refresh and revocation requests, token
//!   answers, and when a token is due for a refresh;
//! - [`outbound`]: where requests may connect (`PATCHBAY_OUTBOUND_DENY` / `_ALLOW`);
//! - [`pagination`]: UserAssociation's pages: each URL, the next link, when to stop;
//! - [`request`]: a template request rendered into an [`request::OutboundRequest`];
//! - [`url_guard`]: only `http`/`https`, and user-filled values in a URL's host are host
//!   names;
//! - [`response`]: reading a response: JSON or not, token invalid or not, outputs;
//! - [`trace`]: a run's steps as its author sees them, secrets masked;
//! - [`redact`]: secret values masked in every message.

pub mod auth;
pub mod call;
pub mod call_steps;
pub mod contacts;
pub mod numbers;
pub mod oauth;
pub mod outbound;
pub mod pagination;
pub mod redact;
pub mod render;
pub mod request;
pub mod response;
pub mod scenarios;
pub mod trace;
pub mod url_guard;

/// Template variables by name (`app::lang::text::Data`).
pub type Variables = app::lang::text::Data;
