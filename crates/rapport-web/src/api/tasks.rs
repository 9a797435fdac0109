//! Follow-ups and action plans over the API: list them as the web app does (open, overdue,
//! closed; by owner, function, kind), read one, add an item to an account's plan, and record
//! progress. An account manager's token sees and changes only their accounts' tasks.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rapport_core::task::{Function, TaskStatus};
use rapport_core::user::Role;
use rapport_store::api_tokens::TokenScope;
use rapport_store::tasks::{NewTask, TaskError, TaskFilter, TaskRow, TaskView};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiUser;
use super::idempotency::once;
use super::problem::{Problem, Refused};
use super::{bad, json_body, newest_page, nonempty, page_limit, query};
use crate::follow_up::messages::stamp;
use crate::pages::account::portfolio_with;
use crate::pages::view::Viewer;
use crate::state::AppState;

/// A task: an alert's follow-up or an action plan item.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOut {
    /// Its id.
    pub id: i64,
    /// The account's id in the CRM.
    pub account_id: String,
    /// The account's name.
    pub account_name: String,
    /// The rule that raised it (detractor, watch_words, nps_drop, problem); absent for plan
    /// items.
    pub alert: Option<String>,
    /// What is to be done.
    pub description: String,
    /// sales, service, product, marketing, billing or executive.
    pub function: String,
    /// Who (an email).
    pub owner: Option<String>,
    /// Due (RFC 3339, UTC).
    pub due_at: String,
    /// Past due and still open.
    pub overdue: bool,
    /// open, in_progress, done or dropped.
    pub status: String,
    /// What was done, or why it was dropped.
    pub outcome: Option<String>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// When (RFC 3339).
    pub closed_at: Option<String>,
    /// To whom it was escalated for being overdue.
    pub escalated_to: Option<String>,
    /// Who wrote it (absent: an alert rule).
    pub created_by: Option<String>,
}

impl TaskOut {
    fn of(t: TaskRow, now: OffsetDateTime) -> TaskOut {
        TaskOut {
            overdue: t.is_overdue(now),
            id: t.id,
            account_id: t.account_external_id,
            account_name: t.account_name,
            alert: t.alert_kind,
            description: t.description,
            function: t.function,
            owner: t.owner_email,
            due_at: stamp(t.due_at),
            status: t.status,
            outcome: t.outcome,
            closed_by: t.closed_by,
            closed_at: t.closed_at.map(stamp),
            escalated_to: t.escalated_to,
            created_by: t.created_by,
        }
    }
}

/// One page of tasks, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskPage {
    /// The tasks.
    pub items: Vec<TaskOut>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_cursor: Option<i64>,
}

/// Filters and paging of the task list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TasksQuery {
    /// open (default), overdue, closed or all.
    pub view: Option<String>,
    /// Only tasks this person owns (email).
    pub owner: Option<String>,
    /// Only this function.
    pub function: Option<String>,
    /// follow_ups (alerts) or plans (action plan items).
    pub kind: Option<String>,
    /// Only this account (its id in the CRM); an unknown one lists nothing.
    pub account: Option<String>,
    /// The `next_cursor` of the previous page.
    pub before: Option<i64>,
    /// Items per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

fn scope(caller: &ApiUser) -> Option<String> {
    (caller.user.0.role == Role::AccountManager).then(|| caller.user.0.email.clone())
}

