//! The CRM users of each integration (`crm_users`), replaced by a sync in one transaction:
//! new ids added, changed ones updated, and, when the sync read every page, the ids the CRM
//! no longer lists removed. A sync that failed never gets here.

use std::collections::BTreeMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use super::entities::crm_user::{self, Entity as CrmUsers};
use super::entities::crm_user_extension::{self, Entity as Associations};
use super::{contains_ignoring_case, unix_now};

/// A user as a sync read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    pub crm_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

/// What a sync changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncCounts {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// Associations the removed users held, gone with them.
    pub associations_removed: usize,
}

/// Rows one INSERT (or ids one DELETE) carries.
const ROWS_PER_STATEMENT: usize = 500;

#[derive(Clone)]
pub struct CrmUserRepository {
    db: DatabaseConnection,
}

impl CrmUserRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        CrmUserRepository { db }
    }

    /// Applies a sync's users to `integration_id`; removes the ones not listed only when
    /// `complete` (every page was read).
    pub async fn apply_sync(
        &self,
        integration_id: i32,
        users: &[UserRow],
        complete: bool,
    ) -> Result<SyncCounts, DbErr> {
        let now = unix_now();
        let transaction = self.db.begin().await?;
        let mut existing: BTreeMap<String, crm_user::Model> = CrmUsers::find()
            .filter(crm_user::Column::IntegrationId.eq(integration_id))
            .all(&transaction)
            .await?
            .into_iter()
            .map(|m| (m.crm_id.clone(), m))
            .collect();
        let mut counts = SyncCounts::default();
        let mut added = Vec::new();
        for user in users {
            match existing.remove(&user.crm_id) {
                Some(model)
                    if model.first_name == user.first_name
                        && model.last_name == user.last_name
                        && model.email == user.email =>
                {
                    counts.unchanged += 1;
                }
                Some(model) => {
                    let mut active: crm_user::ActiveModel = model.into();
                    active.first_name = Set(user.first_name.clone());
                    active.last_name = Set(user.last_name.clone());
                    active.email = Set(user.email.clone());
                    active.synced_at = Set(now);
                    active.update(&transaction).await?;
                    counts.updated += 1;
                }
                None => added.push(crm_user::ActiveModel {
                    integration_id: Set(integration_id),
                    crm_id: Set(user.crm_id.clone()),
                    first_name: Set(user.first_name.clone()),
                    last_name: Set(user.last_name.clone()),
                    email: Set(user.email.clone()),
                    synced_at: Set(now),
                    ..Default::default()
                }),
            }
        }
        counts.added = added.len();
        // Seven columns a row: well inside SQLite's and PostgreSQL's bound parameters.
        for chunk in added.chunks(ROWS_PER_STATEMENT) {
            CrmUsers::insert_many(chunk.iter().cloned())
                .exec(&transaction)
                .await?;
        }
        if complete && !existing.is_empty() {
            let gone: Vec<i32> = existing.values().map(|m| m.id).collect();
            for chunk in gone.chunks(ROWS_PER_STATEMENT) {
                counts.associations_removed += Associations::find()
                    .filter(crm_user_extension::Column::CrmUserId.is_in(chunk.to_vec()))
                    .count(&transaction)
                    .await? as usize;
                CrmUsers::delete_many()
                    .filter(crm_user::Column::Id.is_in(chunk.to_vec()))
                    .exec(&transaction)
                    .await?;
            }
            counts.removed = gone.len();
        }
        transaction.commit().await?;
        Ok(counts)
    }

    /// Every user of the integration.
    pub async fn all(&self, integration_id: i32) -> Result<Vec<crm_user::Model>, DbErr> {
        CrmUsers::find()
            .filter(crm_user::Column::IntegrationId.eq(integration_id))
            .all(&self.db)
            .await
    }

    pub async fn by_row_id(&self, id: i32) -> Result<Option<crm_user::Model>, DbErr> {
        CrmUsers::find_by_id(id).one(&self.db).await
    }

    /// The user with the CRM id `crm_id`.
    pub async fn find(
        &self,
        integration_id: i32,
        crm_id: &str,
    ) -> Result<Option<crm_user::Model>, DbErr> {
        CrmUsers::find()
            .filter(crm_user::Column::IntegrationId.eq(integration_id))
            .filter(crm_user::Column::CrmId.eq(crm_id))
            .one(&self.db)
            .await
    }

    /// A page of users, by name, matching `search` in name, e-mail or id when given; and
    /// how many match in all.
    pub async fn list(
        &self,
        integration_id: i32,
        search: &str,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<crm_user::Model>, u64), DbErr> {
        let mut select =
            CrmUsers::find().filter(crm_user::Column::IntegrationId.eq(integration_id));
        let search = search.trim();
        if !search.is_empty() {
            select = select.filter(
                Condition::any()
                    .add(contains_ignoring_case(crm_user::Column::FirstName, search))
                    .add(contains_ignoring_case(crm_user::Column::LastName, search))
                    .add(contains_ignoring_case(crm_user::Column::Email, search))
                    .add(contains_ignoring_case(crm_user::Column::CrmId, search)),
            );
        }
        let total = select.clone().count(&self.db).await?;
        let rows = select
            .order_by_asc(crm_user::Column::FirstName)
            .order_by_asc(crm_user::Column::LastName)
            .order_by_asc(crm_user::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok((rows, total))
    }
}
