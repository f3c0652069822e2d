//! The extension directory (`extensions`): read whole or a page at a time, changed one
//! extension at a time or by an import in one transaction.

use std::collections::BTreeMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use super::entities::extension::{self, Entity as Extensions};
use super::{contains_ignoring_case, unix_now};
use app::extensions::{Extension as ExtensionFields, ExtensionSort};

/// Rows one INSERT writes.
const INSERT_CHUNK_ROWS: usize = 500;

#[derive(Clone)]
pub struct ExtensionRepository {
    db: DatabaseConnection,
}

/// The extensions whose number, names or e-mail contain `search` (all when it is blank).
fn matching(search: &str) -> sea_orm::Select<Extensions> {
    let search = search.trim();
    let select = Extensions::find();
    if search.is_empty() {
        return select;
    }
    select.filter(
        Condition::any()
            .add(contains_ignoring_case(extension::Column::Number, search))
            .add(contains_ignoring_case(extension::Column::FirstName, search))
            .add(contains_ignoring_case(extension::Column::LastName, search))
            .add(contains_ignoring_case(extension::Column::Email, search)),
    )
}

pub fn fields(model: extension::Model) -> ExtensionFields {
    ExtensionFields {
        number: model.number,
        first_name: model.first_name,
        last_name: model.last_name,
        email: model.email,
        source: app::extensions::ExtensionSource::parse(&model.source),
    }
}

