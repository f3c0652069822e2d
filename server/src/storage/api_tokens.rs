//! The `api_tokens` table. A token is shown once, at creation; storage keeps its SHA-256.

use app::accounts::{ApiTokenSummary, TokenScope};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use sha2::{Digest, Sha256};

use super::entities::api_token::{self, Entity as ApiTokens};
use super::unix_now;
use crate::crypto::random_token;

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
        // Only `TokenScope::as_str` writes this column; anything else would grant nothing.
        scope: TokenScope::parse(&model.scope).unwrap_or(TokenScope::Lookup),
        created_at: model.created_at,
        last_used_at: model.last_used_at,
        expires_at: model.expires_at,
    }
}

/// Who a live token acts as.
#[derive(Clone, Debug)]
pub struct TokenHolder {
    pub token: ApiTokenSummary,
    pub account_id: i32,
}

#[derive(Clone)]
pub struct ApiTokenRepository {
    db: DatabaseConnection,
}

impl ApiTokenRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Creates a token acting as `account_id`; the returned string is the only time it
    /// exists in clear.
    pub async fn create(
        &self,
        name: &str,
        account_id: i32,
        created_by: &str,
        scope: TokenScope,
        expires_at: Option<i64>,
    ) -> Result<(ApiTokenSummary, String), DbErr> {
        let token = format!("{TOKEN_PREFIX}{}", random_token());
        let model = api_token::ActiveModel {
            name: Set(name.to_string()),
            token_hash: Set(hash_token(&token)),
            prefix: Set(token.chars().take(DISPLAY_PREFIX_CHARS).collect()),
            account_id: Set(account_id),
            created_by: Set(created_by.to_string()),
            scope: Set(scope.as_str().to_string()),
            created_at: Set(unix_now()),
            last_used_at: Set(None),
            expires_at: Set(expires_at),
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

    /// The token's record and account, when `token` is live (not expired); records its
    /// use. Whether the account may still act is the caller's question.
    pub async fn authenticate(&self, token: &str) -> Result<Option<TokenHolder>, DbErr> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let now = unix_now();
        let Some(model) = ApiTokens::find()
            .filter(api_token::Column::TokenHash.eq(hash_token(token)))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        if model.expires_at.is_some_and(|expires_at| expires_at <= now) {
            return Ok(None);
        }
        let mut used: api_token::ActiveModel = model.clone().into();
        used.last_used_at = Set(Some(now));
        used.update(&self.db).await?;
        let account_id = model.account_id;
        Ok(Some(TokenHolder {
            token: summary(model),
            account_id,
        }))
    }

    /// Returns false when no token has this id.
    pub async fn revoke(&self, id: i32) -> Result<bool, DbErr> {
        Ok(ApiTokens::delete_by_id(id)
            .exec(&self.db)
            .await?
            .rows_affected
            > 0)
    }

    /// Revokes every token of an account (disabled or deleted); returns how many.
    pub async fn revoke_for_account(&self, account_id: i32) -> Result<u64, DbErr> {
        Ok(ApiTokens::delete_many()
            .filter(api_token::Column::AccountId.eq(account_id))
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}
