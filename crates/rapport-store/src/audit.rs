//! The audit log: who did what, when. Sign-ins, exports, shared links, API tokens, bulk
//! writes and user changes each leave one line; nothing is ever updated or deleted.

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;
use crate::tx::on_writer;

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Its id (increasing).
    pub id: i64,
    /// When, Unix seconds.
    pub at: i64,
    /// Who (an email), when someone signed in did it.
    pub actor: Option<String>,
    /// What, e.g. `sign_in`, `export`, `share_link.create`.
    pub action: String,
    /// On what, e.g. a report name or an account id.
    pub target: String,
    /// Anything else worth keeping (a format, a scope, why a sign-in failed).
    pub detail: String,
}

impl Store {
    /// Appends a line to the audit log.
    pub async fn audit(
        &self,
        at: i64,
        actor: Option<&str>,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)";
        on_writer!(self, |conn| {
            sqlx::query(sql).bind(at).bind(actor).bind(action).bind(target).bind(detail).execute(&mut *conn).await?;
        });
        Ok(())
    }

    /// The latest `limit` lines, newest first, before the line `before` when given.
    pub async fn audit_log(&self, limit: i64, before: Option<i64>) -> Result<Vec<AuditEvent>, StoreError> {
        let sql = "SELECT id, at, actor, action, target, detail FROM audit_log WHERE ($1 IS NULL OR id < $1) \
                   ORDER BY id DESC LIMIT $2";
        type Row = (i64, i64, Option<String>, String, String, String);
        let rows: Vec<Row> =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(before).bind(limit).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(id, at, actor, action, target, detail)| AuditEvent { id, at, actor, action, target, detail })
            .collect())
    }
}
