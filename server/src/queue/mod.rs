//! Call events and the work they cause. `events` reads what phone systems send (Yeastar
//! P-Series and S-Series webhooks, Patchbay's own JSON form) into one shape, without I/O.

pub mod events;
pub mod plan;
