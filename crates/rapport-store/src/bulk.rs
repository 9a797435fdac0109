//! Bulk reads on SQLite: statements that return 100,000 rows and more (every account, every
//! account's loyalty in a wave, a wave's driver rows) run through rusqlite on the raw handle
//! of one of sqlx's pooled connections.
//!
//! Why a second driver for these: sqlx hands every SQLite row from its connection thread to
//! the async side, copying each value into an allocation of its own, which costs about 5 µs a
//! row. Reading the 100,000 accounts of the benchmark portfolio took 1.5 s that way against
//! 0.13 s in the sqlite3 shell (BENCHMARKS.md). rusqlite steps the statement in place and
//! reads each column straight from SQLite. Everything else (writes, transactions, small
//! reads) stays on sqlx, and PostgreSQL, whose driver has no such cost, reads through sqlx.
//!
//! The handle is locked away from sqlx's connection thread while rusqlite uses it, so the two
//! never touch the connection at once, and the read runs on tokio's blocking pool so that it
//! does not hold up the async workers.

use sqlx::sqlite::SqlitePool;

use crate::error::StoreError;

/// Runs `read` against a pooled SQLite connection through rusqlite, on the blocking pool.
/// Each statement of `read` sees the committed data as of its start (autocommit), as a read
/// through sqlx's pool does.
pub(crate) async fn read<T, F>(pool: &SqlitePool, read: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
{
    let mut conn = pool.acquire().await?;
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut locked = runtime.block_on(conn.lock_handle())?;
        // SAFETY: the handle is a live connection that sqlx's worker cannot use while
        // `locked` is held, and `locked` outlives `db`. A connection made by `from_handle`
        // does not close the handle when dropped; `db` uses no statement cache, so nothing of
        // it outlives this closure.
        let db = unsafe { rusqlite::Connection::from_handle(locked.as_raw_handle().as_ptr()) }.map_err(reading)?;
        let out = read(&db).map_err(reading);
        drop(db);
        out
    })
    .await
    .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("a bulk read of the SQLite database stopped")))?
}

fn reading(err: rusqlite::Error) -> StoreError {
    StoreError::Other(anyhow::Error::new(err).context("reading the SQLite database"))
}
