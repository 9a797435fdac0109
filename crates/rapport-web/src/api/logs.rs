//! The logs an administrator reads in the app, over the API: the audit log (who signed in,
//! exported, changed or removed what) and the delivery log of notifications and webhooks.
//! Both take an administrator's token with the `admin` scope, for a SIEM or a monitoring job.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use rapport_store::outbox::Delivery;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiUser;
use super::problem::{Problem, Refused};
use super::{bad, newest_page, nonempty, page_limit, query};
use crate::follow_up::messages::stamp;
use crate::state::AppState;

/// A cursor: the `next_cursor` of the previous page.
fn cursor(before: Option<i64>) -> Result<Option<i64>, Problem> {
    match before {
        Some(b) if b < 1 => Err(bad(format!("before={b}: a cursor is 1 or more"))),
        b => Ok(b),
    }
}

/// One line of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    /// Its id (increasing).
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who (an email); absent for what the system did itself.
    pub actor: Option<String>,
    /// What, e.g. sign_in, export, wave.send, webhook.delete, definition.change.
    pub action: String,
    /// On what, e.g. a report, an account id, a wave.
    pub target: String,
    /// Anything else worth keeping.
    pub detail: String,
}

/// One page of the audit log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The lines.
    pub items: Vec<AuditOut>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_cursor: Option<i64>,
}

/// Paging of a log.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// The `next_cursor` of the previous page.
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// Items per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// The audit log, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    params(LogQuery),
    responses(
        Refused,
        (status = 200, description = "A page of the log", body = AuditPage),
        (status = 400, description = "A parameter is wrong", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn audit(
    State(state): State<AppState>,
    caller: ApiUser,
    q: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Json<AuditPage>, Problem> {
    caller.require_admin()?;
    let q = query(q)?;
    let limit = page_limit(q.limit)?;
    let rows = state.store.audit_log(limit as i64 + 1, cursor(q.before)?).await?;
    let (rows, next_cursor) = newest_page(rows, limit, |e| e.id);
    let at = |unix: i64| OffsetDateTime::from_unix_timestamp(unix).map(stamp).unwrap_or_default();
    let items = rows
        .into_iter()
        .map(|e| AuditOut {
            id: e.id,
            at: at(e.at),
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: e.detail,
        })
        .collect();
    Ok(Json(AuditPage { items, next_cursor }))
}

/// One notification or webhook delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    /// Its id.
    pub id: i64,
    /// What it is about (the same key is never delivered twice), also sent as the webhook's
    /// delivery id.
    pub key: String,
    /// email or webhook.
    pub kind: String,
    /// The webhook, for webhook deliveries.
    pub webhook_id: Option<i64>,
    /// The email address or the URL.
    pub recipient: String,
    /// The subject, or the event name.
    pub subject: String,
    /// queued, running, done or failed (given up).
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// The last error.
    pub last_error: Option<String>,
    /// The last HTTP status a webhook answered.
    pub last_status: Option<i32>,
    /// When it was queued (RFC 3339).
    pub created_at: String,
    /// When it was delivered or given up.
    pub finished_at: Option<String>,
}

/// One page of the delivery log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    /// The deliveries.
    pub items: Vec<DeliveryOut>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_cursor: Option<i64>,
}

/// Filters and paging of the delivery log.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// email or webhook.
    pub kind: Option<String>,
    /// Only this webhook's deliveries.
    pub webhook: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// Items per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// The delivery log of notifications (emails to owners and managers) and webhook posts,
/// newest first.
#[utoipa::path(
    get,
    path = "/api/v1/deliveries",
    params(DeliveriesQuery),
    responses(
        Refused,
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        (status = 400, description = "A parameter is wrong", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: ApiUser,
    q: Result<Query<DeliveriesQuery>, QueryRejection>,
) -> Result<Json<DeliveryPage>, Problem> {
    caller.require_admin()?;
    let q = query(q)?;
    let limit = page_limit(q.limit)?;
    let kind = match nonempty(&q.kind).as_deref() {
        None => None,
        Some("email") => Some(Delivery::Email),
        Some("webhook") => Some(Delivery::Webhook),
        Some(k) => return Err(bad(format!("kind='{k}' is not a kind: use email or webhook"))),
    };
    let rows = state.store.outbox_log(kind, q.webhook, cursor(q.before)?, limit as i64 + 1).await?;
    let (rows, next_cursor) = newest_page(rows, limit, |e| e.id);
    let items = rows
        .into_iter()
        .map(|e| DeliveryOut {
            id: e.id,
            key: e.key,
            kind: e.kind,
            webhook_id: e.webhook_id,
            recipient: e.recipient,
            subject: e.subject,
            status: e.status,
            attempts: e.attempts,
            last_error: e.last_error,
            last_status: e.last_status,
            created_at: stamp(e.created_at),
            finished_at: e.finished_at.map(stamp),
        })
        .collect();
    Ok(Json(DeliveryPage { items, next_cursor }))
}
