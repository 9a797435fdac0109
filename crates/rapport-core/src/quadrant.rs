//! The loyalty × revenue matrix: each account's quadrant in a wave, and what to do about it.
//!
//! # Conventions
//! - **High loyalty** iff the account's NPS (see [`crate::loyalty`]) is `>=` the loyalty
//!   threshold (default 30): an NPS of exactly 30 is high.
//! - **High revenue** iff billed revenue is `>=` the revenue threshold: billed exactly at the
//!   threshold is high. The threshold is either given, or the median billed revenue of the
//!   accounts surveyed in the wave.
//! - **Median**: of the surveyed accounts' billed revenue; with an even count, the mean of the
//!   two middle values. That mean may fall on a half cent; it is rounded **up** (toward +∞) to
//!   a whole cent. Because billed revenues are whole cents, `billed >= ceil(median)` is exactly
//!   `billed >= median`, so the rounding never changes a placement.
//! - **Missing billed or potential revenue counts as 0** (a missing amount is treated as
//!   nothing billed, so such an account is low revenue unless the threshold is ≤ 0).
//! - An account with no answer in the wave (n = 0) is [`Quadrant::Unsurveyed`]. An account
//!   with few answers is still placed, with its `low_sample` flag set.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::loyalty::{LoyaltyCounts, LoyaltySummary};
use crate::money::Money;

/// The loyalty threshold used unless configured: an NPS of 30 or more is high loyalty.
pub const DEFAULT_LOYALTY_THRESHOLD: f64 = 30.0;

/// Where an account sits on the loyalty × revenue matrix in a wave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quadrant {
    /// High loyalty, high revenue.
    Emulate,
    /// Low loyalty, high revenue.
    Problem,
    /// High loyalty, low revenue.
    Growth,
    /// Low loyalty, low revenue.
    Decision,
    /// No answer in the wave.
    Unsurveyed,
}

impl Quadrant {
    /// Every quadrant, in the order reports list them.
    pub const ALL: [Quadrant; 5] =
        [Quadrant::Emulate, Quadrant::Problem, Quadrant::Growth, Quadrant::Decision, Quadrant::Unsurveyed];

    /// The quadrant of a surveyed account.
    pub fn of(high_loyalty: bool, high_revenue: bool) -> Quadrant {
        match (high_loyalty, high_revenue) {
            (true, true) => Quadrant::Emulate,
            (false, true) => Quadrant::Problem,
            (true, false) => Quadrant::Growth,
            (false, false) => Quadrant::Decision,
        }
    }

    /// Position in [`Quadrant::ALL`], for arrays indexed by quadrant.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The canonical name: emulate, problem, growth, decision or unsurveyed.
    pub fn as_str(self) -> &'static str {
        match self {
            Quadrant::Emulate => "emulate",
            Quadrant::Problem => "problem",
            Quadrant::Growth => "growth",
            Quadrant::Decision => "decision",
            Quadrant::Unsurveyed => "unsurveyed",
        }
    }

    /// Parses a canonical name, in any case.
    pub fn parse(text: &str) -> Option<Quadrant> {
        let text = text.trim();
        Quadrant::ALL.into_iter().find(|q| q.as_str().eq_ignore_ascii_case(text))
    }

    /// The label shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Quadrant::Emulate => "Emulate",
            Quadrant::Problem => "Problem",
            Quadrant::Growth => "Growth",
            Quadrant::Decision => "Decision",
            Quadrant::Unsurveyed => "Unsurveyed",
        }
    }

    /// The recommended account strategy for the quadrant.
    pub fn strategy(self) -> &'static str {
        match self {
            Quadrant::Emulate => {
                "Leverage them through references, PR and case studies; learn their loyalty drivers and replicate them elsewhere."
            }
            Quadrant::Problem => "At risk: diagnose and repair, act on their feedback, and protect the revenue.",
            Quadrant::Growth => "Loyal but small: expand the revenue footprint.",
            Quadrant::Decision => "Invest only where future revenue potential (the bubble) justifies it.",
            Quadrant::Unsurveyed => "No answer yet: get them surveyed.",
        }
    }

    /// Steps from Emulate, the quadrant every account should migrate toward: Emulate 0,
    /// Problem and Growth 1 (each is one threshold away), Decision 2; `None` for Unsurveyed.
    pub fn distance_to_emulate(self) -> Option<u8> {
        match self {
            Quadrant::Emulate => Some(0),
            Quadrant::Problem | Quadrant::Growth => Some(1),
            Quadrant::Decision => Some(2),
            Quadrant::Unsurveyed => None,
        }
    }
}

