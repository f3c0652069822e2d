pub mod account;
pub mod api_token;
pub mod integration;
pub mod integration_secret;
pub mod oauth_state;
pub mod session;
pub mod template;
pub mod template_quota_lock;
