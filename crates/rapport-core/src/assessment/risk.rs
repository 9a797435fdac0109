//! Accounts at risk, and why: revenue falling against the account's own history, neglect,
//! loyalty falling, a single-threaded relationship on a high-revenue account, detractors
//! among its executives.

use crate::words::count;
use std::fmt;

use serde::Serialize;
use time::Date;

use crate::money::Money;

/// Revenue down by this share or more against the previous window is falling.
pub const REVENUE_FALL_PCT: f64 = 15.0;

/// NPS down wave after wave over the last three waves, by this many points or more in all,
/// is falling.
pub const LOYALTY_FALL_POINTS: f64 = 10.0;

/// With only two well-measured waves, a single fall must be this deep.
pub const LOYALTY_DROP_POINTS: f64 = 20.0;

/// What the risk assessment knows of an account.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RiskFacts {
    // (A single wave-to-wave move of a small sample is mostly noise: falling loyalty is a
    // trend over three waves, or one deep fall when only two are measured.)
    /// Billed revenue in the window.
    pub revenue_now: Option<Money>,
    /// In the window before it.
    pub revenue_before: Option<Money>,
    /// NPS in each of the last three waves, oldest first, where it was well measured.
    pub nps_history: [Option<f64>; 3],
    /// The last answer, follow-up, review or new opportunity.
    pub last_touch: Option<Date>,
    /// Distinct people who answered in the latest wave, when it answered.
    pub respondents: Option<u64>,
    /// The account is single-threaded (one respondent or one role level).
    pub single_threaded: bool,
    /// Billed revenue at or above the portfolio's revenue threshold.
    pub high_revenue: bool,
    /// Executives among the latest wave's detractors.
    pub executive_detractors: u64,
}

/// One reason an account is at risk.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Risk {
    /// Revenue fell against the previous window.
    RevenueFalling {
        /// Before.
        before: Money,
        /// Now.
        now: Money,
    },
    /// Nobody has been in touch for too long (None: never).
    Neglected {
        /// Days since the last touch, None when there never was one.
        days: Option<i64>,
    },
    /// NPS fell between the last two waves.
    LoyaltyFalling {
        /// Before.
        before: f64,
        /// Now.
        now: f64,
    },
    /// One person or one level holds a high-revenue relationship.
    SingleThreaded {
        /// How many answered.
        respondents: u64,
    },
    /// Executives answered as detractors.
    ExecutiveDetractors {
        /// How many.
        count: u64,
    },
}

impl Risk {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Risk::RevenueFalling { .. } => "revenue_falling",
            Risk::Neglected { .. } => "neglected",
            Risk::LoyaltyFalling { .. } => "loyalty_falling",
            Risk::SingleThreaded { .. } => "single_threaded",
            Risk::ExecutiveDetractors { .. } => "executive_detractors",
        }
    }

    /// The risk's name in words, as the risk report's notes define it ("Single-threaded").
    pub fn label(&self) -> &'static str {
        match self {
            Risk::RevenueFalling { .. } => "Revenue falling",
            Risk::Neglected { .. } => "Neglected",
            Risk::LoyaltyFalling { .. } => "Loyalty falling",
            Risk::SingleThreaded { .. } => "Single-threaded",
            Risk::ExecutiveDetractors { .. } => "Executive detractors",
        }
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Risk::RevenueFalling { before, now } => {
                let pct = 100.0 * (before.as_f64() - now.as_f64()) / before.as_f64();
                write!(f, "revenue down {pct:.0}% ({} to {})", before.grouped(), now.grouped())
            }
            Risk::Neglected { days: Some(d) } => {
                write!(f, "no answer, follow-up, review or new opportunity in {d} days")
            }
            Risk::Neglected { days: None } => f.write_str("never an answer, follow-up, review or opportunity"),
            Risk::LoyaltyFalling { before, now } => write!(f, "NPS fell from {before:.0} to {now:.0}"),
            Risk::SingleThreaded { respondents } => {
                let who = count(*respondents, "respondent", "respondents");
                write!(f, "high revenue held by a single thread ({who}, one level)")
            }
            Risk::ExecutiveDetractors { count: n } => {
                write!(f, "{} in the latest wave", count(*n, "executive detractor", "executive detractors"))
            }
        }
    }
}

