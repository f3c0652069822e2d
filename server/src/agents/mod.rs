//! Agents and their calls (README "Agents and the call popup"): `feed` keeps what agents'
//! pages are told about calls (written by the queue, pushed to this process's streams, and
//! on PostgreSQL fanned out to every instance through `LISTEN`/`NOTIFY`); `service` is the
//! Calls page (recent calls, popup settings, a contact created by hand) and the accounts'
//! extensions.

pub mod feed;
pub mod service;
