//! Follow-ups and action plans: the portfolio's open, overdue and recently done work, by
//! owner and function; one task with the answers it responds to; recording progress; adding
//! an item to an account's plan.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, Response};
use rapport_core::task::{Function, TaskStatus};
use rapport_core::user::Role;
use rapport_store::tasks::{LinkedAnswer, NewTask, TaskError, TaskFilter, TaskRow, TaskView};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::auth::CurrentUser;
use crate::authz::Need;
use crate::error::{WebError, after_form};
use crate::pages::account::{self, PlanDraft, portfolio_with};
use crate::pages::view::ViewQuery;
use crate::pages::view::{Layout, Viewer};
use crate::state::AppState;

/// The most tasks a list shows.
const LIMIT: i64 = 1000;

/// A count of tasks under a name (an owner, a function).
pub struct Tally {
    /// The owner or function.
    pub name: String,
    /// Open tasks.
    pub open: usize,
    /// Of which overdue.
    pub overdue: usize,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    layout: Layout,
    view: &'static str,
    owner: String,
    function: String,
    kind: String,
    functions: Vec<&'static str>,
    tasks: Vec<TaskRow>,
    open: usize,
    overdue: usize,
    done_this_cycle: usize,
    cycle_start: String,
    by_owner: Vec<Tally>,
    by_function: Vec<Tally>,
    previous: Option<PreviousCycle>,
    now: OffsetDateTime,
}

/// How the actions written in the previous cycle stand now: each cycle opens with it.
pub struct PreviousCycle {
    /// Its first day.
    pub from: String,
    /// The day the current cycle started.
    pub until: String,
    /// Done or dropped.
    pub closed: usize,
    /// Still open, not yet due.
    pub open: usize,
    /// Still open and overdue.
    pub overdue: usize,
}

impl TasksPage {
    fn overdue_of(&self, t: &TaskRow) -> bool {
        t.is_overdue(self.now)
    }
}

/// When a task is due, as lists show it.
pub fn due(t: &TaskRow) -> String {
    format!("{} {:02}:{:02}", t.due_at.date(), t.due_at.hour(), t.due_at.minute())
}

/// The filters of the task list, from the URL.
#[derive(Debug, Default, Deserialize)]
pub struct TasksQuery {
    view: Option<String>,
    owner: Option<String>,
    function: Option<String>,
    /// follow_ups or plans (empty: both).
    kind: Option<String>,
}

/// Only the accounts the user may see: an account manager's own.
fn scope(user: &CurrentUser) -> Option<String> {
    (user.0.role == Role::AccountManager).then(|| user.0.email.clone())
}

/// The first days of the current cycle (the latest wave's opening; 90 days ago without one)
/// and of the previous one.
async fn cycle_starts(
    state: &AppState,
    now: OffsetDateTime,
) -> Result<(OffsetDateTime, Option<OffsetDateTime>), WebError> {
    let waves = state.cache.waves(&state.store).await?;
    let mut opened = waves.iter().rev().filter_map(|w| w.opens_on.filter(|d| *d <= now.date()));
    let current = opened.next().map_or(now - time::Duration::days(90), |d| d.midnight().assume_utc());
    let previous = opened.find(|d| d.midnight().assume_utc() < current).map(|d| d.midnight().assume_utc());
    Ok((current, previous))
}

