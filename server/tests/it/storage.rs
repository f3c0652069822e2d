//! The session store and the accounts repository, on SQLite and PostgreSQL.

use std::collections::HashMap;

use crate::common::{fresh_database, Db};
use app::accounts::{CurrentUser, Role};
use app::template::model::Provider;
use sea_orm::DatabaseConnection;
use server::accounts::service::{AccountError, AccountsService};
use server::storage::accounts::AccountRepository;
use server::storage::api_tokens::ApiTokenRepository;
use server::storage::session_store::{DbSessionStore, USER_ID_KEY};
use server::storage::templates::{
    Logo, TemplateRecord, TemplateRepository, TemplateStoreError, MAX_TEMPLATES_PER_PROVIDER,
};
use time::{Duration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{ExpiredDeletion, SessionStore};

on_both_databases!(
    sessions_are_saved_loaded_updated_and_deleted,
    expired_sessions_are_not_loaded_and_are_cleaned_up,
    all_sessions_of_an_account_end_together,
    accounts_are_unique_by_email_and_count_admins,
    the_last_active_admin_is_kept,
    two_admins_disabling_each_other_at_once_leave_one,
    tokens_end_with_their_account_or_their_expiry,
    migrations_can_run_twice,
    templates_are_stored_replaced_listed_and_deleted,
    twenty_concurrent_creates_never_exceed_ten_templates,
    a_reset_link_works_once_until_it_expires_and_goes_with_its_account,
);

async fn open(db: Db) -> (DatabaseConnection, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(db, dir.path()).await;
    (server::storage::connect(&url).await.unwrap(), dir)
}

fn record(expires_in: Duration, data: &[(&str, serde_json::Value)]) -> Record {
    Record {
        id: Id::default(),
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<HashMap<_, _>>(),
        expiry_date: OffsetDateTime::now_utc() + expires_in,
    }
}

async fn sessions_are_saved_loaded_updated_and_deleted(db: Db) {
    let (conn, _dir) = open(db).await;
    let store = DbSessionStore::new(conn);
    let mut session = record(Duration::hours(1), &[("csrf_token", "abc".into())]);
    store.create(&mut session).await.unwrap();

    let loaded = store
        .load(&session.id)
        .await
        .unwrap()
        .expect("created session loads");
    assert_eq!(loaded.data["csrf_token"], "abc");
    assert_eq!(
        loaded.expiry_date.unix_timestamp(),
        session.expiry_date.unix_timestamp()
    );

    session.data.insert(USER_ID_KEY.into(), 7.into());
    store.save(&session).await.unwrap();
    let loaded = store.load(&session.id).await.unwrap().unwrap();
    assert_eq!(loaded.data[USER_ID_KEY], 7);
    assert_eq!(store.count_for_user(7).await.unwrap(), 1);

    assert!(
        store.load(&Id::default()).await.unwrap().is_none(),
        "unknown id"
    );
    store.delete(&session.id).await.unwrap();
    assert!(store.load(&session.id).await.unwrap().is_none());
}

async fn expired_sessions_are_not_loaded_and_are_cleaned_up(db: Db) {
    let (conn, _dir) = open(db).await;
    let store = DbSessionStore::new(conn);
    let mut old = record(Duration::seconds(-5), &[(USER_ID_KEY, 1.into())]);
    let mut live = record(Duration::hours(1), &[(USER_ID_KEY, 1.into())]);
    store.create(&mut old).await.unwrap();
    store.create(&mut live).await.unwrap();
    assert!(
        store.load(&old.id).await.unwrap().is_none(),
        "expired sessions do not load"
    );
    assert_eq!(store.count_for_user(1).await.unwrap(), 2);
    store.delete_expired().await.unwrap();
    assert_eq!(
        store.count_for_user(1).await.unwrap(),
        1,
        "only the expired one removed"
    );
    assert!(store.load(&live.id).await.unwrap().is_some());
}

async fn all_sessions_of_an_account_end_together(db: Db) {
    let (conn, _dir) = open(db).await;
    let store = DbSessionStore::new(conn);
    let mut sessions = Vec::new();
    for user in [1, 1, 2] {
        let mut s = record(Duration::hours(1), &[(USER_ID_KEY, user.into())]);
        store.create(&mut s).await.unwrap();
        sessions.push(s);
    }
    assert_eq!(store.delete_for_user(1).await.unwrap(), 2);
    assert!(store.load(&sessions[0].id).await.unwrap().is_none());
    assert!(
        store.load(&sessions[2].id).await.unwrap().is_some(),
        "other accounts keep theirs"
    );
}

async fn accounts_are_unique_by_email_and_count_admins(db: Db) {
    let (conn, _dir) = open(db).await;
    let accounts = AccountRepository::new(conn);
    let ada = accounts
        .insert("ada@example.com", "hash-1", Role::Admin)
        .await
        .unwrap();
    accounts
        .insert("bob@example.com", "hash-2", Role::User)
        .await
        .unwrap();
    assert!(accounts
        .insert("ada@example.com", "hash-3", Role::User)
        .await
        .is_err());
    assert_eq!(accounts.count_active_admins().await.unwrap(), 1);

    assert!(accounts.set_disabled(ada.id, true).await.unwrap());
    assert_eq!(accounts.count_active_admins().await.unwrap(), 0);
    assert!(accounts.find(ada.id).await.unwrap().unwrap().disabled);
    assert!(accounts.set_password_hash(ada.id, "hash-4").await.unwrap());
    assert_eq!(
        accounts
            .find_by_email("ada@example.com")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "hash-4"
    );
    assert!(accounts.delete(ada.id).await.unwrap());
    assert!(
        !accounts.delete(ada.id).await.unwrap(),
        "deleting twice reports nothing deleted"
    );
    assert!(!accounts.set_disabled(ada.id, false).await.unwrap());
    let listed: Vec<String> = accounts
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.email)
        .collect();
    assert_eq!(listed, vec!["bob@example.com"]);
}

