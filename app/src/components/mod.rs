//! Building blocks the pages share.

#[cfg(feature = "hydrate")]
pub mod browser;
pub mod confirm;
pub mod frame;
pub mod loaded;
pub mod notifications;
pub mod page_data;
pub mod pager;
pub mod test_run;
pub mod toast;
