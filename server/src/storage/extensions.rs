//! The extension directory (`extensions`): read whole or in pages, and changed by an import
//! in one transaction.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, TransactionTrait,
};

use super::entities::extension::{self, Entity as Extensions};
use super::unix_now;
use app::extensions::Extension as ExtensionFields;

#[derive(Clone)]
pub struct ExtensionRepository {
    db: DatabaseConnection,
}

fn fields(model: extension::Model) -> ExtensionFields {
    ExtensionFields {
        number: model.number,
        first_name: model.first_name,
        last_name: model.last_name,
        email: model.email,
    }
}

impl ExtensionRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        ExtensionRepository { db }
    }

    /// Every extension, by number.
    pub async fn all(&self) -> Result<Vec<ExtensionFields>, DbErr> {
        Ok(Extensions::find()
            .order_by_asc(extension::Column::Number)
            .all(&self.db)
            .await?
            .into_iter()
            .map(fields)
            .collect())
    }

    /// Inserts the new numbers and updates the others, all or nothing.
    pub async fn upsert(&self, rows: &[ExtensionFields]) -> Result<(), DbErr> {
        let now = unix_now();
        let transaction = self.db.begin().await?;
        for row in rows {
            let existing = Extensions::find()
                .filter(extension::Column::Number.eq(row.number.clone()))
                .one(&transaction)
                .await?;
            match existing {
                Some(model) => {
                    let mut active: extension::ActiveModel = model.into();
                    active.first_name = Set(row.first_name.clone());
                    active.last_name = Set(row.last_name.clone());
                    active.email = Set(row.email.clone());
                    active.updated_at = Set(now);
                    active.update(&transaction).await?;
                }
                None => {
                    extension::ActiveModel {
                        number: Set(row.number.clone()),
                        first_name: Set(row.first_name.clone()),
                        last_name: Set(row.last_name.clone()),
                        email: Set(row.email.clone()),
                        updated_at: Set(now),
                        ..Default::default()
                    }
                    .insert(&transaction)
                    .await?;
                }
            }
        }
        transaction.commit().await
    }
}
