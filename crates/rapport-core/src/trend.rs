//! Loyalty over time, and loyalty change against revenue change.
//!
//! A trend is the same [`LoyaltySummary`] per wave for any scope (the portfolio, a segment,
//! one account): the caller merges the scope's cells per wave (see [`crate::stats`]) and
//! passes the waves in order. Waves with no answers stay in the trend with no NPS, so a gap is
//! visible rather than hidden.
//!
//! Loyalty against revenue: per account, the NPS change between two waves and the revenue
//! change between two periods, and the Pearson correlation of the two across accounts.

use serde::{Deserialize, Serialize};

use crate::loyalty::{LoyaltyCounts, LoyaltySummary};
use crate::money::Money;

/// One wave of a trend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint<W> {
    /// The wave (its id or name).
    pub wave: W,
    /// The loyalty figure in that wave.
    pub summary: LoyaltySummary,
    /// NPS change from the previous wave; `None` for the first wave or when either wave has
    /// no answers.
    pub nps_delta: Option<f64>,
    /// Whether the two waves' 90% confidence intervals do not overlap: a change that is
    /// unlikely to be noise (a conservative test). `false` when `nps_delta` is `None`.
    pub delta_beyond_noise: bool,
}

/// The loyalty trend of one scope over waves given in order, as (wave, merged counts).
pub fn loyalty_trend<W: Clone>(waves: &[(W, LoyaltyCounts)], min_answers: u64) -> Vec<TrendPoint<W>> {
    let mut previous: Option<LoyaltySummary> = None;
    waves
        .iter()
        .map(|(wave, counts)| {
            let summary = counts.summary(min_answers);
            let (nps_delta, delta_beyond_noise) = match (previous.as_ref(), summary.nps) {
                (Some(prev), Some(now)) => match prev.nps {
                    Some(before) => {
                        let apart = match (prev.ci90, summary.ci90) {
                            (Some(a), Some(b)) => a.high < b.low || b.high < a.low,
                            _ => false,
                        };
                        (Some(now - before), apart)
                    }
                    None => (None, false),
                },
                _ => (None, false),
            };
            previous = Some(summary);
            TrendPoint { wave: wave.clone(), summary, nps_delta, delta_beyond_noise }
        })
        .collect()
}

/// What is known about one account for loyalty against revenue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoyaltyRevenueInput<K> {
    /// The account key.
    pub account: K,
    /// NPS in the earlier wave (`None` if unsurveyed).
    pub nps_before: Option<f64>,
    /// NPS in the later wave (`None` if unsurveyed).
    pub nps_after: Option<f64>,
    /// Revenue in the earlier period (`None`: not reported).
    pub revenue_before: Option<Money>,
    /// Revenue in the later period (`None`: not reported yet, which is no fall to nothing).
    pub revenue_after: Option<Money>,
}

/// One account's loyalty change and revenue change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoyaltyRevenueChange<K> {
    /// The account key.
    pub account: K,
    /// NPS after − NPS before; `None` unless surveyed in both waves.
    pub nps_change: Option<f64>,
    /// Exact revenue change, after − before; `None` unless both periods are reported.
    pub revenue_change: Option<Money>,
    /// 100 × (after − before) / before; `None` when either period is not reported, or the
    /// earlier revenue is ≤ 0 (no base to grow from).
    pub revenue_change_pct: Option<f64>,
}

/// Per-account changes, and their correlation across accounts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoyaltyRevenue<K> {
    /// One row per input account, in input order.
    pub accounts: Vec<LoyaltyRevenueChange<K>>,
    /// Accounts with both an NPS change and a revenue change %, used for the correlation.
    pub n: u64,
    /// Pearson correlation of NPS change with revenue change % over those accounts; `None`
    /// when fewer than 3, or when either change does not vary.
    pub correlation: Option<f64>,
}

/// Relates each account's loyalty change to its revenue change.
pub fn loyalty_vs_revenue<K: Clone>(inputs: &[LoyaltyRevenueInput<K>]) -> LoyaltyRevenue<K> {
    let accounts: Vec<LoyaltyRevenueChange<K>> = inputs
        .iter()
        .map(|i| {
            let both = i.revenue_before.zip(i.revenue_after);
            LoyaltyRevenueChange {
                account: i.account.clone(),
                nps_change: i.nps_before.zip(i.nps_after).map(|(b, a)| a - b),
                revenue_change: both.map(|(before, after)| after - before),
                revenue_change_pct: both.filter(|(before, _)| before.cents() > 0).map(|(before, after)| {
                    let change = i128::from(after.cents()) - i128::from(before.cents());
                    100.0 * change as f64 / before.cents() as f64
                }),
            }
        })
        .collect();
    let pairs: Vec<(f64, f64)> = accounts.iter().filter_map(|a| a.nps_change.zip(a.revenue_change_pct)).collect();
    LoyaltyRevenue { n: pairs.len() as u64, correlation: pearson(&pairs), accounts }
}

