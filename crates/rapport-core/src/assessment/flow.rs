//! Opportunity flow per account: how many opportunities, of what value, per quarter; the win
//! rate and the discount; the trend; whether the flow is steady; and whether the account once
//! brought more business than it does now.
//!
//! - Steady flow of real opportunities: a new opportunity in at least three quarters out of
//!   four of the window (rounded up), and, once any were decided, at least one in five won.
//! - Trend: the value opened in the window's later half against its earlier half, in %.
//! - Once brought more: the value opened in the window is under half of the previous window's
//!   of the same length, or billed revenue fell by a quarter or more against it.

use serde::Serialize;

use crate::money::Money;

use super::activity::{Activity, Deals};
use super::window::{Quarter, Window};

/// Below this win rate the opportunities are not real ones.
pub const MIN_REAL_WIN_RATE: f64 = 20.0;

/// An account's opportunity flow over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    /// Opportunities opened per quarter of the window, oldest first: (quarter, count, value).
    #[serde(skip)]
    pub per_quarter: Vec<(Quarter, u64, Money)>,
    /// Sums over the window.
    #[serde(skip)]
    pub deals: Deals,
    /// Quarters with at least one new opportunity.
    pub active_quarters: usize,
    /// Value opened in the later half against the earlier half, %.
    pub trend_pct: Option<f64>,
    /// A steady flow of real opportunities.
    pub steady: bool,
    /// Why the account counts as having once brought more business, if it does.
    pub once_more: Option<String>,
}

/// The account's flow over `window`.
pub fn flow(activity: &Activity, window: &Window) -> Flow {
    let per_quarter: Vec<(Quarter, u64, Money)> = window
        .quarters()
        .map(|q| {
            let d = activity.deals(&Window { first: q, last: q });
            (q, d.opened, d.value)
        })
        .collect();
    let deals = activity.deals(window);
    let active_quarters = per_quarter.iter().filter(|(_, n, _)| *n > 0).count();
    let needed = (window.len() * 3).div_ceil(4);
    let real = deals.win_rate().is_none_or(|r| r >= MIN_REAL_WIN_RATE);
    let steady = active_quarters >= needed && deals.opened > 0 && real;
    let earlier = activity.deals(&window.earlier_half()).value;
    let later = activity.deals(&window.later_half()).value;
    let trend_pct = super::percent((later.0 - earlier.0) as f64, earlier.0 as f64);
    let previous = window.previous();
    let before = activity.deals(&previous).value;
    let once_more = if before.0 > 0 && deals.value.0 * 2 < before.0 {
        Some(format!("opportunities worth {} in {previous}, {} since", before.grouped(), deals.value.grouped()))
    } else {
        match (activity.billed(&previous), activity.billed(window)) {
            (Some(b), Some(now)) if b.0 > 0 && now.0 * 4 <= b.0 * 3 => {
                Some(format!("billed {} in {previous}, {} since", b.grouped(), now.grouped()))
            }
            _ => None,
        }
    };
    Flow { per_quarter, deals, active_quarters, trend_pct, steady, once_more }
}

impl Flow {
    /// The counts per quarter as one compact text, oldest first ("2 0 1 3").
    pub fn counts_text(&self) -> String {
        self.per_quarter.iter().map(|(_, n, _)| n.to_string()).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::activity::tests::deal;
    use crate::opportunity::Outcome;
    use crate::period::Period;

    fn window() -> Window {
        crate::assessment::activity::tests::window("2026-Q1", "2026-Q4")
    }

    #[test]
    fn a_steady_flow_has_new_real_opportunities_in_three_quarters_of_four() {
        let a = Activity {
            opportunities: vec![
                deal("2026-01", Outcome::Won, 1, 100, 5),
                deal("2026-05", Outcome::Lost, 1, 100, 0),
                deal("2026-11", Outcome::Open, 2, 300, 0),
            ],
            ..Activity::default()
        };
        let f = flow(&a, &window());
        assert_eq!(f.counts_text(), "1 1 0 2");
        assert_eq!(f.active_quarters, 3);
        assert!(f.steady);
        // 300 in the later half against 200 in the earlier: +50%.
        assert_eq!(f.trend_pct, Some(50.0));
        assert_eq!(f.deals.win_rate(), Some(50.0));

        // Two quarters of four are not steady.
        let sparse = Activity { opportunities: a.opportunities[..2].to_vec(), ..Activity::default() };
        assert!(!flow(&sparse, &window()).steady);

        // Opportunities that are nearly all lost are not real ones.
        let lost = Activity {
            opportunities: vec![
                deal("2026-01", Outcome::Lost, 3, 100, 0),
                deal("2026-04", Outcome::Lost, 3, 100, 0),
                deal("2026-08", Outcome::Lost, 3, 100, 0),
                deal("2026-10", Outcome::Won, 1, 100, 0),
            ],
            ..Activity::default()
        };
        let f = flow(&lost, &window());
        assert_eq!((f.active_quarters, f.steady), (4, false));
        assert_eq!(flow(&Activity::default(), &window()).trend_pct, None);
    }

    #[test]
    fn an_account_that_once_brought_more_is_named_with_the_figures() {
        let a = Activity {
            opportunities: vec![deal("2025-03", Outcome::Won, 4, 1000, 0), deal("2026-02", Outcome::Won, 1, 400, 0)],
            ..Activity::default()
        };
        let f = flow(&a, &window());
        assert_eq!(f.once_more.as_deref(), Some("opportunities worth $1,000 in 2025-Q1 to 2025-Q4, $400 since"));

        let q = |year, quarter| Period::Quarter { year, quarter };
        let falling = Activity {
            revenue: vec![(q(2025, 2), Money::from_units(400)), (q(2026, 2), Money::from_units(300))],
            ..Activity::default()
        };
        assert_eq!(
            flow(&falling, &window()).once_more.as_deref(),
            Some("billed $400 in 2025-Q1 to 2025-Q4, $300 since")
        );
        let holding = Activity {
            revenue: vec![(q(2025, 2), Money::from_units(400)), (q(2026, 2), Money::from_units(301))],
            ..Activity::default()
        };
        assert_eq!(flow(&holding, &window()).once_more, None);
    }
}
