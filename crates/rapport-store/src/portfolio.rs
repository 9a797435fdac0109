//! Counts and lookups over the portfolio.

use crate::error::StoreError;
use crate::kind::Kind;
use crate::on_pool;
use crate::record::table_spec;
use crate::store::Store;

impl Store {
    /// How many records of a kind are stored.
    pub async fn count(&self, kind: Kind) -> Result<i64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM {}", table_spec(kind).table);
        Ok(on_pool!(self, |pool| sqlx::query_scalar(&sql).fetch_one(pool).await?))
    }

    /// The names of the survey waves, oldest first.
    pub async fn list_wave_names(&self) -> Result<Vec<String>, StoreError> {
        let sql = "SELECT name FROM waves ORDER BY COALESCE(opens_on, created_at), name";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql).fetch_all(pool).await?))
    }
}
