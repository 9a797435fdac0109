//! The one handle on the database: SQLite (embedded, the default) or PostgreSQL.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::error::StoreError;
use crate::{checkpoint, direct};

/// The database, whichever backend it is. Cheap to clone (pool handles).
#[derive(Clone, Debug)]
pub enum Store {
    /// An embedded SQLite file.
    Sqlite(SqliteDb),
    /// A PostgreSQL server.
    Postgres(PgPool),
}

/// An embedded SQLite database: connections to read through, one connection that every sqlx
/// transaction and write statement of Rapport goes through, the rusqlite connection the
/// answer batches write through, and the one the response page looks personal links up
/// through ([`direct::OwnConnection`]).
///
/// Why few writers: SQLite lets one transaction write at a time anyway, and a connection that
/// finds the file changed by another connection drops its whole page cache (and its mapping
/// of the file) before it reads. Writes spread over the pool paid that on nearly every
/// transaction (BENCHMARKS.md, issue 4). Now the answer batches, most of the writes under
/// load, follow one another on one connection and keep its pages cached; only the other
/// writes in between (the follow-up scanner's, an import's) make it start cold.
#[derive(Clone, Debug)]
pub struct SqliteDb {
    readers: SqlitePool,
    writer: SqlitePool,
    bulk: SqlitePool,
    direct: Arc<direct::OwnConnection>,
    lookups: Arc<direct::Lookups>,
    checkpoints: Arc<checkpoint::Checkpoints>,
    turn: Arc<tokio::sync::Mutex<()>>,
}

/// The settings of every connection to an SQLite file, sqlx's and rusqlite's alike (besides
/// WAL, which the file keeps).
pub(crate) const SQLITE_PRAGMAS: [(&str, &str); 5] = [
    // Every commit reaches the disk before it returns (an answer is durable before its
    // thank-you page is sent); bulk writes are few large transactions, so the cost is one
    // sync per commit, not per row.
    ("synchronous", "FULL"),
    ("foreign_keys", "ON"),
    ("temp_store", "memory"),
    ("cache_size", "-65536"),
    // Readers read through a mapping of the file instead of each warming a page cache.
    ("mmap_size", "4294967296"),
];

/// How long a connection waits for another process's write before it gives up.
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl SqliteDb {
    /// The connections to read through (any statement may run here, but writes belong on
    /// the writer: see [`crate::tx`]).
    pub fn readers(&self) -> &SqlitePool {
        &self.readers
    }

    /// The one connection writes go through, taken in the database's writer turn
    /// ([`crate::tx::writer_turn_of`]).
    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// The connection bulk writes (an import, the demo) go through, in the database's writer
    /// turn: the writer's settings but foreign keys unchecked (see [`crate::tx::Tx::begin_bulk`]).
    pub(crate) fn bulk(&self) -> &SqlitePool {
        &self.bulk
    }

    /// The connection the answer batches write through, outside sqlx (see [`direct`]).
    pub(crate) fn direct(&self) -> &Arc<direct::OwnConnection> {
        &self.direct
    }

    /// The connections the response page looks personal links up through, outside sqlx (see
    /// [`direct::lookup`]).
    pub(crate) fn lookups(&self) -> &Arc<direct::Lookups> {
        &self.lookups
    }

    /// The database's writer turn, which every write of this process takes first (see
    /// [`crate::tx::writer_turn_of`]).
    pub(crate) fn writer_turn(&self) -> &Arc<tokio::sync::Mutex<()>> {
        &self.turn
    }

    /// The checkpoints run beside the answer writer (see [`checkpoint`]).
    pub(crate) fn checkpoints(&self) -> &Arc<checkpoint::Checkpoints> {
        &self.checkpoints
    }
}

/// Expands `$body` once per backend, binding the pool to `$pool` (on SQLite, its readers),
/// so one piece of portable SQL serves both databases.
#[macro_export]
#[doc(hidden)]
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            $crate::Store::Sqlite(db) => {
                let $pool = db.readers();
                $body
            }
            $crate::Store::Postgres($pool) => $body,
        }
    };
}

