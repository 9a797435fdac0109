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

    /// The internal id of the account with this CRM id.
    pub async fn find_account_id(&self, external_id: &str) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT id FROM accounts WHERE external_id = $1";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql).bind(external_id).fetch_optional(pool).await?))
    }
}
