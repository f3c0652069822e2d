//! The `api_tokens` table. A token is shown once, at creation; storage keeps its SHA-256.

use app::accounts::ApiTokenSummary;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use sha2::{Digest, Sha256};

use super::entities::api_token::{self, Entity as ApiTokens};
use super::unix_now;
use crate::auth::random_token;

pub const TOKEN_PREFIX: &str = "pbt_";
const DISPLAY_PREFIX_CHARS: usize = 12;

pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn summary(model: api_token::Model) -> ApiTokenSummary {
    ApiTokenSummary {
        id: model.id,
        name: model.name,
        prefix: model.prefix,
        created_by: model.created_by,
        created_at: model.created_at,
        last_used_at: model.last_used_at,
    }
}

#[derive(Clone)]
pub struct ApiTokenRepository {
    db: DatabaseConnection,
}

impl ApiTokenRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Creates a token; the returned string is the only time it exists in clear.
    pub async fn create(
        &self,
        name: &str,
        created_by: &str,
    ) -> Result<(ApiTokenSummary, String), DbErr> {
        let token = format!("{TOKEN_PREFIX}{}", random_token());
        let model = api_token::ActiveModel {
            name: Set(name.to_string()),
            token_hash: Set(hash_token(&token)),
            prefix: Set(token.chars().take(DISPLAY_PREFIX_CHARS).collect()),
            created_by: Set(created_by.to_string()),
            created_at: Set(unix_now()),
            last_used_at: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok((summary(model), token))
    }

    pub async fn list(&self) -> Result<Vec<ApiTokenSummary>, DbErr> {
        Ok(ApiTokens::find()
            .order_by_asc(api_token::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(summary)
            .collect())
    }

    /// The token's record, when `token` is a live token; records its use.
    pub async fn authenticate(&self, token: &str) -> Result<Option<ApiTokenSummary>, DbErr> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let Some(model) = ApiTokens::find()
            .filter(api_token::Column::TokenHash.eq(hash_token(token)))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let mut used: api_token::ActiveModel = model.clone().into();
        used.last_used_at = Set(Some(unix_now()));
        used.update(&self.db).await?;
        Ok(Some(summary(model)))
    }

    /// Returns false when no token has this id.
    pub async fn revoke(&self, id: i32) -> Result<bool, DbErr> {
        Ok(ApiTokens::delete_by_id(id)
            .exec(&self.db)
            .await?
            .rows_affected
            > 0)
    }
}
