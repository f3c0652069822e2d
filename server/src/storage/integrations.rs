//! Integrations and their encrypted secrets. The repository stores ciphertexts as it gets
//! them; [`StoredSecret::seal`] and [`StoredSecret::open`] are how the services make and
//! read them (`crypto::cipher`, with the owner and the name bound in).

use std::collections::BTreeMap;

use app::integrations::{Features, Status};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use super::entities::integration::{self, Entity as Integrations};
use super::entities::integration_secret::{self, Entity as Secrets};
use super::unix_now;
use crate::crypto::cipher::{CipherError, SecretCipher, SecretContext};

/// The owner bound into an integration's secrets: its template's id (one integration per
/// template, and known before the first save).
pub fn secret_owner(template_id: i32) -> String {
    format!("template:{template_id}")
}

/// The secret names of an integration's tokens (its fields' are `field:<name>`).
pub const ACCESS_TOKEN_SECRET: &str = "access_token";
pub const REFRESH_TOKEN_SECRET: &str = "refresh_token";

/// An integration as stored; secrets are separate ([`StoredSecret`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredIntegration {
    pub id: i32,
    pub template_id: i32,
    pub template_revision: i32,
    pub template_xml: String,
    /// The revision it ran before the last Apply or rollback.
    pub previous_template_revision: Option<i32>,
    /// The e-mail of the account its notifications go to.
    pub owner: Option<String>,
    /// Non-secret field values by field name.
    pub settings: BTreeMap<String, String>,
    pub global_variables: BTreeMap<String, String>,
    pub features: Features,
    pub token_type: Option<String>,
    pub token_expires_at: Option<i64>,
    pub status: Status,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub connected_at: Option<i64>,
    pub token_refreshed_at: Option<i64>,
    pub token_generation: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSecret {
    pub name: String,
    pub ciphertext: String,
    pub key_id: String,
}

impl StoredSecret {
    /// `value` encrypted for `owner`'s secret `name` under the current key.
    pub fn seal(
        cipher: &SecretCipher,
        owner: &str,
        name: &str,
        value: &str,
    ) -> Result<StoredSecret, CipherError> {
        Ok(StoredSecret {
            name: name.to_owned(),
            ciphertext: cipher.encrypt(value, SecretContext { owner, field: name })?,
            key_id: cipher.current_key_id().to_owned(),
        })
    }

    /// The plain value, for `owner`.
    pub fn open(&self, cipher: &SecretCipher, owner: &str) -> Result<String, CipherError> {
        Ok(cipher
            .decrypt(
                &self.ciphertext,
                SecretContext {
                    owner,
                    field: &self.name,
                },
            )?
            .to_string())
    }
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

/// An integration's token as stored, for the refresh logic (`engine::tokens`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    pub generation: i32,
    pub status: Status,
    pub access: Option<StoredSecret>,
    pub refresh: Option<StoredSecret>,
    pub refreshed_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// Tokens a refresh obtained, sealed.
#[derive(Clone, Debug)]
pub struct RefreshedTokens {
    pub access: StoredSecret,
    /// A rotated refresh token; `None` keeps the stored one.
    pub refresh: Option<StoredSecret>,
    pub token_type: Option<String>,
    pub expires_at: Option<i64>,
    /// The token answer's other values, merged into the global variables.
    pub answer_values: BTreeMap<String, String>,
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
        previous_template_revision: model.previous_template_revision,
        owner: model.owner.clone(),
        settings: serde_json::from_str(&model.settings)
            .map_err(|e| corrupt("settings", model.id, e))?,
        global_variables: serde_json::from_str(&model.global_variables)
            .map_err(|e| corrupt("global variables", model.id, e))?,
        features: serde_json::from_str(&model.features)
            .map_err(|e| corrupt("features", model.id, e))?,
        template_xml: model.template_xml,
        token_type: model.token_type,
        token_expires_at: model.token_expires_at,
        status: Status::parse(&model.status),
        last_error: model.last_error,
        last_error_at: model.last_error_at,
        connected_at: model.connected_at,
        token_refreshed_at: model.token_refreshed_at,
        token_generation: model.token_generation,
    })
}

