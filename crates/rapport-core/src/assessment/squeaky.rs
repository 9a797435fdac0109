//! The squeaky wheel: each account's share of service effort against its share of revenue
//! and of value (positive margin), and the ideal accounts whose service is getting slower.
//!
//! - Oil ratio: share of effort / share of revenue. An account is a squeaky wheel when it
//!   takes at least twice the effort its revenue would justify, and at least
//!   [`MIN_SQUEAKY_HOURS`] of it.
//! - Service getting worse: the mean days to resolve a case opened in the window's later half
//!   is at least a fifth (and a day) longer than in its earlier half, each half with at least
//!   two closed cases. (Rapport has no first-response time, only resolution.)

use serde::Serialize;

use crate::money::Money;
use crate::service_case::Hours;

/// Fewer hours than this never make a squeaky wheel, whatever the ratio.
pub const MIN_SQUEAKY_HOURS: Hours = Hours(1000);

/// What one account brings to the comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Load {
    /// Service hours in the window.
    pub hours: Hours,
    /// Revenue in the window.
    pub revenue: Money,
    /// Margin in the window (negative margins count as no value).
    pub margin: Money,
}

/// An account's share of the effort, revenue and value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Share {
    /// % of all service hours.
    pub effort_pct: f64,
    /// % of all revenue.
    pub revenue_pct: f64,
    /// % of all positive margin.
    pub value_pct: f64,
    /// effort_pct / revenue_pct (None: no revenue share).
    pub oil_ratio: Option<f64>,
    /// Takes at least twice its revenue's share of effort.
    pub squeaky: bool,
}

/// The shares of every account, in the order given.
pub fn shares(loads: &[Load]) -> Vec<Share> {
    let hours: f64 = loads.iter().map(|l| l.hours.0 as f64).sum();
    let revenue: f64 = loads.iter().map(|l| l.revenue.0.max(0) as f64).sum();
    let value: f64 = loads.iter().map(|l| l.margin.0.max(0) as f64).sum();
    let pct = |x: f64, total: f64| if total > 0.0 { 100.0 * x / total } else { 0.0 };
    loads
        .iter()
        .map(|l| {
            let effort_pct = pct(l.hours.0 as f64, hours);
            let revenue_pct = pct(l.revenue.0.max(0) as f64, revenue);
            let oil_ratio = if revenue_pct > 0.0 {
                Some(effort_pct / revenue_pct)
            } else if effort_pct > 0.0 {
                Some(f64::INFINITY)
            } else {
                None
            };
            let squeaky = l.hours >= MIN_SQUEAKY_HOURS && oil_ratio.is_some_and(|r| r >= 2.0);
            Share { effort_pct, revenue_pct, value_pct: pct(l.margin.0.max(0) as f64, value), oil_ratio, squeaky }
        })
        .collect()
}

/// Mean days to resolve in the window's earlier and later halves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ServiceLevel {
    /// Mean days, earlier half (None: fewer than two closed cases).
    pub earlier_days: Option<f64>,
    /// Mean days, later half.
    pub later_days: Option<f64>,
}

impl ServiceLevel {
    /// From each half's closed cases and summed days.
    pub fn new(earlier: (u64, i64), later: (u64, i64)) -> ServiceLevel {
        let mean = |(n, days): (u64, i64)| (n >= 2).then(|| days as f64 / n as f64);
        ServiceLevel { earlier_days: mean(earlier), later_days: mean(later) }
    }

    /// Resolution is getting slower: a fifth and a day longer, or more.
    pub fn worsening(&self) -> bool {
        match (self.earlier_days, self.later_days) {
            (Some(e), Some(l)) => l >= e * 1.2 && l - e >= 1.0,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(hours: i64, revenue: i64, margin: i64) -> Load {
        Load { hours: Hours(hours * 100), revenue: Money::from_units(revenue), margin: Money::from_units(margin) }
    }

    #[test]
    fn the_squeaky_wheel_takes_far_more_effort_than_its_revenue_brings() {
        let s = shares(&[load(10, 900, 300), load(90, 100, -50), load(0, 0, 0)]);
        assert_eq!((s[0].effort_pct, s[0].revenue_pct, s[0].value_pct), (10.0, 90.0, 100.0));
        assert_eq!((s[1].effort_pct, s[1].revenue_pct, s[1].value_pct), (90.0, 10.0, 0.0));
        assert_eq!(s[1].oil_ratio, Some(9.0));
        assert!(s[1].squeaky && !s[0].squeaky);
        assert_eq!(s[2].oil_ratio, None);
        // A lopsided ratio on a few hours is not a pattern.
        let few = shares(&[load(9, 100, 10), load(1, 900, 100)]);
        assert!(!few[0].squeaky);
        // Effort without any revenue is infinitely lopsided.
        let none = shares(&[load(20, 0, 0), load(1, 900, 100)]);
        assert_eq!(none[0].oil_ratio, Some(f64::INFINITY));
        assert!(none[0].squeaky);
    }

    #[test]
    fn service_worsens_when_resolution_takes_a_fifth_and_a_day_longer() {
        assert!(ServiceLevel::new((4, 20), (4, 28)).worsening());
        // 20% but under a day.
        assert!(!ServiceLevel::new((4, 4), (4, 5)).worsening());
        // Too few closed cases to say.
        assert!(!ServiceLevel::new((1, 2), (4, 40)).worsening());
        assert_eq!(ServiceLevel::new((1, 2), (2, 6)).later_days, Some(3.0));
    }
}
