//! `patchbay backup` and `patchbay restore` with real processes (README "Backup and
//! restore"):
//! - SQLite: a backup taken while the queue works is restored into a new data directory
//!   and everything is there: the administrator signs in, both templates are listed, the
//!   stored API key still opens the CRM, the queued calls are journaled; a restore is
//!   refused without the backup's key (and leaves no key of its own behind), into an existing
//!   database, from a file that is not a backup, and from a newer Patchbay's backup; a
//!   server refuses to start on a newer Patchbay's database;
//! - PostgreSQL: `patchbay backup` points at pg_dump and writes nothing; the README's
//!   pg_dump / pg_restore steps give a database a server starts on with everything there,
//!   and a newer Patchbay's database is refused at start.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::process::{instance_env, patchbay, said, serve, Process};
use crate::common::*;
use crate::queue_processes::{all_done, count, crm_taking, post_calls, set_up_as_admin};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const API_KEY: &str = "api-Key-Backup-Ibis-5150";
/// The installation's encryption key: 32 bytes of this value.
const KEY_BYTE: u8 = 7;
const CALLS: usize = 200;

/// `patchbay ARGS` with `env`, to its end.
/// `env` with the database URL and data directory of `dir`, and `key_byte`'s key (none:
/// no key set).
fn installation(dir: &Path, key_byte: Option<u8>) -> Vec<(&'static str, String)> {
    let url = format!("sqlite://{}?mode=rwc", dir.join("patchbay.db").display());
    instance_env(dir, &url, key_byte.unwrap_or(0), &[])
        .into_iter()
        .filter(|(name, _)| key_byte.is_some() || *name != "PATCHBAY_ENCRYPTION_KEY")
        .collect()
}

