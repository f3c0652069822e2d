use sea_orm::entity::prelude::*;

/// The phone system Patchbay listens to: one row (`id` 1), written by
/// `storage::phone_system`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "phone_system")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub base_url: String,
    pub client_id: String,
    /// `webhook`, `websocket` or `both`.
    pub delivery: String,
    /// Minutes between scheduled extension syncs; 0: only by hand.
    pub sync_minutes: i32,
    pub token_expires_at: Option<i64>,
    pub refresh_expires_at: Option<i64>,
    pub status: String,
    #[sea_orm(column_type = "Text")]
    pub status_detail: String,
    pub status_at: Option<i64>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub last_heartbeat_at: Option<i64>,
    pub last_event_at: Option<i64>,
    pub last_event_type: String,
    pub last_event_channel: String,
    pub last_sync_at: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub last_sync_result: String,
    /// Until when the webhook Secret replaced last is still accepted.
    pub previous_webhook_until: Option<i64>,
    /// Raised by every change of the settings, so the WebSocket holder reconnects.
    pub generation: i32,
    pub updated_at: i64,
    pub updated_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