async fn the_last_active_admin_is_kept(db: Db) {
    let (conn, _dir) = open(db).await;
    let accounts = AccountRepository::new(conn.clone());
    let only_admin = accounts
        .insert("root@example.com", "hash", Role::Admin)
        .await
        .unwrap();
    let service = AccountsService {
        accounts: accounts.clone(),
        sessions: DbSessionStore::new(conn.clone()),
        tokens: ApiTokenRepository::new(conn),
    };
    // An actor that is not the target: the rule protects against two admins removing
    // each other at the same moment.
    let actor = CurrentUser {
        id: only_admin.id + 1000,
        email: "ghost@example.com".into(),
        role: Role::Admin,
    };
    for result in [
        service.delete_account(&actor, only_admin.id).await,
        service
            .set_account_disabled(&actor, only_admin.id, true)
            .await,
    ] {
        assert!(
            matches!(&result, Err(AccountError::LastAdmin { .. })),
            "{result:?}"
        );
    }
    assert_eq!(accounts.count_active_admins().await.unwrap(), 1);
}

fn service_over(conn: &DatabaseConnection) -> AccountsService {
    AccountsService {
        accounts: AccountRepository::new(conn.clone()),
        sessions: DbSessionStore::new(conn.clone()),
        tokens: ApiTokenRepository::new(conn.clone()),
    }
}

