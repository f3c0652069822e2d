pub mod account;
pub mod session;
