//! The ideal account score: how close each account comes to the portfolio's definition, with
//! each criterion's contribution, and which accounts move when the definition changes.
//!
//! Score = the sum over criteria of weight x share earned (0-1, linear between the
//! criterion's worst and best), over the sum of the weights, x 100. A criterion the account
//! has no data for earns half its weight and says so: neither rewarded nor punished for a
//! gap in the data.

use serde::Serialize;

use super::definition::{CriterionKind, Definition};

/// At or above this score an account is ideal.
pub const IDEAL_AT: f64 = 70.0;

/// Below this score an account is far from ideal.
pub const POOR_BELOW: f64 = 40.0;

/// A score moving by this many points or more counts as moving, even within a band.
pub const MOVE_POINTS: f64 = 5.0;

/// How close to ideal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Score 70 or more.
    Ideal,
    /// 40 to 70.
    Fair,
    /// Under 40.
    Poor,
}

impl Band {
    /// The band of a score.
    pub fn of(score: f64) -> Band {
        if score >= IDEAL_AT {
            Band::Ideal
        } else if score >= POOR_BELOW {
            Band::Fair
        } else {
            Band::Poor
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Ideal => "ideal",
            Band::Fair => "fair",
            Band::Poor => "poor",
        }
    }
}

/// What an account measures on each criterion (None: no data).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Measures {
    /// Days to pay.
    pub payment_days: Option<f64>,
    /// Product exceptions per million of revenue.
    pub exceptions_per_million: Option<f64>,
    /// Service requests per million of revenue.
    pub service_requests_per_million: Option<f64>,
    /// Order changes per million of revenue.
    pub order_changes_per_million: Option<f64>,
    /// Margin %.
    pub margin_pct: Option<f64>,
    /// Quarters with a new opportunity, %.
    pub opportunity_flow: Option<f64>,
    /// NPS in the latest wave.
    pub loyalty: Option<f64>,
    /// Revenue change against the previous window, %.
    pub growth: Option<f64>,
}

impl Measures {
    /// The measured value of one criterion.
    pub fn value(&self, kind: CriterionKind) -> Option<f64> {
        match kind {
            CriterionKind::PaymentDays => self.payment_days,
            CriterionKind::ExceptionsPerMillion => self.exceptions_per_million,
            CriterionKind::ServiceRequestsPerMillion => self.service_requests_per_million,
            CriterionKind::OrderChangesPerMillion => self.order_changes_per_million,
            CriterionKind::MarginPct => self.margin_pct,
            CriterionKind::OpportunityFlow => self.opportunity_flow,
            CriterionKind::Loyalty => self.loyalty,
            CriterionKind::Growth => self.growth,
        }
    }
}

/// Cases per million of revenue: infinite when there were cases and no revenue, none when
/// there was neither.
pub fn per_million(count: u64, revenue_units: f64) -> Option<f64> {
    if revenue_units > 0.0 {
        Some(count as f64 * 1_000_000.0 / revenue_units)
    } else if count > 0 {
        Some(f64::INFINITY)
    } else {
        None
    }
}

/// One criterion's part in a score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Contribution {
    /// The criterion.
    pub kind: CriterionKind,
    /// What the account measured (None: no data, half the weight earned).
    pub value: Option<f64>,
    /// Points earned toward the 100.
    pub points: f64,
    /// Points it could earn.
    pub max_points: f64,
}

/// An account's ideal score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdealScore {
    /// 0-100.
    pub score: f64,
    /// Its band.
    pub band: Band,
    /// Each weighted criterion's part, in the definition's order.
    pub contributions: Vec<Contribution>,
}

impl IdealScore {
    /// The criteria that cost the account the most points, worst first, as words
    /// ("Days to pay 110 (0.0 of 15)").
    pub fn shortfalls(&self, n: usize) -> Vec<String> {
        let mut lost: Vec<&Contribution> =
            self.contributions.iter().filter(|c| c.max_points - c.points >= 0.05).collect();
        lost.sort_by(|a, b| (b.max_points - b.points).total_cmp(&(a.max_points - a.points)));
        lost.iter().take(n).map(|c| describe(c)).collect()
    }
}

/// A contribution in words.
pub fn describe(c: &Contribution) -> String {
    let value = match c.value {
        None => "no data".to_string(),
        Some(v) if v.is_infinite() => "cases without revenue".to_string(),
        Some(v) => format!("{v:.1}"),
    };
    format!("{} {value} ({:.1} of {:.1})", c.kind.label(), c.points, c.max_points)
}

