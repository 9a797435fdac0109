//! Movement on the matrix between two waves: the headline trend, since the objective is to
//! migrate accounts toward Emulate.
//!
//! # Conventions
//! - Accounts are matched by key. An account placed in only one of the two waves counts as
//!   [`Quadrant::Unsurveyed`] in the other.
//! - Revenue in a cell of the 5×5 matrix is the account's billed revenue in the **later**
//!   wave (what is at stake now), or in the earlier wave when the account is absent from the
//!   later one.
//! - **Direction** uses [`Quadrant::distance_to_emulate`]: Emulate 0, Problem 1, Growth 1,
//!   Decision 2. A smaller distance is toward Emulate, a larger one away; Problem ↔ Growth
//!   keeps the distance and is **sideways**. Only accounts surveyed in both waves that changed
//!   quadrant are movers.
//! - **Revenue into Problem** sums the later billed revenue of the movers that arrived in
//!   Problem (from Emulate, Growth or Decision). Accounts surveyed for the first time and found
//!   in Problem show in the matrix (Unsurveyed → Problem), not in this figure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::quadrant::{Placement, Quadrant};

/// How a mover moved relative to Emulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Closer to Emulate (e.g. Problem → Emulate, Decision → Growth).
    TowardEmulate,
    /// Further from Emulate (e.g. Emulate → Problem, Growth → Decision).
    AwayFromEmulate,
    /// As far as before: Problem ↔ Growth.
    Sideways,
}

impl Direction {
    /// The direction of a move between two surveyed quadrants; `None` if either is
    /// Unsurveyed or they are the same.
    pub fn of(from: Quadrant, to: Quadrant) -> Option<Direction> {
        let (a, b) = (from.distance_to_emulate()?, to.distance_to_emulate()?);
        if from == to {
            return None;
        }
        Some(match b.cmp(&a) {
            std::cmp::Ordering::Less => Direction::TowardEmulate,
            std::cmp::Ordering::Greater => Direction::AwayFromEmulate,
            std::cmp::Ordering::Equal => Direction::Sideways,
        })
    }

    /// The canonical name: toward_emulate, away_from_emulate or sideways.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::TowardEmulate => "toward_emulate",
            Direction::AwayFromEmulate => "away_from_emulate",
            Direction::Sideways => "sideways",
        }
    }
}

/// An account surveyed in both waves whose quadrant changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mover<K> {
    /// The account key.
    pub account: K,
    /// Quadrant in the earlier wave.
    pub from: Quadrant,
    /// Quadrant in the later wave.
    pub to: Quadrant,
    /// Toward, away from Emulate, or sideways.
    pub direction: Direction,
    /// NPS in the earlier wave.
    pub nps_before: Option<f64>,
    /// NPS in the later wave.
    pub nps_after: Option<f64>,
    /// Billed revenue in the later wave.
    pub billed: Money,
}

/// Movement between two waves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Migration<K> {
    /// `counts[from.index()][to.index()]`: accounts that were in `from` and are in `to`.
    pub counts: [[u64; 5]; 5],
    /// `billed[from.index()][to.index()]`: their billed revenue (see the module docs).
    pub billed: [[Money; 5]; 5],
    /// Accounts surveyed in both waves whose quadrant changed, in key order.
    pub movers: Vec<Mover<K>>,
    /// Accounts surveyed in both waves in the same quadrant.
    pub unchanged: u64,
    /// Billed revenue of the movers that arrived in Problem.
    pub billed_into_problem: Money,
}

impl<K> Migration<K> {
    /// Accounts that were in `from` and are in `to`.
    pub fn count(&self, from: Quadrant, to: Quadrant) -> u64 {
        self.counts[from.index()][to.index()]
    }

    /// Billed revenue of the accounts that were in `from` and are in `to`.
    pub fn billed_between(&self, from: Quadrant, to: Quadrant) -> Money {
        self.billed[from.index()][to.index()]
    }

    /// How many movers went in `direction`.
    pub fn movers_toward(&self, direction: Direction) -> usize {
        self.movers.iter().filter(|m| m.direction == direction).count()
    }
}