impl fmt::Display for Quadrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The thresholds that split the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// NPS at or above which loyalty is high.
    pub loyalty: f64,
    /// Billed revenue at or above which revenue is high; `None` = the median billed revenue
    /// of the accounts surveyed in the wave.
    pub revenue: Option<Money>,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds { loyalty: DEFAULT_LOYALTY_THRESHOLD, revenue: None }
    }
}

/// The thresholds a placement actually used.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedThresholds {
    /// NPS at or above which loyalty is high.
    pub loyalty: f64,
    /// Billed revenue at or above which revenue is high; `None` only when it was to be the
    /// median and no account was surveyed (every account is then Unsurveyed).
    pub revenue: Option<Money>,
    /// Whether `revenue` is the surveyed accounts' median rather than a configured value.
    pub revenue_is_median: bool,
}

/// What the matrix needs to know about one account in one wave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountFacts<K> {
    /// The caller's account key (an id or an index).
    pub account: K,
    /// Billed revenue; missing counts as 0.
    pub billed: Option<Money>,
    /// Potential revenue, the bubble; missing counts as 0.
    pub potential: Option<Money>,
    /// The account's answers in the wave (the merge of its cells); n = 0 means unsurveyed.
    pub loyalty: LoyaltyCounts,
}

/// One account on the matrix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Placement<K> {
    /// The caller's account key.
    pub account: K,
    /// Where it sits.
    pub quadrant: Quadrant,
    /// Its loyalty figure: n, NPS, CI and the low-sample flag.
    pub loyalty: LoyaltySummary,
    /// Billed revenue (missing = 0).
    pub billed: Money,
    /// Potential revenue, the bubble size (missing = 0).
    pub potential: Money,
}

/// Totals of one quadrant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuadrantTotals {
    /// The quadrant.
    pub quadrant: Quadrant,
    /// Accounts in it.
    pub accounts: u64,
    /// Their billed revenue.
    pub billed: Money,
    /// Their potential revenue.
    pub potential: Money,
}

/// The matrix for one wave: every account's placement, the thresholds used, and totals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Matrix<K> {
    /// One placement per input account, in input order.
    pub placements: Vec<Placement<K>>,
    /// The thresholds actually used.
    pub thresholds: ResolvedThresholds,
    /// Totals per quadrant, in [`Quadrant::ALL`] order (every quadrant present).
    pub totals: [QuadrantTotals; 5],
}

impl<K> Matrix<K> {
    /// The totals of one quadrant.
    pub fn total(&self, quadrant: Quadrant) -> &QuadrantTotals {
        &self.totals[quadrant.index()]
    }

    /// The same matrix showing only the accounts `keep` accepts (a filtered view, or an account
    /// manager's own accounts), with totals over those. The thresholds stay those of the whole
    /// portfolio, so an account sits in the same quadrant in every view.
    pub fn retain(mut self, keep: impl Fn(&K) -> bool) -> Matrix<K> {
        self.placements.retain(|p| keep(&p.account));
        self.totals = totals_of(&self.placements);
        self
    }
}

/// The median of whole-cent amounts, with a half cent rounded up (see the module docs);
/// `None` for no amounts. Reorders `amounts` (linear-time selection, no full sort).
pub fn median_revenue(amounts: &mut [Money]) -> Option<Money> {
    if amounts.is_empty() {
        return None;
    }
    let mid = amounts.len() / 2;
    let odd = amounts.len() % 2 == 1;
    let (below, upper, _) = amounts.select_nth_unstable(mid);
    if odd {
        return Some(*upper);
    }
    // Even count: the lower middle value is the largest of the values below the upper one.
    let lower = below.iter().max().copied().unwrap_or(*upper);
    let sum = i128::from(lower.cents()) + i128::from(upper.cents());
    // ceil(sum / 2), for negative sums too; the mean of two i64 always fits an i64.
    let ceil_half = sum.div_euclid(2) + sum.rem_euclid(2);
    Some(Money(i64::try_from(ceil_half).unwrap_or(i64::MAX)))
}

