//! Read-only links to a dashboard view or an account report, for people without an account:
//! they expire, can be revoked, and may hide respondents' names and comments. The web layer
//! makes the tokens; the store keeps their hashes.

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;
use crate::tx::on_writer;

/// What a link shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareKind {
    /// A dashboard view; the target is the view's query string.
    Dashboard,
    /// An account report; the target is the account's id.
    Account,
}

impl ShareKind {
    /// Its name in the database and in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            ShareKind::Dashboard => "dashboard",
            ShareKind::Account => "account",
        }
    }

    /// The kind named `text`.
    pub fn parse(text: &str) -> Option<ShareKind> {
        [ShareKind::Dashboard, ShareKind::Account].into_iter().find(|k| k.as_str() == text)
    }
}

/// A link to store.
#[derive(Debug, Clone)]
pub struct NewShareLink<'a> {
    /// The hash of the token in the link.
    pub token_hash: &'a str,
    /// What it shows.
    pub kind: ShareKind,
    /// The dashboard query or the account id.
    pub target: &'a str,
    /// The creator's scope (an account manager's email): the link shows no more than they see.
    pub owned_by: Option<&'a str>,
    /// Hide respondents' names, titles and comments.
    pub hide_people: bool,
    /// Who made it.
    pub created_by: i64,
    /// Now, Unix seconds.
    pub now: i64,
    /// When it stops working, Unix seconds.
    pub expires_at: i64,
}

/// A stored link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLink {
    /// Its id (for revoking).
    pub id: i64,
    /// What it shows.
    pub kind: ShareKind,
    /// The dashboard query or the account id.
    pub target: String,
    /// The creator's scope.
    pub owned_by: Option<String>,
    /// Hide respondents' names, titles and comments.
    pub hide_people: bool,
    /// Who made it (email).
    pub created_by: String,
    /// When, Unix seconds.
    pub created_at: i64,
    /// Until when, Unix seconds.
    pub expires_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

type Row = (i64, String, String, Option<String>, bool, String, i64, i64, Option<i64>);

const COLUMNS: &str = "l.id, l.kind, l.target, l.owned_by, l.hide_people, u.email, l.created_at, l.expires_at, \
                       l.revoked_at FROM share_links l JOIN users u ON u.id = l.created_by";

fn link((id, kind, target, owned_by, hide_people, created_by, created_at, expires_at, revoked_at): Row) -> ShareLink {
    ShareLink {
        id,
        kind: ShareKind::parse(&kind).unwrap_or(ShareKind::Dashboard),
        target,
        owned_by,
        hide_people,
        created_by,
        created_at,
        expires_at,
        revoked_at,
    }
}

impl Store {
    /// Stores a new link; returns its id.
    pub async fn create_share_link(&self, l: &NewShareLink<'_>) -> Result<i64, StoreError> {
        let sql = "INSERT INTO share_links (token_hash, kind, target, owned_by, hide_people, created_by, created_at, \
                   expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
        Ok(on_writer!(self, |conn| sqlx::query_scalar(sql)
            .bind(l.token_hash)
            .bind(l.kind.as_str())
            .bind(l.target)
            .bind(l.owned_by)
            .bind(l.hide_people)
            .bind(l.created_by)
            .bind(l.now)
            .bind(l.expires_at)
            .fetch_one(&mut *conn)
            .await?))
    }

    /// The live link with this token hash: not expired, not revoked.
    pub async fn live_share_link(&self, token_hash: &str, now: i64) -> Result<Option<ShareLink>, StoreError> {
        let sql = format!("SELECT {COLUMNS} WHERE l.token_hash = $1 AND l.expires_at > $2 AND l.revoked_at IS NULL");
        let row: Option<Row> =
            on_pool!(self, |pool| sqlx::query_as(&sql).bind(token_hash).bind(now).fetch_optional(pool).await?);
        Ok(row.map(link))
    }

    /// Links made by one user, or by everyone (`None`), newest first.
    pub async fn share_links(&self, created_by: Option<i64>) -> Result<Vec<ShareLink>, StoreError> {
        let sql = format!("SELECT {COLUMNS} WHERE $1 IS NULL OR l.created_by = $1 ORDER BY l.id DESC");
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql).bind(created_by).fetch_all(pool).await?);
        Ok(rows.into_iter().map(link).collect())
    }

    /// Revokes a link made by `created_by` (any link when `None`); `NotFound` when there is no
    /// such link for them.
    pub async fn revoke_share_link(&self, id: i64, created_by: Option<i64>, now: i64) -> Result<(), StoreError> {
        let sql = "UPDATE share_links SET revoked_at = $1 WHERE id = $2 AND ($3 IS NULL OR created_by = $3) \
                   AND revoked_at IS NULL";
        let done = on_writer!(self, |conn| sqlx::query(sql)
            .bind(now)
            .bind(id)
            .bind(created_by)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }
}
