//! Work on SQLite that runs through rusqlite rather than sqlx: bulk reads (statements that
//! return 100,000 rows and more: every account, every account's loyalty in a wave, a wave's
//! driver rows), on the raw handle of one of sqlx's pooled connections; the rows of an import,
//! on the handle of its transaction's connection ([`within`]); the answer batch's
//! transaction ([`crate::analytics::in_place`]), on a connection of its own; and the response
//! page's lookups of personal links ([`lookup`]), on others.
//!
//! Why a second driver for these: sqlx hands every SQLite row from its connection thread to
//! the async side, copying each value into an allocation of its own, which costs about 5 µs a
//! row. Reading the 100,000 accounts of the benchmark portfolio took 1.5 s that way against
//! 0.13 s in the sqlite3 shell (BENCHMARKS.md). And each statement through sqlx is a round
//! trip to that thread: a batch of answers made about twelve of them, a third of its time.
//! rusqlite steps each statement in place and reads each column straight from SQLite.
//! Everything else stays on sqlx, and PostgreSQL, whose driver has no such cost, goes through
//! sqlx alone.
//!
//! A read locks the handle away from sqlx's connection thread while rusqlite uses it, so the
//! two never touch the connection at once. The answer batches have a connection of rusqlite's
//! own ([`OwnConnection`]): no handle to borrow (a round trip to sqlx's thread) and its
//! prepared statements kept from batch to batch; so do the response page's keyed lookups of
//! personal links ([`lookup`], on a few such connections: [`Lookups`]), which every answer
//! waits for. The reads and the writes run on tokio's blocking pool so that they do not hold
//! up the async workers, except the answer batches of the response page, which its writer
//! thread runs itself ([`write_here`]); the lookups, a few microseconds each, run in place.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::StoreError;
use crate::store::{SQLITE_BUSY_TIMEOUT, SQLITE_PRAGMAS, SqliteDb};

/// Runs `read` against one of the reading connections, on the blocking pool. Each statement
/// of `read` sees the committed data as of its start (autocommit), as a read through sqlx's
/// pool does.
pub(crate) async fn read<T, F>(db: &SqliteDb, read: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
{
    let mut conn = db.readers().acquire().await?;
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || on_handle(&runtime, &mut conn, reading, |db| read(db).map_err(reading)))
        .await
        .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("a bulk read of the SQLite database stopped")))?
}

/// Runs `write` as [`write_here`] does, on the blocking pool.
pub(crate) async fn write<T, F>(db: &SqliteDb, write: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
{
    let db = db.clone();
    tokio::task::spawn_blocking(move || write_here(&db, write))
        .await
        .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("a write to the SQLite database stopped")))?
}

/// Runs `write` in one transaction on the store's own rusqlite connection ([`OwnConnection`]),
/// on the calling thread, in its turn among this process's writers ([`crate::tx::writer_turn_of`]). The
/// transaction is IMMEDIATE (it takes the write lock first, as [`crate::tx::Tx`] does) and
/// commits when `write` returns Ok; on an error nothing of it stays.
///
/// The calling thread may block (on the turn, on the disk): one of the blocking pool's, or a
/// thread of its own that has entered the runtime, never an async worker.
pub(crate) fn write_here<T>(
    db: &SqliteDb,
    write: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let out = {
        let _turn = db.writer_turn().clone().blocking_lock_owned();
        db.direct().with(|conn| {
            // A write that panicked left its transaction rolled back (rusqlite rolls back on
            // drop): the connection is as good as before.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(writing)?;
            let out = write(&tx)?;
            tx.commit().map_err(writing)?;
            Ok(out)
        })?
    };
    // This connection leaves its checkpoints to the store's checkpoint task.
    db.checkpoints().committed();
    Ok(out)
}