async fn two_admins_disabling_each_other_at_once_leave_one(db: Db) {
    let (conn, _dir) = open(db).await;
    let accounts = AccountRepository::new(conn.clone());
    for round in 0..10 {
        let a = accounts
            .insert(&format!("a{round}@example.com"), "hash", Role::Admin)
            .await
            .unwrap();
        let b = accounts
            .insert(&format!("b{round}@example.com"), "hash", Role::Admin)
            .await
            .unwrap();
        let as_user = |account: &server::storage::accounts::StoredAccount| CurrentUser {
            id: account.id,
            email: account.email.clone(),
            role: Role::Admin,
        };
        let (first, second) = (service_over(&conn), service_over(&conn));
        let (actor_a, actor_b) = (as_user(&a), as_user(&b));
        let (a_id, b_id) = (a.id, b.id);
        let (left, right) = tokio::join!(
            tokio::spawn(async move { first.set_account_disabled(&actor_a, b_id, true).await }),
            tokio::spawn(async move { second.set_account_disabled(&actor_b, a_id, true).await }),
        );
        let outcomes = [left.unwrap(), right.unwrap()];
        assert_eq!(
            accounts.count_active_admins().await.unwrap(),
            1,
            "round {round}: {outcomes:?}"
        );
        assert_eq!(
            outcomes.iter().filter(|o| o.is_ok()).count(),
            1,
            "{outcomes:?}"
        );
        // Leave exactly these two, one disabled, out of the next round's count.
        let survivor = if outcomes[0].is_ok() { a_id } else { b_id };
        accounts.delete(survivor).await.unwrap();
    }
}

async fn tokens_end_with_their_account_or_their_expiry(db: Db) {
    use app::accounts::TokenScope;
    let (conn, _dir) = open(db).await;
    let accounts = AccountRepository::new(conn.clone());
    let tokens = ApiTokenRepository::new(conn.clone());
    let service = service_over(&conn);
    let keeper = accounts
        .insert("keeper@example.com", "hash", Role::Admin)
        .await
        .unwrap();
    let actor = CurrentUser {
        id: keeper.id,
        email: keeper.email.clone(),
        role: Role::Admin,
    };
    let owner = accounts
        .insert("owner@example.com", "hash", Role::Admin)
        .await
        .unwrap();
    let (_, disabled_token) = tokens
        .create("ci", owner.id, &owner.email, TokenScope::Admin, None)
        .await
        .unwrap();
    assert!(tokens
        .authenticate(&disabled_token)
        .await
        .unwrap()
        .is_some());
    service
        .set_account_disabled(&actor, owner.id, true)
        .await
        .unwrap();
    assert!(tokens
        .authenticate(&disabled_token)
        .await
        .unwrap()
        .is_none());

    let (_, deleted_token) = tokens
        .create("ci", owner.id, &owner.email, TokenScope::Events, None)
        .await
        .unwrap();
    service.delete_account(&actor, owner.id).await.unwrap();
    assert!(tokens.authenticate(&deleted_token).await.unwrap().is_none());

    let past = server::storage::unix_now() - 1;
    let (_, expired) = tokens
        .create(
            "old",
            keeper.id,
            &keeper.email,
            TokenScope::Lookup,
            Some(past),
        )
        .await
        .unwrap();
    assert!(tokens.authenticate(&expired).await.unwrap().is_none());
    let (_, live) = tokens
        .create(
            "new",
            keeper.id,
            &keeper.email,
            TokenScope::Lookup,
            Some(past + 3600),
        )
        .await
        .unwrap();
    let holder = tokens.authenticate(&live).await.unwrap().unwrap();
    assert_eq!(holder.token.scope, TokenScope::Lookup);
    assert_eq!(holder.account_id, keeper.id);
}

async fn migrations_can_run_twice(db: Db) {
    use migrations::{Migrator, MigratorTrait};
    let (conn, _dir) = open(db).await;
    Migrator::up(&conn, None).await.unwrap();
    assert!(Migrator::get_pending_migrations(&conn)
        .await
        .unwrap()
        .is_empty());
}

fn template_record(provider: Provider, key: &str) -> TemplateRecord {
    TemplateRecord {
        provider,
        key: key.to_string(),
        name: format!("Template {key}"),
        remark: String::new(),
        version: "1.0.0".into(),
        xml: format!("<Information Key=\"{key}\"/>\n"),
        logo: None,
        warnings: Vec::new(),
    }
}