/// Lets go of the refresh lease if `owner` still holds it (a lease that ran out may be
/// another's by now).
async fn release_lease(
    db: &impl ConnectionTrait,
    integration_id: i32,
    owner: &str,
) -> Result<(), DbErr> {
    Integrations::update_many()
        .col_expr(
            integration::Column::RefreshLeaseOwner,
            Expr::value(None::<String>),
        )
        .col_expr(
            integration::Column::RefreshLeaseUntil,
            Expr::value(None::<i64>),
        )
        .filter(integration::Column::Id.eq(integration_id))
        .filter(integration::Column::RefreshLeaseOwner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".into())
}

#[derive(Clone)]
pub struct IntegrationRepository {
    db: DatabaseConnection,
}

impl IntegrationRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        IntegrationRepository { db }
    }

    pub async fn find(&self, id: i32) -> Result<Option<StoredIntegration>, DbErr> {
        Integrations::find_by_id(id)
            .one(&self.db)
            .await?
            .map(from_model)
            .transpose()
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
                active.token_refreshed_at = Set(Some(now));
                active.token_generation = Set(active.token_generation.unwrap().wrapping_add(1));
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
                    features: Set("{}".into()),
                    token_type: Set(connection.token_type),
                    token_expires_at: Set(connection.token_expires_at),
                    status: Set(connection.status.as_str().into()),
                    last_error: Set(None),
                    last_error_at: Set(None),
                    connected_at: Set(connected_at),
                    token_refreshed_at: Set(Some(now)),
                    token_generation: Set(1),
                    refresh_lease_owner: Set(None),
                    refresh_lease_until: Set(None),
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
            .col_expr(
                integration::Column::TokenGeneration,
                Expr::col(integration::Column::TokenGeneration).add(1),
            )
            .col_expr(integration::Column::UpdatedAt, Expr::value(unix_now()))
            .filter(integration::Column::Id.eq(integration_id))
            .exec(&transaction)
            .await?;
        transaction.commit().await
    }

    /// Makes `email` the integration's owner; with `only_if_none`, only when it has none
    /// (the first to connect it).
    pub async fn set_owner(
        &self,
        integration_id: i32,
        email: &str,
        only_if_none: bool,
    ) -> Result<(), DbErr> {
        let mut update = Integrations::update_many()
            .col_expr(integration::Column::Owner, Expr::value(email))
            .filter(integration::Column::Id.eq(integration_id));
        if only_if_none {
            update = update.filter(integration::Column::Owner.is_null());
        }
        update.exec(&self.db).await?;
        Ok(())
    }

    /// Moves the integration from revision `from` of its template to `to`, remembering
    /// `from` as the one it ran before; false when it no longer runs `from` (another Apply
    /// or rollback came first).
    pub async fn apply_revision(
        &self,
        integration_id: i32,
        from: i32,
        to: i32,
        xml: &str,
    ) -> Result<bool, DbErr> {
        let result = Integrations::update_many()
            .col_expr(integration::Column::TemplateRevision, Expr::value(to))
            .col_expr(integration::Column::TemplateXml, Expr::value(xml))
            .col_expr(
                integration::Column::PreviousTemplateRevision,
                Expr::value(from),
            )
            .col_expr(integration::Column::UpdatedAt, Expr::value(unix_now()))
            .filter(integration::Column::Id.eq(integration_id))
            .filter(integration::Column::TemplateRevision.eq(from))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// The integration's token bookkeeping and its sealed tokens.
    pub async fn token_record(&self, integration_id: i32) -> Result<Option<TokenRecord>, DbErr> {
        let Some(model) = Integrations::find_by_id(integration_id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let mut access = None;
        let mut refresh = None;
        for secret in self.secrets(integration_id).await? {
            match secret.name.as_str() {
                ACCESS_TOKEN_SECRET => access = Some(secret),
                REFRESH_TOKEN_SECRET => refresh = Some(secret),
                _ => {}
            }
        }
        Ok(Some(TokenRecord {
            generation: model.token_generation,
            status: Status::parse(&model.status),
            access,
            refresh,
            refreshed_at: model.token_refreshed_at,
            expires_at: model.token_expires_at,
        }))
    }

    /// Takes the refresh lease when nobody holds it or its holder's lease ran out (a
    /// crashed instance); one statement, so two instances cannot both take it.
    pub async fn try_lease(
        &self,
        integration_id: i32,
        owner: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, DbErr> {
        let result = Integrations::update_many()
            .col_expr(integration::Column::RefreshLeaseOwner, Expr::value(owner))
            .col_expr(integration::Column::RefreshLeaseUntil, Expr::value(until))
            .filter(integration::Column::Id.eq(integration_id))
            .filter(
                integration::Column::RefreshLeaseUntil
                    .is_null()
                    .or(integration::Column::RefreshLeaseUntil.lt(now)),
            )
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    pub async fn release_lease(&self, integration_id: i32, owner: &str) -> Result<(), DbErr> {
        release_lease(&self.db, integration_id, owner).await
    }

    /// Stores a refresh's tokens in one transaction (the rotated refresh token with the
    /// access token, before either is used), moves the generation on, marks the
    /// integration Connected and lets go of the lease.
    pub async fn store_refreshed(
        &self,
        integration_id: i32,
        owner: &str,
        tokens: RefreshedTokens,
    ) -> Result<(), DbErr> {
        let transaction = self.db.begin().await?;
        let now = unix_now();
        for secret in std::iter::once(tokens.access).chain(tokens.refresh) {
            Secrets::delete_many()
                .filter(integration_secret::Column::IntegrationId.eq(integration_id))
                .filter(integration_secret::Column::Name.eq(secret.name.as_str()))
                .exec(&transaction)
                .await?;
            integration_secret::ActiveModel {
                integration_id: Set(integration_id),
                name: Set(secret.name),
                ciphertext: Set(secret.ciphertext),
                key_id: Set(secret.key_id),
            }
            .insert(&transaction)
            .await?;
        }
        let mut update = Integrations::update_many()
            .col_expr(
                integration::Column::TokenGeneration,
                Expr::col(integration::Column::TokenGeneration).add(1),
            )
            .col_expr(integration::Column::TokenRefreshedAt, Expr::value(now))
            .col_expr(
                integration::Column::TokenExpiresAt,
                Expr::value(tokens.expires_at),
            )
            .col_expr(
                integration::Column::Status,
                Expr::value(Status::Connected.as_str()),
            )
            .col_expr(integration::Column::LastError, Expr::value(None::<String>))
            .col_expr(integration::Column::LastErrorAt, Expr::value(None::<i64>))
            .col_expr(integration::Column::UpdatedAt, Expr::value(now));
        if tokens.token_type.is_some() {
            update = update.col_expr(
                integration::Column::TokenType,
                Expr::value(tokens.token_type),
            );
        }
        if !tokens.answer_values.is_empty() {
            let stored = Integrations::find_by_id(integration_id)
                .one(&transaction)
                .await?
                .map(|model| model.global_variables)
                .unwrap_or_default();
            let mut globals: BTreeMap<String, String> =
                serde_json::from_str(&stored).unwrap_or_default();
            globals.extend(tokens.answer_values);
            update = update.col_expr(
                integration::Column::GlobalVariables,
                Expr::value(json(&globals)),
            );
        }
        update
            .filter(integration::Column::Id.eq(integration_id))
            .exec(&transaction)
            .await?;
        release_lease(&transaction, integration_id, owner).await?;
        transaction.commit().await
    }

    /// Records what went wrong; `status` changes the integration's status too (Token
    /// invalid after a refused refresh), `None` keeps it (an outage).
    pub async fn record_error(
        &self,
        integration_id: i32,
        status: Option<Status>,
        message: &str,
    ) -> Result<(), DbErr> {
        let now = unix_now();
        let mut update = Integrations::update_many()
            .col_expr(integration::Column::LastError, Expr::value(message))
            .col_expr(integration::Column::LastErrorAt, Expr::value(now))
            .col_expr(integration::Column::UpdatedAt, Expr::value(now));
        if let Some(status) = status {
            update = update.col_expr(integration::Column::Status, Expr::value(status.as_str()));
        }
        update
            .filter(integration::Column::Id.eq(integration_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Stores the global variables GetGlobalInfo read.
    pub async fn set_global_variables(
        &self,
        integration_id: i32,
        variables: &BTreeMap<String, String>,
    ) -> Result<(), DbErr> {
        Integrations::update_many()
            .col_expr(
                integration::Column::GlobalVariables,
                Expr::value(json(variables)),
            )
            .col_expr(integration::Column::UpdatedAt, Expr::value(unix_now()))
            .filter(integration::Column::Id.eq(integration_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Stores the Features section's choices.
    pub async fn set_features(
        &self,
        integration_id: i32,
        features: &Features,
    ) -> Result<(), DbErr> {
        Integrations::update_many()
            .col_expr(integration::Column::Features, Expr::value(json(features)))
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