/// Runs `work` through rusqlite on the handle of `conn`, one of sqlx's connections, from a
/// blocking thread of `runtime`'s pool. `opening` says what a failure to wrap the handle was.
fn on_handle<T>(
    runtime: &tokio::runtime::Handle,
    conn: &mut sqlx::SqliteConnection,
    opening: fn(rusqlite::Error) -> StoreError,
    work: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut locked = runtime.block_on(conn.lock_handle())?;
    // SAFETY: the handle is a live connection that sqlx's worker cannot use while `locked` is
    // held, and `locked` outlives `db`. A connection made by `from_handle` does not close the
    // handle when dropped, and dropping `db` before `locked` is released finalizes every
    // statement `work` prepared (cached ones included), so nothing of it outlives this call.
    let db = unsafe { Connection::from_handle(locked.as_raw_handle().as_ptr()) }.map_err(opening)?;
    let out = work(&db);
    drop(db);
    out
}

/// A transaction begun through sqlx on SQLite.
pub(crate) type SqlxTransaction = sqlx::Transaction<'static, sqlx::Sqlite>;

/// Runs `work` through rusqlite on the connection of `tx`, a transaction begun through sqlx,
/// on the blocking pool, and hands the transaction back with what `work` returned; on an
/// error the transaction is rolled back. What a file import writes goes this way
/// ([`crate::writer`]): its multi-row statements stepped in place, instead of sent to sqlx's
/// connection thread with every value copied.
///
/// The transaction moves to the blocking thread and back, so a caller that stops waiting
/// (a dropped request) leaves it to be rolled back there once `work` ends: the connection is
/// never used from two threads at once.
pub(crate) async fn within<T, F>(mut tx: SqlxTransaction, work: F) -> Result<(SqlxTransaction, T), StoreError>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || on_handle(&runtime, &mut tx, writing, work).map(|value| (tx, value)))
        .await
        .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("a write to the SQLite database stopped")))?
}

/// Runs `read`, a few keyed reads, on one of the store's own connections for lookups, in
/// place on the calling thread: how the response page looks each personal link up. Each
/// statement sees the committed data as of its start (autocommit).
///
/// In place rather than on the blocking pool: a lookup is a keyed read of some microseconds,
/// and handing it to a blocking thread and back cost more than the read (about 0.3 ms with
/// both cores busy, waited for by every answer: BENCHMARKS.md, issue 4).
pub(crate) fn lookup<T>(
    db: &SqliteDb,
    read: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    db.lookups().with(|conn| read(conn))
}

/// The connections personal links are looked up through: one for each processor (2 to 8),
/// so that the async workers, each looking up in place, seldom wait for one another, and
/// each connection keeps its statement prepared and its pages cached from one lookup to the
/// next.
#[derive(Debug)]
pub(crate) struct Lookups(Vec<OwnConnection>);

impl Lookups {
    /// `count` connections to `file` with `pragmas`; nothing is opened yet.
    pub(crate) fn new(file: &Path, pragmas: &'static [(&'static str, &'static str)], count: usize) -> Lookups {
        Lookups((0..count.max(1)).map(|_| OwnConnection::new(file, pragmas)).collect())
    }

    /// Runs `work` on the first connection not in use, or waits for the first one.
    fn with<T>(&self, work: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let free = self.0.iter().find_map(|c| match c.conn.try_lock() {
            Ok(slot) => Some((c, slot)),
            Err(std::sync::TryLockError::Poisoned(p)) => Some((c, p.into_inner())),
            Err(std::sync::TryLockError::WouldBlock) => None,
        });
        let (conn, slot) =
            free.unwrap_or_else(|| (&self.0[0], self.0[0].conn.lock().unwrap_or_else(PoisonError::into_inner)));
        conn.use_slot(slot, work)
    }

    /// Closes every connection, once a use in progress has ended; later uses fail.
    pub(crate) fn close(&self) {
        self.0.iter().for_each(OwnConnection::close);
    }
}

/// A connection of rusqlite's own to the store's file, opened on first use, with the settings
/// of sqlx's connections (and its own, [`OwnConnection::new`]); its statements stay prepared
/// from one use to the next.
pub(crate) struct OwnConnection {
    file: PathBuf,
    pragmas: &'static [(&'static str, &'static str)],
    /// Whether the schema's triggers fire for this connection's writes.
    triggers: bool,
    conn: Mutex<Slot>,
}

