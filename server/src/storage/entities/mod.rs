pub mod account;
pub mod session;
pub mod template;
pub mod template_quota_lock;