/// GET /tasks.
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<TasksQuery>,
) -> Result<Html<String>, WebError> {
    user.require(Need::Portfolio)?;
    let blank = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let view = match blank(&q.view) {
        Some(v) => TaskView::parse(&v)
            .ok_or_else(|| WebError::BadRequest(format!("'{v}' is not a view: use open, overdue, closed or all")))?,
        None => TaskView::Open,
    };
    let function = match blank(&q.function) {
        Some(f) => Some(Function::parse(&f).ok_or_else(|| {
            WebError::BadRequest(format!("'{f}' is not a function: use one of {}", Function::names()))
        })?),
        None => None,
    };
    let follow_ups = match blank(&q.kind).as_deref() {
        Some("follow_ups") => Some(true),
        Some("plans") => Some(false),
        None => None,
        Some(other) => {
            return Err(WebError::BadRequest(format!("'{other}' is not a kind of task: use follow_ups or plans")));
        }
    };
    let now = OffsetDateTime::now_utc();
    let (since, previous_start) = cycle_starts(&state, now).await?;
    let base = TaskFilter { scope: scope(&user), follow_ups, ..TaskFilter::default() };
    let filter = TaskFilter {
        view,
        owner: blank(&q.owner),
        function,
        closed_since: (view == TaskView::Closed).then_some(since),
        ..base.clone()
    };
    let tasks = state.store.list_tasks(&filter, now, LIMIT).await?;
    // The summary covers the whole scope, whatever the list is filtered to: one read of every
    // task in it, counted here.
    let scoped = state.store.list_tasks(&TaskFilter { view: TaskView::All, ..base }, now, 100_000).await?;
    let open_tasks: Vec<&TaskRow> = scoped.iter().filter(|t| t.status().is_open()).collect();
    let done =
        scoped.iter().filter(|t| t.status() == TaskStatus::Done && t.closed_at.is_some_and(|c| c >= since)).count();
    let previous = previous_start.map(|from| {
        let written: Vec<&TaskRow> = scoped.iter().filter(|t| t.created_at >= from && t.created_at < since).collect();
        PreviousCycle {
            from: from.date().to_string(),
            until: since.date().to_string(),
            closed: written.iter().filter(|t| !t.status().is_open()).count(),
            open: written.iter().filter(|t| t.status().is_open() && !t.is_overdue(now)).count(),
            overdue: written.iter().filter(|t| t.is_overdue(now)).count(),
        }
    });
    let tally = |key: &dyn Fn(&TaskRow) -> String| {
        let mut m: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for t in &open_tasks {
            let e = m.entry(key(t)).or_default();
            e.0 += 1;
            e.1 += usize::from(t.is_overdue(now));
        }
        let mut v: Vec<Tally> = m.into_iter().map(|(name, (open, overdue))| Tally { name, open, overdue }).collect();
        v.sort_by_key(|t| std::cmp::Reverse((t.overdue, t.open)));
        v
    };
    let page = TasksPage {
        layout: Layout::new(&user, "Follow-ups and action plans", "tasks"),
        view: view.as_str(),
        owner: blank(&q.owner).unwrap_or_default(),
        function: function.map(|f| f.as_str().to_string()).unwrap_or_default(),
        kind: blank(&q.kind).unwrap_or_default(),
        functions: Function::ALL.map(Function::as_str).to_vec(),
        open: open_tasks.len(),
        overdue: open_tasks.iter().filter(|t| t.is_overdue(now)).count(),
        done_this_cycle: done,
        cycle_start: since.date().to_string(),
        by_owner: tally(&|t| t.owner_email.clone().unwrap_or_else(|| "(no owner)".into())),
        by_function: tally(&|t| t.function.clone()),
        previous,
        tasks,
        now,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    layout: Layout,
    task: TaskRow,
    account_href_id: String,
    answers: Vec<LinkedAnswer>,
    statuses: Vec<(&'static str, &'static str)>,
    overdue: bool,
    due: String,
    draft: ProgressDraft,
}

/// The progress form as typed: the task's own status and outcome on a fresh page; as the user
/// left them, with what to fix, when they were refused, so that a written outcome is not lost.
#[derive(Debug, Clone, Default)]
struct ProgressDraft {
    status: String,
    outcome: String,
    error: Option<String>,
}

/// The task with this id, if the user may see its account.
async fn visible_task(state: &AppState, user: &CurrentUser, id: i64) -> Result<TaskRow, WebError> {
    let not_found = || WebError::NotFound(format!("There is no task {id}"));
    let task = state.store.find_task(id).await?.ok_or_else(not_found)?;
    // Through the account check: a task of an account the user may not see does not exist.
    portfolio_with(state, &Viewer::of(user), &task.account_external_id).await.map_err(|_| not_found())?;
    Ok(task)
}

/// GET /tasks/{id}.
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let task = visible_task(&state, &user, id).await?;
    let draft =
        ProgressDraft { status: task.status.clone(), outcome: task.outcome.clone().unwrap_or_default(), error: None };
    render(&state, &user, task, draft).await
}

