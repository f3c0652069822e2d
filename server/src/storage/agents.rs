//! Agents and their extensions (`account_extensions`), and each extension's popup settings
//! (`popup_settings`). Both are kept by the extension's number.

use std::collections::BTreeMap;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use super::entities::account_extension::{self, Entity as AccountExtensions};
use super::entities::popup_setting::{self, Entity as PopupSettings};

/// An extension's popup settings as stored (method and trigger as their names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPopup {
    pub number: String,
    pub method: String,
    pub trigger: String,
}

#[derive(Clone)]
pub struct AgentRepository {
    db: DatabaseConnection,
    /// The calls page's reads ([`crate::storage::connect_reads`]).
    reads: DatabaseConnection,
}

impl AgentRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        AgentRepository {
            reads: db.clone(),
            db,
        }
    }

    /// Reads an agent's extensions and popups through `reads`.
    pub fn with_reads(self, reads: DatabaseConnection) -> Self {
        AgentRepository { reads, ..self }
    }

    /// The numbers `account_id` answers, ascending.
    pub async fn extensions_of(&self, account_id: i32) -> Result<Vec<String>, DbErr> {
        Ok(AccountExtensions::find()
            .filter(account_extension::Column::AccountId.eq(account_id))
            .order_by_asc(account_extension::Column::Number)
            .all(&self.reads)
            .await?
            .into_iter()
            .map(|row| row.number)
            .collect())
    }

    /// Every account's numbers.
    pub async fn all_links(&self) -> Result<BTreeMap<i32, Vec<String>>, DbErr> {
        let mut links: BTreeMap<i32, Vec<String>> = BTreeMap::new();
        for row in AccountExtensions::find()
            .order_by_asc(account_extension::Column::Number)
            .all(&self.db)
            .await?
        {
            links.entry(row.account_id).or_default().push(row.number);
        }
        Ok(links)
    }

    /// Makes `numbers` the ones `account_id` answers, in one transaction.
    pub async fn set_extensions(&self, account_id: i32, numbers: &[String]) -> Result<(), DbErr> {
        let txn = self.db.begin().await?;
        AccountExtensions::delete_many()
            .filter(account_extension::Column::AccountId.eq(account_id))
            .exec(&txn)
            .await?;
        if !numbers.is_empty() {
            AccountExtensions::insert_many(numbers.iter().map(|number| {
                account_extension::ActiveModel {
                    account_id: Set(account_id),
                    number: Set(number.clone()),
                }
            }))
            .exec(&txn)
            .await?;
        }
        txn.commit().await
    }

    /// The account's numbers, each with its popup settings if they were ever saved: one
    /// query for the calls page, which agents open all day.
    pub async fn extensions_with_popups(
        &self,
        account_id: i32,
    ) -> Result<Vec<(String, Option<StoredPopup>)>, DbErr> {
        Ok(AccountExtensions::find()
            .filter(account_extension::Column::AccountId.eq(account_id))
            .order_by_asc(account_extension::Column::Number)
            .find_also_related(PopupSettings)
            .all(&self.reads)
            .await?
            .into_iter()
            .map(|(extension, popup)| {
                let popup = popup.map(|row| StoredPopup {
                    number: row.number,
                    method: row.method,
                    trigger: row.trigger,
                });
                (extension.number, popup)
            })
            .collect())
    }

    pub async fn save_popup(&self, popup: &StoredPopup, now: i64) -> Result<(), DbErr> {
        PopupSettings::insert(popup_setting::ActiveModel {
            number: Set(popup.number.clone()),
            method: Set(popup.method.clone()),
            trigger: Set(popup.trigger.clone()),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(popup_setting::Column::Number)
                .update_columns([
                    popup_setting::Column::Method,
                    popup_setting::Column::Trigger,
                    popup_setting::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(&self.db)
        .await
        .map(|_| ())
    }
}
