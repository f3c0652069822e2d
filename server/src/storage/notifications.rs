//! Notifications sent (`notifications`, README "Notifications"): what the once-an-hour
//! rule reads, and what the pages list. Pruned with the queue's history.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::notification::{self, Entity as Notifications};

#[derive(Clone)]
pub struct NotificationRepository {
    db: DatabaseConnection,
}

impl NotificationRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    pub async fn record(
        &self,
        integration_id: Option<i32>,
        condition: &str,
        message: &str,
        at_ms: i64,
        delivery: &str,
    ) -> Result<(), DbErr> {
        notification::ActiveModel {
            integration_id: Set(integration_id),
            condition: Set(condition.to_owned()),
            message: Set(message.to_owned()),
            at_ms: Set(at_ms),
            delivery: Set(delivery.to_owned()),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// When the condition was last notified.
    pub async fn last_sent(
        &self,
        integration_id: Option<i32>,
        condition: &str,
    ) -> Result<Option<i64>, DbErr> {
        let mut select = Notifications::find()
            .select_only()
            .column(notification::Column::AtMs)
            .filter(notification::Column::Condition.eq(condition));
        select = match integration_id {
            Some(id) => select.filter(notification::Column::IntegrationId.eq(id)),
            None => select.filter(notification::Column::IntegrationId.is_null()),
        };
        select
            .order_by_desc(notification::Column::AtMs)
            .limit(1)
            .into_tuple::<i64>()
            .one(&self.db)
            .await
    }

    /// The newest first; only the integration's when given.
    pub async fn recent(
        &self,
        integration_id: Option<i32>,
        limit: u64,
    ) -> Result<Vec<notification::Model>, DbErr> {
        let mut select = Notifications::find().order_by_desc(notification::Column::Id);
        if let Some(id) = integration_id {
            select = select.filter(notification::Column::IntegrationId.eq(id));
        }
        select.limit(limit).all(&self.db).await
    }

    /// Drops what was sent before `before_ms`.
    pub async fn prune(&self, before_ms: i64) -> Result<u64, DbErr> {
        Ok(Notifications::delete_many()
            .filter(notification::Column::AtMs.lt(before_ms))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}
