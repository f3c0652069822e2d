//! The `accounts` table.

use app::accounts::{AccountSummary, CurrentUser, Role};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use super::entities::account::{self, Entity as Accounts};
use super::entities::password_reset::{self, Entity as PasswordResets};
use super::recent::RecentReads;
use super::unix_now;

/// What [`AccountRepository::remove_keeping_an_admin`] does to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    Disable,
    Delete,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemovalOutcome {
    /// Done to the account with this e-mail.
    Done(String),
    NotFound,
    /// Refused: the account with this e-mail is the last active administrator.
    LastAdmin(String),
}

#[derive(Clone)]
pub struct AccountRepository {
    db: DatabaseConnection,
    /// Who each account is as a session sees it, read in the last moment: a page and the
    /// calls it makes right after read it once (`storage::recent`). Every write here
    /// forgets them all.
    recent: std::sync::Arc<RecentReads<i32, Option<CurrentUser>>>,
}

/// An account as storage holds it, password hash included. Never leaves the server.
#[derive(Clone, Debug)]
pub struct StoredAccount {
    pub id: i32,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
}

impl StoredAccount {
    pub fn summary(&self) -> AccountSummary {
        AccountSummary {
            id: self.id,
            email: self.email.clone(),
            role: self.role,
            disabled: self.disabled,
            created_at: self.created_at,
        }
    }
}

fn from_model(model: account::Model) -> Result<StoredAccount, DbErr> {
    let role = Role::parse(&model.role).map_err(|_| {
        DbErr::Custom(format!(
            "account {} has unknown role {:?}",
            model.id, model.role
        ))
    })?;
    Ok(StoredAccount {
        id: model.id,
        email: model.email,
        password_hash: model.password_hash,
        role,
        disabled: model.disabled,
        created_at: model.created_at,
    })
}

