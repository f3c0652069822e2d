//! Backups of a SQLite database and their restore (README "Backup and restore").
//!
//! A backup is `VACUUM INTO` a new file: SQLite copies one consistent snapshot (a read
//! transaction) while the server goes on writing beside it, and the copy is compact and
//! whole, with no `-wal` file to forget. It is written under a temporary name, checked, and
//! only then given its name, so a file with the backup's name is always a whole backup.
//!
//! A restore reads the backup, checks that it is a sound Patchbay database this version
//! understands, and copies it into a database file that does not exist yet: it never
//! overwrites a database.
//!
//! PostgreSQL has its own tools (`pg_dump`, `pg_restore`); [`unknown_migrations`] makes any
//! start on a database from a newer Patchbay stop with a clear error (`storage::connect`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, Statement};

/// The table where sea-orm records the migrations a database has.
const MIGRATIONS_TABLE: &str = "seaql_migrations";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} is a PostgreSQL database: back it up with pg_dump and restore it with pg_restore (README \"Backup and restore\")")]
    NotSqlite(String),
    #[error("{} already exists: a backup never overwrites a file; choose a new name", .0.display())]
    BackupExists(PathBuf),
    #[error("the database {} already exists: restore only into a new data directory (or move that file aside first)", .0.display())]
    TargetExists(PathBuf),
    #[error("cannot read {}: {source}", .path.display())]
    Unreadable { path: PathBuf, source: DbErr },
    #[error("{} is not a Patchbay database: {reason}", .path.display())]
    NotPatchbay { path: PathBuf, reason: String },
    #[error("{} is damaged (SQLite's integrity check: {detail})", .path.display())]
    Damaged { path: PathBuf, detail: String },
    #[error(transparent)]
    Newer(#[from] NewerSchema),
    #[error("the backup's secrets are encrypted with key(s) {} that the configuration does not have", .0.join(", "))]
    KeysMissing(Vec<String>),
    #[error("cannot write {}: {source}", .path.display())]
    Write { path: PathBuf, source: DbErr },
    #[error("cannot name or protect {}: {source}", .path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The database holds migrations this version does not have: a newer Patchbay wrote it.
#[derive(Debug, thiserror::Error)]
#[error("{what} was written by a newer Patchbay: its schema has {} this version does not know ({}); run that version or a newer one", if .unknown.len() == 1 { "a migration" } else { "migrations" }, .unknown.join(", "))]
pub struct NewerSchema {
    pub what: String,
    pub unknown: Vec<String>,
}

/// What a backup holds, as the operator is told about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub bytes: u64,
    /// The newest migration in it (the schema's version).
    pub schema: String,
    /// Rows of the tables an operator would look for.
    pub rows: BTreeMap<&'static str, u64>,
    /// Stored secrets per encryption key id: without those keys they cannot be read.
    pub secrets_by_key: BTreeMap<String, u64>,
    /// Jobs running when the backup was taken, given back to the queue by a restore.
    pub released_jobs: u64,
}

/// The tables of stored secrets, each row sealed under the key its `key_id` names.
const SECRET_TABLES: &[&str] = &["integration_secrets", "phone_system_secrets"];

/// Tables whose rows a snapshot counts.
const COUNTED: &[(&str, &str)] = &[
    ("accounts", "accounts"),
    ("templates", "templates"),
    ("integrations", "integrations"),
    ("queue jobs", "queue_jobs"),
    ("activity rows", "activity"),
    ("extensions", "extensions"),
];

/// The SQLite file a database URL names (`None` for PostgreSQL or an in-memory database).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    super::sqlite_file(url).map(Path::to_path_buf)
}

/// The migrations `db` has that this version does not know (a newer Patchbay's); none for
/// a new, empty database.
pub async fn unknown_migrations(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let Some(applied) = applied_migrations(db).await? else {
        return Ok(Vec::new());
    };
    let known: BTreeSet<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    Ok(applied.difference(&known).cloned().collect())
}