/// The risks of one account, as of `today`, with neglect after `neglect_days`.
pub fn risks(f: &RiskFacts, today: Date, neglect_days: u32) -> Vec<Risk> {
    let mut out = Vec::new();
    if let (Some(before), Some(now)) = (f.revenue_before, f.revenue_now)
        && before.0 > 0
        && (before.0 - now.0) as f64 >= before.0 as f64 * REVENUE_FALL_PCT / 100.0
    {
        out.push(Risk::RevenueFalling { before, now });
    }
    match f.last_touch {
        Some(day) if (today - day).whole_days() < i64::from(neglect_days) => {}
        Some(day) => out.push(Risk::Neglected { days: Some((today - day).whole_days()) }),
        None => out.push(Risk::Neglected { days: None }),
    }
    if let Some((before, now)) = loyalty_falling(&f.nps_history) {
        out.push(Risk::LoyaltyFalling { before, now });
    }
    if f.high_revenue && f.single_threaded {
        out.push(Risk::SingleThreaded { respondents: f.respondents.unwrap_or(0) });
    }
    if f.executive_detractors > 0 {
        out.push(Risk::ExecutiveDetractors { count: f.executive_detractors });
    }
    out
}

/// Where loyalty fell from and to, when it is falling: down at every step of the last three
/// waves by [`LOYALTY_FALL_POINTS`] in all, or in one step (the last measured) by
/// [`LOYALTY_DROP_POINTS`].
pub fn loyalty_falling(history: &[Option<f64>; 3]) -> Option<(f64, f64)> {
    match history {
        [Some(a), Some(b), Some(c)] if b < a && c < b && a - c >= LOYALTY_FALL_POINTS => Some((*a, *c)),
        [_, Some(b), Some(c)] | [Some(b), None, Some(c)] if b - c >= LOYALTY_DROP_POINTS => Some((*b, *c)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2026 - 11 - 24);

    fn healthy() -> RiskFacts {
        RiskFacts {
            revenue_now: Some(Money::from_units(100)),
            revenue_before: Some(Money::from_units(100)),
            nps_history: [Some(40.0), Some(45.0), Some(40.0)],
            last_touch: Some(date!(2026 - 11 - 01)),
            respondents: Some(4),
            single_threaded: false,
            high_revenue: true,
            executive_detractors: 0,
        }
    }

    #[test]
    fn a_healthy_account_has_no_risk() {
        assert!(risks(&healthy(), TODAY, 90).is_empty());
    }

    #[test]
    fn each_risk_is_found_and_told_in_words() {
        let f = RiskFacts {
            revenue_now: Some(Money::from_units(85)),
            nps_history: [Some(35.0), Some(30.0), Some(20.0)],
            last_touch: Some(date!(2026 - 08 - 01)),
            single_threaded: true,
            respondents: Some(1),
            executive_detractors: 2,
            ..healthy()
        };
        let r = risks(&f, TODAY, 90);
        let words: Vec<String> = r.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            words,
            vec![
                "revenue down 15% ($100 to $85)",
                "no answer, follow-up, review or new opportunity in 115 days",
                "NPS fell from 35 to 20",
                "high revenue held by a single thread (1 respondent, one level)",
                "2 executive detractors in the latest wave",
            ]
        );
    }

    #[test]
    fn thresholds_are_not_crossed_by_smaller_moves() {
        let f = RiskFacts {
            revenue_now: Some(Money(8501)),
            revenue_before: Some(Money(10000)),
            nps_history: [Some(28.0), Some(30.0), Some(20.5)],
            last_touch: Some(date!(2026 - 08 - 27)),
            high_revenue: false,
            single_threaded: true,
            ..healthy()
        };
        assert!(risks(&f, TODAY, 90).is_empty());
        let never = RiskFacts { last_touch: None, ..healthy() };
        assert_eq!(risks(&never, TODAY, 90), vec![Risk::Neglected { days: None }]);
        let no_history = RiskFacts { revenue_before: Some(Money::ZERO), ..healthy() };
        assert!(risks(&no_history, TODAY, 90).is_empty());
    }

    #[test]
    fn loyalty_falls_as_a_trend_or_one_deep_drop() {
        assert_eq!(loyalty_falling(&[Some(40.0), Some(35.0), Some(30.0)]), Some((40.0, 30.0)));
        assert_eq!(loyalty_falling(&[Some(40.0), Some(35.0), Some(31.0)]), None);
        // Up then down is noise, unless the last fall is deep.
        assert_eq!(loyalty_falling(&[Some(30.0), Some(45.0), Some(30.0)]), None);
        assert_eq!(loyalty_falling(&[Some(60.0), Some(50.0), Some(30.0)]), Some((60.0, 30.0)));
        assert_eq!(loyalty_falling(&[Some(40.0), Some(60.0), Some(35.0)]), Some((60.0, 35.0)));
        assert_eq!(loyalty_falling(&[None, Some(50.0), Some(30.0)]), Some((50.0, 30.0)));
        assert_eq!(loyalty_falling(&[None, Some(50.0), Some(31.0)]), None);
        assert_eq!(loyalty_falling(&[Some(50.0), Some(40.0), None]), None);
    }
}
