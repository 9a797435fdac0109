//! Personal API tokens: what a script or an integration signs in with. The web layer makes
//! the tokens; the store keeps their hashes, their scope and when each was last used.

use rapport_core::user::Role;

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;
use crate::tx::on_writer;

/// What a token may do, on top of what its user's role allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TokenScope {
    /// Read what the user may see.
    Read,
    /// Also change data (imports, answers, plans).
    Write,
    /// Also administer (users, settings), for an admin.
    Admin,
}

impl TokenScope {
    /// Every scope.
    pub const ALL: [TokenScope; 3] = [TokenScope::Read, TokenScope::Write, TokenScope::Admin];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
            TokenScope::Admin => "admin",
        }
    }

    /// The scope named `text`.
    pub fn parse(text: &str) -> Option<TokenScope> {
        TokenScope::ALL.into_iter().find(|s| s.as_str() == text.trim().to_ascii_lowercase())
    }
}

/// Who a live token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUser {
    /// The token's id.
    pub token_id: i64,
    /// The user's id.
    pub user_id: i64,
    /// Their email.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// The token's scope.
    pub scope: TokenScope,
}

/// A token as lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSummary {
    /// Its id.
    pub id: i64,
    /// What its owner called it.
    pub name: String,
    /// Its scope.
    pub scope: TokenScope,
    /// Made, Unix seconds.
    pub created_at: i64,
    /// Last used, Unix seconds.
    pub last_used_at: Option<i64>,
    /// Revoked, Unix seconds.
    pub revoked_at: Option<i64>,
}

/// How stale `last_used_at` may get before a use writes it again: one write per token a
/// minute, not one per request.
const LAST_USED_GRAIN: i64 = 60;

impl Store {
    /// Stores a new token for a user; returns its id.
    pub async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        scope: TokenScope,
        now: i64,
    ) -> Result<i64, StoreError> {
        let sql = "INSERT INTO api_tokens (user_id, name, token_hash, scope, created_at) VALUES ($1, $2, $3, $4, $5) \
                   RETURNING id";
        Ok(on_writer!(self, |conn| sqlx::query_scalar(sql)
            .bind(user_id)
            .bind(name)
            .bind(token_hash)
            .bind(scope.as_str())
            .bind(now)
            .fetch_one(&mut *conn)
            .await?))
    }

    /// The user of a live (not revoked) token, noting that it was used (at most once a
    /// minute: a busy integration reads here on every call, and must not write every time).
    pub async fn api_token_user(&self, token_hash: &str, now: i64) -> Result<Option<TokenUser>, StoreError> {
        let sql = "SELECT t.id, u.id, u.email, u.name, u.role, t.scope, t.last_used_at FROM api_tokens t \
                   JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL";
        type Row = (i64, i64, String, String, String, String, Option<i64>);
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(sql).bind(token_hash).fetch_optional(pool).await?);
        let Some((token_id, user_id, email, name, role, scope, last_used_at)) = row else { return Ok(None) };
        if last_used_at.is_none_or(|t| t < now - LAST_USED_GRAIN) {
            on_writer!(self, |conn| {
                sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(token_id)
                    .execute(&mut *conn)
                    .await?;
            });
        }
        Ok(Role::parse(&role).zip(TokenScope::parse(&scope)).map(|(role, scope)| TokenUser {
            token_id,
            user_id,
            email,
            name,
            role,
            scope,
        }))
    }

    /// A user's tokens, newest first.
    pub async fn api_tokens_of(&self, user_id: i64) -> Result<Vec<TokenSummary>, StoreError> {
        let sql = "SELECT id, name, scope, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 \
                   ORDER BY id DESC";
        type Row = (i64, String, String, i64, Option<i64>, Option<i64>);
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(sql).bind(user_id).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(id, name, scope, created_at, last_used_at, revoked_at)| TokenSummary {
                id,
                name,
                scope: TokenScope::parse(&scope).unwrap_or(TokenScope::Read),
                created_at,
                last_used_at,
                revoked_at,
            })
            .collect())
    }

    /// Revokes one of a user's tokens; `NotFound` when they have no such live token.
    pub async fn revoke_api_token(&self, id: i64, user_id: i64, now: i64) -> Result<(), StoreError> {
        let sql = "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL";
        let done = on_writer!(self, |conn| sqlx::query(sql)
            .bind(now)
            .bind(id)
            .bind(user_id)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }
}