/// The lookup CRM's contact, answered only with the stored API key.
async fn mount_lookup(crm: &MockServer) {
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{API_KEY}:"))
    );
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .and(query_param("phone", "5550100"))
        .and(header("authorization", basic.as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"data": [{"id": "C-1", "first": "Ada", "phone": "5550100"}]}),
            ),
        )
        .mount(crm)
        .await;
    Mock::given(method("GET"))
        .and(path("/leads"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": []})))
        .mount(crm)
        .await;
}

/// Adds the lookup CRM (Basic authentication with a stored API key: a secret).
async fn connect_lookup(admin: &Admin, crm: &MockServer) {
    let text = Fixture::load("lookup-crm.xml").at(&crm.uri());
    let (status, body) = admin.upload("crm", &[("lookup.xml", text)], &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin
        .browser
        .call(
            "save_integration",
            json!({"csrf_token": admin.csrf, "provider": "crm", "key": "lookup_crm",
                   "input": {"values": [["api_key", API_KEY]]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Looks up 5550100 with a `lookup` token: the lookup CRM answers Ada only when the stored
/// API key came with the request.
async fn ada_is_found(admin: &Admin, base: &str) {
    let token = admin.create_token("pbx", "lookup").await;
    let answer = reqwest::Client::new()
        .get(format!(
            "{base}/api/v1/contacts/lookup?phone=5550100&extension=1001"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let answer = answer.text().await.unwrap();
    assert!(answer.contains("Ada"), "{answer}");
}

const FUTURE_MIGRATION: &str = "m29991231_000001_from_the_future";

/// Records a migration this version does not have, as a newer Patchbay would.
async fn as_if_newer(database_url: &str) {
    Database::connect(database_url)
        .await
        .unwrap()
        .execute_unprepared(&format!(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('{FUTURE_MIGRATION}', 0)"
        ))
        .await
        .unwrap();
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sqlite_backup_taken_while_the_queue_runs_restores_into_a_new_data_directory() {
    let root = tempfile::tempdir().unwrap();
    let (first_dir, second_dir) = (root.path().join("first"), root.path().join("second"));
    let env = installation(&first_dir, Some(KEY_BYTE));
    let crm = crm_taking(Duration::from_millis(100)).await;
    mount_lookup(&crm).await;
    let server = serve(&env, &root.path().join("first.log")).await;
    let (admin, token) = set_up_as_admin(&server, &crm).await;
    connect_lookup(&admin, &crm).await;
    post_calls(&server.base, &token, 0..CALLS).await;

    // Backed up while the queue works.
    let backup = root.path().join("patchbay-backup.db");
    let backup_arg = backup.to_str().unwrap();
    let taken = patchbay(&["backup", backup_arg], &env).await;
    assert!(taken.status.success(), "{}", said(&taken));
    let report = said(&taken);
    assert!(report.contains("KEEP THE ENCRYPTION KEY"), "{report}");
    assert!(report.contains("1 stored secret(s)"), "{report}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a backup is its owner's only");
    }
    let backup_url = format!("sqlite://{}?mode=ro", backup.display());
    let jobs_in_backup = count(&backup_url, "SELECT COUNT(*) FROM queue_jobs").await;
    let done_in_backup = count(
        &backup_url,
        "SELECT COUNT(*) FROM queue_jobs WHERE state = 'done'",
    )
    .await;
    assert_eq!(
        jobs_in_backup, CALLS as i64,
        "every accepted call is in the backup"
    );
    assert!(
        done_in_backup < CALLS as i64,
        "the backup was taken mid-queue"
    );
    let running_in_backup = count(
        &backup_url,
        "SELECT COUNT(*) FROM queue_jobs WHERE state = 'running'",
    )
    .await;

    let again = patchbay(&["backup", backup_arg], &env).await;
    assert!(!again.status.success());
    assert!(said(&again).contains("already exists"), "{}", said(&again));
    drop(server);

    // Refused: another key, no key at all, a file that is no backup.
    let other_key = installation(&second_dir, Some(KEY_BYTE + 1));
    let refused = patchbay(&["restore", backup_arg], &other_key).await;
    assert!(!refused.status.success());
    assert!(
        said(&refused).contains("does not have") && said(&refused).contains("nothing was restored"),
        "{}",
        said(&refused)
    );
    assert!(!second_dir.join("patchbay.db").exists());
    let keyless_dir = root.path().join("keyless");
    let refused = patchbay(&["restore", backup_arg], &installation(&keyless_dir, None)).await;
    assert!(!refused.status.success(), "{}", said(&refused));
    assert_eq!(
        files_in(&keyless_dir),
        Vec::<String>::new(),
        "a refused restore leaves nothing, not even a generated key"
    );
    let garbage = root.path().join("notes.txt");
    std::fs::write(&garbage, "not a database, just notes ".repeat(200)).unwrap();
    let refused = patchbay(
        &["restore", garbage.to_str().unwrap()],
        &env_for(&second_dir),
    )
    .await;
    assert!(!refused.status.success());
    assert!(
        said(&refused).contains("is not a Patchbay database"),
        "{}",
        said(&refused)
    );

    // Restored into a new data directory, with the key.
    let restored_env = env_for(&second_dir);
    let restored = patchbay(&["restore", backup_arg], &restored_env).await;
    assert!(restored.status.success(), "{}", said(&restored));
    // Claims of the backed-up server's running jobs are given back, not waited out: with
    // the default 2-minute lease, all_done below would fail otherwise.
    if running_in_backup > 0 {
        assert!(
            said(&restored).contains(&format!("{running_in_backup} queue job(s) were running")),
            "{}",
            said(&restored)
        );
    }
    let twice = patchbay(&["restore", backup_arg], &restored_env).await;
    assert!(said(&twice).contains("already exists"), "{}", said(&twice));

    let started = Instant::now();
    let restored_server = serve(&restored_env, &root.path().join("second.log")).await;
    let browser = Browser::new(&restored_server.base);
    let csrf = browser.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = Admin { browser, csrf };
    let (status, list) = admin.browser.get_json("/api/v1/templates/crm").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let listed = list.to_string();
    assert!(
        listed.contains("journal_crm") && listed.contains("lookup_crm"),
        "{listed}"
    );
    // The stored API key still opens the CRM: the secret survived with its key.
    ada_is_found(&admin, &restored_server.base).await;
    // The calls the backup holds are all worked by the restored server.
    let restored_url = format!("sqlite://{}", second_dir.join("patchbay.db").display());
    all_done(&restored_url).await;
    assert_eq!(
        count(&restored_url, "SELECT COUNT(*) FROM queue_jobs").await,
        CALLS as i64
    );
    eprintln!(
        "figure: backup mid-queue ({done_in_backup} of {CALLS} jobs done, {running_in_backup} running in it), restored and worked in {:?}",
        started.elapsed()
    );
    drop(restored_server);

    // A newer Patchbay's backup, and a newer Patchbay's database.
    let newer = root.path().join("newer.db");
    std::fs::copy(&backup, &newer).unwrap();
    let newer_url = format!("sqlite://{}", newer.display());
    as_if_newer(&newer_url).await;
    let refused = patchbay(
        &["restore", newer.to_str().unwrap()],
        &env_for(&root.path().join("third")),
    )
    .await;
    assert!(!refused.status.success());
    assert!(
        said(&refused).contains("newer Patchbay") && said(&refused).contains(FUTURE_MIGRATION),
        "{}",
        said(&refused)
    );
    let mut on_newer = env_for(&root.path().join("fourth"));
    on_newer.push(("PATCHBAY_DATABASE_URL", newer_url));
    let start = patchbay(&["serve"], &on_newer).await;
    assert!(!start.status.success());
    assert!(
        said(&start).contains("written by a newer Patchbay"),
        "{}",
        said(&start)
    );
}

/// The installation's settings in `dir`, with its key.
fn env_for(dir: &Path) -> Vec<(&'static str, String)> {
    let mut env = installation(dir, Some(KEY_BYTE));
    env.push(("PATCHBAY_BIND", "127.0.0.1:0".to_owned()));
    env
}

/// The directory of PostgreSQL's client programs (pg_dump, pg_restore).
fn pg_bin(program: &str) -> std::path::PathBuf {
    let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs.pop()
        .map(|dir| dir.join(program))
        .filter(|p| p.exists())
        .unwrap_or_else(|| program.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: `make test` runs it"]
async fn a_postgres_database_is_backed_up_with_pg_dump_and_a_newer_schema_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let original = fresh_database(Db::Postgres, root.path()).await;
    let env = instance_env(root.path(), &original, KEY_BYTE, &[]);
    let crm = crm_taking(Duration::from_millis(10)).await;
    mount_lookup(&crm).await;
    let server: Process = serve(&env, &root.path().join("serve.log")).await;
    let (admin, _token) = set_up_as_admin(&server, &crm).await;
    connect_lookup(&admin, &crm).await;
    drop(server);

    let backup = root.path().join("pg.db");
    let refused = patchbay(&["backup", backup.to_str().unwrap()], &env).await;
    assert!(!refused.status.success());
    assert!(said(&refused).contains("pg_dump"), "{}", said(&refused));
    assert!(!backup.exists());

    // README "Backup and restore", PostgreSQL.
    let dump = root.path().join("patchbay.dump");
    let dumped = tokio::process::Command::new(pg_bin("pg_dump"))
        .args([
            "--format=custom",
            "--file",
            dump.to_str().unwrap(),
            &original,
        ])
        .output()
        .await
        .unwrap();
    assert!(dumped.status.success(), "{}", said(&dumped));
    let copy = fresh_database(Db::Postgres, root.path()).await;
    let restored = tokio::process::Command::new(pg_bin("pg_restore"))
        .args(["--no-owner", "--dbname", &copy, dump.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(restored.status.success(), "{}", said(&restored));
    let copy_env = instance_env(root.path(), &copy, KEY_BYTE, &[]);
    let server = serve(&copy_env, &root.path().join("copy.log")).await;
    let browser = Browser::new(&server.base);
    let csrf = browser.login_ok(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = Admin { browser, csrf };
    ada_is_found(&admin, &server.base).await;
    drop(server);

    as_if_newer(&copy).await;
    let mut start_env = copy_env.clone();
    start_env.push(("PATCHBAY_BIND", "127.0.0.1:0".to_owned()));
    let start = patchbay(&["serve"], &start_env).await;
    assert!(!start.status.success());
    assert!(
        said(&start).contains("written by a newer Patchbay"),
        "{}",
        said(&start)
    );
}
