//! Idempotency keys: an API call sent again with the same `Idempotency-Key` gets the first
//! call's response instead of running twice. Kept for a day.
//!
//! A key is reserved before its call runs (a row with status 0, no body yet) and completed
//! with the response after, so a retry that arrives while the first call still runs is told
//! so instead of running the call a second time. A reservation whose call never finished (the
//! server stopped mid-call) lapses after [`PENDING_SECONDS`].

use crate::error::StoreError;
use crate::store::Store;
use crate::tx::on_writer;

/// How long a key is remembered, in seconds.
pub const KEEP_SECONDS: i64 = 24 * 3600;

/// How long a reservation holds a key without a response, in seconds: longer than any call
/// takes, short enough that a client whose first call was lost in a crash can retry.
pub const PENDING_SECONDS: i64 = 300;

/// The stored status of a reserved key whose call has not finished.
const PENDING: i64 = 0;

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

/// What a key holds when a call asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    /// The key was free and is now this call's: run it, then complete or release the key.
    Reserved,
    /// Another call with this key is running now.
    InProgress {
        /// The hash of that call's request.
        request_hash: String,
    },
    /// A call with this key finished: its response.
    Done(Remembered),
}

impl Store {
    /// Reserves this user's key for a call of `request_hash`, or says what holds it. Forgets
    /// keys older than a day and reservations that lapsed.
    pub async fn reserve_idempotency_key(
        &self,
        user_id: i64,
        key: &str,
        request_hash: &str,
        now: i64,
    ) -> Result<KeyState, StoreError> {
        let forget = "DELETE FROM idempotency_keys WHERE created_at <= $1 OR (status = $2 AND created_at <= $3)";
        let reserve = "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at) \
                       VALUES ($1, $2, $3, $4, '', $5) ON CONFLICT (user_id, key) DO NOTHING";
        let held = "SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = $1 AND key = $2";
        // Reserved: None; held: the row, or None again when the holder released it in between.
        let row: Option<Option<(String, i64, String)>> = on_writer!(self, |conn| {
            sqlx::query(forget)
                .bind(now - KEEP_SECONDS)
                .bind(PENDING)
                .bind(now - PENDING_SECONDS)
                .execute(&mut *conn)
                .await?;
            let reserved = sqlx::query(reserve)
                .bind(user_id)
                .bind(key)
                .bind(request_hash)
                .bind(PENDING)
                .bind(now)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            if reserved == 1 {
                None
            } else {
                Some(sqlx::query_as(held).bind(user_id).bind(key).fetch_optional(&mut *conn).await?)
            }
        });
        Ok(match row {
            None => KeyState::Reserved,
            // Released between the two statements: busy a moment ago, free to retry now.
            Some(None) => KeyState::InProgress { request_hash: request_hash.to_string() },
            Some(Some((request_hash, PENDING, _))) => KeyState::InProgress { request_hash },
            Some(Some((request_hash, status, body))) => {
                KeyState::Done(Remembered { request_hash, status: u16::try_from(status).unwrap_or(500), body })
            }
        })
    }

    /// Stores the response of the call that reserved the key.
    pub async fn complete_idempotency_key(
        &self,
        user_id: i64,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE idempotency_keys SET status = $3, body = $4 WHERE user_id = $1 AND key = $2 AND status = $5";
        on_writer!(self, |conn| sqlx::query(sql)
            .bind(user_id)
            .bind(key)
            .bind(i64::from(status))
            .bind(body)
            .bind(PENDING)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Frees a key whose call did not finish with a response worth keeping (a server error,
    /// or the call was dropped), so that a retry runs it again.
    pub async fn release_idempotency_key(&self, user_id: i64, key: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status = $3";
        on_writer!(self, |conn| sqlx::query(sql)
            .bind(user_id)
            .bind(key)
            .bind(PENDING)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(())
    }
}
