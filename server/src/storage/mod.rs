//! Storage: one sea-orm connection to SQLite (default) or PostgreSQL, migrated at start-up.

pub use crate::clock::{unix_now, unix_now_ms};

pub mod accounts;
pub mod activity;
pub mod agents;
pub mod api_tokens;
pub mod associations;
pub mod backup;
pub mod call_feed;
pub mod contact_cache;
pub mod counters;
pub mod crm_users;
pub mod drift;
pub mod entities;
pub mod extension_groups;
pub mod extensions;
pub mod integrations;
pub mod notifications;
pub mod oauth_states;
pub mod phone_system;
pub mod queue;
pub mod recent;
pub mod session_store;
pub mod templates;
pub mod test_cases;

use std::path::Path;
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open the database: {0}")]
    Connect(DbErr),
    #[error("cannot apply database migrations: {0}")]
    Migrate(DbErr),
    #[error("cannot create the directory {path} for the SQLite database: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error(transparent)]
    Newer(#[from] backup::NewerSchema),
}

/// Opens the database at `url` and brings its schema up to date.
pub async fn connect(url: &str) -> Result<DatabaseConnection, StorageError> {
    if let Some(file) = sqlite_file(url) {
        prepare_private_sqlite_file(file).map_err(|source| StorageError::CreateDir {
            path: file.display().to_string(),
            source,
        })?;
    }
    let mut options = pool_options(url);
    if url.starts_with("sqlite:") {
        // SQLite allows one writer; a single connection avoids "database is locked" errors.
        options.max_connections(1);
    }
    let db = Database::connect(options)
        .await
        .map_err(StorageError::Connect)?;
    if url.starts_with("sqlite:") {
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL;")
            .await
            .map_err(StorageError::Connect)?;
    }
    // A database restored from a newer Patchbay's backup: refused, not half migrated.
    let unknown = backup::unknown_migrations(&db)
        .await
        .map_err(StorageError::Migrate)?;
    if !unknown.is_empty() {
        return Err(backup::NewerSchema {
            what: "the database".into(),
            unknown,
        }
        .into());
    }
    Migrator::up(&db, None)
        .await
        .map_err(StorageError::Migrate)?;
    Ok(db)
}

/// How many connections serve the busiest pages' reads on a SQLite file (the template list,
/// the calls page): in WAL mode readers run beside the one writer, and on the writer's one
/// connection every page would wait behind every other page's queries.
pub const SQLITE_READ_CONNECTIONS: u32 = 4;

/// The pool for reads that need no transaction and no write before them in the same request.
/// On a SQLite file: [`SQLITE_READ_CONNECTIONS`] connections of its own, each refusing to
/// write (`PRAGMA query_only`), so none ever holds or waits for the write lock. Elsewhere
/// (PostgreSQL's pool already serves many at once, an in-memory SQLite database is one
/// connection's own): the primary pool.
pub async fn connect_reads(
    url: &str,
    primary: &DatabaseConnection,
) -> Result<DatabaseConnection, StorageError> {
    if sqlite_file(url).is_none() {
        return Ok(primary.clone());
    }
    let mut options = pool_options(url);
    options
        .max_connections(SQLITE_READ_CONNECTIONS)
        .min_connections(0)
        .map_sqlx_sqlite_opts(|options| options.pragma("query_only", "ON"));
    Database::connect(options)
        .await
        .map_err(StorageError::Connect)
}

/// A pooled PostgreSQL connection idle this long is pinged before it is handed out: a
/// server, proxy or firewall may have dropped it meanwhile.
pub const POOL_PING_AFTER_IDLE: Duration = Duration::from_secs(30);

/// What every pool shares. sqlx pings a connection each time it leaves the pool by default:
/// a round trip to the connection's worker thread before every query, about a tenth of a
/// busy page's time on SQLite, whose connections are a file's and are never dropped under
/// it. PostgreSQL's are pinged only after [`POOL_PING_AFTER_IDLE`].
fn pool_options(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_string());
    // sqlx logs every statement at info level by default; statements can carry secrets.
    options.sqlx_logging(false);
    if url.starts_with("sqlite:") {
        options.test_before_acquire(false);
    } else {
        options.test_before_acquire_if_idle_for(POOL_PING_AFTER_IDLE);
    }
    options
}

fn sqlite_file(url: &str) -> Option<&Path> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(Path::new(path))
}

/// Creates `dir` (and its missing parents) readable by the owner only: it holds the
/// database and the encryption key. An existing directory is left as the operator set it.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// The database holds password hashes and encrypted secrets: its directory is created
/// 0700 and the file 0600 (SQLite itself would create it with the process umask).
fn prepare_private_sqlite_file(file: &Path) -> std::io::Result<()> {
    if let Some(dir) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(file).map(drop)
}

/// `column` contains `needle`, ignoring case on both databases (PostgreSQL's LIKE does
/// not). LIKE's wildcards in the needle are dropped rather than escaped: nobody searches
/// for them in a directory.
pub fn contains_ignoring_case(
    column: impl sea_orm::ColumnTrait,
    needle: &str,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    let pattern = format!("%{}%", needle.replace(['%', '_', '\\'], "").to_lowercase());
    Expr::expr(Func::lower(Expr::col(column))).like(pattern)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_sqlite_file() {
        assert_eq!(
            sqlite_file("sqlite://./data/patchbay.db?mode=rwc"),
            Some(Path::new("./data/patchbay.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://localhost/patchbay"), None);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_database_file_and_its_directory_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data/patchbay.db");
        connect(&format!("sqlite://{}?mode=rwc", file.display()))
            .await
            .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
    }
}
