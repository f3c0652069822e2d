//! OAuth authorizations under way (`oauth_states`): written when Save starts one, read and
//! spent once by the callback. What a row holds beyond hashes is sealed by the
//! integrations service before it gets here.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};

use super::entities::oauth_state::{self, Entity as States};
use super::unix_now;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingAuthorization {
    pub state_hash: String,
    pub template_id: i32,
    pub session_hash: String,
    pub actor: String,
    /// Sealed JSON (`integrations::oauth::Pending`).
    pub pending: String,
    pub expires_at: i64,
}

#[derive(Clone)]
pub struct OAuthStateRepository {
    db: DatabaseConnection,
}

impl OAuthStateRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        OAuthStateRepository { db }
    }

    /// Stores a new authorization; expired ones are dropped on the way, so the table
    /// holds only what a browser may still bring back.
    pub async fn insert(&self, pending: PendingAuthorization) -> Result<(), DbErr> {
        let now = unix_now();
        States::delete_many()
            .filter(oauth_state::Column::ExpiresAt.lt(now))
            .exec(&self.db)
            .await?;
        oauth_state::ActiveModel {
            state_hash: Set(pending.state_hash),
            template_id: Set(pending.template_id),
            session_hash: Set(pending.session_hash),
            actor: Set(pending.actor),
            pending: Set(pending.pending),
            expires_at: Set(pending.expires_at),
            created_at: Set(now),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    pub async fn find(&self, state_hash: &str) -> Result<Option<PendingAuthorization>, DbErr> {
        Ok(States::find_by_id(state_hash.to_owned())
            .one(&self.db)
            .await?
            .map(|m| PendingAuthorization {
                state_hash: m.state_hash,
                template_id: m.template_id,
                session_hash: m.session_hash,
                actor: m.actor,
                pending: m.pending,
                expires_at: m.expires_at,
            }))
    }

    /// Spends a state: true for exactly one caller, however many bring it at once.
    pub async fn consume(&self, state_hash: &str) -> Result<bool, DbErr> {
        let result = States::delete_many()
            .filter(oauth_state::Column::StateHash.eq(state_hash))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }
}
