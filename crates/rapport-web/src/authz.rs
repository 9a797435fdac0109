//! Who may do what: the one check every handler calls.
//!
//! - admin: everything;
//! - analyst and executive: read the whole portfolio and run every report;
//! - account manager: only the accounts they own, everywhere (pages, reports, exports): their
//!   views are filtered to those accounts, and another account's page answers "not found" as
//!   if it did not exist, so ids cannot be probed.

use rapport_core::account::Account;
use rapport_core::user::Role;
use rapport_reports::AccountFilter;

use crate::auth::CurrentUser;
use crate::error::WebError;

/// What a request needs.
#[derive(Debug, Clone, Copy)]
pub enum Need<'a> {
    /// Read portfolio views and reports (each filtered to the user's scope).
    Portfolio,
    /// Read this account.
    Account(&'a Account),
    /// Run surveys: create, send and close waves (administrators and analysts).
    Surveys,
    /// Administer Rapport (users, settings).
    Admin,
}

impl CurrentUser {
    /// Allows the request or says why not.
    pub fn require(&self, need: Need<'_>) -> Result<(), WebError> {
        let role = self.0.role;
        let allowed = match need {
            Need::Portfolio => true,
            Need::Account(account) => role != Role::AccountManager || self.owns(account),
            Need::Surveys => matches!(role, Role::Admin | Role::Analyst),
            Need::Admin => role == Role::Admin,
        };
        match (allowed, need) {
            (true, _) => Ok(()),
            (false, Need::Account(a)) => Err(WebError::NotFound(format!("There is no account '{}'", a.account_id))),
            (false, _) => Err(WebError::Forbidden),
        }
    }

    /// Whether the user owns the account (its owner is their email).
    pub fn owns(&self, account: &Account) -> bool {
        account.owner_email.as_deref().is_some_and(|o| o.trim().eq_ignore_ascii_case(self.0.email.trim()))
    }

    /// `filter` narrowed to what the user may see.
    pub fn scoped(&self, mut filter: AccountFilter) -> AccountFilter {
        if let Some(owner) = owned_by(self.0.role, &self.0.email) {
            filter.owned_by = Some(owner);
        }
        filter
    }
}

/// The owner whose accounts alone someone with `role` and `email` may see: an account
/// manager's own; None for every other role (the whole portfolio).
pub fn owned_by(role: Role, email: &str) -> Option<String> {
    (role == Role::AccountManager).then(|| email.to_string())
}