/// The task page, its progress form filled from `draft`.
async fn render(
    state: &AppState,
    user: &CurrentUser,
    task: TaskRow,
    draft: ProgressDraft,
) -> Result<Html<String>, WebError> {
    let id = task.id;
    let page = TaskPage {
        layout: Layout::new(user, format!("Task {id}"), "tasks"),
        account_href_id: percent_encoding::utf8_percent_encode(&task.account_external_id, crate::URL_SAFE).to_string(),
        answers: state.store.task_answers(id).await?,
        statuses: TaskStatus::ALL.map(|s| (s.as_str(), s.label())).to_vec(),
        overdue: task.is_overdue(OffsetDateTime::now_utc()),
        due: due(&task),
        task,
        draft,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

/// The form that records progress on a task.
#[derive(Debug, Deserialize)]
pub struct UpdateForm {
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    outcome: String,
}

/// POST /tasks/{id}: a new status and, to close it, what was done. A refused update shows the
/// task again with what was typed and what to fix (400).
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<UpdateForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    let task = visible_task(&state, &user, id).await?;
    let updated = async {
        let status = TaskStatus::parse(&form.status).ok_or_else(|| {
            WebError::BadRequest(format!("'{}' is not a status: use open, in_progress, done or dropped", form.status))
        })?;
        let outcome = Some(form.outcome.trim()).filter(|o| !o.is_empty());
        if !status.is_open() && outcome.is_none() {
            return Err(WebError::BadRequest(
                "Say what was done (or why it was dropped) before closing the task: the outcome is empty".into(),
            ));
        }
        if outcome.is_some_and(|o| o.chars().count() > 4000) {
            return Err(WebError::BadRequest("The outcome is longer than 4,000 characters: shorten it".into()));
        }
        let now = OffsetDateTime::now_utc();
        state.store.update_task(id, status, outcome, Some(&user.0.email), now).await.map_err(task_error)
    }
    .await;
    after_form(updated, &format!("/tasks/{id}"), |why| {
        let draft = ProgressDraft { status: form.status, outcome: form.outcome, error: Some(why) };
        render(&state, &user, task, draft)
    })
    .await
}

/// The form that adds an item to an account's action plan.
#[derive(Debug, Deserialize)]
pub struct AddForm {
    csrf: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    function: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    due: String,
    /// Response ids, separated by commas or spaces.
    #[serde(default)]
    answers: String,
}

/// POST /accounts/{account_id}/tasks. A refused item shows the account page again with what
/// was typed and what to fix (400), not an error page that loses it.
pub async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(account_id): Path<String>,
    Form(form): Form<AddForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    let viewer = Viewer::of(&user);
    let (p, index) = portfolio_with(&state, &viewer, &account_id).await?;
    let added = async {
        let task = plan_item(&state, &p.accounts[index], &user, &form).await?;
        state.store.add_task(&task, OffsetDateTime::now_utc()).await.map_err(task_error)
    }
    .await;
    let href = percent_encoding::utf8_percent_encode(&account_id, crate::URL_SAFE).to_string();
    after_form(added, &format!("/accounts/{href}#plan"), |why| {
        let draft = PlanDraft {
            description: form.description,
            function: form.function,
            owner: form.owner,
            due: form.due,
            answers: form.answers,
            error: Some(why),
        };
        account::render(&state, &viewer, &account_id, ViewQuery::default(), draft)
    })
    .await
}

/// The plan item the form describes, or why it cannot be one.
async fn plan_item(
    state: &AppState,
    entry: &rapport_store::analytics::PortfolioAccount,
    user: &CurrentUser,
    form: &AddForm,
) -> Result<NewTask, WebError> {
    let description = form.description.trim();
    if description.is_empty() || description.chars().count() > 2000 {
        return Err(WebError::BadRequest("Describe the action (up to 2,000 characters)".into()));
    }
    let function = Function::parse(&form.function).ok_or_else(|| {
        WebError::BadRequest(format!("'{}' is not a function: use one of {}", form.function, Function::names()))
    })?;
    let due =
        rapport_core::date::parse_date(&form.due).map_err(|e| WebError::BadRequest(format!("The due date: {e}")))?;
    let mut response_ids = Vec::new();
    for part in form.answers.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
        let id = part.trim_start_matches('#').parse::<i64>().map_err(|_| {
            WebError::BadRequest(format!("'{part}' is not an answer number: give the numbers shown beside the answers"))
        })?;
        response_ids.push(id);
    }
    let today = OffsetDateTime::now_utc().date();
    if let Some(problem) = crate::plan::owner_and_due_problem(&state.store, Some(&form.owner), due, today).await? {
        return Err(WebError::BadRequest(format!("{}{}", problem[..1].to_uppercase(), &problem[1..])));
    }
    let owner = Some(form.owner.trim().to_string()).filter(|o| !o.is_empty()).or(entry.account.owner_email.clone());
    Ok(NewTask {
        account_id: entry.id,
        description: description.to_string(),
        function,
        owner_email: owner,
        due_at: due.with_hms(23, 59, 59).expect("a valid time").assume_utc(),
        created_by: Some(user.0.email.clone()),
        response_ids,
    })
}

fn task_error(e: TaskError) -> WebError {
    match e {
        TaskError::ForeignAnswer(id) => {
            WebError::BadRequest(format!("Answer {id} is not an answer of this account: check the number"))
        }
        TaskError::NoTask(id) => WebError::NotFound(format!("There is no task {id}")),
        TaskError::Store(e) => e.into(),
    }
}
