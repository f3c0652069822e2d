//! Integrations and their encrypted secrets. The repository stores ciphertexts as it gets
//! them; encrypting and decrypting is the integrations service's work (`crypto::cipher`).

use std::collections::BTreeMap;

use app::integrations::Status;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

use super::entities::integration::{self, Entity as Integrations};
use super::entities::integration_secret::{self, Entity as Secrets};
use super::unix_now;

/// An integration as stored; secrets are separate ([`StoredSecret`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredIntegration {
    pub id: i32,
    pub template_id: i32,
    pub template_revision: i32,
    pub template_xml: String,
    /// Non-secret field values by field name.
    pub settings: BTreeMap<String, String>,
    pub global_variables: BTreeMap<String, String>,
    pub token_type: Option<String>,
    pub token_expires_at: Option<i64>,
    pub status: Status,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub connected_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSecret {
    pub name: String,
    pub ciphertext: String,
    pub key_id: String,
}

/// A successful connection: everything the integration holds afterwards. Secrets not in
/// `secrets` are removed (a field the template no longer has, a token no longer used).
#[derive(Clone, Debug)]
pub struct Connection {
    pub template_id: i32,
    pub template_revision: i32,
    pub template_xml: String,
    pub settings: BTreeMap<String, String>,
    pub global_variables: BTreeMap<String, String>,
    pub token_type: Option<String>,
    pub token_expires_at: Option<i64>,
    pub status: Status,
    pub secrets: Vec<StoredSecret>,
}

/// A secret with the template it belongs to, as a key rotation walks them.
#[derive(Clone, Debug)]
pub struct SecretToRotate {
    pub integration_id: i32,
    pub template_id: i32,
    pub secret: StoredSecret,
}

fn corrupt(what: &str, id: i32, error: serde_json::Error) -> DbErr {
    DbErr::Custom(format!(
        "integration {id}: stored {what} are not JSON: {error}"
    ))
}

fn from_model(model: integration::Model) -> Result<StoredIntegration, DbErr> {
    Ok(StoredIntegration {
        id: model.id,
        template_id: model.template_id,
        template_revision: model.template_revision,
        settings: serde_json::from_str(&model.settings)
            .map_err(|e| corrupt("settings", model.id, e))?,
        global_variables: serde_json::from_str(&model.global_variables)
            .map_err(|e| corrupt("global variables", model.id, e))?,
        template_xml: model.template_xml,
        token_type: model.token_type,
        token_expires_at: model.token_expires_at,
        status: Status::parse(&model.status),
        last_error: model.last_error,
        last_error_at: model.last_error_at,
        connected_at: model.connected_at,
    })
}

fn json(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".into())
}

#[derive(Clone)]
pub struct IntegrationRepository {
    db: DatabaseConnection,
}

