pub mod account;
pub mod api_token;
pub mod integration;
pub mod integration_secret;
pub mod session;
pub mod template;
pub mod template_quota_lock;
