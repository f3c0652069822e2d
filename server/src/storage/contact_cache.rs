//! The contact cache (`cached_contacts`), Patchbay's phonebook (docs/scenarios.md
//! "Contacts, the cache and number formats"): per integration, the contact last found for
//! each number, filed under the number's normalised key, with when it was read. Bounded:
//! past [`MAX_CACHED_CONTACTS`] an integration's oldest entries go.

use std::collections::BTreeMap;

use app::console::FoundContact;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::contains_ignoring_case;
use super::entities::cached_contact::{self, Entity as CachedContacts};

/// The most contacts one integration's cache keeps.
pub const MAX_CACHED_CONTACTS: u64 = 10_000;

/// A cached contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedContact {
    /// The number as it was asked for.
    pub number: String,
    pub contact: FoundContact,
    /// When the CRM was read, unix seconds.
    pub read_at: i64,
}

/// A page of the cache, for the integration page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachePage {
    pub contacts: Vec<CachedContact>,
    /// Entries matching the search in all.
    pub total: u64,
}

#[derive(Clone)]
pub struct ContactCacheRepository {
    db: DatabaseConnection,
}

/// "First Last" of a contact's fields, what the cache's search reads.
pub fn display_name(fields: &BTreeMap<String, String>) -> String {
    ["FirstName", "LastName"]
        .iter()
        .filter_map(|name| fields.get(*name))
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn read(model: cached_contact::Model) -> CachedContact {
    CachedContact {
        number: model.number,
        contact: FoundContact {
            contact_type: model.contact_type,
            fields: serde_json::from_str(&model.fields).unwrap_or_default(),
            popup_url: model.popup_url,
        },
        read_at: model.read_at,
    }
}

impl ContactCacheRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        ContactCacheRepository { db }
    }

    /// The contact filed under `key`, however old.
    pub async fn get(
        &self,
        integration_id: i32,
        key: &str,
    ) -> Result<Option<CachedContact>, DbErr> {
        Ok(CachedContacts::find()
            .filter(cached_contact::Column::IntegrationId.eq(integration_id))
            .filter(cached_contact::Column::NumberKey.eq(key))
            .one(&self.db)
            .await?
            .map(read))
    }

    /// Files `contact` under `key` (replacing what was there), then trims the cache to
    /// [`MAX_CACHED_CONTACTS`], oldest first.
    pub async fn put(
        &self,
        integration_id: i32,
        key: &str,
        number: &str,
        contact: &FoundContact,
        read_at: i64,
    ) -> Result<(), DbErr> {
        let row = cached_contact::ActiveModel {
            integration_id: Set(integration_id),
            number_key: Set(key.to_owned()),
            number: Set(number.to_owned()),
            contact_type: Set(contact.contact_type.clone()),
            name: Set(display_name(&contact.fields)),
            fields: Set(serde_json::to_string(&contact.fields).unwrap_or_else(|_| "{}".into())),
            popup_url: Set(contact.popup_url.clone()),
            read_at: Set(read_at),
            ..Default::default()
        };
        CachedContacts::insert(row)
            .on_conflict(
                OnConflict::columns([
                    cached_contact::Column::IntegrationId,
                    cached_contact::Column::NumberKey,
                ])
                .update_columns([
                    cached_contact::Column::Number,
                    cached_contact::Column::ContactType,
                    cached_contact::Column::Name,
                    cached_contact::Column::Fields,
                    cached_contact::Column::PopupUrl,
                    cached_contact::Column::ReadAt,
                ])
                .to_owned(),
            )
            .exec(&self.db)
            .await?;
        let kept = CachedContacts::find()
            .filter(cached_contact::Column::IntegrationId.eq(integration_id))
            .count(&self.db)
            .await?;
        if kept > MAX_CACHED_CONTACTS {
            let oldest: Vec<i32> = CachedContacts::find()
                .select_only()
                .column(cached_contact::Column::Id)
                .filter(cached_contact::Column::IntegrationId.eq(integration_id))
                .order_by_asc(cached_contact::Column::ReadAt)
                .order_by_asc(cached_contact::Column::Id)
                .limit(kept - MAX_CACHED_CONTACTS)
                .into_tuple()
                .all(&self.db)
                .await?;
            CachedContacts::delete_many()
                .filter(cached_contact::Column::Id.is_in(oldest))
                .exec(&self.db)
                .await?;
        }
        Ok(())
    }

    /// Forgets the number filed under `key` (the CRM no longer knows it).
    pub async fn remove(&self, integration_id: i32, key: &str) -> Result<(), DbErr> {
        CachedContacts::delete_many()
            .filter(cached_contact::Column::IntegrationId.eq(integration_id))
            .filter(cached_contact::Column::NumberKey.eq(key))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Empties an integration's cache; answers how many entries went.
    pub async fn clear(&self, integration_id: i32) -> Result<u64, DbErr> {
        Ok(CachedContacts::delete_many()
            .filter(cached_contact::Column::IntegrationId.eq(integration_id))
            .exec(&self.db)
            .await?
            .rows_affected)
    }

    /// The entries whose name or number contains `search` (any case), newest first.
    pub async fn page(
        &self,
        integration_id: i32,
        search: &str,
        offset: u64,
        limit: u64,
    ) -> Result<CachePage, DbErr> {
        let mut query =
            CachedContacts::find().filter(cached_contact::Column::IntegrationId.eq(integration_id));
        let search = search.trim();
        if !search.is_empty() {
            query = query.filter(
                Condition::any()
                    .add(contains_ignoring_case(cached_contact::Column::Name, search))
                    .add(contains_ignoring_case(
                        cached_contact::Column::Number,
                        search,
                    ))
                    .add(contains_ignoring_case(
                        cached_contact::Column::NumberKey,
                        search,
                    )),
            );
        }
        let total = query.clone().count(&self.db).await?;
        let contacts = query
            .order_by_desc(cached_contact::Column::ReadAt)
            .order_by_desc(cached_contact::Column::Id)
            .offset(offset)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(read)
            .collect();
        Ok(CachePage { contacts, total })
    }
}
