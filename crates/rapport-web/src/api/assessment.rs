//! The assessment definition over the API: the ideal account's criteria, the hourly cost, the
//! target margin and the neglect period, every version with who changed it, when and why.
//! (The five assessment reports are under `/api/v1/reports/{name}`.)

use axum::Json;
use axum::extract::State;
use rapport_store::api_tokens::TokenScope;
use rapport_store::assessment::DefinitionVersion;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::ApiUser;
use super::problem::{Problem, Refused};
use crate::authz::Need;
use crate::follow_up::messages::stamp;
use crate::state::AppState;

/// One criterion of the ideal account.
#[derive(Debug, Serialize, ToSchema)]
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