/// Scores an account against the definition.
pub fn ideal_score(m: &Measures, def: &Definition) -> IdealScore {
    let total = f64::from(def.total_weight().max(1));
    let contributions: Vec<Contribution> = def
        .criteria
        .iter()
        .filter(|c| c.weight > 0)
        .map(|c| {
            let max_points = 100.0 * f64::from(c.weight) / total;
            let value = m.value(c.kind);
            let share = value.map_or(0.5, |v| c.share(v));
            Contribution { kind: c.kind, value, points: max_points * share, max_points }
        })
        .collect();
    let score = contributions.iter().map(|c| c.points).sum::<f64>().clamp(0.0, 100.0);
    IdealScore { score, band: Band::of(score), contributions }
}

/// An account whose score moves when the definition changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mover<K> {
    /// The account.
    pub account: K,
    /// Its score and band before.
    pub before: (f64, Band),
    /// And after.
    pub after: (f64, Band),
}

impl<K> Mover<K> {
    /// Points gained (negative: lost).
    pub fn delta(&self) -> f64 {
        self.after.0 - self.before.0
    }

    /// The score and band before, as views show them: "72.0 (ideal)".
    pub fn before_text(&self) -> String {
        score_text(self.before)
    }

    /// The same after.
    pub fn after_text(&self) -> String {
        score_text(self.after)
    }
}

fn score_text((score, band): (f64, Band)) -> String {
    format!("{score:.1} ({})", band.as_str())
}

/// Which accounts move between two scorings of the same accounts: a change of band, or
/// [`MOVE_POINTS`] or more; the largest moves first.
pub fn movers<K: Clone>(before: &[(K, f64)], after: &[(K, f64)]) -> Vec<Mover<K>> {
    let mut out: Vec<Mover<K>> = before
        .iter()
        .zip(after)
        .filter_map(|((k, b), (_, a))| {
            let (bb, ab) = (Band::of(*b), Band::of(*a));
            (bb != ab || (a - b).abs() >= MOVE_POINTS).then(|| Mover {
                account: k.clone(),
                before: (*b, bb),
                after: (*a, ab),
            })
        })
        .collect();
    out.sort_by(|x, y| y.delta().abs().total_cmp(&x.delta().abs()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ideal() -> Measures {
        Measures {
            payment_days: Some(30.0),
            exceptions_per_million: Some(0.0),
            service_requests_per_million: Some(0.0),
            order_changes_per_million: Some(0.0),
            margin_pct: Some(35.0),
            opportunity_flow: Some(100.0),
            loyalty: Some(80.0),
            growth: Some(25.0),
        }
    }

    #[test]
    fn an_account_meeting_every_criterion_scores_one_hundred() {
        let s = ideal_score(&ideal(), &Definition::default());
        assert_eq!((s.score, s.band), (100.0, Band::Ideal));
        assert_eq!(s.contributions.len(), 8);
        assert!(s.shortfalls(3).is_empty());
    }

    #[test]
    fn each_contribution_is_its_weight_times_the_share_earned() {
        let m = Measures { payment_days: Some(60.0), loyalty: None, ..ideal() };
        let s = ideal_score(&m, &Definition::default());
        // Days to pay earns half of 15; loyalty (no data) half of 15: 100 - 7.5 - 7.5.
        assert_eq!(s.score, 85.0);
        let days = s.contributions.iter().find(|c| c.kind == CriterionKind::PaymentDays).unwrap();
        assert_eq!((days.points, days.max_points), (7.5, 15.0));
        assert_eq!(s.shortfalls(1), vec!["Days to pay 60.0 (7.5 of 15.0)".to_string()]);
        assert!(s.shortfalls(2)[1].contains("no data"));
    }

    #[test]
    fn weights_are_shares_of_their_sum_and_zero_weights_drop_out() {
        let mut def = Definition::default();
        def.criteria.iter_mut().for_each(|c| c.weight = 0);
        def.criterion_mut(CriterionKind::PaymentDays).weight = 3;
        def.criterion_mut(CriterionKind::Loyalty).weight = 1;
        let m = Measures { payment_days: Some(90.0), loyalty: Some(70.0), ..Measures::default() };
        let s = ideal_score(&m, &def);
        assert_eq!(s.contributions.len(), 2);
        assert_eq!((s.score, s.band), (25.0, Band::Poor));
    }

    #[test]
    fn cases_per_million_of_revenue() {
        assert_eq!(per_million(3, 1_500_000.0), Some(2.0));
        assert_eq!(per_million(0, 0.0), None);
        assert_eq!(per_million(1, 0.0), Some(f64::INFINITY));
    }

    #[test]
    fn movers_change_band_or_move_five_points_largest_first() {
        let before = [("a", 72.0), ("b", 50.0), ("c", 50.0), ("d", 39.0)];
        let after = [("a", 69.0), ("b", 54.0), ("c", 58.0), ("d", 41.0)];
        let m = movers(&before, &after);
        let names: Vec<&str> = m.iter().map(|x| x.account).collect();
        assert_eq!(names, vec!["c", "a", "d"]);
        assert_eq!(m[1].before.1, Band::Ideal);
        assert_eq!(m[1].after.1, Band::Fair);
    }
}
