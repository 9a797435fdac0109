//! The assessment definition over the API: the ideal account's criteria, the hourly cost, the
//! target margin and the neglect period, every version with who changed it, when and why.
//! (The five assessment reports are under `/api/v1/reports/{name}`.)

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use rapport_core::assessment::{CriterionKind, Definition};
use rapport_core::money::Money;
use rapport_reports::assessment::preview;
use rapport_reports::{ReportKind, ReportQuery};
use rapport_store::api_tokens::TokenScope;
use rapport_store::assessment::DefinitionVersion;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiUser;
use super::problem::{Problem, Refused};
use super::{bad, json_body};
use crate::authz::Need;
use crate::error::WebError;
use crate::follow_up::messages::stamp;
use crate::pages::assessment::save_definition;
use crate::state::AppState;

/// One criterion of the ideal account.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionOut {
    /// payment_days, exceptions_per_million, service_requests_per_million,
    /// order_changes_per_million, margin_pct, opportunity_flow, loyalty or growth.
    pub kind: String,
    /// Its weight, 0-100.
    pub weight: u32,
    /// The value that earns the whole weight.
    pub best: f64,
    /// The value that earns nothing.
    pub worst: f64,
}

/// One version of the definition.
#[derive(Debug, Serialize, ToSchema)]
pub struct DefinitionOut {
    /// 1, 2, ...; 0 is the built-in default.
    pub version: i64,
    /// Who changed it (absent for the built-in default).
    pub changed_by: Option<String>,
    /// When (RFC 3339; absent for the built-in default).
    pub changed_at: Option<String>,
    /// Why.
    pub reason: String,
    /// What an hour of service costs, a decimal string to the cent.
    pub hourly_cost: String,
    /// The margin % an account should earn.
    pub target_margin_pct: f64,
    /// Days of silence that make an account neglected.
    pub neglect_days: u32,
    /// The criteria.
    pub criteria: Vec<CriterionOut>,
}

/// The current definition and every version before it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DefinitionsOut {
    /// The definition every assessment view applies.
    pub current: DefinitionOut,
    /// Every version, the latest first, ending with the built-in default.
    pub history: Vec<DefinitionOut>,
}

fn out(v: &DefinitionVersion) -> DefinitionOut {
    let d = &v.definition;
    DefinitionOut {
        version: v.version,
        changed_by: v.changed_by.clone(),
        changed_at: v.changed_at.map(stamp),
        reason: v.reason.clone(),
        hourly_cost: d.hourly_cost.to_string(),
        target_margin_pct: d.target_margin_pct,
        neglect_days: d.neglect_days,
        criteria: d
            .criteria
            .iter()
            .map(|c| CriterionOut { kind: c.kind.as_str().to_string(), weight: c.weight, best: c.best, worst: c.worst })
            .collect(),
    }
}

/// The assessment definition: the current version and its history.
#[utoipa::path(
    get,
    path = "/api/v1/assessment/definition",
    responses(Refused, (status = 200, description = "The definition and its versions", body = DefinitionsOut))
)]
pub async fn definition(State(state): State<AppState>, caller: ApiUser) -> Result<Json<DefinitionsOut>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    caller.user.require(Need::Portfolio)?;
    let current = state.store.assessment_definition().await?;
    let history = state.store.assessment_history().await?;
    Ok(Json(DefinitionsOut { current: out(&current), history: history.iter().map(out).collect() }))
}

/// A new version of the definition, made from the current one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefinitionIn {
    /// The version this change was made from: the current one, else the change is refused
    /// (409) rather than applied over someone else's.
    #[schema(minimum = 0)]
    pub base_version: i64,
    /// Why it changes (kept with the version; required to save).
    #[serde(default)]
    pub reason: String,
    /// What an hour of service costs, a decimal string ("85.00"); default: unchanged.
    pub hourly_cost: Option<String>,
    /// The margin % an account should earn; default: unchanged.
    pub target_margin_pct: Option<f64>,
    /// Days of silence that make an account neglected; default: unchanged.
    pub neglect_days: Option<u32>,
    /// The criteria to change; those not listed keep their values. Weights are whole numbers
    /// 0-100 and add up to more than 0.
    #[serde(default)]
    pub criteria: Vec<CriterionOut>,
}