/// Compares two waves' placements (e.g. [`crate::quadrant::Matrix::placements`]).
pub fn migration<K: Ord + Clone>(earlier: &[Placement<K>], later: &[Placement<K>]) -> Migration<K> {
    let before: BTreeMap<&K, &Placement<K>> = earlier.iter().map(|p| (&p.account, p)).collect();
    let after: BTreeMap<&K, &Placement<K>> = later.iter().map(|p| (&p.account, p)).collect();
    let mut m = Migration {
        counts: [[0; 5]; 5],
        billed: [[Money::ZERO; 5]; 5],
        movers: Vec::new(),
        unchanged: 0,
        billed_into_problem: Money::ZERO,
    };
    let mut record = |account: &K, from: Option<&Placement<K>>, to: Option<&Placement<K>>| {
        let q_from = from.map_or(Quadrant::Unsurveyed, |p| p.quadrant);
        let q_to = to.map_or(Quadrant::Unsurveyed, |p| p.quadrant);
        let billed = to.or(from).map_or(Money::ZERO, |p| p.billed);
        m.counts[q_from.index()][q_to.index()] += 1;
        let cell = &mut m.billed[q_from.index()][q_to.index()];
        *cell = *cell + billed;
        if q_from == q_to {
            if q_from != Quadrant::Unsurveyed {
                m.unchanged += 1;
            }
        } else if let Some(direction) = Direction::of(q_from, q_to) {
            if q_to == Quadrant::Problem {
                m.billed_into_problem = m.billed_into_problem + billed;
            }
            m.movers.push(Mover {
                account: account.clone(),
                from: q_from,
                to: q_to,
                direction,
                nps_before: from.and_then(|p| p.loyalty.nps),
                nps_after: to.and_then(|p| p.loyalty.nps),
                billed,
            });
        }
    };
    // Movers need both waves, so they all come from the first loop, in key order.
    for (&account, &from) in &before {
        record(account, Some(from), after.get(account).copied());
    }
    for (&account, &to) in after.iter().filter(|(k, _)| !before.contains_key(*k)) {
        record(account, None, Some(to));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loyalty::{DEFAULT_MIN_ANSWERS, LoyaltyCounts};

    fn placed(account: &'static str, quadrant: Quadrant, billed: i64) -> Placement<&'static str> {
        let scores: &[u8] = match quadrant {
            Quadrant::Emulate | Quadrant::Growth => &[10],
            Quadrant::Problem | Quadrant::Decision => &[0],
            Quadrant::Unsurveyed => &[],
        };
        Placement {
            account,
            quadrant,
            loyalty: LoyaltyCounts::from_scores(scores.iter().copied()).summary(DEFAULT_MIN_ANSWERS),
            billed: Money::from_units(billed),
            potential: Money::ZERO,
        }
    }

    use Quadrant::{Decision, Emulate, Growth, Problem, Unsurveyed};

    #[test]
    fn moving_closer_to_emulate_is_toward_further_is_away_problem_to_growth_is_sideways() {
        assert_eq!(Direction::of(Problem, Emulate), Some(Direction::TowardEmulate));
        assert_eq!(Direction::of(Decision, Growth), Some(Direction::TowardEmulate));
        assert_eq!(Direction::of(Decision, Emulate), Some(Direction::TowardEmulate));
        assert_eq!(Direction::of(Emulate, Problem), Some(Direction::AwayFromEmulate));
        assert_eq!(Direction::of(Growth, Decision), Some(Direction::AwayFromEmulate));
        assert_eq!(Direction::of(Problem, Growth), Some(Direction::Sideways));
        assert_eq!(Direction::of(Growth, Problem), Some(Direction::Sideways));
        assert_eq!(Direction::of(Emulate, Emulate), None);
        assert_eq!(Direction::of(Unsurveyed, Emulate), None);
        assert_eq!(Direction::of(Problem, Unsurveyed), None);
        assert_eq!(Direction::Sideways.as_str(), "sideways");
    }

    #[test]
    fn the_matrix_counts_every_account_by_its_quadrants_in_both_waves() {
        let earlier = [
            placed("a", Emulate, 100),
            placed("b", Growth, 10),
            placed("c", Decision, 5),
            placed("d", Problem, 80),
            placed("e", Unsurveyed, 40),
            placed("gone", Growth, 7),
        ];
        let later = [
            placed("a", Problem, 120),
            placed("b", Emulate, 60),
            placed("c", Decision, 6),
            placed("d", Growth, 30),
            placed("e", Problem, 50),
            placed("new", Emulate, 9),
        ];
        let m = migration(&earlier, &later);
        assert_eq!(m.count(Emulate, Problem), 1);
        assert_eq!(m.count(Growth, Emulate), 1);
        assert_eq!(m.count(Decision, Decision), 1);
        assert_eq!(m.count(Problem, Growth), 1);
        assert_eq!(m.count(Unsurveyed, Problem), 1);
        assert_eq!(m.count(Growth, Unsurveyed), 1); // "gone" is absent from the later wave
        assert_eq!(m.count(Unsurveyed, Emulate), 1); // "new" is absent from the earlier wave
        assert_eq!(m.counts.iter().flatten().sum::<u64>(), 7);
        // Revenue is the later wave's, or the earlier one's for accounts no longer placed.
        assert_eq!(m.billed_between(Emulate, Problem), Money::from_units(120));
        assert_eq!(m.billed_between(Growth, Unsurveyed), Money::from_units(7));
        assert_eq!(m.billed_between(Decision, Decision), Money::from_units(6));

        let movers: Vec<_> = m.movers.iter().map(|v| (v.account, v.from, v.to, v.direction)).collect();
        assert_eq!(
            movers,
            [
                ("a", Emulate, Problem, Direction::AwayFromEmulate),
                ("b", Growth, Emulate, Direction::TowardEmulate),
                ("d", Problem, Growth, Direction::Sideways),
            ]
        );
        assert_eq!(m.unchanged, 1);
        assert_eq!(m.movers_toward(Direction::TowardEmulate), 1);
        // Only "a" moved into Problem; "e" was newly surveyed there.
        assert_eq!(m.billed_into_problem, Money::from_units(120));
        assert_eq!(m.movers[0].nps_before, Some(100.0));
        assert_eq!(m.movers[0].nps_after, Some(-100.0));
    }

    #[test]
    fn no_waves_no_movement() {
        let m = migration::<&str>(&[], &[]);
        assert_eq!(m.counts, [[0; 5]; 5]);
        assert!(m.movers.is_empty());
        assert_eq!(m.billed_into_problem, Money::ZERO);
    }
}
