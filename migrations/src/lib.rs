//! Database schema for Patchbay, applied at start-up on SQLite and PostgreSQL alike.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_accounts_and_sessions;
mod m20261121_000002_templates;
mod m20261121_000003_api_tokens;
mod m20261129_000004_api_token_owners;
mod m20261129_000005_integrations;
mod m20261129_000006_oauth;
mod m20261129_000007_features_and_activity;
mod m20261129_000008_crm_users;
mod m20261129_000009_extensions;
mod m20261129_000010_groups_and_associations;
mod m20261129_000011_call_queue;
mod m20261203_000012_contact_cache;
mod m20261203_000013_phone_system;
mod m20261203_000014_agent_calls;
mod m20261204_000015_production;
mod m20261204_000016_password_resets;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_accounts_and_sessions::Migration),
            Box::new(m20261121_000002_templates::Migration),
            Box::new(m20261121_000003_api_tokens::Migration),
            Box::new(m20261129_000004_api_token_owners::Migration),
            Box::new(m20261129_000005_integrations::Migration),
            Box::new(m20261129_000006_oauth::Migration),
            Box::new(m20261129_000007_features_and_activity::Migration),
            Box::new(m20261129_000008_crm_users::Migration),
            Box::new(m20261129_000009_extensions::Migration),
            Box::new(m20261129_000010_groups_and_associations::Migration),
            Box::new(m20261129_000011_call_queue::Migration),
            Box::new(m20261203_000012_contact_cache::Migration),
            Box::new(m20261203_000013_phone_system::Migration),
            Box::new(m20261203_000014_agent_calls::Migration),
            Box::new(m20261204_000015_production::Migration),
            Box::new(m20261204_000016_password_resets::Migration),
        ]
    }
}
