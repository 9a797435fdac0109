//! Key driver analysis: which experiences move overall loyalty, per segment (per vertical
//! above all, since drivers differ from one vertical to the next).
//!
//! # Method
//! For each driver of a segment, from its merged [`DriverSums`] (pairs of driver rating x
//! and LTR y over the answers that have both):
//! - **correlation** r with LTR, computed exactly in integers up to the final division:
//!   r = (nΣxy − ΣxΣy) / √((nΣx² − (Σx)²)(nΣy² − (Σy)²)). It is `None`, never NaN, when
//!   n < [`MIN_PAIRS`] or either variance is zero (everyone gave the same rating).
//! - **relative importance**: r² as a share of the sum of r² over the segment's drivers that
//!   have a correlation, so the shares of a segment sum to 1. A driver with a strong negative
//!   r is important too (its sign is in `correlation`). `None` for drivers without a
//!   correlation, and for all drivers when every r is exactly 0.
//! - **rank**: 1 for the most important driver of its segment; equal importance shares get
//!   equal ranks (competition ranking: 1, 2, 2, 4).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::stats::{CellStats, DriverSums};

/// The fewest (driver, LTR) pairs a correlation needs.
pub const MIN_PAIRS: u64 = 3;

/// Pearson correlation of a driver with LTR from its exact sums; `None` when n < 3 or either
/// variance is zero. Clamped to [-1, 1] against rounding.
pub fn correlation(sums: &DriverSums) -> Option<f64> {
    if sums.n < MIN_PAIRS {
        return None;
    }
    let n = i128::from(sums.n);
    let (sx, sy) = (i128::from(sums.sum_x), i128::from(sums.sum_y));
    // Exact in i128: no cancellation however large the sums.
    let var_x = n * i128::from(sums.sum_xx) - sx * sx;
    let var_y = n * i128::from(sums.sum_yy) - sy * sy;
    let cov = n * i128::from(sums.sum_xy) - sx * sy;
    if var_x <= 0 || var_y <= 0 {
        return None;
    }
    // The product var_x·var_y may overflow i128; take the roots separately in f64.
    let r = cov as f64 / ((var_x as f64).sqrt() * (var_y as f64).sqrt());
    r.is_finite().then(|| r.clamp(-1.0, 1.0))
}

/// One driver's figures in one segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriverFigure {
    /// The driver's question key.
    pub driver: String,
    /// Answers rating the driver (with LTR).
    pub n: u64,
    /// Mean rating; `None` when n = 0.
    pub mean: Option<f64>,
    /// Correlation with LTR (see the module docs).
    pub correlation: Option<f64>,
    /// Share of the segment's explained importance, 0-1.
    pub importance: Option<f64>,
    /// 1 = the segment's most important driver; `None` without an importance.
    pub rank: Option<u32>,
    /// Fewer pairs than the configured minimum.
    pub low_sample: bool,
}

/// Key drivers of one segment, sorted by driver key. `min_answers` only sets `low_sample`;
/// correlations need [`MIN_PAIRS`] regardless.
pub fn key_drivers(stats: &CellStats, min_answers: u64) -> Vec<DriverFigure> {
    let mut figures: Vec<DriverFigure> = stats
        .drivers
        .iter()
        .map(|(driver, sums)| DriverFigure {
            driver: driver.clone(),
            n: sums.n,
            mean: sums.mean_x(),
            correlation: correlation(sums),
            importance: None,
            rank: None,
            low_sample: sums.n < min_answers,
        })
        .collect();
    let total: f64 = figures.iter().filter_map(|f| f.correlation).map(|r| r * r).sum();
    if total > 0.0 {
        for f in &mut figures {
            f.importance = f.correlation.map(|r| r * r / total);
        }
        let shares: Vec<Option<f64>> = figures.iter().map(|f| f.importance).collect();
        for (f, own) in figures.iter_mut().zip(&shares) {
            f.rank = own.map(|own| 1 + shares.iter().flatten().filter(|&&other| other > own).count() as u32);
        }
    }
    figures
}

/// One driver across segments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriverAcrossSegments {
    /// The driver's question key.
    pub driver: String,
    /// Its figure in each segment, aligned with [`DriverComparison::segments`]; `None` where
    /// no answer rated it.
    pub per_segment: Vec<Option<DriverFigure>>,
    /// Best (smallest) rank over the segments.
    pub best_rank: Option<u32>,
    /// Worst rank − best rank over the segments where it is ranked: large where segments
    /// disagree about the driver; `None` unless ranked in at least two segments.
    pub rank_spread: Option<u32>,
}

