//! Loyalty: who promotes, who is passive, who detracts, and the one NPS every figure uses.
//!
//! # The NPS definition
//! Rapport has exactly one Net Promoter Score, used for an account, a segment, a wave or
//! the whole portfolio alike:
//!
//! > NPS = 100 × (promoters − detractors) / n, where n counts the answers that **have a
//! > likelihood-to-recommend (LTR) score**, promoters score 9-10, passives 7-8 and
//! > detractors 0-6.
//!
//! Invitations without an answer, and answers without an LTR score, are not in the
//! denominator. Within a wave, each contact counts once, with their latest answer (the store
//! keeps that invariant; see [`crate::stats`]). An NPS over no answers is `None`, never 0.
//!
//! Every figure shown to a user is a [`LoyaltySummary`]: it carries its n, its 90% confidence
//! interval and a `low_sample` flag, so that no screen shows an NPS of 100 from one answer
//! without saying so.

use serde::{Deserialize, Serialize};

/// The fewest answers a figure needs before it is shown without a low-sample warning.
pub const DEFAULT_MIN_ANSWERS: u64 = 3;

/// The two-sided 90% normal quantile used for every confidence interval.
pub const Z_90: f64 = 1.645;

/// Where one LTR score places its author.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoyaltyClass {
    /// 9 or 10: recommends us.
    Promoter,
    /// 7 or 8: satisfied, not enthusiastic.
    Passive,
    /// 0 to 6: at risk of speaking against us.
    Detractor,
}

impl LoyaltyClass {
    /// Classifies an LTR score: 9-10 promoter, 7-8 passive, 0-6 detractor.
    ///
    /// Scores are 0-10 ([`crate::response::Ltr`] guarantees it); anything above 10 is a caller
    /// bug, asserted in debug builds and counted as a promoter in release builds.
    pub fn of(ltr: u8) -> LoyaltyClass {
        debug_assert!(ltr <= 10, "LTR score {ltr} is outside 0-10");
        match ltr {
            9.. => LoyaltyClass::Promoter,
            7 | 8 => LoyaltyClass::Passive,
            _ => LoyaltyClass::Detractor,
        }
    }

    /// The canonical name: promoter, passive or detractor.
    pub fn as_str(self) -> &'static str {
        match self {
            LoyaltyClass::Promoter => "promoter",
            LoyaltyClass::Passive => "passive",
            LoyaltyClass::Detractor => "detractor",
        }
    }
}

/// Removing an answer that was never counted: the store's sufficient statistics and its
/// answers disagree, so the statistics are left untouched and the caller should rebuild them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot remove an answer that was never counted: rebuild the statistics from the answers")]
pub struct NotCounted;

/// Counts of LTR answers by class, with the exact sums needed for the mean and variance.
///
/// Everything is an integer, so adding, removing and merging are exact and order-free: a
/// report over any set of cells is the merge of their counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LoyaltyCounts {
    /// Answers scoring 9-10.
    pub promoters: u64,
    /// Answers scoring 7-8.
    pub passives: u64,
    /// Answers scoring 0-6.
    pub detractors: u64,
    /// Σ LTR over the answers.
    pub ltr_sum: u64,
    /// Σ LTR² over the answers.
    pub ltr_sumsq: u64,
}

impl LoyaltyCounts {
    /// No answers.
    pub const EMPTY: LoyaltyCounts =
        LoyaltyCounts { promoters: 0, passives: 0, detractors: 0, ltr_sum: 0, ltr_sumsq: 0 };

    /// Counts built from LTR scores.
    pub fn from_scores(scores: impl IntoIterator<Item = u8>) -> LoyaltyCounts {
        let mut counts = LoyaltyCounts::EMPTY;
        for score in scores {
            counts.add(score);
        }
        counts
    }

    fn class_count(&mut self, class: LoyaltyClass) -> &mut u64 {
        match class {
            LoyaltyClass::Promoter => &mut self.promoters,
            LoyaltyClass::Passive => &mut self.passives,
            LoyaltyClass::Detractor => &mut self.detractors,
        }
    }

    /// Counts one answer.
    pub fn add(&mut self, ltr: u8) {
        *self.class_count(LoyaltyClass::of(ltr)) += 1;
        self.ltr_sum += u64::from(ltr);
        self.ltr_sumsq += u64::from(ltr) * u64::from(ltr);
    }