/// The migrations `db` records; `None` when it has no migrations table.
async fn applied_migrations(db: &DatabaseConnection) -> Result<Option<BTreeSet<String>>, DbErr> {
    let backend = db.get_database_backend();
    let rows = match db
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT version FROM {MIGRATIONS_TABLE}"),
        ))
        .await
    {
        Ok(rows) => rows,
        Err(error) if error.to_string().contains(MIGRATIONS_TABLE) => return Ok(None),
        Err(error) => return Err(error),
    };
    rows.iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect::<Result<BTreeSet<_>, _>>()
        .map(Some)
}

/// Writes a consistent copy of the SQLite database `db` (opened from `url`) to `to`, which
/// must not exist; answers what it holds.
pub async fn back_up(
    db: &DatabaseConnection,
    url: &str,
    to: &Path,
) -> Result<Snapshot, BackupError> {
    if sqlite_path(url).is_none() {
        return Err(BackupError::NotSqlite(redacted(url)));
    }
    if to.exists() {
        return Err(BackupError::BackupExists(to.to_owned()));
    }
    let partial = partial_name(to);
    let _ = std::fs::remove_file(&partial);
    vacuum_into(db, &partial).await?;
    let checked = async {
        protect(&partial)?;
        let snapshot = inspect(&partial).await?;
        if to.exists() {
            return Err(BackupError::BackupExists(to.to_owned()));
        }
        std::fs::rename(&partial, to).map_err(|source| BackupError::File {
            path: to.to_owned(),
            source,
        })?;
        Ok(snapshot)
    }
    .await;
    if checked.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    checked
}

/// Opens the backup `from` read-only and answers what it holds, after checking it is a
/// sound Patchbay database of a schema this version knows.
pub async fn inspect(from: &Path) -> Result<Snapshot, BackupError> {
    let unreadable = |source| BackupError::Unreadable {
        path: from.to_owned(),
        source,
    };
    if !from.is_file() {
        return Err(unreadable(DbErr::Custom("no such file".into())));
    }
    let db = open_read_only(from)
        .await
        .map_err(|error| unreadable_or_foreign(from, error))?;
    let outcome = inspect_open(&db, from).await;
    let _ = db.close().await;
    outcome
}

async fn inspect_open(db: &DatabaseConnection, from: &Path) -> Result<Snapshot, BackupError> {
    let unreadable = |source| BackupError::Unreadable {
        path: from.to_owned(),
        source,
    };
    let not_patchbay = |reason: &str| BackupError::NotPatchbay {
        path: from.to_owned(),
        reason: reason.to_owned(),
    };
    let integrity = single_text(db, "PRAGMA integrity_check")
        .await
        .map_err(|error| unreadable_or_foreign(from, error))?;
    if integrity != "ok" {
        return Err(BackupError::Damaged {
            path: from.to_owned(),
            detail: integrity,
        });
    }
    let applied = applied_migrations(db)
        .await
        .map_err(unreadable)?
        .filter(|applied| !applied.is_empty())
        .ok_or_else(|| not_patchbay("it has no Patchbay migrations"))?;
    let unknown = unknown_migrations(db).await.map_err(unreadable)?;
    if !unknown.is_empty() {
        return Err(NewerSchema {
            what: format!("the backup {}", from.display()),
            unknown,
        }
        .into());
    }
    let mut rows = BTreeMap::new();
    for (label, table) in COUNTED {
        let count = single_count(db, &format!("SELECT COUNT(*) FROM {table}"))
            .await
            .map_err(unreadable)?;
        rows.insert(*label, count);
    }
    let mut secrets_by_key = BTreeMap::new();
    for table in SECRET_TABLES {
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT key_id, COUNT(*) FROM {table} GROUP BY key_id"),
            ))
            .await
            .map_err(unreadable)?;
        for row in rows {
            let id: String = row.try_get_by_index(0).map_err(unreadable)?;
            let count: i64 = row.try_get_by_index(1).map_err(unreadable)?;
            *secrets_by_key.entry(id).or_insert(0) += count.max(0) as u64;
        }
    }
    Ok(Snapshot {
        bytes: std::fs::metadata(from).map(|m| m.len()).unwrap_or(0),
        schema: applied.last().cloned().unwrap_or_default(),
        rows,
        secrets_by_key,
        released_jobs: 0,
    })
}

