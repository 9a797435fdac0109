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

/// What was billed in `period`, from an account's revenue entries: a quarter's own entry when
/// finance reported one, otherwise the sum of the months inside it (so a quarter reported both
/// ways is never counted twice); for a month, its entry. `None` when nothing covers it.
pub fn billed_in(period: Period, entries: &[(Period, Money)]) -> Option<Money> {
    if let Some((_, m)) = entries.iter().find(|(p, _)| *p == period) {
        return Some(*m);
    }
    let Period::Quarter { year, quarter } = period else { return None };
    let months: Vec<Money> = entries
        .iter()
        .filter(|(p, _)| matches!(p, Period::Month { .. }) && p.year() == year && p.quarter() == quarter)
        .map(|(_, m)| *m)
        .collect();
    (!months.is_empty()).then(|| months.into_iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    #[test]
    fn a_quarter_is_its_own_entry_or_the_sum_of_its_months() {
        let months = [(p("2026-07"), Money(100)), (p("2026-08"), Money(50)), (p("2026-10"), Money(7))];
        assert_eq!(billed_in(p("2026-Q3"), &months), Some(Money(150)));
        assert_eq!(billed_in(p("2026-08"), &months), Some(Money(50)));
        assert_eq!(billed_in(p("2026-Q2"), &months), None);
        let both = [(p("2026-Q3"), Money(400)), (p("2026-07"), Money(100))];
        assert_eq!(billed_in(p("2026-Q3"), &both), Some(Money(400)), "never counted twice");
    }
}
