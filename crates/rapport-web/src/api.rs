//! The JSON API under `/api/v1`: accounts, waves, alerts, tasks (follow-ups and action plans) and every report, for CRMs, data warehouses
//! and scripts. Callers sign in with a personal API token; the same role and ownership rules
//! as the web app apply (an account manager's token sees only their accounts). Errors are
//! RFC 9457 problem details. The OpenAPI 3.1 document, generated from this code, is at
//! `/api/v1/openapi.json`.

pub mod account_records;
pub mod alerts;
pub mod assessment;
pub mod auth;
pub mod bulk;
pub mod idempotency;
pub mod logs;
pub mod problem;
pub mod reviews;
pub mod settings;
pub mod surveys;
pub mod tasks;
pub mod users;
pub mod waves;

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use rapport_core::account::Account;
use rapport_core::money::Money;
use rapport_core::segment::Dimension;
use rapport_reports::{AccountFilter, Format, ReportKind, ReportQuery, build_cached};
use rapport_store::api_tokens::TokenScope;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use crate::authz::Need;
use crate::error::WebError;
use crate::state::AppState;
use auth::ApiUser;
use problem::{Problem, Refused};

/// The most items one page of a list holds.
pub const MAX_LIMIT: usize = 1000;

/// The API's routes, to nest under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list_accounts))
        .route("/accounts/{account_id}", get(get_account))
        .route("/accounts/{account_id}/contacts", get(account_records::contacts))
        .route("/accounts/{account_id}/revenue", get(account_records::revenue))
        .route("/accounts/{account_id}/opportunities", get(account_records::opportunities))
        .route("/accounts/{account_id}/service-cases", get(account_records::service_cases))
        .route("/accounts/{account_id}/answers", get(account_records::answers))
        .route("/waves", get(waves::list_waves).post(waves::create))
        .route("/waves/{name}/send", post(waves::send))
        .route("/waves/{name}/open", post(waves::open))
        .route("/waves/{name}/close", post(waves::close))
        .route("/waves/{name}/invitations", get(waves::invitations))
        .route("/waves/{name}/unmatched", get(waves::unmatched))
        .route("/waves/{name}/bounces", post(waves::bounces))
        .route("/waves/{name}/unmatched/{id}/assign", post(waves::assign))
        .route("/audit", get(logs::audit))
        .route("/deliveries", get(logs::deliveries))
        .route("/waves/{name}/progress", get(surveys::progress))
        .route("/waves/{name}/response-rates", get(surveys::response_rates))
        .route("/surveys", get(surveys::list_surveys).post(surveys::save_survey))
        .route("/alerts", get(alerts::list_alerts))
        .route("/tasks", get(tasks::list_tasks))
        .route("/tasks/{id}", get(tasks::get_task).patch(tasks::update_task))
        .route("/accounts/{account_id}/tasks", post(tasks::create_task))
        .route("/reports/{name}", get(report))
        .route("/assessment/definition", get(assessment::definition).put(assessment::change_definition))
        .route("/assessment/definition/preview", post(assessment::preview_definition))
        .route("/accounts/{account_id}/reviews", get(reviews::list_reviews).post(reviews::record_review))
        .route("/accounts/{account_id}/sponsor", put(reviews::set_sponsor))
        .route("/sponsors", get(reviews::sponsors))
        .route("/settings/alert-rules", get(settings::alert_rules).put(settings::set_alert_rules))
        .route("/settings/cadence", get(settings::cadence).put(settings::set_cadence).delete(settings::stop_cadence))
        .route("/webhooks", get(settings::list_webhooks).post(settings::add_webhook))
        .route("/webhooks/{id}", delete(settings::remove_webhook))
        .route("/users", get(users::list_users).post(users::add_user))
        .route("/users/{id}", put(users::change_user))
        .route("/users/{id}/password", post(users::new_password))
        .route("/users/{id}/sign-in", delete(users::remove_sign_in))
        .route("/bulk/{kind}", post(bulk::bulk).layer(axum::extract::DefaultBodyLimit::max(bulk::MAX_BODY)))
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .fallback(|| async {
            Problem::new(StatusCode::NOT_FOUND, "there is no such API endpoint: see /api/v1/openapi.json")
        })
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Rapport API", description = "Accounts, waves and loyalty reports of a Rapport portfolio."),
    paths(
        list_accounts,
        get_account,
        account_records::contacts,
        account_records::revenue,
        account_records::opportunities,
        account_records::service_cases,
        account_records::answers,
        waves::list_waves,
        waves::create,
        waves::send,
        waves::open,
        waves::close,
        waves::invitations,
        waves::unmatched,
        waves::bounces,
        waves::assign,
        logs::audit,
        logs::deliveries,
        surveys::list_surveys,
        surveys::save_survey,
        surveys::progress,
        surveys::response_rates,
        alerts::list_alerts,
        tasks::list_tasks,
        tasks::get_task,
        tasks::create_task,
        tasks::update_task,
        report,
        assessment::definition,
        assessment::change_definition,
        assessment::preview_definition,
        reviews::list_reviews,
        reviews::record_review,
        reviews::set_sponsor,
        reviews::sponsors,
        settings::alert_rules,
        settings::set_alert_rules,
        settings::cadence,
        settings::set_cadence,
        settings::stop_cadence,
        settings::list_webhooks,
        settings::add_webhook,
        settings::remove_webhook,
        users::list_users,
        users::add_user,
        users::change_user,
        users::new_password,
        users::remove_sign_in,
        bulk::bulk
    ),
    components(schemas(AccountOut, AccountPage, waves::WaveOut, waves::NewWaveIn, waves::WaveCreatedOut, waves::SentOut, waves::InvitationOut, waves::InvitationPage, waves::UnmatchedOut, waves::BounceIn, waves::BouncesOut, waves::AssignIn, waves::AssignedOut, logs::AuditOut, logs::AuditPage, logs::DeliveryOut, logs::DeliveryPage, ReportOut, ReportName, Problem, bulk::BulkResult, bulk::BulkProblem, bulk::RowProblem, surveys::SurveyOut, surveys::ProgressOut, surveys::RateOut, alerts::AlertOut, alerts::AlertPage, tasks::TaskOut, tasks::TaskPage, tasks::NewTaskIn, tasks::TaskUpdateIn, assessment::DefinitionsOut, assessment::DefinitionOut, assessment::CriterionOut, assessment::DefinitionIn, assessment::MoverOut, assessment::PreviewOut, reviews::ReviewOut, reviews::NewReviewIn, reviews::ActionIn, reviews::SponsorIn, reviews::SponsorsOut, reviews::ExecutiveOut, reviews::CandidateOut, settings::AlertRulesBody, settings::CadenceBody, settings::CadenceOut, settings::WebhookOut, settings::NewWebhookIn, settings::WebhookCreatedOut, users::UserOut, users::NewUserIn, users::UserPasswordOut, users::UserChangeIn)),
    modifiers(&BearerToken),
    security(("token" = []))
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token, made under API tokens in the web app"))
                    .build(),
            ),
        );
    }
}

