//! The integration engine: a pure core (`core`: render, decide, extract) with the I/O at
//! its edge (`executor`: the one HTTP client every outbound request goes through).

pub mod core;
pub mod executor;
