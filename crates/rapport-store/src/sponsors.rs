//! Executive sponsors: assigning one to an account, and the partner flag the ranking reads.

use std::collections::HashSet;

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;
use crate::tx::{Tx, on_tx};

impl Store {
    /// Makes `sponsor` (an email; None: nobody) the executive sponsor of the account with this
    /// internal id. False when there is no such account.
    pub async fn set_sponsor(&self, account_id: i64, sponsor: Option<&str>) -> Result<bool, StoreError> {
        let mut tx = Tx::begin(self).await?;
        let sql = "UPDATE accounts SET sponsor_email = $2 WHERE id = $1";
        let n = on_tx!(&mut tx, |t| sqlx::query(sql)
            .bind(account_id)
            .bind(sponsor)
            .execute(&mut **t)
            .await?
            .rows_affected());
        if n == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        // Views show the sponsor: their caches must see the change.
        tx.bump_data_version().await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The accounts marked as partners: a custom column `partner` (any case) that reads as
    /// true (true, yes, 1, y).
    pub async fn partner_accounts(&self) -> Result<HashSet<i64>, StoreError> {
        // Attributes are a JSON object of strings: look at the few rows that mention the key.
        let sql = "SELECT id, attributes FROM accounts WHERE lower(attributes) LIKE '%\"partner\"%'";
        let rows: Vec<(i64, String)> = on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .filter(|(_, json)| {
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json)
                    .ok()
                    .and_then(|m| {
                        m.iter().find(|(k, _)| k.trim().eq_ignore_ascii_case("partner")).and_then(|(_, v)| match v {
                            serde_json::Value::String(s) => rapport_core::account::parse_bool(s),
                            serde_json::Value::Bool(b) => Some(*b),
                            _ => None,
                        })
                    })
                    .unwrap_or(false)
            })
            .map(|(id, _)| id)
            .collect())
    }
}