impl ExtensionRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        ExtensionRepository { db }
    }

    /// Every extension, by number.
    /// How many extensions the directory has.
    pub async fn count(&self) -> Result<u64, DbErr> {
        use sea_orm::PaginatorTrait;
        Extensions::find().count(&self.db).await
    }

    pub async fn all(&self) -> Result<Vec<ExtensionFields>, DbErr> {
        Ok(self.all_models().await?.into_iter().map(fields).collect())
    }

    /// Every extension's row (with its id), by number.
    pub async fn all_models(&self) -> Result<Vec<extension::Model>, DbErr> {
        Extensions::find()
            .order_by_asc(extension::Column::Number)
            .all(&self.db)
            .await
    }

    /// A page of the directory matching `search` (number, names or e-mail), sorted by
    /// `sort`; and how many match in all.
    pub async fn page(
        &self,
        search: &str,
        sort: ExtensionSort,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ExtensionFields>, u64), DbErr> {
        let select = matching(search);
        let total = select.clone().count(&self.db).await?;
        let column = match sort {
            ExtensionSort::Number => extension::Column::Number,
            ExtensionSort::FirstName => extension::Column::FirstName,
            ExtensionSort::LastName => extension::Column::LastName,
            ExtensionSort::Email => extension::Column::Email,
        };
        let order = if descending { Order::Desc } else { Order::Asc };
        let rows = select
            .order_by(column, order.clone())
            .order_by(extension::Column::Number, order)
            .offset(offset)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok((rows.into_iter().map(fields).collect(), total))
    }

    pub async fn find(&self, number: &str) -> Result<Option<extension::Model>, DbErr> {
        Extensions::find()
            .filter(extension::Column::Number.eq(number))
            .one(&self.db)
            .await
    }

    /// The ids of `numbers` when every one is in the directory; else the ones that are not.
    pub async fn ids_of_all(
        &self,
        numbers: &[String],
    ) -> Result<Result<Vec<i32>, Vec<String>>, DbErr> {
        let ids = self.ids(numbers).await?;
        let unknown: Vec<String> = numbers
            .iter()
            .filter(|n| !ids.contains_key(*n))
            .cloned()
            .collect();
        Ok(if unknown.is_empty() {
            Ok(ids.into_values().collect())
        } else {
            Err(unknown)
        })
    }

    /// The ids of the numbers that exist.
    async fn ids(&self, numbers: &[String]) -> Result<BTreeMap<String, i32>, DbErr> {
        let mut ids = BTreeMap::new();
        for chunk in numbers.chunks(INSERT_CHUNK_ROWS) {
            for model in Extensions::find()
                .filter(extension::Column::Number.is_in(chunk.to_vec()))
                .all(&self.db)
                .await?
            {
                ids.insert(model.number, model.id);
            }
        }
        Ok(ids)
    }

    /// Adds `row`, or replaces the extension numbered `original` with it.
    pub async fn save(&self, original: Option<i32>, row: &ExtensionFields) -> Result<(), DbErr> {
        let mut active = extension::ActiveModel {
            number: Set(row.number.clone()),
            first_name: Set(row.first_name.clone()),
            last_name: Set(row.last_name.clone()),
            email: Set(row.email.clone()),
            updated_at: Set(unix_now()),
            ..Default::default()
        };
        match original {
            Some(id) => {
                active.id = Set(id);
                active.update(&self.db).await?;
            }
            None => {
                active.insert(&self.db).await?;
            }
        }
        Ok(())
    }

    /// Deletes the extension (its group memberships and associations go with it).
    pub async fn delete(&self, number: &str) -> Result<bool, DbErr> {
        let result = Extensions::delete_many()
            .filter(extension::Column::Number.eq(number))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Up to `limit` extensions matching `search`, by number.
    pub async fn search(&self, search: &str, limit: u64) -> Result<Vec<ExtensionFields>, DbErr> {
        Ok(matching(search)
            .order_by_asc(extension::Column::Number)
            .limit(limit)
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
    /// Makes the directory the PBX's list, all or nothing: new numbers added, changed ones
    /// updated, every extension the list does not have deleted (its groups and associations
    /// go with it by cascade); all marked from the PBX. Answers (added, updated, removed).
    pub async fn replace_with_pbx(
        &self,
        listed: &[ExtensionFields],
    ) -> Result<(usize, usize, usize), DbErr> {
        let now = unix_now();
        let pbx = app::extensions::ExtensionSource::Pbx.as_str();
        let transaction = self.db.begin().await?;
        let existing: BTreeMap<String, extension::Model> = Extensions::find()
            .all(&transaction)
            .await?
            .into_iter()
            .map(|model| (model.number.clone(), model))
            .collect();
        let wanted: std::collections::BTreeSet<&str> =
            listed.iter().map(|row| row.number.as_str()).collect();
        let gone: Vec<i32> = existing
            .values()
            .filter(|model| !wanted.contains(model.number.as_str()))
            .map(|model| model.id)
            .collect();
        for chunk in gone.chunks(INSERT_CHUNK_ROWS) {
            Extensions::delete_many()
                .filter(extension::Column::Id.is_in(chunk.iter().copied()))
                .exec(&transaction)
                .await?;
        }
        let (mut added, mut updated) = (Vec::new(), 0);
        for row in listed {
            match existing.get(&row.number) {
                None => added.push(extension::ActiveModel {
                    number: Set(row.number.clone()),
                    first_name: Set(row.first_name.clone()),
                    last_name: Set(row.last_name.clone()),
                    email: Set(row.email.clone()),
                    updated_at: Set(now),
                    source: Set(pbx.to_owned()),
                    ..Default::default()
                }),
                Some(model)
                    if model.first_name != row.first_name
                        || model.last_name != row.last_name
                        || model.email != row.email
                        || model.source != pbx =>
                {
                    let mut active: extension::ActiveModel = model.clone().into();
                    active.first_name = Set(row.first_name.clone());
                    active.last_name = Set(row.last_name.clone());
                    active.email = Set(row.email.clone());
                    active.source = Set(pbx.to_owned());
                    active.updated_at = Set(now);
                    active.update(&transaction).await?;
                    updated += 1;
                }
                Some(_) => {}
            }
        }
        let inserted = added.len();
        let mut added = added.into_iter().peekable();
        while added.peek().is_some() {
            let chunk: Vec<_> = added.by_ref().take(INSERT_CHUNK_ROWS).collect();
            Extensions::insert_many(chunk).exec(&transaction).await?;
        }
        transaction.commit().await?;
        Ok((inserted, updated, gone.len()))
    }
}
