//! Revenue history per account and period.

use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::period::Period;

/// What an account was billed and booked in one period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevenueEntry {
    /// The account's CRM id.
    pub account_id: String,
    /// The month or quarter.
    pub period: Period,
    /// Invoiced in the period.
    pub billed: Option<Money>,
    /// Booked in the period (orders taken, not yet invoiced).
    pub booked: Option<Money>,
}
