//! The `templates` table, with the 10-templates-per-provider cap enforced in the database
//! transaction that inserts, so concurrent creates and uploads can never exceed it.

use app::template::model::Provider;
use app::template::validate::Finding;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    FromQueryResult, JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

use super::entities::integration::{self, Entity as Integrations};
use super::entities::template::{self, Entity as Templates};
use super::entities::template_revision::{self as revision, Entity as Revisions};
use super::unix_now;

pub const MAX_TEMPLATES_PER_PROVIDER: u64 = app::template::MAX_TEMPLATES_PER_PROVIDER as u64;

/// How many saved revisions of a template are kept (README "Revisions and rollback"). The
/// revision an integration runs and the one it ran before are kept even when older.
pub const MAX_KEPT_REVISIONS: i32 = app::history::MAX_KEPT_REVISIONS;

#[derive(Debug, thiserror::Error)]
pub enum TemplateStoreError {
    #[error("there are already {MAX_TEMPLATES_PER_PROVIDER} {} templates; delete one before adding another", .0.as_str())]
    LimitReached(Provider),
    #[error("a {} template with the key \"{key}\" already exists", provider.as_str())]
    DuplicateKey { provider: Provider, key: String },
    #[error("no {} template has the key \"{key}\"", provider.as_str())]
    NotFound { provider: Provider, key: String },
    #[error("the stored warnings of template \"{0}\" cannot be read")]
    CorruptWarnings(String),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logo {
    pub bytes: Vec<u8>,
    pub media_type: String,
}

/// A template to store: what the validator accepted, with its text as it should be kept.
#[derive(Clone, Debug)]
pub struct TemplateRecord {
    pub provider: Provider,
    pub key: String,
    pub name: String,
    pub remark: String,
    pub version: String,
    pub xml: String,
    pub logo: Option<Logo>,
    pub warnings: Vec<Finding>,
}

#[derive(Clone, Debug)]
pub struct StoredTemplate {
    pub id: i32,
    pub record: TemplateRecord,
    pub created_at: i64,
    pub updated_at: i64,
    pub revision: i32,
}

fn from_model(model: template::Model) -> Result<StoredTemplate, TemplateStoreError> {
    let provider = Provider::parse(&model.provider).ok_or_else(|| {
        DbErr::Custom(format!(
            "template {} has unknown provider {:?}",
            model.id, model.provider
        ))
    })?;
    let warnings = serde_json::from_str(&model.warnings)
        .map_err(|_| TemplateStoreError::CorruptWarnings(model.key.clone()))?;
    let logo = match (model.logo, model.logo_media_type) {
        (Some(bytes), Some(media_type)) => Some(Logo { bytes, media_type }),
        _ => None,
    };
    Ok(StoredTemplate {
        id: model.id,
        record: TemplateRecord {
            provider,
            key: model.key,
            name: model.name,
            remark: model.remark,
            version: model.version,
            xml: model.xml,
            logo,
            warnings,
        },
        created_at: model.created_at,
        updated_at: model.updated_at,
        revision: model.revision,
    })
}

fn warnings_json(record: &TemplateRecord) -> Result<String, TemplateStoreError> {
    serde_json::to_string(&record.warnings).map_err(|e| DbErr::Custom(e.to_string()).into())
}

#[derive(Clone)]
pub struct TemplateRepository {
    db: DatabaseConnection,
    /// The list page's read ([`crate::storage::connect_reads`]).
    reads: DatabaseConnection,
}

impl TemplateRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            reads: db.clone(),
            db,
        }
    }

    /// Lists templates through `reads` (see [`crate::storage::connect_reads`]).
    pub fn with_reads(self, reads: DatabaseConnection) -> Self {
        Self { reads, ..self }
    }

    /// Stores a new template, saved by `author`. Refused when the provider already has ten,
    /// or the key is taken.
    pub async fn create(
        &self,
        record: TemplateRecord,
        author: &str,
    ) -> Result<StoredTemplate, TemplateStoreError> {
        let provider = record.provider;
        let transaction = self.db.begin().await?;
        lock_provider(&transaction, provider).await?;
        let count = Templates::find()
            .filter(template::Column::Provider.eq(provider.as_str()))
            .count(&transaction)
            .await?;
        if count >= MAX_TEMPLATES_PER_PROVIDER {
            return Err(TemplateStoreError::LimitReached(provider));
        }
        if find_model(&transaction, provider, &record.key)
            .await?
            .is_some()
        {
            return Err(TemplateStoreError::DuplicateKey {
                provider,
                key: record.key,
            });
        }
        let now = unix_now();
        let model = template::ActiveModel {
            provider: Set(provider.as_str().to_string()),
            key: Set(record.key.clone()),
            name: Set(record.name.clone()),
            remark: Set(record.remark.clone()),
            version: Set(record.version.clone()),
            xml: Set(record.xml.clone()),
            logo: Set(record.logo.as_ref().map(|l| l.bytes.clone())),
            logo_media_type: Set(record.logo.as_ref().map(|l| l.media_type.clone())),
            warnings: Set(warnings_json(&record)?),
            created_at: Set(now),
            updated_at: Set(now),
            revision: Set(1),
            ..Default::default()
        }
        .insert(&transaction)
        .await?;
        keep_revision(&transaction, &model, author).await?;
        transaction.commit().await?;
        from_model(model)
    }

    /// Replaces the template with the same provider and key, keeping its creation time and
    /// counting up its revision; `author` saved it.
    pub async fn replace(
        &self,
        record: TemplateRecord,
        author: &str,
    ) -> Result<StoredTemplate, TemplateStoreError> {
        let transaction = self.db.begin().await?;
        let existing = find_model(&transaction, record.provider, &record.key)
            .await?
            .ok_or_else(|| TemplateStoreError::NotFound {
                provider: record.provider,
                key: record.key.clone(),
            })?;
        let revision = existing.revision + 1;
        let mut model: template::ActiveModel = existing.into();
        model.name = Set(record.name.clone());
        model.remark = Set(record.remark.clone());
        model.version = Set(record.version.clone());
        model.xml = Set(record.xml.clone());
        model.logo = Set(record.logo.as_ref().map(|l| l.bytes.clone()));
        model.logo_media_type = Set(record.logo.as_ref().map(|l| l.media_type.clone()));
        model.warnings = Set(warnings_json(&record)?);
        model.updated_at = Set(unix_now());
        model.revision = Set(revision);
        let updated = model.update(&transaction).await?;
        keep_revision(&transaction, &updated, author).await?;
        transaction.commit().await?;
        from_model(updated)
    }

    /// The kept revisions of a template, newest first, without their text.
    pub async fn revisions(&self, template_id: i32) -> Result<Vec<RevisionInfo>, DbErr> {
        Ok(Revisions::find()
            .filter(revision::Column::TemplateId.eq(template_id))
            .order_by_desc(revision::Column::Revision)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| RevisionInfo::of(&r))
            .collect())
    }

    /// One kept revision with its text.
    pub async fn revision(
        &self,
        template_id: i32,
        number: i32,
    ) -> Result<Option<(RevisionInfo, String)>, DbErr> {
        Ok(Revisions::find()
            .filter(revision::Column::TemplateId.eq(template_id))
            .filter(revision::Column::Revision.eq(number))
            .one(&self.db)
            .await?
            .map(|r| (RevisionInfo::of(&r), r.xml)))
    }

    pub async fn get(
        &self,
        provider: Provider,
        key: &str,
    ) -> Result<Option<StoredTemplate>, TemplateStoreError> {
        find_model(&self.db, provider, key)
            .await?
            .map(from_model)
            .transpose()
    }

    pub async fn by_id(&self, id: i32) -> Result<Option<StoredTemplate>, TemplateStoreError> {
        Templates::find_by_id(id)
            .one(&self.db)
            .await?
            .map(from_model)
            .transpose()
    }

    /// A provider's templates, by name.
    pub async fn list(
        &self,
        provider: Provider,
    ) -> Result<Vec<StoredTemplate>, TemplateStoreError> {
        Templates::find()
            .filter(template::Column::Provider.eq(provider.as_str()))
            .order_by_asc(template::Column::Name)
            .order_by_asc(template::Column::Key)
            .all(&self.db)
            .await?
            .into_iter()
            .map(from_model)
            .collect()
    }

    /// The provider's templates as Template Management lists them, each with its
    /// integration's status and running revision, in one query and without their text or
    /// logo (the list page reads it on every visit).
    pub async fn listed(&self, provider: Provider) -> Result<Vec<ListedTemplate>, DbErr> {
        let integration_of_template = Integrations::belongs_to(Templates)
            .from(integration::Column::TemplateId)
            .to(template::Column::Id)
            .into();
        Templates::find()
            .select_only()
            .columns([
                template::Column::Key,
                template::Column::Name,
                template::Column::Remark,
                template::Column::Version,
                template::Column::Warnings,
                template::Column::CreatedAt,
                template::Column::UpdatedAt,
                template::Column::Revision,
            ])
            .column_as(
                Expr::col((Templates, template::Column::Logo)).is_not_null(),
                "has_logo",
            )
            .column_as(
                Expr::col((Integrations, integration::Column::Status)),
                "integration_status",
            )
            .column_as(
                Expr::col((Integrations, integration::Column::TemplateRevision)),
                "running_revision",
            )
            .join_rev(JoinType::LeftJoin, integration_of_template)
            .filter(template::Column::Provider.eq(provider.as_str()))
            .order_by_asc(template::Column::Name)
            .order_by_asc(template::Column::Key)
            .into_model::<ListedTemplate>()
            .all(&self.reads)
            .await
    }

    pub async fn count(&self, provider: Provider) -> Result<u64, TemplateStoreError> {
        Ok(Templates::find()
            .filter(template::Column::Provider.eq(provider.as_str()))
            .count(&self.db)
            .await?)
    }

    /// Deletes the named templates (row and logo together); returns how many existed.
    pub async fn delete(
        &self,
        provider: Provider,
        keys: &[String],
    ) -> Result<u64, TemplateStoreError> {
        if keys.is_empty() {
            return Ok(0);
        }
        let result = Templates::delete_many()
            .filter(template::Column::Provider.eq(provider.as_str()))
            .filter(template::Column::Key.is_in(keys.iter().cloned()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }
}

/// A template as the list shows it ([`TemplateRepository::listed`]).
#[derive(Debug, FromQueryResult)]
pub struct ListedTemplate {
    pub key: String,
    pub name: String,
    pub remark: String,
    pub version: String,
    /// The validator's warnings as stored (JSON).
    pub warnings: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub revision: i32,
    pub has_logo: bool,
    /// The integration that runs the template, if one was saved.
    pub integration_status: Option<String>,
    pub running_revision: Option<i32>,
}

/// A kept revision, as the history lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionInfo {
    pub revision: i32,
    pub author: String,
    /// Unix seconds.
    pub saved_at: i64,
}