/// Change the definition: a new version, with who, when and why, applied by every assessment
/// view at once. Administrators only (`admin` scope).
#[utoipa::path(
    put,
    path = "/api/v1/assessment/definition",
    request_body = DefinitionIn,
    responses(
        Refused,
        (status = 200, description = "The new version", body = DefinitionOut),
        (status = 400, description = "The body is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The definition changed since base_version", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn change_definition(
    State(state): State<AppState>,
    caller: ApiUser,
    body: Bytes,
) -> Result<Json<DefinitionOut>, Problem> {
    caller.require_admin()?;
    let (input, d) = proposed(&state, &body).await?;
    let version = save_definition(&state, &caller.user.0.email, d, input.base_version, &input.reason).await?;
    let saved = state.store.assessment_history().await?;
    let v = saved.iter().find(|v| v.version == version).ok_or_else(|| bad(format!("version {version} vanished")))?;
    Ok(Json(out(v)))
}

/// The body, and the current definition with its changes applied (not yet checked).
async fn proposed(state: &AppState, body: &[u8]) -> Result<(DefinitionIn, Definition), Problem> {
    let input: DefinitionIn = json_body(body, "a definition change")?;
    if input.base_version < 0 {
        let v = input.base_version;
        return Err(bad(format!("base_version={v}: a definition version is 0 (the built-in default) or more")));
    }
    let mut d = state.store.assessment_definition().await?.definition;
    if let Some(cost) = &input.hourly_cost {
        d.hourly_cost = Money::parse(cost).map_err(|e| bad(format!("hourly_cost: {e}")))?;
    }
    if let Some(m) = input.target_margin_pct {
        d.target_margin_pct = m;
    }
    if let Some(n) = input.neglect_days {
        d.neglect_days = n;
    }
    let mut seen = Vec::new();
    for (i, c) in input.criteria.iter().enumerate() {
        let kind = CriterionKind::parse(&c.kind).ok_or_else(|| {
            let kinds: Vec<&str> = CriterionKind::ALL.iter().map(|k| k.as_str()).collect();
            bad(format!("criteria[{i}].kind: '{}' is not one of {}", c.kind, kinds.join(", ")))
        })?;
        if seen.contains(&kind) {
            return Err(bad(format!("criteria[{i}]: {} is listed twice", kind.as_str())));
        }
        seen.push(kind);
        let target = d.criterion_mut(kind);
        (target.weight, target.best, target.worst) = (c.weight, c.best, c.worst);
    }
    Ok((input, d))
}

/// An account whose ideal score would move.
#[derive(Debug, Serialize, ToSchema)]
pub struct MoverOut {
    /// The account's id in the CRM.
    pub account_id: String,
    /// Its name.
    pub name: String,
    /// Its score now, 0-100.
    pub score_before: f64,
    /// Its band now: ideal, fair or poor.
    pub band_before: String,
    /// Its score under the change.
    pub score_after: f64,
    /// Its band under the change.
    pub band_after: String,
}

/// Who a change would move.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewOut {
    /// The accounts whose band changes or whose score moves 5 points or more, the largest
    /// moves first (those the token may see).
    pub movers: Vec<MoverOut>,
}

/// Preview a change of the definition without saving it: who would move, over the four
/// quarters up to today. Administrators only (`admin` scope); the body is that of the change
/// (`reason` may be empty here).
#[utoipa::path(
    post,
    path = "/api/v1/assessment/definition/preview",
    request_body = DefinitionIn,
    responses(
        Refused,
        (status = 200, description = "Who would move", body = PreviewOut),
        (status = 400, description = "The body is wrong", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn preview_definition(
    State(state): State<AppState>,
    caller: ApiUser,
    body: Bytes,
) -> Result<Json<PreviewOut>, Problem> {
    caller.require_admin()?;
    let (_, d) = proposed(&state, &body).await?;
    let d = d.validate().map_err(|e| bad(format!("the definition is not valid: {e}")))?;
    let query = ReportQuery { filter: caller.user.scoped(Default::default()), ..ReportQuery::new(ReportKind::Ideal) };
    let p = preview(&state.store, &state.cache, &query, d).await.map_err(WebError::from_report)?;
    let movers = p
        .movers
        .iter()
        .map(|m| {
            let a = &p.portfolio.accounts[m.account].account;
            MoverOut {
                account_id: a.account_id.clone(),
                name: a.name.clone(),
                score_before: m.before.0,
                band_before: m.before.1.as_str().to_string(),
                score_after: m.after.0,
                band_after: m.after.1.as_str().to_string(),
            }
        })
        .collect();
    Ok(Json(PreviewOut { movers }))
}
