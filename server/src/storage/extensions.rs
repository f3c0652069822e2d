//! The extension directory (`extensions`): read whole, and changed by an import in one
//! transaction.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use super::entities::extension::{self, Entity as Extensions};
use super::unix_now;
use app::extensions::Extension as ExtensionFields;

/// Rows one INSERT writes.
const INSERT_CHUNK_ROWS: usize = 500;

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

    /// Inserts `new` and updates `changed` (by number), all or nothing. The caller has
    /// already told which is which (`directory::import::plan`), so nothing is read again.
    pub async fn apply(
        &self,
        new: &[ExtensionFields],
        changed: &[ExtensionFields],
    ) -> Result<(), DbErr> {
        let now = unix_now();
        let transaction = self.db.begin().await?;
        // Six columns a row: well inside SQLite's and PostgreSQL's bound parameters.
        for chunk in new.chunks(INSERT_CHUNK_ROWS) {
            Extensions::insert_many(chunk.iter().map(|row| extension::ActiveModel {
                number: Set(row.number.clone()),
                first_name: Set(row.first_name.clone()),
                last_name: Set(row.last_name.clone()),
                email: Set(row.email.clone()),
                updated_at: Set(now),
                ..Default::default()
            }))
            .exec(&transaction)
            .await?;
        }
        for row in changed {
            Extensions::update_many()
                .col_expr(
                    extension::Column::FirstName,
                    Expr::value(row.first_name.clone()),
                )
                .col_expr(
                    extension::Column::LastName,
                    Expr::value(row.last_name.clone()),
                )
                .col_expr(extension::Column::Email, Expr::value(row.email.clone()))
                .col_expr(extension::Column::UpdatedAt, Expr::value(now))
                .filter(extension::Column::Number.eq(row.number.clone()))
                .exec(&transaction)
                .await?;
        }
        transaction.commit().await
    }
}
