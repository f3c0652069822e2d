//! The integration engine: a pure core (`core`: render, decide, extract) with the I/O at
//! its edge (`executor`: the one HTTP client every outbound request goes through;
//! `tokens`: OAuth 2.0 and Bearer tokens kept fresh, one refresh at a time per integration
//! across server instances; `lookup`: a contact lookup against one integration).

pub mod core;
pub mod executor;
pub mod lookup;
pub mod tokens;