/// Where the connection is at.
enum Slot {
    /// Not opened yet.
    Unopened,
    Open(Connection),
    /// The store was closed: a use now fails, as one through a closed sqlx pool does.
    Closed,
}

impl std::fmt::Debug for OwnConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnConnection").field("file", &self.file).finish_non_exhaustive()
    }
}

impl OwnConnection {
    /// A connection to `file` with `pragmas` set after sqlx's; nothing is opened yet.
    pub(crate) fn new(file: &Path, pragmas: &'static [(&'static str, &'static str)]) -> OwnConnection {
        OwnConnection { file: file.to_path_buf(), pragmas, triggers: true, conn: Mutex::new(Slot::Unopened) }
    }

    /// The connection the answer batches write through: [`ANSWER_WRITER`]'s settings, and the
    /// schema's triggers off.
    pub(crate) fn answer_writer(file: &Path) -> OwnConnection {
        OwnConnection { triggers: false, ..OwnConnection::new(file, ANSWER_WRITER) }
    }

    /// Closes the connection, once a use in progress has ended; later uses fail.
    pub(crate) fn close(&self) {
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = Slot::Closed;
    }

    /// Runs `work` on the connection, opening it first if need be; one use at a time.
    pub(crate) fn with<T>(&self, work: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.use_slot(self.conn.lock().unwrap_or_else(PoisonError::into_inner), work)
    }

    /// Runs `work` on the connection in `slot`, this connection's, locked by the caller.
    fn use_slot<T>(
        &self,
        mut slot: MutexGuard<'_, Slot>,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if matches!(*slot, Slot::Unopened) {
            let opened = open(&self.file, self.pragmas).and_then(|conn| {
                conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, self.triggers)?;
                Ok(conn)
            });
            *slot = Slot::Open(opened.map_err(|e| {
                StoreError::Other(anyhow::Error::new(e).context(format!("opening {}", self.file.display())))
            })?);
        }
        let Slot::Open(conn) = &mut *slot else {
            return Err(StoreError::Other(anyhow::anyhow!(
                "the database {} was closed: nothing more can be read from it or written to it",
                self.file.display()
            )));
        };
        work(conn)
    }

    /// Whether the store was closed.
    pub(crate) fn is_closed(&self) -> bool {
        matches!(*self.conn.lock().unwrap_or_else(PoisonError::into_inner), Slot::Closed)
    }

    /// The file the connection opens.
    pub(crate) fn file(&self) -> &Path {
        &self.file
    }
}

/// The setting of a connection that reads through its page cache rather than a memory map of
/// the file (for why, see where it is used).
pub(crate) const THROUGH_PAGE_CACHE: &[(&str, &str)] = &[("mmap_size", "0")];

/// The settings of the connection that writes the answer batches (and rebuilds the cells).
/// - A page cache of 4 MB instead of 64 MB. It reads through the memory map, so its cache
///   holds little more than the pages it changes; and at every commit SQLite walks the whole
///   of the cache's hash table (`pcache1TruncateUnsafe`), which with 64 MB took 4% of the
///   server's processor under the answer benchmark, hundreds of commits a second
///   (BENCHMARKS.md, issue 4).
/// - Triggers off ([`OwnConnection::answer_writer`]). The schema has one, `responses_to_inbox`,
///   which puts each new answer in the follow-up inbox: the answer batch decides itself which
///   answers wait for the alert rules and follows them up at once, or leaves them in the inbox
///   ([`crate::alerts::in_place`]). Fired, the trigger made every answer's insert keep a
///   statement journal and the batch take each inbox row out again, a tenth of the batch's
///   time (BENCHMARKS.md, issue 4). A test fails when the schema gains another trigger.
/// - No checkpoints of its own (`wal_autocheckpoint` 0): [`crate::checkpoint`] runs them beside
///   it, on another connection, after its commits.
/// - Foreign keys unchecked, as on the import's connection ([`crate::tx::Tx::begin_bulk`]):
///   every write here reads what it refers to in its own IMMEDIATE transaction first (an
///   answer batch its contacts, their accounts, the invitations with their waves, the
///   webhooks it queues events for; a rebuild the answers it counts), and everything else it
///   refers to it wrote itself. SQLite's own check repeated those reads for every row: about
///   a dozen B-tree lookups for an answer that raises an alert.
pub(crate) const ANSWER_WRITER: &[(&str, &str)] =
    &[("cache_size", "-4096"), ("wal_autocheckpoint", "0"), ("foreign_keys", "OFF")];

