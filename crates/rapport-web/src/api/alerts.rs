//! Alerts over the API: what the rules raised, newest first, with the follow-up task each
//! opened. An account manager's token sees only their accounts' alerts.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use rapport_core::alert::AlertKind;
use rapport_reports::AccountFilter;
use rapport_store::alerts::AlertFilter;
use rapport_store::api_tokens::TokenScope;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiUser;
use super::problem::{Problem, Refused};
use super::{newest_page, nonempty, page_limit, query};
use crate::authz::Need;
use crate::follow_up::messages::stamp;
use crate::state::AppState;

/// An alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertOut {
    /// Its id.
    pub id: i64,
    /// detractor, watch_words, nps_drop or problem.
    pub kind: String,
    /// Why, in words.
    pub detail: String,
    /// The account's id in the CRM.
    pub account_id: String,
    /// The account's name.
    pub account_name: String,
    /// The wave it is about.
    pub wave: Option<String>,
    /// The answer it is about (see the account's answers).
    pub response_id: Option<i64>,
    /// When it was raised (RFC 3339).
    pub raised_at: String,
    /// Its follow-up task (see /api/v1/tasks/{id}).
    pub task_id: Option<i64>,
    /// That task's status.
    pub task_status: Option<String>,
}

/// One page of alerts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertPage {
    /// The alerts.
    pub items: Vec<AlertOut>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_cursor: Option<i64>,
}

/// Filters and paging of the alert list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertsQuery {
    /// Only this rule: detractor, watch_words, nps_drop or problem.
    pub kind: Option<String>,
    /// Only this account (its id in the CRM); an unknown one lists nothing.
    pub account: Option<String>,
    /// The `next_cursor` of the previous page.
    pub before: Option<i64>,
    /// Items per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// List the alerts the rules raised.
#[utoipa::path(
    get,
    path = "/api/v1/alerts",
    params(AlertsQuery),
    responses(
        Refused,
        (status = 200, description = "A page of alerts", body = AlertPage),
        (status = 400, description = "A parameter is wrong", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_alerts(
    State(state): State<AppState>,
    caller: ApiUser,
    q: Result<Query<AlertsQuery>, QueryRejection>,
) -> Result<Json<AlertPage>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    caller.user.require(Need::Portfolio)?;
    let q = query(q)?;
    let limit = page_limit(q.limit)?;
    let kind = match nonempty(&q.kind) {
        Some(k) => Some(AlertKind::parse(&k).ok_or_else(|| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                format!("kind='{k}' is not a rule: use detractor, watch_words, nps_drop or problem"),
            )
        })?),
        None => None,
    };
    let account_id = match nonempty(&q.account) {
        Some(a) => match state.store.find_account_id(&a).await? {
            Some(id) => Some(id),
            None => return Ok(Json(AlertPage { items: Vec::new(), next_cursor: None })),
        },
        None => None,
    };
    let filter = AlertFilter {
        kind,
        account_id,
        owned_by: caller.user.scoped(AccountFilter::default()).owned_by,
        before: q.before,
    };
    let rows = state.store.list_alerts(&filter, limit as i64 + 1).await?;
    let (rows, next_cursor) = newest_page(rows, limit, |a| a.id);
    let items = rows
        .into_iter()
        .map(|a| AlertOut {
            id: a.id,
            kind: a.kind,
            detail: a.detail,
            account_id: a.account_external_id,
            account_name: a.account_name,
            wave: a.wave_name,
            response_id: a.response_id,
            raised_at: stamp(a.raised_at),
            task_id: a.task_id,
            task_status: a.task_status,
        })
        .collect();
    Ok(Json(AlertPage { items, next_cursor }))
}