/// Places every account on the loyalty × revenue matrix for one wave.
///
/// `min_answers` sets each placement's `low_sample` flag
/// ([`crate::loyalty::DEFAULT_MIN_ANSWERS`] is the usual value); low-sample accounts are still
/// placed by their NPS.
pub fn place_accounts<K: Clone>(facts: &[AccountFacts<K>], thresholds: &Thresholds, min_answers: u64) -> Matrix<K> {
    let revenue = match thresholds.revenue {
        Some(r) => Some(r),
        None => {
            let mut surveyed: Vec<Money> =
                facts.iter().filter(|f| !f.loyalty.is_empty()).map(|f| f.billed.unwrap_or(Money::ZERO)).collect();
            median_revenue(&mut surveyed)
        }
    };
    let resolved =
        ResolvedThresholds { loyalty: thresholds.loyalty, revenue, revenue_is_median: thresholds.revenue.is_none() };
    let placements: Vec<Placement<K>> = facts
        .iter()
        .map(|f| {
            let billed = f.billed.unwrap_or(Money::ZERO);
            let potential = f.potential.unwrap_or(Money::ZERO);
            let quadrant = match (f.loyalty.nps(), revenue) {
                (Some(nps), Some(revenue)) => Quadrant::of(nps >= resolved.loyalty, billed >= revenue),
                // A surveyed account always resolves a median; no NPS means unsurveyed.
                _ => Quadrant::Unsurveyed,
            };
            Placement {
                account: f.account.clone(),
                quadrant,
                loyalty: f.loyalty.summary(min_answers),
                billed,
                potential,
            }
        })
        .collect();
    let totals = totals_of(&placements);
    Matrix { placements, thresholds: resolved, totals }
}

