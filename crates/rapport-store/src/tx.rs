//! A transaction on whichever backend, for work that must land whole or not at all.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::error::StoreError;
use crate::store::Store;

/// Marks the data changed, for the caches of reports (see [`Tx::bump_data_version`]).
pub(crate) const BUMP_DATA_VERSION: &str = "UPDATE data_version SET version = version + 1 WHERE id = 1";

/// An open transaction. On SQLite it also holds its database's writer turn (see
/// [`writer_turn_of`]) until it commits or rolls back.
pub(crate) enum Tx {
    Sqlite {
        /// The transaction.
        tx: sqlx::Transaction<'static, sqlx::Sqlite>,
        /// Held until the transaction ends.
        _turn: tokio::sync::OwnedMutexGuard<()>,
    },
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// The writer turn of the SQLite database `file` in this process. SQLite lets one transaction
/// write at a time; without a queue, a writer that finds the file busy backs off and sleeps
/// (the busy handler's steps grow to 100 ms), so under load an answer's commit could wait a
/// second behind the follow-up scanner's batches. Taking turns here, first come first served,
/// keeps each wait to the transactions ahead of it. Every store opened on the file shares the
/// one turn; a store looks it up once, when it opens ([`SqliteDb::writer_turn`]). Take it with
/// `lock_owned` in async code or `blocking_lock_owned` on a thread that may block.
///
/// [`SqliteDb::writer_turn`]: crate::store::SqliteDb::writer_turn
pub(crate) fn writer_turn_of(file: &std::path::Path) -> Arc<tokio::sync::Mutex<()>> {
    static TURNS: Mutex<Option<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>> = Mutex::new(None);
    let mut turns = TURNS.lock().expect("the writer turns lock is never poisoned");
    turns.get_or_insert_with(HashMap::new).entry(file.to_path_buf()).or_default().clone()
}

/// Expands `$body` once per backend with `$t` bound to the transaction.
macro_rules! on_tx {
    ($tx:expr, |$t:ident| $body:expr) => {
        match $tx {
            $crate::tx::Tx::Sqlite { tx: $t, .. } => $body,
            $crate::tx::Tx::Postgres($t) => $body,
        }
    };
}
pub(crate) use on_tx;

/// Expands `$body` once per backend with `$conn` bound to a pooled connection, for a single
/// write statement outside a transaction. On SQLite the connection is used within the
/// database's writer turn, as every transaction is: an autocommit write that ran beside a
/// transaction would make one of them wait in SQLite's busy handler, which sleeps a
/// millisecond or more at a time, while the answers behind it queue.
macro_rules! on_writer {
    ($store:expr, |$conn:ident| $body:expr) => {
        match $store {
            $crate::Store::Sqlite(db) => {
                let _turn = db.writer_turn().clone().lock_owned().await;
                let mut held = db.writer().acquire().await?;
                let $conn = &mut *held;
                $body
            }
            $crate::Store::Postgres(pool) => {
                let mut held = pool.acquire().await?;
                let $conn = &mut *held;
                $body
            }
        }
    };
}
pub(crate) use on_writer;

impl Tx {
    /// Begins a transaction.
    pub(crate) async fn begin(store: &Store) -> Result<Tx, StoreError> {
        Ok(match store {
            Store::Sqlite(db) => {
                let turn = db.writer_turn().clone().lock_owned().await;
                // IMMEDIATE takes the write lock now. A deferred transaction that reads first
                // (answers read their contacts' previous answers before storing) holds a read
                // snapshot, and a write by another connection in the meantime would make its
                // first write fail at once with SQLITE_BUSY_SNAPSHOT, which no wait can cure.
                Tx::Sqlite { tx: db.writer().begin_with("BEGIN IMMEDIATE").await?, _turn: turn }
            }
            Store::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Begins a transaction for a bulk write that checks every reference itself, inside the
    /// transaction, before it writes the row that holds it ([`crate::writer::Writer`]). On
    /// SQLite it runs on a connection of its own that leaves foreign keys unchecked: SQLite's
    /// own check of each row's reference cost a third of writing a million contacts
    /// (BENCHMARKS.md, issue 2), and holding the write lock from its start, the transaction
    /// sees no account deleted between its check and its commit. PostgreSQL checks them as
    /// always.
    pub(crate) async fn begin_bulk(store: &Store) -> Result<Tx, StoreError> {
        Ok(match store {
            Store::Sqlite(db) => {
                let turn = db.writer_turn().clone().lock_owned().await;
                Tx::Sqlite { tx: db.bulk().begin_with("BEGIN IMMEDIATE").await?, _turn: turn }
            }
            Store::Postgres(_) => Tx::begin(store).await?,
        })
    }

    /// Marks the data as changed for every process's report cache (see
    /// [`crate::report_cache`]); call it in every transaction that changes what reports show.
    pub(crate) async fn bump_data_version(&mut self) -> Result<(), StoreError> {
        on_tx!(self, |t| {
            sqlx::query(BUMP_DATA_VERSION).execute(&mut **t).await?;
        });
        Ok(())
    }

    /// Makes everything done in it durable.
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        on_tx!(self, |t| t.commit().await?);
        Ok(())
    }

    /// Commits when `done` succeeded, undoes everything when it failed; `done` either way.
    pub(crate) async fn finish<T, E: From<StoreError>>(self, done: Result<T, E>) -> Result<T, E> {
        match done {
            Ok(v) => {
                self.commit().await?;
                Ok(v)
            }
            Err(e) => {
                self.rollback().await?;
                Err(e)
            }
        }
    }

    /// Undoes everything done in it.
    pub(crate) async fn rollback(self) -> Result<(), StoreError> {
        on_tx!(self, |t| t.rollback().await?);
        Ok(())
    }
}