/// Copies the backup `from` into the SQLite database `url` names, which must not exist yet,
/// when its secrets are all sealed under `readable_keys` (key ids). Answers what was
/// restored; the server brings the schema up to date when it starts.
pub async fn restore(
    from: &Path,
    url: &str,
    readable_keys: &[String],
) -> Result<Snapshot, BackupError> {
    let Some(target) = sqlite_path(url) else {
        return Err(BackupError::NotSqlite(redacted(url)));
    };
    if target.exists() {
        return Err(BackupError::TargetExists(target));
    }
    let mut snapshot = inspect(from).await?;
    let missing: Vec<String> = snapshot
        .secrets_by_key
        .keys()
        .filter(|id| !readable_keys.contains(id))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(BackupError::KeysMissing(missing));
    }
    if let Some(dir) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        super::create_private_dir(dir).map_err(|source| BackupError::File {
            path: dir.to_owned(),
            source,
        })?;
    }
    let partial = partial_name(&target);
    let _ = std::fs::remove_file(&partial);
    let db = open_read_only(from)
        .await
        .map_err(|source| BackupError::Unreadable {
            path: from.to_owned(),
            source,
        })?;
    let copied = vacuum_into(&db, &partial).await;
    let _ = db.close().await;
    let copied = match copied {
        Ok(()) => release_claims(&partial).await,
        Err(error) => Err(error),
    };
    let placed = copied.and_then(|released| {
        snapshot.released_jobs = released;
        protect(&partial)?;
        if target.exists() {
            return Err(BackupError::TargetExists(target.clone()));
        }
        std::fs::rename(&partial, &target).map_err(|source| BackupError::File {
            path: target.clone(),
            source,
        })
    });
    if placed.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    placed.map(|()| snapshot)
}

/// SQLite's "file is not a database" said as what it means for a backup.
fn unreadable_or_foreign(path: &Path, source: DbErr) -> BackupError {
    if source.to_string().contains("not a database") {
        BackupError::NotPatchbay {
            path: path.to_owned(),
            reason: "it is not an SQLite database".into(),
        }
    } else {
        BackupError::Unreadable {
            path: path.to_owned(),
            source,
        }
    }
}

/// Jobs that were running when the backup was taken belong to no server of the restored
/// installation: they go back to the queue, due now, flagged as taken over (their request
/// may have reached the CRM before or after the backup). Answers how many.
async fn release_claims(copy: &Path) -> Result<u64, BackupError> {
    let write_error = |source| BackupError::Write {
        path: copy.to_owned(),
        source,
    };
    let mut options = ConnectOptions::new(format!("sqlite://{}?mode=rw", copy.display()));
    options.sqlx_logging(false).max_connections(1);
    let db = Database::connect(options).await.map_err(write_error)?;
    let released = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE queue_jobs SET state = 'pending', lease_until = 0, next_attempt_at = ?, \
             retaken = 1 WHERE state = 'running'",
            [super::unix_now_ms().into()],
        ))
        .await
        .map(|result| result.rows_affected());
    let _ = db.close().await;
    released.map_err(write_error)
}

async fn open_read_only(file: &Path) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(format!("sqlite://{}?mode=ro", file.display()));
    options.sqlx_logging(false).max_connections(1);
    Database::connect(options).await
}

async fn vacuum_into(db: &DatabaseConnection, to: &Path) -> Result<(), BackupError> {
    // A path is text in SQL here: quotes doubled, as SQLite reads a string literal.
    let literal = to.display().to_string().replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{literal}'"))
        .await
        .map(drop)
        .map_err(|source| BackupError::Write {
            path: to.to_owned(),
            source,
        })
}

/// The name a copy is written under until it is whole and checked.
fn partial_name(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.with_file_name(format!(".{name}.partial"))
}

/// Readable by its owner only: a backup holds password hashes and encrypted secrets.
fn protect(file: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| BackupError::File {
                path: file.to_owned(),
                source,
            },
        )?;
    }
    Ok(())
}

/// A database URL without its password, for messages.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

async fn single_text(db: &DatabaseConnection, sql: &str) -> Result<String, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| DbErr::Custom(format!("{sql} answered nothing")))?;
    row.try_get_by_index::<String>(0)
}

async fn single_count(db: &DatabaseConnection, sql: &str) -> Result<u64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| DbErr::Custom(format!("{sql} answered nothing")))?;
    row.try_get_by_index::<i64>(0).map(|n| n.max(0) as u64)
}