async fn templates_are_stored_replaced_listed_and_deleted(db: Db) {
    let (conn, _dir) = open(db).await;
    let templates = TemplateRepository::new(conn);
    let mut record = template_record(Provider::Crm, "zeta");
    record.logo = Some(Logo {
        bytes: b"\x89PNG\r\n\x1a\n".to_vec(),
        media_type: "image/png".into(),
    });
    let created = templates
        .create(record.clone(), "admin@example.com")
        .await
        .unwrap();
    assert_eq!(created.revision, 1);
    templates
        .create(template_record(Provider::Crm, "alpha"), "admin@example.com")
        .await
        .unwrap();
    templates
        .create(
            template_record(Provider::Helpdesk, "zeta"),
            "admin@example.com",
        )
        .await
        .unwrap();

    let duplicate = templates
        .create(template_record(Provider::Crm, "zeta"), "admin@example.com")
        .await;
    assert!(
        matches!(duplicate, Err(TemplateStoreError::DuplicateKey { .. })),
        "{duplicate:?}"
    );

    let stored = templates.get(Provider::Crm, "zeta").await.unwrap().unwrap();
    assert_eq!(stored.record.xml, record.xml, "text kept exactly");
    assert_eq!(stored.record.logo, record.logo);

    let mut edited = record.clone();
    edited.xml.push_str("<!-- edited -->");
    edited.logo = None;
    let replaced = templates
        .replace(edited.clone(), "admin@example.com")
        .await
        .unwrap();
    assert_eq!(replaced.revision, 2);
    assert_eq!(replaced.created_at, created.created_at);
    let stored = templates.get(Provider::Crm, "zeta").await.unwrap().unwrap();
    assert_eq!(stored.record.xml, edited.xml);
    assert_eq!(stored.record.logo, None, "the logo went with the replace");
    let missing = templates
        .replace(template_record(Provider::Crm, "nope"), "admin@example.com")
        .await;
    assert!(
        matches!(missing, Err(TemplateStoreError::NotFound { .. })),
        "{missing:?}"
    );

    let names: Vec<String> = templates
        .list(Provider::Crm)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.record.key)
        .collect();
    assert_eq!(names, vec!["alpha", "zeta"]);
    let deleted = templates
        .delete(
            Provider::Crm,
            &["zeta".to_string(), "alpha".to_string(), "nope".to_string()],
        )
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(templates.count(Provider::Crm).await.unwrap(), 0);
    assert_eq!(
        templates.count(Provider::Helpdesk).await.unwrap(),
        1,
        "other provider untouched"
    );
}

async fn twenty_concurrent_creates_never_exceed_ten_templates(db: Db) {
    let (conn, _dir) = open(db).await;
    let templates = TemplateRepository::new(conn);
    templates
        .create(
            template_record(Provider::Helpdesk, "other"),
            "admin@example.com",
        )
        .await
        .unwrap();
    // All twenty start before any is awaited.
    let attempts: Vec<_> = (0..20)
        .map(|n| {
            let templates = templates.clone();
            tokio::spawn(async move {
                templates
                    .create(
                        template_record(Provider::Crm, &format!("t{n}")),
                        "admin@example.com",
                    )
                    .await
            })
        })
        .collect();
    let mut stored = 0;
    let mut refused = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => stored += 1,
            Err(TemplateStoreError::LimitReached(Provider::Crm)) => refused += 1,
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!((stored, refused), (10, 10));
    assert_eq!(
        templates.count(Provider::Crm).await.unwrap(),
        MAX_TEMPLATES_PER_PROVIDER
    );
    let eleventh = templates
        .create(
            template_record(Provider::Crm, "eleventh"),
            "admin@example.com",
        )
        .await
        .unwrap_err();
    assert_eq!(
        eleventh.to_string(),
        "there are already 10 crm templates; delete one before adding another"
    );
    assert!(
        templates
            .create(
                template_record(Provider::Helpdesk, "more"),
                "admin@example.com"
            )
            .await
            .is_ok(),
        "the cap is per provider"
    );
}

