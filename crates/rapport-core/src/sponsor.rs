//! Executive sponsors: which accounts most deserve one, and how many each executive can carry.
//!
//! A VP or above sponsors two or three of the highest-priority accounts (DOMAIN.md, step 7).
//! Priority is a documented sum of points, so that anyone can see why an account ranks where
//! it does:
//! - billed revenue: up to 40 points, in proportion to the largest account's;
//! - potential revenue (the bubble): up to 20 points, likewise;
//! - a strategic name: 20 points; a partner: 10 points;
//! - the quadrant: Problem 15 (revenue at risk), Emulate 10 (keep and learn from them),
//!   Growth 5, Unsurveyed 5 (nothing known), Decision 0.

use crate::money::Money;
use crate::quadrant::Quadrant;

/// More accounts than this per executive is more than one person can sponsor well.
pub const MAX_PER_EXECUTIVE: usize = 3;

/// What the ranking needs about an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriorityFacts {
    /// Billed revenue.
    pub billed: Money,
    /// Potential revenue.
    pub potential: Money,
    /// A strategic name.
    pub strategic: bool,
    /// A partner.
    pub partner: bool,
    /// Its quadrant in the latest wave.
    pub quadrant: Quadrant,
}

/// An account's sponsor priority: the points and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Priority {
    /// Index into the input.
    pub index: usize,
    /// The points, 0 to 105.
    pub score: f64,
    /// What earned them, largest first.
    pub reasons: Vec<String>,
}

/// The accounts by sponsor priority, highest first (ties: the larger billed revenue first).
pub fn rank_for_sponsors(accounts: &[PriorityFacts]) -> Vec<Priority> {
    let top_billed = accounts.iter().map(|a| a.billed.0).max().unwrap_or(0).max(1) as f64;
    let top_potential = accounts.iter().map(|a| a.potential.0).max().unwrap_or(0).max(1) as f64;
    let mut ranked: Vec<Priority> = accounts
        .iter()
        .enumerate()
        .map(|(index, a)| {
            let mut parts: Vec<(f64, String)> = Vec::new();
            let billed = 40.0 * a.billed.0.max(0) as f64 / top_billed;
            if billed > 0.0 {
                parts.push((billed, format!("billed revenue {:.0}% of the largest", 100.0 * billed / 40.0)));
            }
            let potential = 20.0 * a.potential.0.max(0) as f64 / top_potential;
            if potential > 0.0 {
                parts.push((potential, format!("potential revenue {:.0}% of the largest", 100.0 * potential / 20.0)));
            }
            if a.strategic {
                parts.push((20.0, "strategic".to_string()));
            }
            if a.partner {
                parts.push((10.0, "partner".to_string()));
            }
            let quadrant = match a.quadrant {
                Quadrant::Problem => 15.0,
                Quadrant::Emulate => 10.0,
                Quadrant::Growth | Quadrant::Unsurveyed => 5.0,
                Quadrant::Decision => 0.0,
            };
            if quadrant > 0.0 {
                parts.push((quadrant, format!("{} quadrant", a.quadrant.label())));
            }
            parts.sort_by(|x, y| y.0.total_cmp(&x.0));
            let score = parts.iter().map(|p| p.0).sum();
            Priority { index, score, reasons: parts.into_iter().map(|p| p.1).collect() }
        })
        .collect();
    ranked.sort_by(|x, y| y.score.total_cmp(&x.score).then(accounts[y.index].billed.cmp(&accounts[x.index].billed)));
    ranked
}

/// What to say about an executive sponsoring `count` accounts, when it is more than the
/// guidance.
pub fn load_warning(count: usize) -> Option<String> {
    (count > MAX_PER_EXECUTIVE)
        .then(|| format!("sponsors {count} accounts: the guidance is 2-3 per executive, so some get little attention"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(billed: i64, potential: i64, strategic: bool, partner: bool, quadrant: Quadrant) -> PriorityFacts {
        PriorityFacts { billed: Money(billed), potential: Money(potential), strategic, partner, quadrant }
    }

    #[test]
    fn points_add_up_as_documented() {
        let ranked = rank_for_sponsors(&[
            facts(1_000, 500, true, true, Quadrant::Problem),
            facts(500, 1_000, false, false, Quadrant::Decision),
        ]);
        assert_eq!(ranked[0].index, 0);
        assert!((ranked[0].score - (40.0 + 10.0 + 20.0 + 10.0 + 15.0)).abs() < 1e-9);
        assert_eq!(
            ranked[0].reasons,
            vec![
                "billed revenue 100% of the largest",
                "strategic",
                "Problem quadrant",
                "potential revenue 50% of the largest",
                "partner"
            ]
        );
        assert!((ranked[1].score - (20.0 + 20.0)).abs() < 1e-9);
    }

    #[test]
    fn a_strategic_account_at_risk_outranks_a_bigger_quiet_one() {
        let ranked = rank_for_sponsors(&[
            facts(1_000, 0, false, false, Quadrant::Decision),
            facts(600, 0, true, false, Quadrant::Problem),
        ]);
        assert_eq!(ranked.iter().map(|p| p.index).collect::<Vec<_>>(), vec![1, 0]);
    }

    #[test]
    fn ties_go_to_the_larger_revenue_and_an_empty_portfolio_ranks_nothing() {
        let ranked = rank_for_sponsors(&[
            facts(0, 0, true, false, Quadrant::Decision),
            facts(0, 0, true, false, Quadrant::Decision),
        ]);
        assert_eq!(ranked.len(), 2);
        assert!(rank_for_sponsors(&[]).is_empty());
    }

    #[test]
    fn more_than_three_accounts_per_executive_is_flagged() {
        assert_eq!(load_warning(3), None);
        assert!(load_warning(4).unwrap().starts_with("sponsors 4 accounts: the guidance is 2-3"));
    }
}
