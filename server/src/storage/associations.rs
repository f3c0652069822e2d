//! The user association (`crm_user_extensions`): which extensions each CRM user of an
//! integration answers for. The unique index on (integration, extension) keeps an extension
//! with one user; the service explains a conflict before it gets there.

use std::collections::BTreeMap;

use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait,
};

use super::entities::crm_user::{self, Entity as CrmUsers};
use super::entities::crm_user_extension::{self, Entity as Associations};
use super::entities::extension::{self, Entity as Extensions};

/// Rows one INSERT writes (three columns a row).
const ROWS_PER_STATEMENT: usize = 500;

/// An association as the service reasons about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    pub crm_user_id: i32,
    pub extension_id: i32,
    pub number: String,
}

#[derive(Clone)]
pub struct AssociationRepository {
    db: DatabaseConnection,
}

impl AssociationRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        AssociationRepository { db }
    }

    /// How many extensions are associated with CRM users, in every integration.
    pub async fn count(&self) -> Result<u64, DbErr> {
        use sea_orm::PaginatorTrait;
        Associations::find().count(&self.db).await
    }

    /// Every association of the integration, with the extension's number.
    pub async fn all(&self, integration_id: i32) -> Result<Vec<Pair>, DbErr> {
        Ok(Associations::find()
            .filter(crm_user_extension::Column::IntegrationId.eq(integration_id))
            .find_also_related(Extensions)
            .all(&self.db)
            .await?
            .into_iter()
            .filter_map(|(row, extension)| {
                extension.map(|e| Pair {
                    crm_user_id: row.crm_user_id,
                    extension_id: row.extension_id,
                    number: e.number,
                })
            })
            .collect())
    }

    /// The numbers associated with each of `crm_user_ids`, ascending.
    pub async fn numbers_of(
        &self,
        crm_user_ids: &[i32],
    ) -> Result<BTreeMap<i32, Vec<String>>, DbErr> {
        let mut numbers: BTreeMap<i32, Vec<String>> = BTreeMap::new();
        for (row, extension) in Associations::find()
            .filter(crm_user_extension::Column::CrmUserId.is_in(crm_user_ids.to_vec()))
            .find_also_related(Extensions)
            .all(&self.db)
            .await?
        {
            if let Some(extension) = extension {
                numbers
                    .entry(row.crm_user_id)
                    .or_default()
                    .push(extension.number);
            }
        }
        for list in numbers.values_mut() {
            list.sort();
        }
        Ok(numbers)
    }

    /// Makes `extension_ids` exactly the extensions of the user, in one transaction.
    pub async fn replace_user(
        &self,
        integration_id: i32,
        crm_user_id: i32,
        extension_ids: &[i32],
    ) -> Result<(), DbErr> {
        let transaction = self.db.begin().await?;
        Associations::delete_many()
            .filter(crm_user_extension::Column::CrmUserId.eq(crm_user_id))
            .exec(&transaction)
            .await?;
        for chunk in extension_ids.chunks(ROWS_PER_STATEMENT) {
            Associations::insert_many(chunk.iter().map(|extension_id| {
                crm_user_extension::ActiveModel {
                    integration_id: Set(integration_id),
                    crm_user_id: Set(crm_user_id),
                    extension_id: Set(*extension_id),
                    ..Default::default()
                }
            }))
            .exec(&transaction)
            .await?;
        }
        transaction.commit().await
    }

    /// Adds `(crm_user_id, extension_id)` pairs, all or nothing.
    pub async fn add(&self, integration_id: i32, pairs: &[(i32, i32)]) -> Result<(), DbErr> {
        let transaction = self.db.begin().await?;
        for chunk in pairs.chunks(ROWS_PER_STATEMENT) {
            Associations::insert_many(chunk.iter().map(|(crm_user_id, extension_id)| {
                crm_user_extension::ActiveModel {
                    integration_id: Set(integration_id),
                    crm_user_id: Set(*crm_user_id),
                    extension_id: Set(*extension_id),
                    ..Default::default()
                }
            }))
            .exec(&transaction)
            .await?;
        }
        transaction.commit().await
    }

    /// The extension numbered `number` and the CRM user it is associated with in the
    /// integration, when it is.
    pub async fn user_of(
        &self,
        integration_id: i32,
        number: &str,
    ) -> Result<Option<(extension::Model, crm_user::Model)>, DbErr> {
        let Some(extension) = Extensions::find()
            .filter(extension::Column::Number.eq(number))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let Some(row) = Associations::find()
            .filter(crm_user_extension::Column::IntegrationId.eq(integration_id))
            .filter(crm_user_extension::Column::ExtensionId.eq(extension.id))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        Ok(CrmUsers::find_by_id(row.crm_user_id)
            .one(&self.db)
            .await?
            .map(|user| (extension, user)))
    }
}