impl RevisionInfo {
    fn of(row: &revision::Model) -> Self {
        Self {
            revision: row.revision,
            author: row.author.clone(),
            saved_at: row.created_at,
        }
    }
}

/// Keeps the template's new revision and lets the oldest go beyond [`MAX_KEPT_REVISIONS`],
/// except the ones its integration runs or ran before (a rollback needs that text).
async fn keep_revision(
    db: &impl ConnectionTrait,
    saved: &template::Model,
    author: &str,
) -> Result<(), DbErr> {
    revision::ActiveModel {
        template_id: Set(saved.id),
        revision: Set(saved.revision),
        xml: Set(saved.xml.clone()),
        author: Set(author.to_owned()),
        created_at: Set(saved.updated_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let mut still_needed = Vec::new();
    if let Some(running) = Integrations::find()
        .filter(integration::Column::TemplateId.eq(saved.id))
        .one(db)
        .await?
    {
        still_needed.push(running.template_revision);
        still_needed.extend(running.previous_template_revision);
    }
    Revisions::delete_many()
        .filter(revision::Column::TemplateId.eq(saved.id))
        .filter(revision::Column::Revision.lte(saved.revision - MAX_KEPT_REVISIONS))
        .filter(revision::Column::Revision.is_not_in(still_needed))
        .exec(db)
        .await?;
    Ok(())
}

async fn find_model(
    db: &impl ConnectionTrait,
    provider: Provider,
    key: &str,
) -> Result<Option<template::Model>, DbErr> {
    Templates::find()
        .filter(template::Column::Provider.eq(provider.as_str()))
        .filter(template::Column::Key.eq(key))
        .one(db)
        .await
}

/// Takes the provider's quota row lock for the rest of the transaction.
async fn lock_provider(db: &impl ConnectionTrait, provider: Provider) -> Result<(), DbErr> {
    use super::entities::template_quota_lock::{self as lock, Entity as Locks};
    let result = Locks::update_many()
        .col_expr(
            lock::Column::Touched,
            Expr::col(lock::Column::Touched).add(1),
        )
        .filter(lock::Column::Provider.eq(provider.as_str()))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Err(DbErr::Custom(format!(
            "the quota row of provider {} is missing; run the migrations",
            provider.as_str()
        )));
    }
    Ok(())
}
