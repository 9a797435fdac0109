//! Work on SQLite that runs through rusqlite on the raw handle of one of sqlx's pooled
//! connections: bulk reads (statements that return 100,000 rows and more: every account,
//! every account's loyalty in a wave, a wave's driver rows) and the answer batch's
//! transaction ([`crate::analytics::in_place`]).
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
//! The handle is locked away from sqlx's connection thread while rusqlite uses it, so the two
//! never touch the connection at once, and the work runs on tokio's blocking pool so that it
//! does not hold up the async workers.

use rusqlite::{Connection, Transaction, TransactionBehavior};
use sqlx::sqlite::SqlitePool;

use crate::error::StoreError;
use crate::store::SqliteDb;
use crate::tx::writer_turn;

/// Runs `read` against one of the reading connections, on the blocking pool. Each statement of
/// `read` sees the committed data as of its start (autocommit), as a read through sqlx's
/// pool does.
pub(crate) async fn read<T, F>(db: &SqliteDb, read: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
{
    in_place(db.readers(), move |db| read(db).map_err(reading)).await
}

/// Runs `write` in one transaction on the writing connection, on the blocking pool, in its
/// turn among this process's writers ([`writer_turn`]). The transaction is IMMEDIATE (it
/// takes the write lock first, as [`crate::tx::Tx`] does) and commits when `write` returns
/// Ok; on an error nothing of it stays.
pub(crate) async fn write<T, F>(db: &SqliteDb, write: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
{
    let _turn = writer_turn(db.writer()).await;
    in_place(db.writer(), move |db| {
        // `new_unchecked` because the connection is borrowed, not owned: the transaction is
        // the only thing using it while the handle is locked.
        let tx = Transaction::new_unchecked(db, TransactionBehavior::Immediate).map_err(writing)?;
        let out = write(&tx)?;
        tx.commit().map_err(writing)?;
        Ok(out)
    })
    .await
}

/// Runs `work` on the raw handle of a connection of `pool`, on the blocking pool.
async fn in_place<T, F>(pool: &SqlitePool, work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    let mut conn = pool.acquire().await?;
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut locked = runtime.block_on(conn.lock_handle())?;
        // SAFETY: the handle is a live connection that sqlx's worker cannot use while
        // `locked` is held, and `locked` outlives `db`. A connection made by `from_handle`
        // does not close the handle when dropped; the statements `work` prepares are
        // finalized when it drops them, and `db` caches none, so nothing of it outlives this
        // closure.
        let db = unsafe { Connection::from_handle(locked.as_raw_handle().as_ptr()) }.map_err(reading)?;
        let out = work(&db);
        drop(db);
        out
    })
    .await
    .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("work on the SQLite database stopped")))?
}

fn reading(err: rusqlite::Error) -> StoreError {
    StoreError::Other(anyhow::Error::new(err).context("reading the SQLite database"))
}

fn writing(err: rusqlite::Error) -> StoreError {
    StoreError::Other(anyhow::Error::new(err).context("writing to the SQLite database"))
}
