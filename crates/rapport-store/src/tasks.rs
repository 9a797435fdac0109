//! Tasks: alert follow-ups and action plan items, their lists, their closing, and the
//! escalation of those left overdue.

use std::collections::HashMap;

use rapport_core::task::{Function, TaskStatus};
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::on_pool;
use crate::outbox::{Message, enqueue_in};
use crate::store::Store;
use crate::tx::{Tx, on_tx};

/// A new action plan item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// The account.
    pub account_id: i64,
    /// What is to be done.
    pub description: String,
    /// Which function does it.
    pub function: Function,
    /// Who (an email).
    pub owner_email: Option<String>,
    /// By when.
    pub due_at: OffsetDateTime,
    /// Who wrote it down.
    pub created_by: Option<String>,
    /// The answers (and their comments) it responds to: answers of the same account.
    pub response_ids: Vec<i64>,
}

/// A task as lists and pages show it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TaskRow {
    /// Its id.
    pub id: i64,
    /// The account (internal id).
    pub account_id: i64,
    /// The account's CRM id.
    pub account_external_id: String,
    /// The account's name.
    pub account_name: String,
    /// The alert it follows up, for follow-ups.
    pub alert_id: Option<i64>,
    /// That alert's kind.
    pub alert_kind: Option<String>,
    /// What is to be done.
    pub description: String,
    /// Which function.
    pub function: String,
    /// Who.
    pub owner_email: Option<String>,
    /// By when.
    pub due_at: OffsetDateTime,
    /// open, in_progress, done or dropped.
    pub status: String,
    /// When it was written down.
    pub created_at: OffsetDateTime,
    /// Who wrote it down (None: an alert rule).
    pub created_by: Option<String>,
    /// When it was closed.
    pub closed_at: Option<OffsetDateTime>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// What was done, or why not.
    pub outcome: Option<String>,
    /// When it was escalated for being overdue.
    pub escalated_at: Option<OffsetDateTime>,
    /// To whom.
    pub escalated_to: Option<String>,
}

impl TaskRow {
    /// Its status.
    pub fn status(&self) -> TaskStatus {
        TaskStatus::parse(&self.status).unwrap_or(TaskStatus::Open)
    }

    /// Whether it is overdue at `now`.
    pub fn is_overdue(&self, now: OffsetDateTime) -> bool {
        rapport_core::task::is_overdue(self.status(), self.due_at, now)
    }
}

/// Which tasks a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskView {
    /// Open or in progress.
    #[default]
    Open,
    /// Open or in progress, and past due.
    Overdue,
    /// Done or dropped (since a time, when the filter gives one).
    Closed,
    /// Every task.
    All,
}

impl TaskView {
    /// The view with this name (open, overdue, closed, all).
    pub fn parse(name: &str) -> Option<TaskView> {
        match name.trim() {
            "open" => Some(TaskView::Open),
            "overdue" => Some(TaskView::Overdue),
            "closed" | "done" => Some(TaskView::Closed),
            "all" => Some(TaskView::All),
            _ => None,
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskView::Open => "open",
            TaskView::Overdue => "overdue",
            TaskView::Closed => "closed",
            TaskView::All => "all",
        }
    }
}

/// What a task list covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Which tasks.
    pub view: TaskView,
    /// Only this account.
    pub account_id: Option<i64>,
    /// Only tasks owned by this person.
    pub owner: Option<String>,
    /// Only this function.
    pub function: Option<Function>,
    /// Only follow-ups of alerts (true) or only plan items (false).
    pub follow_ups: Option<bool>,
    /// Only accounts this person owns (an account manager's scope).
    pub scope: Option<String>,
    /// Closed tasks: only those closed since then (the current cycle).
    pub closed_since: Option<OffsetDateTime>,
    /// Only tasks with an id below this (the next page).
    pub before: Option<i64>,
    /// Newest first (by id), for paging; otherwise by due time (closed: latest closed first).
    pub newest_first: bool,
}

/// An answer a task responds to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkedAnswer {
    /// The response.
    pub response_id: i64,
    /// The wave's name.
    pub wave_name: String,
    /// Who answered.
    pub contact_name: String,
    /// Likelihood to recommend.
    pub ltr: i32,
    /// The comment.
    pub comment: Option<String>,
}

/// An overdue task to escalate, with whom to escalate to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// The task.
    pub task: TaskRow,
    /// The owner's manager (users.manager_id), first choice.
    pub manager_email: Option<String>,
    /// The account's executive sponsor, second choice.
    pub sponsor_email: Option<String>,
}

impl Escalation {
    /// Who hears of it: the owner's manager, else the account's sponsor, never the owner.
    pub fn recipient(&self) -> Option<&str> {
        let owner = self.task.owner_email.as_deref().unwrap_or("");
        [self.manager_email.as_deref(), self.sponsor_email.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|e| !e.is_empty() && !e.eq_ignore_ascii_case(owner))
    }
}

