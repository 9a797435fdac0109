//! Surveys and the progress of the waves sent from Rapport, over the API: what was asked, and
//! who has been invited, reached and heard from, per wave, account and owner.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rapport_core::survey::Survey;
use rapport_reports::AccountFilter;
use rapport_store::api_tokens::TokenScope;
use rapport_store::invitations::RateBy;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiUser;
use super::idempotency::once;
use super::problem::{Problem, Refused};
use super::{json_body, query};
use crate::authz::Need;
use crate::pages::surveys::save_survey_for;
use crate::state::AppState;

/// The latest version of a survey.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyOut {
    /// Its name.
    pub name: String,
    /// Its version (1, 2, ...); a wave keeps the version it was created with.
    pub version: i64,
    /// The definition: languages, sender, texts and questions, as `rapport survey template`
    /// prints it.
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
}

/// Every survey, with its latest version.
#[utoipa::path(
    get,
    path = "/api/v1/surveys",
    responses(Refused, (status = 200, description = "The surveys", body = [SurveyOut]))
)]
pub async fn list_surveys(State(state): State<AppState>, caller: ApiUser) -> Result<Json<Vec<SurveyOut>>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    caller.user.require(Need::Portfolio)?;
    let surveys = state.store.list_surveys().await?;
    let out = surveys
        .into_iter()
        .map(|s| {
            let definition = serde_json::to_value(&s.survey)
                .map_err(|e| Problem::from(crate::error::WebError::Internal(e.into())))?;
            Ok(SurveyOut { name: s.survey.name, version: s.version, definition })
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    Ok(Json(out))
}

/// Save a survey definition (JSON, as `rapport survey template` prints it and
/// `GET /api/v1/surveys` returns it): a new version when it differs from the latest one under
/// its name (201), the latest one when it does not (200). Waves keep the version they were
/// created with. Administrators and analysts, `write` scope.
#[utoipa::path(
    post,
    path = "/api/v1/surveys",
    request_body(content = Object, description = "The survey definition"),
    responses(
        Refused,
        (status = 201, description = "The new version", body = SurveyOut),
        (status = 200, description = "Unchanged: the latest version", body = SurveyOut),
        (status = 400, description = "The definition is wrong", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn save_survey(
    State(state): State<AppState>,
    caller: ApiUser,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    once(&state, &caller, &headers, &uri, &body, async {
        caller.require_scope(TokenScope::Write)?;
        caller.user.require(Need::Surveys)?;
        let survey: Survey = json_body(&body, "a survey definition (compare with `rapport survey template`)")?;
        let (saved, new) = save_survey_for(&state, &caller.user.0.email, &survey).await?;
        let status = if new { StatusCode::CREATED } else { StatusCode::OK };
        let definition = serde_json::to_value(&saved.survey)
            .map_err(|e| Problem::from(crate::error::WebError::Internal(e.into())))?;
        Ok((status, Json(SurveyOut { name: saved.survey.name, version: saved.version, definition })).into_response())
    })
    .await
}

/// How far a wave has come.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressOut {
    /// The wave.
    pub wave: String,
    /// draft, open or closed.
    pub status: String,
    /// Invitations made.
    pub invited: u64,
    /// Messages waiting to be sent (or retried).
    pub queued: u64,
    /// Delivered to the mail server or SMS gateway.
    pub sent: u64,
    /// Delivery failed.
    pub failed: u64,
    /// Bounced after delivery.
    pub bounced: u64,
    /// Opened the survey.
    pub opened: u64,
    /// Saved a partial answer and have not finished.
    pub partial: u64,
    /// Answered.
    pub answered: u64,
    /// answered / invited, in percent (null before any invitation).
    pub response_rate: Option<f64>,
}

async fn wave_id(state: &AppState, name: &str) -> Result<(i64, String), Problem> {
    let w = crate::pages::waves::find(state, name).await?;
    Ok((w.id, w.status))
}

/// A wave's invitations, deliveries and answers so far.
#[utoipa::path(
    get,
    path = "/api/v1/waves/{name}/progress",
    params(("name" = String, Path, description = "The wave, e.g. 2026-Q4")),
    responses(
        Refused,
        (status = 200, description = "The wave's progress", body = ProgressOut),
        (status = 404, description = "No such wave sent from Rapport", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn progress(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(name): Path<String>,
) -> Result<Json<ProgressOut>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    caller.user.require(Need::Portfolio)?;
    let (id, status) = wave_id(&state, &name).await?;
    let p = state.store.wave_progress(id).await?;
    let q = state.store.queue_counts(Some(id)).await?;
    Ok(Json(ProgressOut {
        wave: name,
        status,
        invited: p.invited,
        queued: q.queued + q.running,
        sent: p.sent,
        failed: p.failed,
        bounced: p.bounced,
        opened: p.opened,
        partial: p.partial,
        answered: p.answered,
        response_rate: (p.invited > 0).then(|| 100.0 * p.answered as f64 / p.invited as f64),
    }))
}

/// How to group response rates.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RatesQuery {
    /// `account` (default) or `owner`.
    pub by: Option<String>,
}

/// Invited and answered in one group.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateOut {
    /// The account's account_id, or the owner's email.
    pub key: String,
    /// The account's name, or the owner's email.
    pub name: String,
    /// Invitations.
    pub invited: i64,
    /// Invitations answered.
    pub answered: i64,
    /// answered / invited, in percent.
    pub response_rate: f64,
}

/// A wave's response rate per account or per owner, lowest first (an account manager's
/// token sees only their accounts).
#[utoipa::path(
    get,
    path = "/api/v1/waves/{name}/response-rates",
    params(("name" = String, Path, description = "The wave, e.g. 2026-Q4"), RatesQuery),
    responses(
        Refused,
        (status = 200, description = "The rates", body = [RateOut]),
        (status = 400, description = "`by` is neither account nor owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such wave sent from Rapport", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn response_rates(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(name): Path<String>,
    q: Result<Query<RatesQuery>, QueryRejection>,
) -> Result<Json<Vec<RateOut>>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    caller.user.require(Need::Portfolio)?;
    let q = query(q)?;
    let by = match q.by.as_deref().map(str::trim) {
        None | Some("") | Some("account") => RateBy::Account,
        Some("owner") => RateBy::Owner,
        Some(other) => {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                format!("by='{other}' is not a grouping: use account or owner"),
            ));
        }
    };
    let (id, _) = wave_id(&state, &name).await?;
    let scope = caller.user.scoped(AccountFilter::default()).owned_by;
    let rates = state.store.response_rates(id, by, scope.as_deref(), super::MAX_LIMIT as i64).await?;
    Ok(Json(
        rates
            .into_iter()
            .map(|r| RateOut {
                response_rate: r.percent(),
                key: r.key,
                name: r.name,
                invited: r.invited,
                answered: r.answered,
            })
            .collect(),
    ))
}