/// An account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOut {
    /// Its id in the CRM.
    pub account_id: String,
    /// Its name.
    pub name: String,
    /// Vertical.
    pub vertical: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// The account owner's email.
    pub owner_email: Option<String>,
    /// The executive sponsor's email.
    pub sponsor_email: Option<String>,
    /// Billed revenue, a decimal to the cent ("1234.50"), exact.
    pub billed_revenue: Option<String>,
    /// Potential revenue, a decimal to the cent.
    pub potential_revenue: Option<String>,
    /// relationship or transaction.
    pub relationship_style: Option<String>,
    /// Strategic account.
    pub strategic: Option<bool>,
}

impl From<&Account> for AccountOut {
    fn from(a: &Account) -> AccountOut {
        let money = |m: Option<Money>| m.map(|m| m.to_string());
        AccountOut {
            account_id: a.account_id.clone(),
            name: a.name.clone(),
            vertical: a.vertical.clone(),
            region: a.region.clone(),
            owner_email: a.owner_email.clone(),
            sponsor_email: a.sponsor_email.clone(),
            billed_revenue: money(a.billed_revenue),
            potential_revenue: money(a.potential_revenue),
            relationship_style: a.relationship_style.map(|s| s.as_str().to_string()),
            strategic: a.strategic,
        }
    }
}

