//! Signed-in sessions. The web layer makes the tokens; the store keeps only their hashes, so a
//! copy of the database signs no one in.

use rapport_core::user::Role;

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;
use crate::tx::on_writer;

/// Who a live session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    /// The user's id.
    pub user_id: i64,
    /// Sign-in email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// The token every form of this session must carry.
    pub csrf_token: String,
}

/// A session to store.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// The hash of the token the browser holds.
    pub token_hash: &'a str,
    /// Whose it is.
    pub user_id: i64,
    /// Its CSRF token.
    pub csrf_token: &'a str,
    /// Now, in Unix seconds.
    pub now: i64,
    /// When it ends, in Unix seconds.
    pub expires_at: i64,
}

impl Store {
    /// Stores a new session and notes it as the user's last sign-in; also forgets every expired
    /// one (sessions are few and short-lived, so sweeping at sign-in keeps the table small
    /// without a background job).
    pub async fn create_session(&self, s: &NewSession<'_>) -> Result<(), StoreError> {
        let insert = "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
                      VALUES ($1, $2, $3, $4, $5)";
        on_writer!(self, |conn| {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(s.now).execute(&mut *conn).await?;
            sqlx::query(insert)
                .bind(s.token_hash)
                .bind(s.user_id)
                .bind(s.csrf_token)
                .bind(s.now)
                .bind(s.expires_at)
                .execute(&mut *conn)
                .await?;
            sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2")
                .bind(s.now)
                .bind(s.user_id)
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }

    /// The user of the live session with this token hash, or `None` when there is none or it
    /// expired.
    pub async fn session_user(&self, token_hash: &str, now: i64) -> Result<Option<SessionUser>, StoreError> {
        let sql = "SELECT u.id, u.email, u.name, u.role, s.csrf_token FROM sessions s \
                   JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2";
        let row: Option<(i64, String, String, String, String)> =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(token_hash).bind(now).fetch_optional(pool).await?);
        Ok(row.and_then(|(user_id, email, name, role, csrf_token)| {
            // A role the code does not know (a hand edit) signs no one in.
            Some(SessionUser { user_id, email, name, role: Role::parse(&role)?, csrf_token })
        }))
    }

    /// Ends a session (sign-out).
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        on_writer!(self, |conn| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *conn).await?;
        });
        Ok(())
    }

    /// Ends every session of a user (password changed, user removed).
    pub async fn delete_sessions_of(&self, user_id: i64) -> Result<u64, StoreError> {
        let done = on_writer!(self, |conn| sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(done)
    }
}
