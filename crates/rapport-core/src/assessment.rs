//! The portfolio assessment (DOMAIN.md step 6): which accounts are keepers and which cost more
//! than they bring.
//!
//! Every figure is computed here from an account's [`Activity`] (its revenue history and
//! monthly sums of opportunities and service cases, as the store aggregates them) over a
//! [`Window`] of whole quarters, and from the one [`Definition`] the portfolio keeps
//! (hourly cost, target margin, neglect, and the weighted criteria of the ideal account):
//! - [`profitability`]: revenue, cost of sales, cost to serve, margin, and a verdict;
//! - [`flow`]: opportunities per quarter, win rate, discount, a steady flow or not;
//! - [`ideal`]: the ideal account score with each criterion's contribution, and who moves
//!   when the definition changes;
//! - [`squeaky`]: each account's share of service effort against its share of revenue and
//!   value, and whose service is getting slower;
//! - [`risk`]: accounts at risk, with their reasons;
//! - [`relationship`]: "Big R" or "little r", and Relationship or Transaction buying.

pub mod activity;
pub mod definition;
pub mod flow;
pub mod ideal;
pub mod profitability;
pub mod relationship;
pub mod risk;
pub mod squeaky;
pub mod window;

pub use activity::{Activity, CaseMonth, Month, OpportunityMonth};
pub use definition::{Criterion, CriterionKind, Definition, DefinitionError};
pub use window::{Quarter, Window};

/// A ratio as a percentage, `None` when the base is zero.
pub(crate) fn percent(part: f64, whole: f64) -> Option<f64> {
    (whole != 0.0).then(|| 100.0 * part / whole)
}