fn totals_of<K>(placements: &[Placement<K>]) -> [QuadrantTotals; 5] {
    let mut totals = Quadrant::ALL.map(|quadrant| QuadrantTotals {
        quadrant,
        accounts: 0,
        billed: Money::ZERO,
        potential: Money::ZERO,
    });
    for p in placements {
        let t = &mut totals[p.quadrant.index()];
        t.accounts += 1;
        t.billed = t.billed + p.billed;
        t.potential = t.potential + p.potential;
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loyalty::DEFAULT_MIN_ANSWERS;

    #[test]
    fn a_filtered_view_keeps_the_portfolio_thresholds_and_totals_only_what_it_shows() {
        let all = [facts(1, 100, &[10, 10]), facts(2, 300, &[0, 0]), facts(3, 200, &[9, 9])];
        let whole = place_accounts(&all, &Thresholds::default(), DEFAULT_MIN_ANSWERS);
        let view = whole.clone().retain(|id| *id != 3);
        assert_eq!(view.thresholds, whole.thresholds);
        assert_eq!(view.placements.iter().map(|p| p.account).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(view.placements[0].quadrant, whole.placements[0].quadrant);
        // Account 3 was Emulate (NPS 100, billed 200 = the median): gone from the view's totals.
        assert_eq!(whole.total(Quadrant::Emulate).accounts, 1);
        assert_eq!(view.total(Quadrant::Emulate).accounts, 0);
        assert_eq!(view.total(Quadrant::Problem).billed, Money::from_units(300));
    }

    fn facts(account: u32, billed: i64, scores: &[u8]) -> AccountFacts<u32> {
        AccountFacts {
            account,
            billed: Some(Money::from_units(billed)),
            potential: Some(Money::from_units(billed / 2)),
            loyalty: LoyaltyCounts::from_scores(scores.iter().copied()),
        }
    }

    fn quadrants(m: &Matrix<u32>) -> Vec<(u32, Quadrant)> {
        m.placements.iter().map(|p| (p.account, p.quadrant)).collect()
    }

    // NPS 30 exactly: 5 promoters, 3 passives, 2 detractors.
    const NPS_30: [u8; 10] = [10, 10, 9, 9, 9, 8, 7, 7, 6, 0];
    // NPS 20: 4 promoters, 4 passives, 2 detractors.
    const NPS_20: [u8; 10] = [10, 10, 9, 9, 8, 8, 7, 7, 6, 0];

    #[test]
    fn quadrants_have_names_labels_and_strategies() {
        for q in Quadrant::ALL {
            assert_eq!(Quadrant::parse(q.as_str()), Some(q));
            assert_eq!(Quadrant::parse(&q.label().to_uppercase()), Some(q));
            assert!(!q.strategy().is_empty());
            assert_eq!(Quadrant::ALL[q.index()], q);
        }
        assert_eq!(Quadrant::Emulate.as_str(), "emulate");
        assert_eq!(Quadrant::Unsurveyed.as_str(), "unsurveyed");
        assert_eq!(Quadrant::Problem.to_string(), "Problem");
        assert!(Quadrant::Emulate.strategy().contains("references"));
        assert!(Quadrant::Problem.strategy().contains("protect the revenue"));
        assert!(Quadrant::Growth.strategy().contains("expand the revenue footprint"));
        assert!(Quadrant::Decision.strategy().contains("potential"));
        assert!(Quadrant::Unsurveyed.strategy().contains("surveyed"));
        assert_eq!(Quadrant::parse("gold"), None);
    }

    #[test]
    fn high_loyalty_and_high_revenue_place_each_quadrant() {
        assert_eq!(Quadrant::of(true, true), Quadrant::Emulate);
        assert_eq!(Quadrant::of(false, true), Quadrant::Problem);
        assert_eq!(Quadrant::of(true, false), Quadrant::Growth);
        assert_eq!(Quadrant::of(false, false), Quadrant::Decision);
    }

    #[test]
    fn an_nps_of_exactly_30_is_high_loyalty() {
        let m = place_accounts(
            &[facts(1, 100, &NPS_30), facts(2, 100, &NPS_20)],
            &Thresholds { loyalty: 30.0, revenue: Some(Money::from_units(50)) },
            DEFAULT_MIN_ANSWERS,
        );
        assert_eq!(m.placements[0].loyalty.nps, Some(30.0));
        assert_eq!(quadrants(&m), [(1, Quadrant::Emulate), (2, Quadrant::Problem)]);
    }

    #[test]
    fn billed_revenue_exactly_at_the_threshold_is_high_revenue() {
        let m = place_accounts(
            &[facts(1, 50, &[10]), facts(2, 50, &[0]), facts(3, 49, &[10]), facts(4, 49, &[0])],
            &Thresholds { loyalty: 30.0, revenue: Some(Money::from_units(50)) },
            DEFAULT_MIN_ANSWERS,
        );
        assert_eq!(
            quadrants(&m),
            [(1, Quadrant::Emulate), (2, Quadrant::Problem), (3, Quadrant::Growth), (4, Quadrant::Decision)]
        );
        assert_eq!(
            m.thresholds,
            ResolvedThresholds { loyalty: 30.0, revenue: Some(Money(5000)), revenue_is_median: false }
        );
    }

    #[test]
    fn the_median_of_an_odd_number_of_surveyed_accounts_is_the_middle_one() {
        // Surveyed: 10, 30, 20 → median 20. The unsurveyed 1000 does not count.
        let m = place_accounts(
            &[facts(1, 10, &[10]), facts(2, 30, &[10]), facts(3, 20, &[0]), facts(4, 1000, &[])],
            &Thresholds::default(),
            DEFAULT_MIN_ANSWERS,
        );
        assert_eq!(m.thresholds.revenue, Some(Money::from_units(20)));
        assert!(m.thresholds.revenue_is_median);
        assert_eq!(
            quadrants(&m),
            [(1, Quadrant::Growth), (2, Quadrant::Emulate), (3, Quadrant::Problem), (4, Quadrant::Unsurveyed)]
        );
    }

    #[test]
    fn the_median_of_an_even_number_of_surveyed_accounts_is_the_mean_of_the_middle_two() {
        // Surveyed: 10, 20, 40, 90 → median (20 + 40) / 2 = 30.
        let m = place_accounts(
            &[facts(1, 90, &[10]), facts(2, 10, &[10]), facts(3, 40, &[0]), facts(4, 20, &[0])],
            &Thresholds::default(),
            DEFAULT_MIN_ANSWERS,
        );
        assert_eq!(m.thresholds.revenue, Some(Money::from_units(30)));
        assert_eq!(
            quadrants(&m),
            [(1, Quadrant::Emulate), (2, Quadrant::Growth), (3, Quadrant::Problem), (4, Quadrant::Decision)]
        );
    }

    #[test]
    fn a_half_cent_median_rounds_up_which_keeps_comparisons_exact() {
        // Middle values 1 and 2 cents: the median is 1.5 cents. 1 cent < 1.5 is low; 2 cents is high.
        assert_eq!(median_revenue(&mut [Money(2), Money(1)]), Some(Money(2)));
        assert_eq!(median_revenue(&mut [Money(-2), Money(-1)]), Some(Money(-1)));
        assert_eq!(median_revenue(&mut [Money(-3), Money(2)]), Some(Money(0)));
        assert_eq!(median_revenue(&mut [Money(i64::MAX), Money(i64::MAX)]), Some(Money(i64::MAX)));
        assert_eq!(median_revenue(&mut []), None);
        let m = place_accounts(
            &[
                AccountFacts {
                    account: 1,
                    billed: Some(Money(1)),
                    potential: None,
                    loyalty: LoyaltyCounts::from_scores([9]),
                },
                AccountFacts {
                    account: 2,
                    billed: Some(Money(2)),
                    potential: None,
                    loyalty: LoyaltyCounts::from_scores([9]),
                },
            ],
            &Thresholds::default(),
            DEFAULT_MIN_ANSWERS,
        );
        assert_eq!(quadrants(&m), [(1, Quadrant::Growth), (2, Quadrant::Emulate)]);
    }

    #[test]
    fn accounts_without_answers_are_unsurveyed_and_carry_no_nps() {
        let m = place_accounts(&[facts(7, 500, &[])], &Thresholds::default(), DEFAULT_MIN_ANSWERS);
        let p = &m.placements[0];
        assert_eq!(p.quadrant, Quadrant::Unsurveyed);
        assert_eq!((p.loyalty.n, p.loyalty.nps, p.loyalty.low_sample), (0, None, true));
        // No surveyed account: no median to compute.
        assert_eq!(m.thresholds.revenue, None);
        assert_eq!(m.total(Quadrant::Unsurveyed).billed, Money::from_units(500));
    }

    #[test]
    fn missing_billed_revenue_counts_as_zero() {
        let m = place_accounts(
            &[
                AccountFacts { account: 1, billed: None, potential: None, loyalty: LoyaltyCounts::from_scores([10]) },
                facts(2, 10, &[10]),
                facts(3, 20, &[10]),
            ],
            &Thresholds::default(),
            DEFAULT_MIN_ANSWERS,
        );
        // Surveyed billed: 0, 10, 20 → median 10.
        assert_eq!(m.thresholds.revenue, Some(Money::from_units(10)));
        assert_eq!(m.placements[0].billed, Money::ZERO);
        assert_eq!(m.placements[0].potential, Money::ZERO);
        assert_eq!(m.placements[0].quadrant, Quadrant::Growth);
    }

    #[test]
    fn accounts_with_few_answers_are_placed_and_flagged_low_sample() {
        let m = place_accounts(&[facts(1, 10, &[10, 9]), facts(2, 10, &[10, 9, 9])], &Thresholds::default(), 3);
        assert_eq!(m.placements[0].quadrant, Quadrant::Emulate);
        assert!(m.placements[0].loyalty.low_sample);
        assert!(!m.placements[1].loyalty.low_sample);
    }

    #[test]
    fn totals_count_accounts_billed_and_potential_revenue_per_quadrant() {
        let m = place_accounts(
            &[facts(1, 100, &[10]), facts(2, 200, &[10]), facts(3, 100, &[0]), facts(4, 10, &[0]), facts(5, 60, &[])],
            &Thresholds { loyalty: 30.0, revenue: Some(Money::from_units(100)) },
            DEFAULT_MIN_ANSWERS,
        );
        let t = |q| {
            let t = m.total(q);
            (t.accounts, t.billed.cents() / 100, t.potential.cents() / 100)
        };
        assert_eq!(t(Quadrant::Emulate), (2, 300, 150));
        assert_eq!(t(Quadrant::Problem), (1, 100, 50));
        assert_eq!(t(Quadrant::Growth), (0, 0, 0));
        assert_eq!(t(Quadrant::Decision), (1, 10, 5));
        assert_eq!(t(Quadrant::Unsurveyed), (1, 60, 30));
        assert_eq!(m.totals.iter().map(|t| t.accounts).sum::<u64>(), 5);
    }

    proptest::proptest! {
        #[test]
        fn the_median_splits_surveyed_accounts_in_half(mut amounts in proptest::collection::vec(-1_000i64..1_000, 1..40)) {
            let mut money: Vec<Money> = amounts.iter().copied().map(Money).collect();
            let median = median_revenue(&mut money).unwrap();
            amounts.sort_unstable();
            let k = amounts.len();
            let exact_twice = amounts[(k - 1) / 2] + amounts[k / 2]; // 2 × the true median
            // Rounded up to the cent: the smallest whole cent at or above the true median.
            proptest::prop_assert!(2 * median.cents() >= exact_twice && 2 * (median.cents() - 1) < exact_twice);
            let high = amounts.iter().filter(|&&a| a >= median.cents()).count();
            proptest::prop_assert!(2 * high >= k);
        }
    }

    #[test]
    fn distance_to_emulate_makes_problem_and_growth_equally_far() {
        assert_eq!(Quadrant::Emulate.distance_to_emulate(), Some(0));
        assert_eq!(Quadrant::Problem.distance_to_emulate(), Some(1));
        assert_eq!(Quadrant::Growth.distance_to_emulate(), Some(1));
        assert_eq!(Quadrant::Decision.distance_to_emulate(), Some(2));
        assert_eq!(Quadrant::Unsurveyed.distance_to_emulate(), None);
    }
}