/// How many prepared statements a connection of rusqlite's own keeps. An answer batch that
/// follows its answers up runs about twenty; with rusqlite's default of sixteen, each batch
/// prepared some of them again (BENCHMARKS.md, issue 4).
const STATEMENTS_KEPT: usize = 64;

/// A new rusqlite connection to the store's `file`, with the settings of sqlx's connections,
/// then `pragmas`.
pub(crate) fn open(file: &Path, pragmas: &[(&str, &str)]) -> rusqlite::Result<Connection> {
    // The store made the file and its schema: this connection only opens it.
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
    for (name, value) in SQLITE_PRAGMAS.iter().chain(pragmas) {
        conn.execute_batch(&format!("PRAGMA {name} = {value}"))?;
    }
    Ok(conn)
}

/// `at` as the `created_at` and `updated_at` columns' default writes it on SQLite
/// (`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`). Bulk writes bind it, worked out once, because
/// SQLite evaluates a column's default for every row: for a million contacts its two stamps
/// took about 2 s of a 6 s upsert (BENCHMARKS.md, issue 2).
pub(crate) fn stamp(at: time::OffsetDateTime) -> Result<String, StoreError> {
    at.format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"))
        .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("writing a time")))
}

fn reading(err: rusqlite::Error) -> StoreError {
    StoreError::Other(anyhow::Error::new(err).context("reading the SQLite database"))
}

/// A failed write: a unique or foreign-key constraint's refusal as a [`StoreError::Conflict`],
/// as through sqlx, anything else with its context.
pub(crate) fn writing(err: rusqlite::Error) -> StoreError {
    use rusqlite::ffi::{SQLITE_CONSTRAINT_FOREIGNKEY, SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE};
    match err {
        rusqlite::Error::SqliteFailure(e, message)
            if matches!(
                e.extended_code,
                SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY | SQLITE_CONSTRAINT_FOREIGNKEY
            ) =>
        {
            StoreError::Conflict { constraint: message.unwrap_or_else(|| e.to_string()) }
        }
        other => StoreError::Other(anyhow::Error::new(other).context("writing to the SQLite database")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new database file in WAL mode with one invitation-like row.
    fn database(dir: &Path) -> PathBuf {
        let file = dir.join("rapport.db");
        Connection::open(&file)
            .unwrap()
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE links (id INTEGER PRIMARY KEY, secret TEXT); \
                 INSERT INTO links VALUES (7, 'abc')",
            )
            .unwrap();
        file
    }

    #[test]
    fn a_lookup_while_another_runs_takes_a_connection_of_its_own_and_a_closed_set_refuses_both() {
        let dir = tempfile::tempdir().unwrap();
        let lookups = Lookups::new(&database(dir.path()), THROUGH_PAGE_CACHE, 2);
        let secret = |conn: &mut Connection| -> Result<String, StoreError> {
            Ok(conn.query_row("SELECT secret FROM links WHERE id = 7", [], |r| r.get(0)).unwrap())
        };
        let (outer, inner) = lookups
            .with(|outer| {
                // A temporary table is its connection's alone: the inner lookup does not see it.
                outer.execute_batch("CREATE TEMP TABLE mark (x)").unwrap();
                let inner = lookups.with(|inner| {
                    let marks: i64 = inner
                        .query_row("SELECT count(*) FROM temp.sqlite_master WHERE name = 'mark'", [], |r| r.get(0))
                        .unwrap();
                    Ok((marks, secret(inner)?))
                })?;
                Ok((secret(outer)?, inner))
            })
            .unwrap();
        assert_eq!(outer, "abc");
        assert_eq!(inner, (0, "abc".to_string()), "the inner lookup ran on the other connection");

        lookups.close();
        let err = lookups.with(secret).unwrap_err();
        assert!(format!("{err:#}").contains("was closed"), "{err:#}");
    }
}
