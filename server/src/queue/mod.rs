//! Call events and the work they cause (README "Call events", ARCHITECTURE.md "The
//! queue"): `events` reads what phone systems send into one shape, `plan` decides what
//! it causes and `popups` what it tells agents, all without I/O; `service` records events with their jobs and works the
//! durable queue (`storage::queue`) through the integrations.

pub mod events;
pub mod plan;
pub mod popups;
pub mod service;