impl AccountRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            recent: Default::default(),
        }
    }

    /// Account `id` as a signed-in session acts: none when it is disabled or gone.
    pub async fn active_user(&self, id: i32) -> Result<Option<CurrentUser>, DbErr> {
        self.recent
            .get_or_read(id, async {
                Ok(self
                    .find(id)
                    .await?
                    .filter(|account| !account.disabled)
                    .map(|account| CurrentUser {
                        id: account.id,
                        email: account.email,
                        role: account.role,
                    }))
            })
            .await
    }

    /// Inserts an account. `email` must already be normalised; a duplicate e-mail is a
    /// unique-constraint error the caller turns into a message.
    pub async fn insert(
        &self,
        email: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<StoredAccount, DbErr> {
        let now = unix_now();
        let model = account::ActiveModel {
            email: Set(email.to_string()),
            password_hash: Set(password_hash.to_string()),
            role: Set(role.as_str().to_string()),
            disabled: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        self.recent.forget_all();
        from_model(model)
    }

    pub async fn find_by_email(&self, email: &str) -> Result<Option<StoredAccount>, DbErr> {
        Accounts::find()
            .filter(account::Column::Email.eq(email))
            .one(&self.db)
            .await?
            .map(from_model)
            .transpose()
    }

    pub async fn find(&self, id: i32) -> Result<Option<StoredAccount>, DbErr> {
        Accounts::find_by_id(id)
            .one(&self.db)
            .await?
            .map(from_model)
            .transpose()
    }

    pub async fn list(&self) -> Result<Vec<StoredAccount>, DbErr> {
        Accounts::find()
            .order_by_asc(account::Column::Email)
            .all(&self.db)
            .await?
            .into_iter()
            .map(from_model)
            .collect()
    }

    pub async fn count_active_admins(&self) -> Result<u64, DbErr> {
        Accounts::find()
            .filter(account::Column::Role.eq(Role::Admin.as_str()))
            .filter(account::Column::Disabled.eq(false))
            .count(&self.db)
            .await
    }

    /// Disables or deletes an account unless it is the last active administrator, in one
    /// transaction that locks the active administrators' rows first: two administrators
    /// removing each other at once are taken one after the other, and the second finds
    /// the first already gone.
    pub async fn remove_keeping_an_admin(
        &self,
        id: i32,
        removal: Removal,
    ) -> Result<RemovalOutcome, DbErr> {
        let txn = self.db.begin().await?;
        let active_admins = Accounts::find()
            .filter(account::Column::Role.eq(Role::Admin.as_str()))
            .filter(account::Column::Disabled.eq(false))
            .lock_exclusive()
            .all(&txn)
            .await?;
        let Some(target) = Accounts::find_by_id(id).one(&txn).await? else {
            return Ok(RemovalOutcome::NotFound);
        };
        let target_is_active_admin = active_admins.iter().any(|admin| admin.id == id);
        if target_is_active_admin && active_admins.len() <= 1 {
            return Ok(RemovalOutcome::LastAdmin(target.email));
        }
        match removal {
            Removal::Disable => {
                Accounts::update_many()
                    .col_expr(account::Column::Disabled, true.into())
                    .col_expr(account::Column::UpdatedAt, unix_now().into())
                    .filter(account::Column::Id.eq(id))
                    .exec(&txn)
                    .await?;
            }
            Removal::Delete => {
                Accounts::delete_by_id(id).exec(&txn).await?;
            }
        }
        txn.commit().await?;
        self.recent.forget_all();
        Ok(RemovalOutcome::Done(target.email))
    }

    /// Returns false when no account has this id.
    pub async fn set_disabled(&self, id: i32, disabled: bool) -> Result<bool, DbErr> {
        let result = Accounts::update_many()
            .col_expr(account::Column::Disabled, disabled.into())
            .col_expr(account::Column::UpdatedAt, unix_now().into())
            .filter(account::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        self.recent.forget_all();
        Ok(result.rows_affected > 0)
    }

    /// Returns false when no account has this id.
    pub async fn set_password_hash(&self, id: i32, password_hash: &str) -> Result<bool, DbErr> {
        let result = Accounts::update_many()
            .col_expr(account::Column::PasswordHash, password_hash.into())
            .col_expr(account::Column::UpdatedAt, unix_now().into())
            .filter(account::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        self.recent.forget_all();
        Ok(result.rows_affected > 0)
    }

    /// Returns false when no account has this id.
    pub async fn delete(&self, id: i32) -> Result<bool, DbErr> {
        let result = Accounts::delete_by_id(id).exec(&self.db).await?;
        self.recent.forget_all();
        Ok(result.rows_affected > 0)
    }

    /// Stores a reset link for the account (its token's hash), replacing the one it had.
    pub async fn put_reset(
        &self,
        account_id: i32,
        token_hash: &str,
        expires_at: i64,
    ) -> Result<(), DbErr> {
        let transaction = self.db.begin().await?;
        PasswordResets::delete_many()
            .filter(password_reset::Column::AccountId.eq(account_id))
            .exec(&transaction)
            .await?;
        password_reset::ActiveModel {
            token_hash: Set(token_hash.to_owned()),
            account_id: Set(account_id),
            expires_at: Set(expires_at),
        }
        .insert(&transaction)
        .await?;
        transaction.commit().await
    }

    /// The account a reset link is for, when the link exists and has not expired at `now`.
    pub async fn reset_for(&self, token_hash: &str, now: i64) -> Result<Option<i32>, DbErr> {
        Ok(PasswordResets::find_by_id(token_hash.to_owned())
            .one(&self.db)
            .await?
            .filter(|reset| reset.expires_at > now)
            .map(|reset| reset.account_id))
    }

    /// Uses a reset link: sets the account's password and deletes the link in one
    /// transaction, only while the link exists and has not expired. Answers the account, or
    /// `None` when the link was not good (used, expired, never issued).
    pub async fn redeem_reset(
        &self,
        token_hash: &str,
        now: i64,
        password_hash: &str,
    ) -> Result<Option<i32>, DbErr> {
        let transaction = self.db.begin().await?;
        let deleted = PasswordResets::delete_many()
            .filter(password_reset::Column::TokenHash.eq(token_hash))
            .filter(password_reset::Column::ExpiresAt.gt(now))
            .exec_with_returning(&transaction)
            .await?;
        let Some(reset) = deleted.into_iter().next() else {
            transaction.rollback().await?;
            return Ok(None);
        };
        Accounts::update_many()
            .col_expr(account::Column::PasswordHash, password_hash.into())
            .col_expr(account::Column::UpdatedAt, unix_now().into())
            .filter(account::Column::Id.eq(reset.account_id))
            .exec(&transaction)
            .await?;
        transaction.commit().await?;
        self.recent.forget_all();
        Ok(Some(reset.account_id))
    }
}
