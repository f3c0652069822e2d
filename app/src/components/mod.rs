//! Building blocks the pages share.

pub mod confirm;
pub mod frame;
pub mod toast;