    /// Whether [`LoyaltyCounts::remove`] of this score would succeed.
    pub fn can_remove(&self, ltr: u8) -> bool {
        let class = match LoyaltyClass::of(ltr) {
            LoyaltyClass::Promoter => self.promoters,
            LoyaltyClass::Passive => self.passives,
            LoyaltyClass::Detractor => self.detractors,
        };
        let ltr = u64::from(ltr);
        class >= 1 && self.ltr_sum >= ltr && self.ltr_sumsq >= ltr * ltr
    }

    /// Un-counts one answer previously added; leaves the counts untouched and fails if that
    /// is impossible (no answer of that class, or sums too small).
    pub fn remove(&mut self, ltr: u8) -> Result<(), NotCounted> {
        if !self.can_remove(ltr) {
            return Err(NotCounted);
        }
        *self.class_count(LoyaltyClass::of(ltr)) -= 1;
        self.ltr_sum -= u64::from(ltr);
        self.ltr_sumsq -= u64::from(ltr) * u64::from(ltr);
        Ok(())
    }

    /// Adds another set of counts to this one (exact, associative, commutative).
    pub fn merge(&mut self, other: &LoyaltyCounts) {
        self.promoters += other.promoters;
        self.passives += other.passives;
        self.detractors += other.detractors;
        self.ltr_sum += other.ltr_sum;
        self.ltr_sumsq += other.ltr_sumsq;
    }

    /// The number of answers with an LTR score: the NPS denominator.
    pub fn n(&self) -> u64 {
        self.promoters + self.passives + self.detractors
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.n() == 0
    }

    /// NPS = 100 × (promoters − detractors) / n, from -100 to 100; `None` when n = 0.
    pub fn nps(&self) -> Option<f64> {
        let n = self.n();
        (n > 0).then(|| 100.0 * (self.promoters as f64 - self.detractors as f64) / n as f64)
    }

    /// Mean LTR score (0-10); `None` when n = 0.
    pub fn mean_ltr(&self) -> Option<f64> {
        let n = self.n();
        (n > 0).then(|| self.ltr_sum as f64 / n as f64)
    }

    /// Shares of promoters, passives and detractors (each 0-1, summing to 1); `None` when n = 0.
    pub fn shares(&self) -> Option<ClassShares> {
        let n = self.n();
        (n > 0).then(|| {
            let n = n as f64;
            ClassShares {
                promoters: self.promoters as f64 / n,
                passives: self.passives as f64 / n,
                detractors: self.detractors as f64 / n,
            }
        })
    }

    /// Standard error of the NPS, in NPS points (0-100 scale); `None` when n = 0.
    ///
    /// One answer scores +1 (promoter), 0 or −1 (detractor), so with shares p and d its
    /// variance is p + d − (p − d)², and the NPS standard error is 100 × √(var / n). The
    /// variance is computed exactly in integers as ((P + D)·n − (P − D)²) / n², which cannot
    /// go negative through rounding.
    pub fn nps_standard_error(&self) -> Option<f64> {
        let n = self.n();
        if n == 0 {
            return None;
        }
        let (p, d, n) = (i128::from(self.promoters), i128::from(self.detractors), i128::from(n));
        let var_times_n2 = (p + d) * n - (p - d) * (p - d);
        // se = √(var/n) = √(var·n² / n³)
        Some(100.0 * (var_times_n2 as f64 / (n as f64).powi(3)).sqrt())
    }

    /// The 90% confidence interval of the NPS: nps ± 1.645 × se, clamped to [-100, 100];
    /// `None` when n = 0.
    pub fn nps_ci90(&self) -> Option<Interval> {
        let nps = self.nps()?;
        let half = Z_90 * self.nps_standard_error()?;
        Some(Interval { low: (nps - half).max(-100.0), high: (nps + half).min(100.0) })
    }

    /// The figure to show: n, counts, NPS, mean, CI and the low-sample flag.
    pub fn summary(&self, min_answers: u64) -> LoyaltySummary {
        LoyaltySummary::new(*self, min_answers)
    }
}

/// Shares of each loyalty class among the answers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassShares {
    /// Share of promoters, 0-1.
    pub promoters: f64,
    /// Share of passives, 0-1.
    pub passives: f64,
    /// Share of detractors, 0-1.
    pub detractors: f64,
}

/// A closed interval of NPS points.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