const TASK_COLUMNS: &str = "t.id, t.account_id, a.external_id AS account_external_id, a.name AS account_name, \
     t.alert_id, al.kind AS alert_kind, t.description, t.function, t.owner_email, t.due_at, t.status, t.created_at, \
     t.created_by, t.closed_at, t.closed_by, t.outcome, t.escalated_at, t.escalated_to \
     FROM tasks t JOIN accounts a ON a.id = t.account_id LEFT JOIN alerts al ON al.id = t.alert_id";

/// Why a task cannot be added or changed.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The answer is not one of the account's.
    #[error("answer {0} is not an answer of this account")]
    ForeignAnswer(i64),
    /// No such task.
    #[error("there is no task {0}")]
    NoTask(i64),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adds a task in an open transaction (from a review meeting when `review_id` is given),
/// with its links to the account's answers; returns its id.
pub(crate) async fn add_task_in(
    tx: &mut Tx,
    task: &NewTask,
    review_id: Option<i64>,
    now: OffsetDateTime,
) -> Result<i64, TaskError> {
    let sql = "INSERT INTO tasks (account_id, description, function, owner_email, due_at, created_at, created_by, \
               review_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    let id: i64 = on_tx!(tx, |t| sqlx::query_scalar(sql)
        .bind(task.account_id)
        .bind(&task.description)
        .bind(task.function.as_str())
        .bind(&task.owner_email)
        .bind(task.due_at)
        .bind(now)
        .bind(&task.created_by)
        .bind(review_id)
        .fetch_one(&mut **t)
        .await
        .map_err(StoreError::from)?);
    // Each answer once: then an insert that adds no row means the answer is not the account's.
    let mut responses = task.response_ids.clone();
    responses.sort_unstable();
    responses.dedup();
    for response in responses {
        let sql = "INSERT INTO task_responses (task_id, response_id) SELECT $1, id FROM responses \
                   WHERE id = $2 AND account_id = $3";
        let linked = on_tx!(tx, |t| sqlx::query(sql)
            .bind(id)
            .bind(response)
            .bind(task.account_id)
            .execute(&mut **t)
            .await
            .map_err(StoreError::from)?
            .rows_affected());
        if linked == 0 {
            return Err(TaskError::ForeignAnswer(response));
        }
    }
    Ok(id)
}

impl Store {
    /// Adds an action plan item; returns its id.
    pub async fn add_task(&self, task: &NewTask, now: OffsetDateTime) -> Result<i64, TaskError> {
        let mut tx = Tx::begin(self).await?;
        match add_task_in(&mut tx, task, None, now).await {
            Ok(id) => {
                // A new plan item is a touch: the risk report's neglect must see it.
                tx.bump_data_version().await?;
                tx.commit().await?;
                Ok(id)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    }

    /// The task with this id.
    pub async fn find_task(&self, id: i64) -> Result<Option<TaskRow>, StoreError> {
        let sql = format!("SELECT {TASK_COLUMNS} WHERE t.id = $1");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
    }

    /// Tasks by `filter`, most urgent first (by due time), at most `limit`.
    pub async fn list_tasks(
        &self,
        filter: &TaskFilter,
        now: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<TaskRow>, StoreError> {
        let order = match filter.view {
            _ if filter.newest_first => " ORDER BY t.id DESC LIMIT ",
            TaskView::Closed => " ORDER BY t.closed_at DESC, t.id DESC LIMIT ",
            _ => " ORDER BY t.due_at, t.id LIMIT ",
        };
        Ok(on_pool!(self, |pool| {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT {TASK_COLUMNS} WHERE 1 = 1"));
            push_filter(&mut qb, filter, now);
            qb.push(order).push_bind(limit);
            qb.build_query_as().fetch_all(pool).await?
        }))
    }

    /// The answers a task responds to.
    pub async fn task_answers(&self, task_id: i64) -> Result<Vec<LinkedAnswer>, StoreError> {
        let sql = "SELECT r.id AS response_id, w.name AS wave_name, c.name AS contact_name, r.ltr, r.comment \
                   FROM task_responses tr JOIN responses r ON r.id = tr.response_id JOIN waves w ON w.id = r.wave_id \
                   JOIN contacts c ON c.id = r.contact_id WHERE tr.task_id = $1 ORDER BY r.submitted_at, r.id";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql).bind(task_id).fetch_all(pool).await?))
    }