/// One page of accounts, ordered by account_id.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountPage {
    /// The accounts.
    pub items: Vec<AccountOut>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of the account list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountsQuery {
    /// Only this vertical.
    pub vertical: Option<String>,
    /// Only this region.
    pub region: Option<String>,
    /// Only this owner's accounts (email).
    pub owner: Option<String>,
    /// Only this relationship style.
    pub style: Option<String>,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Items per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, Problem> {
    q.map(|Query(q)| q).map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("a query parameter is wrong: {e}")))
}

/// The page size a list was asked for: 1 to [`MAX_LIMIT`], 100 when not given.
fn page_limit(limit: Option<usize>) -> Result<usize, Problem> {
    let limit = limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::new(StatusCode::BAD_REQUEST, format!("limit must be 1 to {MAX_LIMIT}, not {limit}")));
    }
    Ok(limit)
}

/// A page of rows read with one row more than `limit`, newest first: the rows to send, and
/// the cursor of the next page (the last row's id) when there is one.
fn newest_page<T>(mut rows: Vec<T>, limit: usize, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<i64>) {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(id) } else { None };
    (rows, next)
}

/// A bad request: `detail` says what was wrong and how to fix it.
fn bad(detail: String) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, detail)
}

/// The request's JSON body as `T`, or a bad request naming what it should have been (`what`,
/// e.g. "a task") and where the JSON went wrong.
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| bad(format!("the body is not {what}: {e}")))
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// List the accounts the token's user may see.
#[utoipa::path(
    get,
    path = "/api/v1/accounts",
    params(AccountsQuery),
    responses(
        Refused,
        (status = 200, description = "A page of accounts", body = AccountPage),
        (status = 400, description = "A parameter is wrong", body = Problem, content_type = "application/problem+json")
    )
)]
async fn list_accounts(
    State(state): State<AppState>,
    caller: ApiUser,
    q: Result<Query<AccountsQuery>, QueryRejection>,
) -> Result<Json<AccountPage>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    caller.user.require(Need::Portfolio)?;
    let q = query(q)?;
    let limit = page_limit(q.limit)?;
    let filter = caller.user.scoped(AccountFilter {
        vertical: nonempty(&q.vertical),
        region: nonempty(&q.region),
        owner: nonempty(&q.owner),
        relationship_style: nonempty(&q.style),
        owned_by: None,
    });
    let accounts = state.cache.accounts(&state.store).await?;
    let mut page: Vec<&Account> = accounts
        .iter()
        .map(|a| &a.account)
        .filter(|a| filter.matches(a) && q.after.as_deref().is_none_or(|after| a.account_id.as_str() > after))
        .collect();
    // The next `limit` ids in Rust's order (the database's collation may sort otherwise).
    let more = page.len() > limit;
    if more {
        page.select_nth_unstable_by(limit, |a, b| a.account_id.cmp(&b.account_id));
        page.truncate(limit);
    }
    page.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    let next_cursor = if more { page.last().map(|a| a.account_id.clone()) } else { None };
    Ok(Json(AccountPage { items: page.into_iter().map(AccountOut::from).collect(), next_cursor }))
}

/// One account.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{account_id}",
    params(("account_id" = String, Path, description = "The account's id in the CRM")),
    responses(
        Refused,
        (status = 200, description = "The account", body = AccountOut),
        (status = 404, description = "No such account (or not yours)", body = Problem, content_type = "application/problem+json")
    )
)]
async fn get_account(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(account_id): Path<String>,
) -> Result<Json<AccountOut>, Problem> {
    let a = account_records::readable(&state, &caller, &account_id).await?;
    Ok(Json(AccountOut::from(&a.account)))
}

/// A report: its columns, one object per row, and the notes that explain it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportOut {
    /// What it shows.
    pub title: String,
    /// The columns, in order (each row has these keys).
    pub columns: Vec<String>,
    /// The rows: numbers as numbers, missing values as null.
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Thresholds used, what flags mean.
    pub notes: Vec<String>,
}

/// The reports, as the OpenAPI document names them (the same names as
/// [`ReportKind::as_str`], checked by a test).
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "kebab-case")]
pub enum ReportName {
    /// Every account on the loyalty x revenue matrix.
    Quadrants,
    /// Accounts that changed quadrant between two waves.
    Migration,
    /// NPS per segment.
    Nps,
    /// Key drivers of loyalty per segment.
    Drivers,
    /// What respondents wrote, by theme.
    Comments,
    /// NPS across waves.
    Trends,
    /// Who was asked and who answered.
    Coverage,
    /// Loyalty change against revenue change.
    LoyaltyRevenue,
    /// Profitability and opportunity flow per account over a window.
    Portfolio,
    /// The ideal account score of each account.
    Ideal,
    /// Service effort against revenue and value.
    SqueakyWheel,
    /// Accounts at risk and why.
    Risk,
    /// Big R or little r, Relationship or Transaction buying.
    Relationships,
}