/// Which backend a [`Store`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Store {
    /// Opens the database named by `url` and brings its schema up to date.
    ///
    /// `sqlite://FILE` creates the file on first use (WAL, foreign keys on, a busy
    /// timeout); `postgres://` (or `postgresql://`) connects to a server.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let store = if url.starts_with("sqlite:") {
            let mut options = SqliteConnectOptions::from_str(url)
                .map_err(|e| {
                    StoreError::Other(anyhow::Error::new(e).context(format!("reading the SQLite URL '{url}'")))
                })?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            for (name, value) in SQLITE_PRAGMAS {
                options = options.pragma(name, value);
            }
            let direct = Arc::new(direct::OwnConnection::answer_writer(options.get_filename()));
            // The lookups read through the page cache, not a memory map: after every commit
            // of another connection (the answer writer's, hundreds a second) a connection
            // drops its map of the whole file before it reads again, and that `munmap` was a
            // sixth of the lookups' time, spent on the async workers that run them.
            let processors = std::thread::available_parallelism().map_or(2, usize::from);
            let lookups = Arc::new(direct::Lookups::new(
                options.get_filename(),
                direct::THROUGH_PAGE_CACHE,
                processors.clamp(2, 8),
            ));
            let opening = |e: sqlx::Error| {
                StoreError::Other(anyhow::Error::new(e).context(format!("opening the SQLite database {url}")))
            };
            // A connection to a local file cannot go stale, so the pool hands it out without the
            // round trip to its worker thread that a test before each use would cost.
            let readers = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_with(options.clone())
                .await
                .map_err(opening)?;
            // Opened when the first bulk write comes, closed a while after the last. Its
            // temporary storage is a file: the indexes a bulk write builds at its end
            // (`Writer::set_indexes_aside`) are sorted in memory up to the cache's size and
            // past it in a temporary file, so that memory stays flat in the size of the file.
            let bulk = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(0)
                .idle_timeout(Some(Duration::from_secs(60)))
                .test_before_acquire(false)
                .connect_lazy_with(options.clone().pragma("foreign_keys", "OFF").pragma("temp_store", "file"));
            // The writer's connection lives as long as the store: its cache is the point.
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .test_before_acquire(false)
                .connect_with(options)
                .await
                .map_err(opening)?;
            let turn = crate::tx::writer_turn_of(direct.file());
            let checkpoints = Arc::new(checkpoint::Checkpoints::new(direct.file(), turn.clone()));
            Store::Sqlite(SqliteDb { readers, writer, bulk, direct, lookups, checkpoints, turn })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|e| {
                StoreError::Other(anyhow::Error::new(e).context(format!(
                    "reading the PostgreSQL URL {}: write it as postgres://USER[:PASS]@HOST[:PORT]/DB",
                    redact(url)
                )))
            })?;
            let connect = |options| {
                PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect_with(options)
            };
            let pool = match plain_on_this_machine(url, &options) {
                // A server that wants TLS even on this machine (a `hostssl` line) is reached
                // as sqlx reaches any other.
                true => match connect(options.clone().ssl_mode(PgSslMode::Disable)).await {
                    Ok(pool) => Ok(pool),
                    Err(_) => connect(options).await,
                },
                false => connect(options).await,
            }
            .map_err(|e| {
                StoreError::Other(anyhow::Error::new(e).context(format!(
                    "connecting to PostgreSQL at {}: is the server running and the database created?",
                    redact(url)
                )))
            })?;
            Store::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        store.migrate().await?;
        store.pack_old_cells().await?;
        Ok(store)
    }

    /// Applies the migrations this build carries that the database has not seen.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(db) => sqlx::migrate!("migrations/sqlite").run(db.writer()).await?,
            Store::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection (waits for those in use).
    pub async fn close(&self) {
        match self {
            Store::Sqlite(db) => {
                db.readers.close().await;
                db.writer.close().await;
                db.bulk.close().await;
                db.direct.close();
                db.lookups.close();
                db.checkpoints.close();
            }
            Store::Postgres(pool) => pool.close().await,
        }
    }
}

/// A database URL with its password replaced, fit for messages and logs.
/// Whether to reach PostgreSQL without TLS: when the server is on this machine (a loopback
/// address or `localhost`) and neither the URL (`sslmode=`) nor `PGSSLMODE` says how. Traffic
/// that never leaves the machine gains nothing from encryption, as with a local server's
/// socket, and encrypting it cost both sides a tenth of a rebuild at 100,000 accounts
/// (BENCHMARKS.md, issue 3). Anywhere else sqlx's default stands: TLS when the server offers it.
fn plain_on_this_machine(url: &str, options: &PgConnectOptions) -> bool {
    let said = url.split_once('?').is_some_and(|(_, query)| query.split('&').any(|p| p.starts_with("sslmode=")))
        || std::env::var_os("PGSSLMODE").is_some();
    let host = options.get_host().trim_start_matches('[').trim_end_matches(']');
    let local =
        host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    local && !said
}

pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/rapport"), "postgres://app:***@db:5432/rapport");
        assert_eq!(redact("postgres://postgres@127.0.0.1/x"), "postgres://postgres@127.0.0.1/x");
        assert_eq!(redact("sqlite://rapport.db"), "sqlite://rapport.db");
    }

    #[test]
    fn postgres_on_this_machine_is_reached_without_tls_unless_the_url_says_how() {
        let plain = |url: &str| plain_on_this_machine(url, &PgConnectOptions::from_str(url).unwrap());
        if std::env::var_os("PGSSLMODE").is_none() {
            assert!(plain("postgres://postgres@127.0.0.1:5432/rapport"));
            assert!(plain("postgres://postgres@localhost/rapport"));
            assert!(plain("postgres://postgres@[::1]:5432/rapport"));
        }
        assert!(!plain("postgres://postgres@127.0.0.1/rapport?sslmode=require"), "the URL's mode stands");
        assert!(!plain("postgres://postgres@127.0.0.1/rapport?application_name=x&sslmode=prefer"));
        assert!(!plain("postgres://app@db.example.com/rapport"), "a server elsewhere is sqlx's default");
        assert!(!plain("postgres://app@10.0.0.5/rapport"));
    }

    #[test]
    fn a_store_on_this_machine_talks_to_postgres_unencrypted() {
        rapport_test_utils::with_postgres("the loopback TLS test", |url| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let Store::Postgres(pool) = Store::connect(url).await.unwrap() else {
                    unreachable!("a PostgreSQL URL")
                };
                let ssl: Option<bool> = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                assert_eq!(ssl, Some(false), "{}", redact(url));
            });
        });
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let names = |dir: &str| {
            let mut v: Vec<String> = std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names("sqlite"), names("postgres"));
    }
}
