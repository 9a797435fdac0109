//! What the API tells about one account beyond its own fields: contacts, revenue per period,
//! opportunities, service cases, and who answered in a wave. The account page shows the
//! same.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use rapport_core::money::Money;
use rapport_reports::{AccountFilter, Portfolio};
use rapport_store::analytics::PortfolioAccount;
use rapport_store::api_tokens::TokenScope;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiUser;
use super::problem::{Problem, Refused};
use crate::error::WebError;
use crate::pages::account::portfolio_with;
use crate::pages::view::Viewer;
use crate::state::AppState;

/// The account `account_id`, if the caller's token and role may read it; "not found"
/// otherwise, as if it did not exist.
pub async fn readable(state: &AppState, caller: &ApiUser, account_id: &str) -> Result<PortfolioAccount, Problem> {
    caller.require_scope(TokenScope::Read)?;
    let (p, index) = portfolio_with(state, &Viewer::of(&caller.user), account_id).await?;
    Ok(p.accounts[index].clone())
}

fn money(cents: Option<i64>) -> Option<String> {
    cents.map(|c| Money(c).to_string())
}

/// A contact of the account.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactOut {
    /// Name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// executive, manager or user.
    pub role: Option<String>,
    /// Opted out of surveys.
    pub opted_out: bool,
}

/// The account's contacts, executives first.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/contacts",
    params(("account_id" = String, Path, description = "The account's id in the CRM")),
    responses(
        Refused,
        (status = 200, description = "The contacts", body = [ContactOut]),
        (status = 404, description = "No such account (or not yours)", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn contacts(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(account_id): Path<String>,
) -> Result<Json<Vec<ContactOut>>, Problem> {
    let a = readable(&state, &caller, &account_id).await?;
    let rows = state.store.contacts_of(a.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| ContactOut {
                name: c.name,
                title: c.title,
                role: c.role.map(|r| r.as_str().to_string()),
                opted_out: c.opted_out,
            })
            .collect(),
    ))
}

/// One period's revenue.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevenueOut {
    /// 2026-Q3 or 2026-07.
    pub period: String,
    /// Billed, a decimal to the cent.
    pub billed: Option<String>,
    /// Booked, a decimal to the cent.
    pub booked: Option<String>,
}

/// The account's revenue per period, in period order.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/revenue",
    params(("account_id" = String, Path, description = "The account's id in the CRM")),
    responses(
        Refused,
        (status = 200, description = "Revenue per period", body = [RevenueOut]),
        (status = 404, description = "No such account (or not yours)", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn revenue(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(account_id): Path<String>,
) -> Result<Json<Vec<RevenueOut>>, Problem> {
    let a = readable(&state, &caller, &account_id).await?;
    let rows = state.store.revenue_of(a.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| RevenueOut { period: r.period, billed: money(r.billed), booked: money(r.booked) })
            .collect(),
    ))
}

/// An opportunity.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpportunityOut {
    /// Its CRM id.
    pub opportunity_id: String,
    /// Amount, a decimal to the cent.
    pub amount: Option<String>,
    /// Stage.
    pub stage: Option<String>,
    /// open, won or lost.
    pub outcome: Option<String>,
    /// Discount in percent.
    pub discount_pct: Option<f64>,
    /// Opened (YYYY-MM-DD).
    pub opened_on: Option<String>,
    /// Closed (YYYY-MM-DD).
    pub closed_on: Option<String>,
}

/// The account's opportunities, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/opportunities",
    params(("account_id" = String, Path, description = "The account's id in the CRM")),
    responses(
        Refused,
        (status = 200, description = "The opportunities", body = [OpportunityOut]),
        (status = 404, description = "No such account (or not yours)", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn opportunities(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(account_id): Path<String>,
) -> Result<Json<Vec<OpportunityOut>>, Problem> {
    let a = readable(&state, &caller, &account_id).await?;
    let rows = state.store.opportunities_of(a.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|o| OpportunityOut {
                opportunity_id: o.external_id,
                amount: money(o.amount),
                stage: o.stage,
                outcome: o.outcome,
                discount_pct: o.discount_bp.map(|bp| bp as f64 / 100.0),
                opened_on: o.opened_on,
                closed_on: o.closed_on,
            })
            .collect(),
    ))
}

/// A service case.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceCaseOut {
    /// Its id in the service system.
    pub case_id: String,
    /// exception, service_request, order_change, complaint or other.
    pub kind: Option<String>,
    /// Opened (YYYY-MM-DD).
    pub opened_on: Option<String>,
    /// Closed (YYYY-MM-DD).
    pub closed_on: Option<String>,
    /// Effort in hours.
    pub effort_hours: Option<f64>,
}

/// The account's service cases, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/service-cases",
    params(("account_id" = String, Path, description = "The account's id in the CRM")),
    responses(
        Refused,
        (status = 200, description = "The service cases", body = [ServiceCaseOut]),
        (status = 404, description = "No such account (or not yours)", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn service_cases(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(account_id): Path<String>,
) -> Result<Json<Vec<ServiceCaseOut>>, Problem> {
    let a = readable(&state, &caller, &account_id).await?;
    let rows = state.store.service_cases_of(a.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| ServiceCaseOut {
                case_id: c.external_id,
                kind: c.kind,
                opened_on: c.opened_on,
                closed_on: c.closed_on,
                effort_hours: c.effort_centihours.map(|h| h as f64 / 100.0),
            })
            .collect(),
    ))
}

/// One contact's latest answer in the wave.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerOut {
    /// The contact's name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// executive, manager or user.
    pub role: Option<String>,
    /// Likelihood to recommend, 0-10.
    pub ltr: u8,
    /// The comment.
    pub comment: Option<String>,
    /// The day (YYYY-MM-DD).
    pub submitted_on: String,
    /// Driver ratings by question key.
    pub scores: BTreeMap<String, u8>,
}

/// The wave of the answers.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnswersQuery {
    /// The wave (default: the latest).
    pub wave: Option<String>,
}

/// Who at the account answered in a wave: each contact's latest answer, lowest score first.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/answers",
    params(("account_id" = String, Path, description = "The account's id in the CRM"), AnswersQuery),
    responses(
        Refused,
        (status = 200, description = "The answers", body = [AnswerOut]),
        (status = 400, description = "No such wave", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account (or not yours)", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn answers(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(account_id): Path<String>,
    q: Result<Query<AnswersQuery>, QueryRejection>,
) -> Result<Json<Vec<AnswerOut>>, Problem> {
    let a = readable(&state, &caller, &account_id).await?;
    let Query(q) = q.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let p = Portfolio::load(&state.store, &state.cache, false, &AccountFilter::default())
        .await
        .map_err(WebError::from_report)?;
    let wave = p.wave(q.wave.as_deref().filter(|w| !w.trim().is_empty())).map_err(WebError::from_report)?;
    let rows = state.store.respondents(a.id, wave.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AnswerOut {
                name: r.name,
                title: r.title,
                role: r.role.map(|l| l.as_str().to_string()),
                ltr: r.ltr,
                comment: r.comment,
                submitted_on: r.submitted_on,
                scores: r.scores,
            })
            .collect(),
    ))
}