/// Options of a report.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// The wave (default: the latest); for migration and loyalty-revenue, the later wave.
    pub wave: Option<String>,
    /// Migration and loyalty-revenue: the earlier wave (default: the one before).
    pub from: Option<String>,
    /// Segment by vertical, region, owner, role, relationship_style or strategic.
    pub by: Option<String>,
    /// Trends, comments and coverage: one account only.
    pub account: Option<String>,
    /// Comments: only those on this theme (product, delivery, support, value, brand, promise
    /// or other).
    pub theme: Option<String>,
    /// Only this vertical.
    pub vertical: Option<String>,
    /// Only this region.
    pub region: Option<String>,
    /// Only this owner's accounts.
    pub owner: Option<String>,
    /// Only this relationship style.
    pub style: Option<String>,
    /// Assessment reports: the window's first quarter (2026-Q1; a month stands for its
    /// quarter). Default: the four quarters up to `until`.
    pub since: Option<String>,
    /// Assessment reports: the window's last quarter (default: the current quarter).
    pub until: Option<String>,
    /// The ideal report: compare with this version of the definition.
    #[param(minimum = 0)]
    pub compare: Option<i64>,
}

/// Any report: quadrants, migration, nps, drivers, comments, trends, coverage, loyalty-revenue, and the
/// portfolio assessment: portfolio, ideal, squeaky-wheel, risk, relationships.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{name}",
    params(("name" = ReportName, Path, description = "Which report"), ReportParams),
    responses(
        Refused,
        (status = 200, description = "The report", body = ReportOut),
        (status = 400, description = "An option is wrong (unknown wave, segment, ...)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json")
    )
)]
async fn report(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(name): Path<String>,
    q: Result<Query<ReportParams>, QueryRejection>,
) -> Result<Json<ReportOut>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    caller.user.require(Need::Portfolio)?;
    let q = query(q)?;
    let kind =
        ReportKind::parse(&name).ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, ReportKind::unknown(&name)))?;
    let by = nonempty(&q.by)
        .map(|b| Dimension::parse(&b))
        .transpose()
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    if let Some(account) = nonempty(&q.account) {
        let accounts = state.cache.accounts(&state.store).await?;
        // An account out of the caller's scope and one that does not exist get the same
        // answer, so that ids cannot be probed.
        match accounts.iter().find(|a| a.account.account_id == account) {
            Some(a) => caller.user.require(Need::Account(&a.account))?,
            None => return Err(WebError::NotFound(format!("There is no account '{account}'")).into()),
        }
    }
    if let Some(v) = q.compare.filter(|v| *v < 0) {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            format!("compare={v}: a definition version is 0 (the built-in default) or more"),
        ));
    }
    let query = ReportQuery {
        wave: nonempty(&q.wave),
        to: nonempty(&q.wave),
        from: nonempty(&q.from),
        by,
        account: nonempty(&q.account),
        filter: caller.user.scoped(AccountFilter {
            vertical: nonempty(&q.vertical),
            region: nonempty(&q.region),
            owner: nonempty(&q.owner),
            relationship_style: nonempty(&q.style),
            owned_by: None,
        }),
        since: nonempty(&q.since),
        until: nonempty(&q.until),
        compare: q.compare,
        theme: nonempty(&q.theme),
        ..ReportQuery::new(kind)
    };
    let report = build_cached(&state.store, &state.cache, &query).await.map_err(WebError::from_report)?;
    // One JSON shape for the CLI and the API: the report's own JSON writer.
    let mut body = Vec::new();
    report.write(Format::Json, &mut body).map_err(WebError::Internal)?;
    let out: ReportOut = serde_json::from_slice(&body).map_err(|e| WebError::Internal(e.into()))?;
    Ok(Json(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_report_names_are_the_reports() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let names: Vec<&str> = doc["components"]["schemas"]["ReportName"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let kinds: Vec<&str> = ReportKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, kinds);
    }
}