/// Pearson correlation of (x, y) pairs; `None` for fewer than 3 pairs, a non-finite value, or
/// when x or y does not vary. Two-pass (centred) for numerical stability; clamped to [-1, 1].
pub fn pearson(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 3 || pairs.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
        return None;
    }
    let n = pairs.len() as f64;
    let mean_x = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        let (dx, dy) = (x - mean_x, y - mean_y);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    let r = sxy / (sxx.sqrt() * syy.sqrt());
    r.is_finite().then(|| r.clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loyalty::DEFAULT_MIN_ANSWERS;

    #[test]
    fn a_trend_shows_each_wave_and_the_change_from_the_previous_one() {
        let waves = [
            ("2026-Q1", LoyaltyCounts::from_scores([10, 10, 0, 7])), // nps 25
            ("2026-Q2", LoyaltyCounts::from_scores([10, 9, 8, 7])),  // nps 50
            ("2026-Q3", LoyaltyCounts::EMPTY),                       // nobody answered
            ("2026-Q4", LoyaltyCounts::from_scores([0, 10])),        // nps 0
        ];
        let t = loyalty_trend(&waves, DEFAULT_MIN_ANSWERS);
        assert_eq!(t.len(), 4);
        assert_eq!(t.iter().map(|p| p.wave).collect::<Vec<_>>(), ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]);
        assert_eq!(t.iter().map(|p| p.summary.nps).collect::<Vec<_>>(), [Some(25.0), Some(50.0), None, Some(0.0)]);
        // A wave without answers breaks the chain: no delta into it, none out of it.
        assert_eq!(t.iter().map(|p| p.nps_delta).collect::<Vec<_>>(), [None, Some(25.0), None, None]);
        assert!(t[3].summary.low_sample);
        assert!(!t[1].delta_beyond_noise);
    }

    #[test]
    fn a_change_whose_intervals_do_not_overlap_is_beyond_noise() {
        let all_detractors = LoyaltyCounts::from_scores([0; 40]);
        let all_promoters = LoyaltyCounts::from_scores([10; 40]);
        let t = loyalty_trend(&[(1, all_detractors), (2, all_promoters)], DEFAULT_MIN_ANSWERS);
        assert_eq!(t[1].nps_delta, Some(200.0));
        assert!(t[1].delta_beyond_noise);
    }

    fn input(account: u32, before: Option<f64>, after: Option<f64>, rev0: i64, rev1: i64) -> LoyaltyRevenueInput<u32> {
        LoyaltyRevenueInput {
            account,
            nps_before: before,
            nps_after: after,
            revenue_before: Some(Money::from_units(rev0)),
            revenue_after: Some(Money::from_units(rev1)),
        }
    }

    #[test]
    fn each_account_gets_its_nps_change_and_revenue_change_percent() {
        let r = loyalty_vs_revenue(&[
            input(1, Some(10.0), Some(30.0), 100, 150),
            input(2, None, Some(30.0), 100, 50),
            input(3, Some(0.0), Some(-50.0), 0, 50),
        ]);
        let a = &r.accounts;
        assert_eq!((a[0].nps_change, a[0].revenue_change_pct), (Some(20.0), Some(50.0)));
        assert_eq!(a[0].revenue_change, Some(Money::from_units(50)));
        assert_eq!((a[1].nps_change, a[1].revenue_change_pct), (None, Some(-50.0)));
        assert_eq!((a[2].nps_change, a[2].revenue_change_pct), (Some(-50.0), None));
        assert_eq!((r.n, r.correlation), (1, None));
        // A period not reported yet is unknown, not a fall to nothing.
        let late = LoyaltyRevenueInput { revenue_after: None, ..input(4, Some(0.0), Some(10.0), 100, 0) };
        let r = loyalty_vs_revenue(&[late]);
        assert_eq!((r.accounts[0].revenue_change, r.accounts[0].revenue_change_pct, r.n), (None, None, 0));
    }

    #[test]
    fn loyalty_and_revenue_correlate_across_accounts() {
        // NPS changes 10, 20, 30; revenue changes 10%, 20%, 30%: perfectly correlated.
        let r = loyalty_vs_revenue(&[
            input(1, Some(0.0), Some(10.0), 100, 110),
            input(2, Some(0.0), Some(20.0), 100, 120),
            input(3, Some(0.0), Some(30.0), 100, 130),
        ]);
        assert_eq!(r.n, 3);
        assert!((r.correlation.unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn pearson_matches_a_hand_computation() {
        // x = 1,2,3,4; y = 2,1,4,3: Sxy = 3, Sxx = Syy = 5 → r = 0.6.
        let r = pearson(&[(1.0, 2.0), (2.0, 1.0), (3.0, 4.0), (4.0, 3.0)]).unwrap();
        assert!((r - 0.6).abs() < 1e-12);
        let r = pearson(&[(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)]).unwrap();
        assert!((r + 1.0).abs() < 1e-12);
    }

    #[test]
    fn no_correlation_under_three_accounts_or_without_variation() {
        assert_eq!(pearson(&[(1.0, 2.0), (2.0, 3.0)]), None);
        assert_eq!(pearson(&[(1.0, 2.0), (1.0, 3.0), (1.0, 4.0)]), None);
        assert_eq!(pearson(&[(1.0, 2.0), (2.0, 2.0), (3.0, 2.0)]), None);
        assert_eq!(pearson(&[(1.0, 2.0), (2.0, f64::NAN), (3.0, 2.0)]), None);
    }
}
