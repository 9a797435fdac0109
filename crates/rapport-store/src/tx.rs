//! A transaction on whichever backend, for work that must land whole or not at all.

use crate::error::StoreError;
use crate::store::Store;

/// An open transaction.
pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Expands `$body` once per backend with `$t` bound to the transaction.
macro_rules! on_tx {
    ($tx:expr, |$t:ident| $body:expr) => {
        match $tx {
            $crate::tx::Tx::Sqlite($t) => $body,
            $crate::tx::Tx::Postgres($t) => $body,
        }
    };
}
pub(crate) use on_tx;

impl Tx {
    /// Begins a transaction.
    pub(crate) async fn begin(store: &Store) -> Result<Tx, StoreError> {
        Ok(match store {
            Store::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Store::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Marks the data as changed for every process's report cache (see
    /// [`crate::report_cache`]); call it in every transaction that changes what reports show.
    pub(crate) async fn bump_data_version(&mut self) -> Result<(), StoreError> {
        on_tx!(self, |t| {
            sqlx::query("UPDATE data_version SET version = version + 1 WHERE id = 1").execute(&mut **t).await?;
        });
        Ok(())
    }

    /// Makes everything done in it durable.
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        on_tx!(self, |t| t.commit().await?);
        Ok(())
    }

    /// Undoes everything done in it.
    pub(crate) async fn rollback(self) -> Result<(), StoreError> {
        on_tx!(self, |t| t.rollback().await?);
        Ok(())
    }
}