/// Key drivers compared across segments (typically verticals).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriverComparison {
    /// The segments, sorted by name.
    pub segments: Vec<String>,
    /// One row per driver rated in any segment, sorted by driver key.
    pub drivers: Vec<DriverAcrossSegments>,
}

/// Compares key drivers across segments, e.g. the output of
/// [`crate::segment::stats_by_segment`] by [`crate::segment::Dimension::Vertical`], so the UI
/// can show which drivers matter most in each vertical and where verticals differ.
pub fn compare_segments(segments: &BTreeMap<String, CellStats>, min_answers: u64) -> DriverComparison {
    let per_segment: Vec<BTreeMap<String, DriverFigure>> = segments
        .values()
        .map(|stats| key_drivers(stats, min_answers).into_iter().map(|f| (f.driver.clone(), f)).collect())
        .collect();
    let keys: BTreeSet<&String> = segments.values().flat_map(|s| s.drivers.keys()).collect();
    let drivers = keys
        .into_iter()
        .map(|key| {
            let figures: Vec<Option<DriverFigure>> = per_segment.iter().map(|m| m.get(key).cloned()).collect();
            let ranks: Vec<u32> = figures.iter().flatten().filter_map(|f| f.rank).collect();
            let best = ranks.iter().min().copied();
            let worst = ranks.iter().max().copied();
            DriverAcrossSegments {
                driver: key.clone(),
                per_segment: figures,
                best_rank: best,
                rank_spread: best.zip(worst).filter(|_| ranks.len() >= 2).map(|(b, w)| w - b),
            }
        })
        .collect();
    DriverComparison { segments: segments.keys().cloned().collect(), drivers }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loyalty::DEFAULT_MIN_ANSWERS;

    fn sums(pairs: &[(u8, u8)]) -> DriverSums {
        let mut s = DriverSums::default();
        for &(x, y) in pairs {
            s.add(x, y);
        }
        s
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn correlation_matches_a_hand_computation() {
        // x = 1,2,3,4; y = 2,1,4,3: n = 4, Σx = 10, Σy = 10, Σxy = 2+2+12+12 = 28, Σx² = Σy² = 30.
        // r = (4·28 − 100) / √((120 − 100)(120 − 100)) = 12 / 20 = 0.6.
        let s = sums(&[(1, 2), (2, 1), (3, 4), (4, 3)]);
        assert_eq!((s.n, s.sum_x, s.sum_xy, s.sum_xx), (4, 10, 28, 30));
        assert!(close(correlation(&s), 0.6));
        assert!(close(correlation(&sums(&[(1, 0), (3, 5), (5, 10)])), 1.0));
        assert!(close(correlation(&sums(&[(1, 10), (3, 5), (5, 0)])), -1.0));
    }

    #[test]
    fn no_correlation_from_fewer_than_three_answers() {
        assert_eq!(correlation(&sums(&[(1, 2), (5, 9)])), None);
        assert_eq!(correlation(&DriverSums::default()), None);
    }

    #[test]
    fn no_correlation_when_everyone_gives_the_same_rating_or_the_same_ltr() {
        assert_eq!(correlation(&sums(&[(4, 2), (4, 9), (4, 10)])), None);
        assert_eq!(correlation(&sums(&[(1, 9), (3, 9), (5, 9)])), None);
    }

    #[test]
    fn correlation_stays_exact_for_huge_segments() {
        // A million answers of each of two patterns: the sums are large, the answer is still 1.
        let mut s = DriverSums::default();
        let one = sums(&[(2, 4), (4, 8)]);
        for _ in 0..1_000_000 {
            s.merge(&one);
        }
        s.merge(&sums(&[(3, 6)]));
        assert!(close(correlation(&s), 1.0));
    }

    #[test]
    fn importance_is_each_drivers_squared_correlation_as_a_share_of_the_segment() {
        // brand: x = y pattern (r = 1); price: r = 0.6 by the hand computation above;
        // support: rated twice only (no correlation); delivery: everyone rated 3 (no variance).
        let mut stats = CellStats::new();
        let answers: [(u8, &[(&str, u8)]); 4] = [
            (2, &[("brand", 2), ("price", 1), ("support", 1), ("delivery", 3)]),
            (1, &[("brand", 1), ("price", 2), ("delivery", 3)]),
            (4, &[("brand", 4), ("price", 3), ("support", 5), ("delivery", 3)]),
            (3, &[("brand", 3), ("price", 4), ("delivery", 3)]),
        ];
        for (ltr, drivers) in answers {
            stats.add_answer(ltr, drivers);
        }
        let figures = key_drivers(&stats, DEFAULT_MIN_ANSWERS);
        let names: Vec<_> = figures.iter().map(|f| f.driver.as_str()).collect();
        assert_eq!(names, ["brand", "delivery", "price", "support"]);
        let [brand, delivery, price, support] = &figures[..] else { panic!("four drivers") };
        assert!(close(brand.correlation, 1.0));
        assert!(close(price.correlation, 0.6));
        assert_eq!((delivery.correlation, delivery.importance, delivery.rank), (None, None, None));
        assert_eq!((support.n, support.correlation, support.importance), (2, None, None));
        assert!(support.low_sample);
        // 1² / (1² + 0.6²) = 1 / 1.36 and 0.36 / 1.36.
        assert!(close(brand.importance, 1.0 / 1.36));
        assert!(close(price.importance, 0.36 / 1.36));
        assert_eq!((brand.rank, price.rank), (Some(1), Some(2)));
        assert_eq!(delivery.mean, Some(3.0));
        let total: f64 = figures.iter().filter_map(|f| f.importance).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_segment_under_three_answers_has_no_correlations_nor_importance() {
        let stats = CellStats::from_answers([(9, &[("brand", 4)][..]), (2, &[("brand", 1)][..])]);
        let figures = key_drivers(&stats, DEFAULT_MIN_ANSWERS);
        assert_eq!(figures.len(), 1);
        assert_eq!((figures[0].correlation, figures[0].importance, figures[0].rank), (None, None, None));
        assert!(figures[0].low_sample);
    }

    #[test]
    fn equally_important_drivers_share_a_rank() {
        let stats = CellStats::from_answers([
            (1, &[("a", 1), ("b", 1), ("c", 3)][..]),
            (2, &[("a", 2), ("b", 2), ("c", 1)][..]),
            (3, &[("a", 3), ("b", 3), ("c", 2)][..]),
        ]);
        let ranks: Vec<_> = key_drivers(&stats, 0).iter().map(|f| f.rank).collect();
        // a and b correlate perfectly; c has r = -0.5 (r² = .25).
        assert_eq!(ranks, [Some(1), Some(1), Some(3)]);
    }

    proptest::proptest! {
        #[test]
        fn correlation_from_sums_equals_the_two_pass_pearson_over_the_pairs(
            pairs in proptest::collection::vec((0u8..=10, 0u8..=10), 0..60)
        ) {
            let from_sums = correlation(&sums(&pairs));
            let as_f64: Vec<(f64, f64)> = pairs.iter().map(|&(x, y)| (f64::from(x), f64::from(y))).collect();
            let two_pass = crate::trend::pearson(&as_f64);
            match (from_sums, two_pass) {
                (Some(a), Some(b)) => proptest::prop_assert!((a - b).abs() < 1e-9, "{a} vs {b}"),
                (a, b) => proptest::prop_assert_eq!(a, b),
            }
        }
    }

    #[test]
    fn verticals_are_compared_driver_by_driver_with_their_ranks() {
        // Banking: brand matters most; Retail: price matters most; support only rated in Retail.
        let banking = CellStats::from_answers([
            (2, &[("brand", 2), ("price", 1)][..]),
            (1, &[("brand", 1), ("price", 2)][..]),
            (4, &[("brand", 4), ("price", 3)][..]),
            (3, &[("brand", 3), ("price", 4)][..]),
        ]);
        let retail = CellStats::from_answers([
            (2, &[("price", 2), ("brand", 1), ("support", 5)][..]),
            (1, &[("price", 1), ("brand", 2), ("support", 5)][..]),
            (4, &[("price", 4), ("brand", 3), ("support", 5)][..]),
            (3, &[("price", 3), ("brand", 4), ("support", 5)][..]),
        ]);
        let segments = BTreeMap::from([("Retail".to_string(), retail), ("Banking".to_string(), banking)]);
        let cmp = compare_segments(&segments, DEFAULT_MIN_ANSWERS);
        assert_eq!(cmp.segments, ["Banking", "Retail"]);
        let rows: Vec<_> = cmp
            .drivers
            .iter()
            .map(|d| {
                let ranks: Vec<_> = d.per_segment.iter().map(|f| f.as_ref().and_then(|f| f.rank)).collect();
                (d.driver.as_str(), ranks, d.best_rank, d.rank_spread)
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("brand", vec![Some(1), Some(2)], Some(1), Some(1)),
                ("price", vec![Some(2), Some(1)], Some(1), Some(1)),
                ("support", vec![None, None], None, None),
            ]
        );
        assert!(cmp.drivers[2].per_segment[0].is_none());
        assert!(cmp.drivers[2].per_segment[1].is_some());
    }
}
