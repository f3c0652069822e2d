pub mod account;
pub mod api_token;
pub mod session;
pub mod template;
pub mod template_quota_lock;
