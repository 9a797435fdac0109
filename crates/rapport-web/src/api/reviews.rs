//! Account strategy over the API, as on the account's briefing and the sponsors page: the
//! review meetings held with an account (each agreed outcome becomes an action on its plan),
//! the account's executive sponsor, and sponsorship across the portfolio.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rapport_core::task::Function;
use rapport_store::api_tokens::TokenScope;
use rapport_store::reviews::Review;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::account_records::readable;
use super::auth::ApiUser;
use super::idempotency::once;
use super::problem::{Problem, Refused};
use super::{AccountOut, bad, json_body, nonempty, page_limit, query};
use crate::authz::Need;
use crate::follow_up::messages::stamp;
use crate::pages::briefing::record_review_for;
use crate::pages::sponsors::{assign_sponsor, sponsorship};
use crate::state::AppState;

/// A review meeting with the account.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOut {
    /// Its id.
    pub id: i64,
    /// The day it was held (YYYY-MM-DD).
    pub held_on: String,
    /// What was said.
    pub notes: String,
    /// Who recorded it.
    pub recorded_by: Option<String>,
    /// When (RFC 3339).
    pub recorded_at: String,
}

impl From<&Review> for ReviewOut {
    fn from(r: &Review) -> ReviewOut {
        ReviewOut {
            id: r.id,
            held_on: r.held_on.to_string(),
            notes: r.notes.clone(),
            recorded_by: r.recorded_by.clone(),
            recorded_at: stamp(r.recorded_at),
        }
    }
}

/// The account's review meetings, the latest first. Their actions are the account's plan
/// items: `GET /api/v1/tasks?account=ID&kind=plans`.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}/reviews",
    params(("account_id" = String, Path, description = "The account's id in the CRM")),
    responses(
        Refused,
        (status = 200, description = "The reviews", body = [ReviewOut]),
        (status = 404, description = "No such account (or not yours)", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_reviews(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(account_id): Path<String>,
) -> Result<Json<Vec<ReviewOut>>, Problem> {
    let account = readable(&state, &caller, &account_id).await?;
    Ok(Json(state.store.reviews_of(account.id).await?.iter().map(ReviewOut::from).collect()))
}

/// An action agreed in the meeting.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionIn {
    /// sales, service, product, marketing, billing or executive (executive actions go to the
    /// sponsor, the others to the account owner).
    pub function: String,
    /// What is to be done (up to 2,000 characters).
    pub description: String,
}

/// A review meeting to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReviewIn {
    /// The day it was held, YYYY-MM-DD.
    pub held_on: String,
    /// What was said (up to 20,000 characters).
    #[serde(default)]
    pub notes: String,
    /// The actions agreed (up to 50); notes or actions, at least one of the two.
    #[serde(default)]
    pub actions: Vec<ActionIn>,
    /// When the actions are due, YYYY-MM-DD (default: 30 days after the meeting).
    pub due: Option<String>,
}

/// Record a review meeting with the account: its notes, and each agreed action as an item on
/// the account's plan. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    post,
    path = "/api/v1/accounts/{account_id}/reviews",
    params(("account_id" = String, Path, description = "The account's id in the CRM")),
    request_body = NewReviewIn,
    responses(
        Refused,
        (status = 201, description = "The review", body = ReviewOut),
        (status = 400, description = "The body is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account (or not yours)", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn record_review(
    State(state): State<AppState>,
    caller: ApiUser,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    once(&state, &caller, &headers, &uri, &body, record(&state, &caller, &account_id, &body)).await
}

async fn record(state: &AppState, caller: &ApiUser, account_id: &str, body: &[u8]) -> Result<Response, Problem> {
    caller.require_scope(TokenScope::Write)?;
    // Another manager's account is not found, whatever the body.
    let account = readable(state, caller, account_id).await?;
    let input: NewReviewIn = json_body(body, "a review")?;
    let held_on = rapport_core::date::parse_date(&input.held_on).map_err(|e| bad(format!("held_on: {e}")))?;
    let due = nonempty(&input.due)
        .map(|d| rapport_core::date::parse_date(&d).map_err(|e| bad(format!("due: {e}"))))
        .transpose()?;
    let actions = input
        .actions
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let function = Function::parse(&a.function).ok_or_else(|| {
                bad(format!("actions[{i}].function: '{}' is not one of {}", a.function, Function::names()))
            })?;
            Ok((function, a.description.clone()))
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    let id = record_review_for(state, &caller.user, account_id, held_on, &input.notes, actions, due).await?;
    let reviews = state.store.reviews_of(account.id).await?;
    let review = reviews
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "the review vanished"))?;
    Ok((StatusCode::CREATED, Json(ReviewOut::from(review))).into_response())
}

/// Who sponsors the account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SponsorIn {
    /// The email of an executive who signs in to Rapport; null removes the sponsor. Required:
    /// a body without it changes nothing.
    #[serde(deserialize_with = "present")]
    #[schema(required = true)]
    pub sponsor: Option<String>,
}

/// A field that must be there, though it may be null (serde lets a missing `Option` be
/// `None` unless it is read with a function of its own).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

