//! Extension groups (`extension_groups`, `extension_group_members`): a group and its
//! members are written together, in one transaction.

use std::collections::BTreeMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, TransactionTrait,
};

use super::entities::extension::Entity as Extensions;
use super::entities::extension_group::{self, Entity as Groups};
use super::entities::extension_group_member::{self, Entity as Members};
use super::unix_now;
use app::extensions::ExtensionGroup;

#[derive(Clone)]
pub struct ExtensionGroupRepository {
    db: DatabaseConnection,
}

impl ExtensionGroupRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        ExtensionGroupRepository { db }
    }

    /// Every group by name, with its members' numbers.
    pub async fn all(&self) -> Result<Vec<ExtensionGroup>, DbErr> {
        let groups = Groups::find()
            .order_by_asc(extension_group::Column::Name)
            .all(&self.db)
            .await?;
        self.with_members(groups).await
    }

    /// `groups` with their members' numbers, ascending; only their memberships are read.
    async fn with_members(
        &self,
        groups: Vec<extension_group::Model>,
    ) -> Result<Vec<ExtensionGroup>, DbErr> {
        let ids: Vec<i32> = groups.iter().map(|g| g.id).collect();
        let mut members: BTreeMap<i32, Vec<String>> = BTreeMap::new();
        for (member, extension) in Members::find()
            .filter(extension_group_member::Column::GroupId.is_in(ids))
            .find_also_related(Extensions)
            .all(&self.db)
            .await?
        {
            if let Some(extension) = extension {
                members
                    .entry(member.group_id)
                    .or_default()
                    .push(extension.number);
            }
        }
        Ok(groups
            .into_iter()
            .map(|g| {
                let mut numbers = members.remove(&g.id).unwrap_or_default();
                numbers.sort();
                ExtensionGroup {
                    id: g.id,
                    name: g.name,
                    members: numbers,
                }
            })
            .collect())
    }

    pub async fn find_by_name(&self, name: &str) -> Result<Option<extension_group::Model>, DbErr> {
        Groups::find()
            .filter(extension_group::Column::Name.eq(name))
            .one(&self.db)
            .await
    }

    /// Creates the group (`id` None) or renames it, and makes `member_ids` its members.
    /// Answers its id, or None when `id` names no group.
    pub async fn save(
        &self,
        id: Option<i32>,
        name: &str,
        member_ids: &[i32],
    ) -> Result<Option<i32>, DbErr> {
        let transaction = self.db.begin().await?;
        let id = match id {
            Some(id) => {
                let Some(model) = Groups::find_by_id(id).one(&transaction).await? else {
                    return Ok(None);
                };
                let mut active: extension_group::ActiveModel = model.into();
                active.name = Set(name.to_owned());
                active.updated_at = Set(unix_now());
                active.update(&transaction).await?;
                Members::delete_many()
                    .filter(extension_group_member::Column::GroupId.eq(id))
                    .exec(&transaction)
                    .await?;
                id
            }
            None => {
                extension_group::ActiveModel {
                    name: Set(name.to_owned()),
                    updated_at: Set(unix_now()),
                    ..Default::default()
                }
                .insert(&transaction)
                .await?
                .id
            }
        };
        // Two columns a row: far inside both databases' bound parameters.
        for chunk in member_ids.chunks(1_000) {
            Members::insert_many(chunk.iter().map(|extension_id| {
                extension_group_member::ActiveModel {
                    group_id: Set(id),
                    extension_id: Set(*extension_id),
                }
            }))
            .exec(&transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(Some(id))
    }

    pub async fn delete(&self, id: i32) -> Result<bool, DbErr> {
        Ok(Groups::delete_by_id(id).exec(&self.db).await?.rows_affected > 0)
    }

    /// Groups whose name contains `search`, up to `limit`.
    pub async fn search(&self, search: &str, limit: usize) -> Result<Vec<ExtensionGroup>, DbErr> {
        let needle = search.trim().to_lowercase();
        let groups = Groups::find()
            .order_by_asc(extension_group::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|g| g.name.to_lowercase().contains(&needle))
            .take(limit)
            .collect();
        self.with_members(groups).await
    }
}