    /// Moves a task to `status`, recording who and, when it closes, the outcome.
    pub async fn update_task(
        &self,
        id: i64,
        status: TaskStatus,
        outcome: Option<&str>,
        by: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<TaskRow, TaskError> {
        let closing = !status.is_open();
        let sql = "UPDATE tasks SET status = $2, outcome = COALESCE($3, outcome), closed_at = $4, closed_by = $5 \
                   WHERE id = $1";
        let mut tx = Tx::begin(self).await?;
        let n = on_tx!(&mut tx, |t| sqlx::query(sql)
            .bind(id)
            .bind(status.as_str())
            .bind(outcome)
            .bind(closing.then_some(now))
            .bind(if closing { by } else { None })
            .execute(&mut **t)
            .await
            .map_err(StoreError::from)?
            .rows_affected());
        if n == 0 {
            tx.rollback().await?;
            return Err(TaskError::NoTask(id));
        }
        // Closing a follow-up is a touch the risk report's neglect must see.
        tx.bump_data_version().await?;
        tx.commit().await?;
        self.find_task(id).await?.ok_or(TaskError::NoTask(id))
    }

    /// Open tasks past due that were not escalated yet, with whom to escalate to.
    pub async fn due_escalations(&self, now: OffsetDateTime, limit: i64) -> Result<Vec<Escalation>, StoreError> {
        let filter = TaskFilter { view: TaskView::Overdue, ..TaskFilter::default() };
        let tasks: Vec<TaskRow> = on_pool!(self, |pool| {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT {TASK_COLUMNS} WHERE t.escalated_at IS NULL"));
            push_filter(&mut qb, &filter, now);
            qb.push(" ORDER BY t.due_at, t.id LIMIT ").push_bind(limit);
            qb.build_query_as().fetch_all(pool).await?
        });
        // Whom to tell, for all of them at once.
        let sql = "SELECT t.id, m.email, a.sponsor_email FROM tasks t JOIN accounts a ON a.id = t.account_id \
                   LEFT JOIN users u ON lower(u.email) = lower(t.owner_email) LEFT JOIN users m ON m.id = u.manager_id \
                   WHERE t.escalated_at IS NULL AND t.status IN ('open', 'in_progress') AND t.due_at < $1";
        let rows: Vec<(i64, Option<String>, Option<String>)> =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(now).fetch_all(pool).await?);
        let mut whom: HashMap<i64, (Option<String>, Option<String>)> =
            rows.into_iter().map(|(id, m, s)| (id, (m, s))).collect();
        let out = tasks
            .into_iter()
            .map(|task| {
                let (manager_email, sponsor_email) = whom.remove(&task.id).unwrap_or_default();
                Escalation { task, manager_email, sponsor_email }
            })
            .collect();
        Ok(out)
    }

    /// Marks a task escalated to `to` (None: there was no one to tell) and queues its
    /// `messages`, once: false when it was escalated already (by another process).
    pub async fn escalate_task(
        &self,
        task_id: i64,
        to: Option<&str>,
        messages: &[Message],
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = Tx::begin(self).await?;
        // Still open and still overdue as this transaction sees it: the owner may have closed it
        // since it was read as due.
        let sql = "UPDATE tasks SET escalated_at = $2, escalated_to = $3 WHERE id = $1 AND escalated_at IS NULL \
                   AND status IN ('open', 'in_progress') AND due_at < $2";
        let n = on_tx!(&mut tx, |t| sqlx::query(sql)
            .bind(task_id)
            .bind(now)
            .bind(to)
            .execute(&mut **t)
            .await?
            .rows_affected());
        if n == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        enqueue_in(&mut tx, messages, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}

fn push_filter<'a, DB: sqlx::Database>(qb: &mut sqlx::QueryBuilder<'a, DB>, f: &'a TaskFilter, now: OffsetDateTime)
where
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    OffsetDateTime: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    match f.view {
        TaskView::Open => {
            qb.push(" AND t.status IN ('open', 'in_progress')");
        }
        TaskView::Overdue => {
            qb.push(" AND t.status IN ('open', 'in_progress') AND t.due_at < ").push_bind(now);
        }
        TaskView::Closed => {
            qb.push(" AND t.status IN ('done', 'dropped')");
            if let Some(since) = f.closed_since {
                qb.push(" AND t.closed_at >= ").push_bind(since);
            }
        }
        TaskView::All => {}
    }
    if let Some(account) = f.account_id {
        qb.push(" AND t.account_id = ").push_bind(account);
    }
    if let Some(owner) = &f.owner {
        qb.push(" AND lower(t.owner_email) = lower(").push_bind(owner.as_str()).push(")");
    }
    if let Some(function) = f.function {
        qb.push(" AND t.function = ").push_bind(function.as_str());
    }
    match f.follow_ups {
        Some(true) => {
            qb.push(" AND t.alert_id IS NOT NULL");
        }
        Some(false) => {
            qb.push(" AND t.alert_id IS NULL");
        }
        None => {}
    }
    if let Some(who) = &f.scope {
        // Owned, as an account manager's pages read it: being named an account's sponsor
        // (an executive's part) shows its tasks to no account manager.
        qb.push(" AND lower(trim(a.owner_email)) = lower(").push_bind(who.trim()).push(")");
    }
    if let Some(before) = f.before {
        qb.push(" AND t.id < ").push_bind(before);
    }
}
