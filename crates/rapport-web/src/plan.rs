//! An action-plan item as people add one, from the web app or the API alike: checked the same
//! way before it becomes a task.

use rapport_store::{Store, StoreError};
use time::Date;

/// What is wrong with a new plan item's owner or due date, if anything: an owner must be a
/// user, who can sign in to see and close the task (no owner: the account's owner), and a
/// due date must not be past, or the task would be overdue, and escalated, the moment it
/// is made.
pub async fn owner_and_due_problem(
    store: &Store,
    owner: Option<&str>,
    due: Date,
    today: Date,
) -> Result<Option<String>, StoreError> {
    if due < today {
        return Ok(Some(format!("the due date {due} is past: choose today ({today}) or a later day")));
    }
    if let Some(owner) = owner.map(str::trim).filter(|o| !o.is_empty()) {
        if store.user_login(owner).await?.is_none() {
            return Ok(Some(format!(
                "no user has the email '{owner}': give the email of someone who signs in to Rapport (an \
                 administrator adds people with the command 'rapport user add'), or leave the owner empty for the account's owner"
            )));
        }
    }
    Ok(None)
}