/// List tasks.
#[utoipa::path(
    get,
    path = "/api/v1/tasks",
    params(TasksQuery),
    responses(
        Refused,
        (status = 200, description = "A page of tasks", body = TaskPage),
        (status = 400, description = "A parameter is wrong", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_tasks(
    State(state): State<AppState>,
    caller: ApiUser,
    q: Result<Query<TasksQuery>, QueryRejection>,
) -> Result<Json<TaskPage>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    let q = query(q)?;
    let limit = page_limit(q.limit)?;
    let view = match nonempty(&q.view) {
        Some(v) => TaskView::parse(&v)
            .ok_or_else(|| bad(format!("view='{v}' is not a view: use open, overdue, closed or all")))?,
        None => TaskView::Open,
    };
    let function = match nonempty(&q.function) {
        Some(f) => Some(
            Function::parse(&f).ok_or_else(|| bad(format!("function='{f}' is not one of {}", Function::names())))?,
        ),
        None => None,
    };
    let follow_ups = match nonempty(&q.kind).as_deref() {
        None => None,
        Some("follow_ups") => Some(true),
        Some("plans") => Some(false),
        Some(k) => return Err(bad(format!("kind='{k}' is not a kind: use follow_ups or plans"))),
    };
    // An account that does not exist lists nothing, as one the caller may not see does: the
    // answer cannot tell them apart.
    let account_id = match nonempty(&q.account) {
        Some(a) => match state.store.find_account_id(&a).await? {
            Some(id) => Some(id),
            None => return Ok(Json(TaskPage { items: Vec::new(), next_cursor: None })),
        },
        None => None,
    };
    let filter = TaskFilter {
        view,
        account_id,
        owner: nonempty(&q.owner),
        function,
        follow_ups,
        scope: scope(&caller),
        closed_since: None,
        before: q.before,
        newest_first: true,
    };
    let now = OffsetDateTime::now_utc();
    let rows = state.store.list_tasks(&filter, now, limit as i64 + 1).await?;
    let (rows, next_cursor) = newest_page(rows, limit, |t| t.id);
    Ok(Json(TaskPage { items: rows.into_iter().map(|t| TaskOut::of(t, now)).collect(), next_cursor }))
}

/// The task, if the caller may see its account; "not found" otherwise (also for an id that
/// is not a number, so that every wrong id gets the same answer).
async fn visible(state: &AppState, caller: &ApiUser, id: &str) -> Result<TaskRow, Problem> {
    let missing = || Problem::new(StatusCode::NOT_FOUND, format!("there is no task '{id}'"));
    let id: i64 = id.trim().parse().map_err(|_| missing())?;
    let task = state.store.find_task(id).await?.ok_or_else(missing)?;
    portfolio_with(state, &Viewer::of(&caller.user), &task.account_external_id).await.map_err(|_| missing())?;
    Ok(task)
}

/// One task.
#[utoipa::path(
    get,
    path = "/api/v1/tasks/{id}",
    params(("id" = i64, Path, description = "The task's id")),
    responses(
        Refused,
        (status = 200, description = "The task", body = TaskOut),
        (status = 404, description = "No such task (or not yours)", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_task(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<TaskOut>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    let task = visible(&state, &caller, &id).await?;
    Ok(Json(TaskOut::of(task, OffsetDateTime::now_utc())))
}

/// A new action plan item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTaskIn {
    /// What is to be done (1 to 2,000 characters).
    pub description: String,
    /// sales, service, product, marketing, billing or executive.
    pub function: String,
    /// Who (an email; default: the account owner).
    pub owner: Option<String>,
    /// Due date, YYYY-MM-DD (the end of that day, UTC).
    pub due: String,
    /// The answers it responds to (their response ids), answers of the same account.
    #[serde(default)]
    pub answers: Vec<i64>,
}

/// Add an item to an account's action plan. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    post,
    path = "/api/v1/accounts/{account_id}/tasks",
    params(("account_id" = String, Path, description = "The account's id in the CRM")),
    request_body = NewTaskIn,
    responses(
        Refused,
        (status = 201, description = "The new task", body = TaskOut),
        (status = 400, description = "The body is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account (or not yours)", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_task(
    State(state): State<AppState>,
    caller: ApiUser,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    once(&state, &caller, &headers, &uri, &body, create(&state, &caller, &account_id, &body)).await
}

async fn create(state: &AppState, caller: &ApiUser, account_id: &str, body: &[u8]) -> Result<Response, Problem> {
    caller.require_scope(TokenScope::Write)?;
    let (p, index) = portfolio_with(state, &Viewer::of(&caller.user), account_id).await?;
    let entry = &p.accounts[index];
    let input: NewTaskIn = json_body(body, "a task")?;
    let description = input.description.trim();
    if description.is_empty() || description.chars().count() > 2000 {
        return Err(bad("description: say what is to be done, in 1 to 2,000 characters".into()));
    }
    let function = Function::parse(&input.function)
        .ok_or_else(|| bad(format!("function: '{}' is not one of {}", input.function, Function::names())))?;
    let due = rapport_core::date::parse_date(&input.due).map_err(|e| bad(format!("due: {e}")))?;
    let today = OffsetDateTime::now_utc().date();
    if let Some(problem) = crate::plan::owner_and_due_problem(&state.store, input.owner.as_deref(), due, today).await? {
        return Err(bad(problem));
    }
    let task = NewTask {
        account_id: entry.id,
        description: description.to_string(),
        function,
        owner_email: nonempty(&input.owner).or(entry.account.owner_email.clone()),
        due_at: due.with_hms(23, 59, 59).expect("a valid time").assume_utc(),
        created_by: Some(caller.user.0.email.clone()),
        response_ids: input.answers,
    };
    let now = OffsetDateTime::now_utc();
    let id = state.store.add_task(&task, now).await.map_err(task_problem)?;
    let row =
        state.store.find_task(id).await?.ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "the task vanished"))?;
    Ok((StatusCode::CREATED, Json(TaskOut::of(row, now))).into_response())
}

/// Progress on a task.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskUpdateIn {
    /// open, in_progress, done or dropped.
    pub status: String,
    /// What was done (required for done) or why it was dropped (required for dropped).
    pub outcome: Option<String>,
}

/// Record progress on a task: a new status and, to close it, the outcome.
#[utoipa::path(
    patch,
    path = "/api/v1/tasks/{id}",
    params(("id" = i64, Path, description = "The task's id")),
    request_body = TaskUpdateIn,
    responses(
        Refused,
        (status = 200, description = "The task as it is now", body = TaskOut),
        (status = 400, description = "The body is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such task (or not yours)", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn update_task(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<TaskOut>, Problem> {
    caller.require_scope(TokenScope::Write)?;
    let id = visible(&state, &caller, &id).await?.id;
    let input: TaskUpdateIn = json_body(&body, "a task update")?;
    let status = TaskStatus::parse(&input.status)
        .ok_or_else(|| bad(format!("status: '{}' is not one of open, in_progress, done, dropped", input.status)))?;
    let outcome = nonempty(&input.outcome);
    if !status.is_open() && outcome.is_none() {
        return Err(bad("outcome: closing a task records what was done (or why it was dropped)".into()));
    }
    if outcome.as_ref().is_some_and(|o| o.chars().count() > 4000) {
        return Err(bad("outcome: at most 4,000 characters".into()));
    }
    let now = OffsetDateTime::now_utc();
    let row = state
        .store
        .update_task(id, status, outcome.as_deref(), Some(&caller.user.0.email), now)
        .await
        .map_err(task_problem)?;
    Ok(Json(TaskOut::of(row, now)))
}

fn task_problem(e: TaskError) -> Problem {
    match e {
        TaskError::ForeignAnswer(id) => bad(format!("answers: {id} is not an answer of this account")),
        TaskError::NoTask(id) => Problem::new(StatusCode::NOT_FOUND, format!("there is no task {id}")),
        TaskError::Store(e) => e.into(),
    }
}