impl IntegrationRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        IntegrationRepository { db }
    }

    pub async fn find_by_template(
        &self,
        template_id: i32,
    ) -> Result<Option<StoredIntegration>, DbErr> {
        Integrations::find()
            .filter(integration::Column::TemplateId.eq(template_id))
            .one(&self.db)
            .await?
            .map(from_model)
            .transpose()
    }

    /// Every integration, keyed by its template's id.
    pub async fn by_template(&self) -> Result<BTreeMap<i32, StoredIntegration>, DbErr> {
        let mut all = BTreeMap::new();
        for model in Integrations::find().all(&self.db).await? {
            let stored = from_model(model)?;
            all.insert(stored.template_id, stored);
        }
        Ok(all)
    }

    pub async fn secrets(&self, integration_id: i32) -> Result<Vec<StoredSecret>, DbErr> {
        Ok(Secrets::find()
            .filter(integration_secret::Column::IntegrationId.eq(integration_id))
            .order_by_asc(integration_secret::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|s| StoredSecret {
                name: s.name,
                ciphertext: s.ciphertext,
                key_id: s.key_id,
            })
            .collect())
    }

    /// Stores a connection in one transaction: the integration row (created on first
    /// save) and exactly the given secrets.
    pub async fn save_connection(
        &self,
        connection: Connection,
    ) -> Result<StoredIntegration, DbErr> {
        let transaction = self.db.begin().await?;
        let now = unix_now();
        let existing = Integrations::find()
            .filter(integration::Column::TemplateId.eq(connection.template_id))
            .one(&transaction)
            .await?;
        let connected_at = (connection.status == Status::Connected).then_some(now);
        let saved = match existing {
            Some(model) => {
                let mut active: integration::ActiveModel = model.into();
                active.template_revision = Set(connection.template_revision);
                active.template_xml = Set(connection.template_xml);
                active.settings = Set(json(&connection.settings));
                active.global_variables = Set(json(&connection.global_variables));
                active.token_type = Set(connection.token_type);
                active.token_expires_at = Set(connection.token_expires_at);
                active.status = Set(connection.status.as_str().into());
                active.last_error = Set(None);
                active.last_error_at = Set(None);
                active.connected_at = Set(connected_at);
                active.updated_at = Set(now);
                active.update(&transaction).await?
            }
            None => {
                integration::ActiveModel {
                    template_id: Set(connection.template_id),
                    template_revision: Set(connection.template_revision),
                    template_xml: Set(connection.template_xml),
                    settings: Set(json(&connection.settings)),
                    global_variables: Set(json(&connection.global_variables)),
                    token_type: Set(connection.token_type),
                    token_expires_at: Set(connection.token_expires_at),
                    status: Set(connection.status.as_str().into()),
                    last_error: Set(None),
                    last_error_at: Set(None),
                    connected_at: Set(connected_at),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&transaction)
                .await?
            }
        };
        Secrets::delete_many()
            .filter(integration_secret::Column::IntegrationId.eq(saved.id))
            .exec(&transaction)
            .await?;
        for secret in connection.secrets {
            integration_secret::ActiveModel {
                integration_id: Set(saved.id),
                name: Set(secret.name),
                ciphertext: Set(secret.ciphertext),
                key_id: Set(secret.key_id),
            }
            .insert(&transaction)
            .await?;
        }
        transaction.commit().await?;
        from_model(saved)
    }

    /// Forgets every secret and token and marks the integration Not connected; the
    /// non-secret values stay for the next connect.
    pub async fn disconnect(&self, integration_id: i32) -> Result<(), DbErr> {
        let transaction = self.db.begin().await?;
        Secrets::delete_many()
            .filter(integration_secret::Column::IntegrationId.eq(integration_id))
            .exec(&transaction)
            .await?;
        Integrations::update_many()
            .col_expr(
                integration::Column::Status,
                Expr::value(Status::NotConnected.as_str()),
            )
            .col_expr(integration::Column::TokenType, Expr::value(None::<String>))
            .col_expr(
                integration::Column::TokenExpiresAt,
                Expr::value(None::<i64>),
            )
            .col_expr(integration::Column::GlobalVariables, Expr::value("{}"))
            .col_expr(integration::Column::ConnectedAt, Expr::value(None::<i64>))
            .col_expr(integration::Column::UpdatedAt, Expr::value(unix_now()))
            .filter(integration::Column::Id.eq(integration_id))
            .exec(&transaction)
            .await?;
        transaction.commit().await
    }

    /// Moves the integration to another revision of its template.
    pub async fn apply_revision(
        &self,
        integration_id: i32,
        revision: i32,
        xml: &str,
    ) -> Result<(), DbErr> {
        Integrations::update_many()
            .col_expr(integration::Column::TemplateRevision, Expr::value(revision))
            .col_expr(integration::Column::TemplateXml, Expr::value(xml))
            .col_expr(integration::Column::UpdatedAt, Expr::value(unix_now()))
            .filter(integration::Column::Id.eq(integration_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Up to `limit` secrets not encrypted under `key_id`.
    pub async fn secrets_not_under(
        &self,
        key_id: &str,
        limit: u64,
    ) -> Result<Vec<SecretToRotate>, DbErr> {
        let rows = Secrets::find()
            .filter(integration_secret::Column::KeyId.ne(key_id))
            .order_by_asc(integration_secret::Column::IntegrationId)
            .order_by_asc(integration_secret::Column::Name)
            .limit(limit)
            .all(&self.db)
            .await?;
        let templates: BTreeMap<i32, i32> = Integrations::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| (m.id, m.template_id))
            .collect();
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                Some(SecretToRotate {
                    integration_id: row.integration_id,
                    template_id: *templates.get(&row.integration_id)?,
                    secret: StoredSecret {
                        name: row.name,
                        ciphertext: row.ciphertext,
                        key_id: row.key_id,
                    },
                })
            })
            .collect())
    }

    /// Replaces one secret's ciphertext if it is still `expected` (a connect may have
    /// replaced it meanwhile; then the newer value, already under the current key, stays).
    pub async fn reencrypt_secret(
        &self,
        integration_id: i32,
        name: &str,
        expected: &str,
        replacement: &str,
        key_id: &str,
    ) -> Result<bool, DbErr> {
        let result = Secrets::update_many()
            .col_expr(
                integration_secret::Column::Ciphertext,
                Expr::value(replacement),
            )
            .col_expr(integration_secret::Column::KeyId, Expr::value(key_id))
            .filter(integration_secret::Column::IntegrationId.eq(integration_id))
            .filter(integration_secret::Column::Name.eq(name))
            .filter(integration_secret::Column::Ciphertext.eq(expected))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Secrets per key id, for `patchbay secrets rotate` to report.
    pub async fn count_by_key(&self) -> Result<BTreeMap<String, u64>, DbErr> {
        let mut counts = BTreeMap::new();
        for row in Secrets::find().all(&self.db).await? {
            *counts.entry(row.key_id).or_insert(0) += 1;
        }
        Ok(counts)
    }
}