impl Interval {
    /// Whether `value` lies within the interval (bounds included).
    pub fn contains(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }
}

/// A loyalty figure as every screen, export and API shows it: never an NPS without its n,
/// its confidence interval and a warning when the sample is small.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoyaltySummary {
    /// Answers with an LTR score (the NPS denominator).
    pub n: u64,
    /// The underlying counts, so that summaries can be merged and re-derived.
    pub counts: LoyaltyCounts,
    /// NPS, -100 to 100; `None` when n = 0.
    pub nps: Option<f64>,
    /// Mean LTR, 0-10; `None` when n = 0.
    pub mean_ltr: Option<f64>,
    /// 90% confidence interval of the NPS; `None` when n = 0.
    pub ci90: Option<Interval>,
    /// Fewer answers than the configured minimum (including none at all).
    pub low_sample: bool,
}

impl LoyaltySummary {
    /// Summarises counts, flagging figures over fewer than `min_answers` answers.
    pub fn new(counts: LoyaltyCounts, min_answers: u64) -> LoyaltySummary {
        let n = counts.n();
        LoyaltySummary {
            n,
            counts,
            nps: counts.nps(),
            mean_ltr: counts.mean_ltr(),
            ci90: counts.nps_ci90(),
            low_sample: n < min_answers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(p: u64, pa: u64, d: u64) -> LoyaltyCounts {
        let mut c = LoyaltyCounts::EMPTY;
        for _ in 0..p {
            c.add(10);
        }
        for _ in 0..pa {
            c.add(7);
        }
        for _ in 0..d {
            c.add(0);
        }
        c
    }

    #[test]
    fn scores_nine_and_ten_promote_seven_and_eight_are_passive_zero_to_six_detract() {
        let expected = [
            (0, LoyaltyClass::Detractor),
            (6, LoyaltyClass::Detractor),
            (7, LoyaltyClass::Passive),
            (8, LoyaltyClass::Passive),
            (9, LoyaltyClass::Promoter),
            (10, LoyaltyClass::Promoter),
        ];
        for (score, class) in expected {
            assert_eq!(LoyaltyClass::of(score), class, "{score}");
        }
        for score in 0..=10 {
            let c = LoyaltyCounts::from_scores([score]);
            assert_eq!(c.n(), 1);
        }
        assert_eq!(LoyaltyClass::Promoter.as_str(), "promoter");
    }

    #[test]
    fn nps_is_promoters_minus_detractors_over_answers() {
        // 5 promoters, 3 passives, 2 detractors: 100 × (5 − 2) / 10 = 30.
        let c = LoyaltyCounts::from_scores([9, 10, 9, 10, 9, 7, 8, 7, 6, 0]);
        assert_eq!((c.promoters, c.passives, c.detractors), (5, 3, 2));
        assert_eq!(c.nps(), Some(30.0));
        assert_eq!(c.ltr_sum, 75);
        assert_eq!(c.mean_ltr(), Some(7.5));
        assert_eq!(c.ltr_sumsq, 81 * 3 + 100 * 2 + 49 * 2 + 64 + 36);
        let s = c.shares().unwrap();
        assert_eq!((s.promoters, s.passives, s.detractors), (0.5, 0.3, 0.2));
    }

    #[test]
    fn nps_over_no_answers_is_none_not_zero() {
        let c = LoyaltyCounts::EMPTY;
        assert_eq!(c.nps(), None);
        assert_eq!(c.mean_ltr(), None);
        assert_eq!(c.nps_ci90(), None);
        assert_eq!(c.nps_standard_error(), None);
        assert_eq!(c.shares(), None);
        let s = c.summary(DEFAULT_MIN_ANSWERS);
        assert_eq!((s.n, s.nps, s.ci90, s.low_sample), (0, None, None, true));
    }

    #[test]
    fn nps_spans_minus_100_to_100() {
        assert_eq!(counts(4, 0, 0).nps(), Some(100.0));
        assert_eq!(counts(0, 0, 4).nps(), Some(-100.0));
        assert_eq!(counts(0, 4, 0).nps(), Some(0.0));
        assert_eq!(counts(1, 1, 1).nps(), Some(0.0));
    }

    #[test]
    fn ci90_matches_a_hand_computation() {
        // 5 promoters, 3 passives, 2 detractors: p = .5, d = .2, nps = 30.
        // var = .5 + .2 − .3² = .61; se = √(.61/10) = .246982; half-width = 164.5 × se = 40.6285.
        let c = counts(5, 3, 2);
        let se = c.nps_standard_error().unwrap();
        assert!((se - 24.698_178).abs() < 1e-5, "{se}");
        let ci = c.nps_ci90().unwrap();
        assert!((ci.low - (30.0 - 40.628_503)).abs() < 1e-5, "{ci:?}");
        assert!((ci.high - (30.0 + 40.628_503)).abs() < 1e-5, "{ci:?}");
        assert!(ci.contains(30.0));
    }

    #[test]
    fn ci90_is_clamped_to_the_nps_scale() {
        // 1 promoter, 1 detractor: p = d = .5, var = 1, se = √(1/2) → half-width 116.3: clamped.
        let ci = counts(1, 0, 1).nps_ci90().unwrap();
        assert_eq!((ci.low, ci.high), (-100.0, 100.0));
        // 3 promoters, 1 passive: nps 75, var = .75 − .5625 = .1875, se = √(.1875/4) = .2165,
        // half-width 35.6: the top is clamped at 100.
        let ci = counts(3, 1, 0).nps_ci90().unwrap();
        assert_eq!(ci.high, 100.0);
        assert!((ci.low - (75.0 - 164.5 * (0.1875f64 / 4.0).sqrt())).abs() < 1e-9);
    }

    #[test]
    fn unanimous_answers_have_a_zero_width_interval_but_a_single_one_is_flagged_low_sample() {
        let one = counts(1, 0, 0).summary(DEFAULT_MIN_ANSWERS);
        assert_eq!(one.nps, Some(100.0));
        assert_eq!(one.ci90, Some(Interval { low: 100.0, high: 100.0 }));
        assert!(one.low_sample);
        let all_passive = counts(0, 5, 0).summary(DEFAULT_MIN_ANSWERS);
        assert_eq!(all_passive.ci90, Some(Interval { low: 0.0, high: 0.0 }));
        assert!(!all_passive.low_sample);
    }

    #[test]
    fn low_sample_means_fewer_answers_than_the_configured_minimum() {
        assert!(counts(2, 0, 0).summary(3).low_sample);
        assert!(!counts(2, 1, 0).summary(3).low_sample);
        assert!(counts(2, 1, 0).summary(4).low_sample);
        assert!(!counts(0, 0, 0).summary(0).low_sample);
    }

    #[test]
    fn summary_carries_n_counts_nps_mean_and_ci() {
        let c = counts(5, 3, 2);
        let s = LoyaltySummary::new(c, 3);
        assert_eq!(s.n, 10);
        assert_eq!(s.counts, c);
        assert_eq!(s.nps, Some(30.0));
        assert_eq!(s.mean_ltr, Some(7.1)); // (5 × 10 + 3 × 7 + 2 × 0) / 10
        assert_eq!(s.ci90, c.nps_ci90());
        assert!(!s.low_sample);
    }

    #[test]
    fn removing_an_answer_undoes_adding_it() {
        let before = counts(2, 1, 1);
        let mut c = before;
        c.add(9);
        c.remove(9).unwrap();
        assert_eq!(c, before);
        for score in 0..=10 {
            let mut c = LoyaltyCounts::EMPTY;
            c.add(score);
            c.remove(score).unwrap();
            assert_eq!(c, LoyaltyCounts::EMPTY);
        }
    }

    #[test]
    fn removing_an_answer_never_counted_fails_and_changes_nothing() {
        let mut c = counts(1, 0, 0);
        assert_eq!(c.remove(0), Err(NotCounted));
        assert_eq!(c.remove(7), Err(NotCounted));
        assert_eq!(c, counts(1, 0, 0));
        let mut empty = LoyaltyCounts::EMPTY;
        assert_eq!(empty.remove(10), Err(NotCounted));
        // A promoter scored 9 cannot be removed as a 10: the sums would not match.
        let mut nine = LoyaltyCounts::from_scores([9]);
        assert_eq!(nine.remove(10), Err(NotCounted));
    }

    #[test]
    fn merging_counts_is_adding_their_answers() {
        let mut a = LoyaltyCounts::from_scores([10, 3, 7]);
        let b = LoyaltyCounts::from_scores([9, 9, 0]);
        a.merge(&b);
        assert_eq!(a, LoyaltyCounts::from_scores([10, 3, 7, 9, 9, 0]));
    }
}