/// Assign the account's executive sponsor (or remove it).
#[utoipa::path(
    put,
    path = "/api/v1/accounts/{account_id}/sponsor",
    params(("account_id" = String, Path, description = "The account's id in the CRM")),
    request_body = SponsorIn,
    responses(
        Refused,
        (status = 200, description = "The account with its sponsor", body = AccountOut),
        (status = 400, description = "Not an executive who signs in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn set_sponsor(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<Json<AccountOut>, Problem> {
    caller.require_admin()?;
    let input: SponsorIn = json_body(&body, "a sponsor")?;
    assign_sponsor(&state, &caller.user.0.email, &account_id, nonempty(&input.sponsor).as_deref()).await?;
    let account = readable(&state, &caller, &account_id).await?;
    Ok(Json(AccountOut::from(&account.account)))
}

/// An executive and the accounts they sponsor.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExecutiveOut {
    /// Their email.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Whether they sign in to Rapport (a sponsor named only in the CRM does not).
    pub signs_in: bool,
    /// The accounts they sponsor (ids in the CRM; those the token may see).
    pub accounts: Vec<String>,
    /// How many accounts they sponsor in the whole portfolio (their load, which the warning
    /// is about), seen or not.
    pub sponsored: usize,
    /// Set when they sponsor more accounts than one person can sponsor well.
    pub warning: Option<String>,
}

/// An account by sponsor priority.
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateOut {
    /// 1 = the account that most deserves a sponsor.
    pub rank: usize,
    /// The account's id in the CRM.
    pub account_id: String,
    /// Its name.
    pub name: String,
    /// Billed revenue, a decimal string to the cent.
    pub billed_revenue: String,
    /// Potential revenue.
    pub potential_revenue: String,
    /// A strategic account.
    pub strategic: bool,
    /// A partner (custom column `partner`).
    pub partner: bool,
    /// Its quadrant in the wave: emulate, problem, growth, decision or unsurveyed.
    pub quadrant: String,
    /// Priority points, 0 to 105.
    pub points: f64,
    /// What earned them, largest first.
    pub reasons: Vec<String>,
    /// Its sponsor now (an email).
    pub sponsor: Option<String>,
}

/// Executive sponsorship: who sponsors what, and the accounts by priority.
#[derive(Debug, Serialize, ToSchema)]
pub struct SponsorsOut {
    /// The wave whose quadrants count (the latest); absent before the first.
    pub wave: Option<String>,
    /// Every executive, those with the most accounts first.
    pub executives: Vec<ExecutiveOut>,
    /// One page of accounts by priority.
    pub accounts: Vec<CandidateOut>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<usize>,
}

/// Paging of the ranking.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SponsorsQuery {
    /// The `next_cursor` of the previous page (a rank).
    #[param(minimum = 0)]
    pub after: Option<usize>,
    /// Accounts per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// Executive sponsorship, as on the Sponsors page: each executive with the accounts they
/// sponsor (more than three is flagged), and the accounts by sponsor priority (the points are
/// documented in the README). An account manager's token ranks only their accounts.
#[utoipa::path(
    get,
    path = "/api/v1/sponsors",
    params(SponsorsQuery),
    responses(
        Refused,
        (status = 200, description = "Sponsorship", body = SponsorsOut),
        (status = 400, description = "A parameter is wrong", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn sponsors(
    State(state): State<AppState>,
    caller: ApiUser,
    q: Result<Query<SponsorsQuery>, QueryRejection>,
) -> Result<Json<SponsorsOut>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    caller.user.require(Need::Portfolio)?;
    let q = query(q)?;
    let limit = page_limit(q.limit)?;
    let s = sponsorship(&state, &caller.user).await?;
    let after = q.after.unwrap_or(0);
    let count = s.ranked.len();
    let accounts: Vec<CandidateOut> = s
        .ranked
        .into_iter()
        .enumerate()
        .skip(after)
        .take(limit)
        .map(|(n, c)| CandidateOut {
            rank: n + 1,
            account_id: c.account.account_id,
            name: c.account.name,
            billed_revenue: c.facts.billed.to_string(),
            potential_revenue: c.facts.potential.to_string(),
            strategic: c.facts.strategic,
            partner: c.facts.partner,
            quadrant: c.facts.quadrant.as_str().to_string(),
            points: c.score,
            reasons: c.reasons,
            sponsor: c.account.sponsor_email.filter(|s| !s.trim().is_empty()),
        })
        .collect();
    let shown = after + accounts.len();
    let next_cursor = (shown < count).then_some(shown);
    let executives = s
        .executives
        .into_iter()
        .map(|e| ExecutiveOut {
            email: e.email,
            name: e.name,
            signs_in: !e.external,
            accounts: e.accounts.into_iter().map(|a| a.account_id).collect(),
            sponsored: e.sponsored,
            warning: e.warning,
        })
        .collect();
    Ok(Json(SponsorsOut { wave: Some(s.wave).filter(|w| !w.is_empty()), executives, accounts, next_cursor }))
}
