//! Tasks: the follow-up an alert opens and the items of an account's action plan, one list
//! with one set of states, so that the portfolio's open and overdue work is in one place.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The function that owns an action: who in the supplier has to move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    /// The account team (and every alert follow-up, which goes to the account owner).
    Sales,
    /// Service and support.
    Service,
    /// Product and engineering.
    Product,
    /// Marketing.
    Marketing,
    /// Billing and finance.
    Billing,
    /// The executive sponsor.
    Executive,
}

impl Function {
    /// Every function, in the order views list them.
    pub const ALL: [Function; 6] = [
        Function::Sales,
        Function::Service,
        Function::Product,
        Function::Marketing,
        Function::Billing,
        Function::Executive,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Function::Sales => "sales",
            Function::Service => "service",
            Function::Product => "product",
            Function::Marketing => "marketing",
            Function::Billing => "billing",
            Function::Executive => "executive",
        }
    }

    /// The function with this name, any case.
    pub fn parse(name: &str) -> Option<Function> {
        let name = name.trim();
        Function::ALL.into_iter().find(|f| f.as_str().eq_ignore_ascii_case(name))
    }

    /// The names, for error messages.
    pub fn names() -> String {
        Function::ALL.map(Function::as_str).join(", ")
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Not started.
    Open,
    /// Someone is on it.
    InProgress,
    /// Done: what was done is recorded.
    Done,
    /// Decided against: why is recorded.
    Dropped,
}

impl TaskStatus {
    /// Every status.
    pub const ALL: [TaskStatus; 4] = [TaskStatus::Open, TaskStatus::InProgress, TaskStatus::Done, TaskStatus::Dropped];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Done => "done",
            TaskStatus::Dropped => "dropped",
        }
    }

    /// The status with this name.
    pub fn parse(name: &str) -> Option<TaskStatus> {
        let name = name.trim().replace(['-', ' '], "_");
        TaskStatus::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(&name))
    }

    /// Whether work on it is still owed.
    pub fn is_open(self) -> bool {
        matches!(self, TaskStatus::Open | TaskStatus::InProgress)
    }

    /// How views name it.
    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Open => "Open",
            TaskStatus::InProgress => "In progress",
            TaskStatus::Done => "Done",
            TaskStatus::Dropped => "Dropped",
        }
    }
}

/// Whether a task in `status` due at `due` is overdue at `now`.
pub fn is_overdue(status: TaskStatus, due: OffsetDateTime, now: OffsetDateTime) -> bool {
    status.is_open() && due < now
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn functions_and_statuses_read_their_names_in_any_case() {
        assert_eq!(Function::parse(" Billing "), Some(Function::Billing));
        assert_eq!(Function::parse("legal"), None);
        assert_eq!(TaskStatus::parse("In progress"), Some(TaskStatus::InProgress));
        assert_eq!(TaskStatus::parse("in-progress"), Some(TaskStatus::InProgress));
        assert_eq!(Function::names(), "sales, service, product, marketing, billing, executive");
    }

    #[test]
    fn only_open_work_past_its_due_time_is_overdue() {
        let due = datetime!(2026-11-24 12:00 UTC);
        let later = datetime!(2026-11-24 12:01 UTC);
        assert!(is_overdue(TaskStatus::Open, due, later));
        assert!(is_overdue(TaskStatus::InProgress, due, later));
        assert!(!is_overdue(TaskStatus::Done, due, later));
        assert!(!is_overdue(TaskStatus::Dropped, due, later));
        assert!(!is_overdue(TaskStatus::Open, due, due));
    }
}
