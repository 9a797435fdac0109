//! Idempotency keys: an API call sent again with the same `Idempotency-Key` gets the first
//! call's response instead of running twice. Kept for a day.

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;
use crate::tx::on_writer;

/// How long a key is remembered, in seconds.
pub const KEEP_SECONDS: i64 = 24 * 3600;

/// A remembered response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    /// A hash of the request it answered (method, path, query, body).
    pub request_hash: String,
    /// Its HTTP status.
    pub status: u16,
    /// Its JSON body.
    pub body: String,
}

impl Store {
    /// The response remembered for this user's key, if it is younger than a day.
    pub async fn remembered_response(
        &self,
        user_id: i64,
        key: &str,
        now: i64,
    ) -> Result<Option<Remembered>, StoreError> {
        let sql = "SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = $1 AND key = $2 \
                   AND created_at > $3";
        let row: Option<(String, i64, String)> = on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(user_id)
            .bind(key)
            .bind(now - KEEP_SECONDS)
            .fetch_optional(pool)
            .await?);
        Ok(row.map(|(request_hash, status, body)| Remembered {
            request_hash,
            status: u16::try_from(status).unwrap_or(500),
            body,
        }))
    }

    /// Remembers the response to a call made with a key (the first one wins when two race),
    /// and forgets keys older than a day.
    pub async fn remember_response(&self, user_id: i64, key: &str, r: &Remembered, now: i64) -> Result<(), StoreError> {
        let forget = "DELETE FROM idempotency_keys WHERE created_at <= $1";
        let insert = "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at) \
                      VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, key) DO NOTHING";
        on_writer!(self, |conn| {
            sqlx::query(forget).bind(now - KEEP_SECONDS).execute(&mut *conn).await?;
            sqlx::query(insert)
                .bind(user_id)
                .bind(key)
                .bind(&r.request_hash)
                .bind(i64::from(r.status))
                .bind(&r.body)
                .bind(now)
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }
}