/// The busiest pages' reads on SQLite go through their own connections
/// (`storage::connect_reads`): they see what the writer committed, never what it has not,
/// do not wait for a write in progress, and cannot write themselves.
#[tokio::test]
async fn sqlite_reads_run_beside_the_writer_and_cannot_write() {
    use sea_orm::{ConnectionTrait, TransactionTrait};

    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(Db::Sqlite, dir.path()).await;
    let primary = server::storage::connect(&url).await.unwrap();
    let reads = server::storage::connect_reads(&url, &primary)
        .await
        .unwrap();
    let writer = TemplateRepository::new(primary.clone());
    let lister = TemplateRepository::new(primary.clone()).with_reads(reads.clone());
    writer
        .create(template_record(Provider::Crm, "first"), "admin@example.com")
        .await
        .unwrap();
    let keys = |rows: Vec<server::storage::templates::ListedTemplate>| {
        rows.into_iter().map(|row| row.key).collect::<Vec<_>>()
    };
    assert_eq!(keys(lister.listed(Provider::Crm).await.unwrap()), ["first"]);

    // A write in progress holds SQLite's write lock; the list neither waits nor sees it.
    let open_write = primary.begin().await.unwrap();
    open_write
        .execute_unprepared("UPDATE templates SET name = 'uncommitted'")
        .await
        .unwrap();
    let listed = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        lister.listed(Provider::Crm),
    )
    .await
    .expect("the read does not wait for the writer")
    .unwrap();
    assert_ne!(listed[0].name, "uncommitted");
    open_write.rollback().await.unwrap();

    let refused = reads
        .execute_unprepared("DELETE FROM templates")
        .await
        .expect_err("the reads' connections refuse to write");
    assert!(refused.to_string().contains("readonly"), "{refused}");
    assert_eq!(keys(lister.listed(Provider::Crm).await.unwrap()), ["first"]);
}

/// `patchbay admin reset-password`'s links: an expired link sets nothing, a link works once,
/// a new link replaces the account's earlier one, and deleting the account deletes its link.
async fn a_reset_link_works_once_until_it_expires_and_goes_with_its_account(db: Db) {
    let (conn, _dir) = open(db).await;
    let accounts = AccountRepository::new(conn.clone());
    let account = accounts
        .insert("ops@example.com", "old-hash", Role::Admin)
        .await
        .unwrap();
    let now = 1_000_000;
    accounts
        .put_reset(account.id, "expiring", now + 60)
        .await
        .unwrap();
    assert_eq!(
        accounts.reset_for("expiring", now + 59).await.unwrap(),
        Some(account.id)
    );
    assert_eq!(
        accounts.reset_for("expiring", now + 60).await.unwrap(),
        None
    );
    assert_eq!(
        accounts
            .redeem_reset("expiring", now + 61, "late-hash")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        accounts
            .find(account.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "old-hash"
    );

    accounts
        .put_reset(account.id, "first", now + 60)
        .await
        .unwrap();
    accounts
        .put_reset(account.id, "second", now + 60)
        .await
        .unwrap();
    assert_eq!(
        accounts.reset_for("first", now).await.unwrap(),
        None,
        "replaced"
    );
    assert_eq!(
        accounts
            .redeem_reset("second", now, "new-hash")
            .await
            .unwrap(),
        Some(account.id)
    );
    assert_eq!(
        accounts
            .find(account.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new-hash"
    );
    assert_eq!(
        accounts.redeem_reset("second", now, "again").await.unwrap(),
        None
    );

    accounts
        .put_reset(account.id, "orphan", now + 60)
        .await
        .unwrap();
    assert!(accounts.delete(account.id).await.unwrap());
    assert_eq!(accounts.reset_for("orphan", now).await.unwrap(), None);
}
