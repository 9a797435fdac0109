//! The assessment definition: the ideal account's weighted criteria, and the few settings
//! every assessment view applies the same way (hourly cost of service, target margin, how
//! long silence makes neglect). One document, versioned by the store with who changed it,
//! when and why.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// What a criterion of the ideal account measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionKind {
    /// Days the account takes to pay (fewer is better).
    PaymentDays,
    /// Product exceptions per million of revenue in the window.
    ExceptionsPerMillion,
    /// Service requests per million of revenue.
    ServiceRequestsPerMillion,
    /// Order changes per million of revenue.
    OrderChangesPerMillion,
    /// Margin after cost of sales and cost to serve, % of revenue.
    MarginPct,
    /// Share of the window's quarters in which the account opened an opportunity, %.
    OpportunityFlow,
    /// NPS in the latest wave.
    Loyalty,
    /// Revenue change against the previous window, %.
    Growth,
}

impl CriterionKind {
    /// Every criterion, in the order views list them.
    pub const ALL: [CriterionKind; 8] = [
        CriterionKind::PaymentDays,
        CriterionKind::ExceptionsPerMillion,
        CriterionKind::ServiceRequestsPerMillion,
        CriterionKind::OrderChangesPerMillion,
        CriterionKind::MarginPct,
        CriterionKind::OpportunityFlow,
        CriterionKind::Loyalty,
        CriterionKind::Growth,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CriterionKind::PaymentDays => "payment_days",
            CriterionKind::ExceptionsPerMillion => "exceptions_per_million",
            CriterionKind::ServiceRequestsPerMillion => "service_requests_per_million",
            CriterionKind::OrderChangesPerMillion => "order_changes_per_million",
            CriterionKind::MarginPct => "margin_pct",
            CriterionKind::OpportunityFlow => "opportunity_flow",
            CriterionKind::Loyalty => "loyalty",
            CriterionKind::Growth => "growth",
        }
    }

    /// The criterion with this stored name.
    pub fn parse(name: &str) -> Option<CriterionKind> {
        let name = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        CriterionKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// How views name it.
    pub fn label(self) -> &'static str {
        match self {
            CriterionKind::PaymentDays => "Days to pay",
            CriterionKind::ExceptionsPerMillion => "Product exceptions per million revenue",
            CriterionKind::ServiceRequestsPerMillion => "Service requests per million revenue",
            CriterionKind::OrderChangesPerMillion => "Order changes per million revenue",
            CriterionKind::MarginPct => "Margin %",
            CriterionKind::OpportunityFlow => "Quarters with a new opportunity, %",
            CriterionKind::Loyalty => "NPS, latest wave",
            CriterionKind::Growth => "Revenue growth vs the previous window, %",
        }
    }
}

impl fmt::Display for CriterionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One criterion: its weight, and the values that score full marks (`best`) and nothing
/// (`worst`), linear in between. `best` below `worst` means lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// What it measures.
    pub kind: CriterionKind,
    /// Its weight, 0-100 (0 leaves it out).
    pub weight: u32,
    /// The value that earns the whole weight.
    pub best: f64,
    /// The value that earns nothing.
    pub worst: f64,
}

impl Criterion {
    /// The share of its weight (0-1) a measured value earns.
    pub fn share(&self, value: f64) -> f64 {
        if value.is_nan() {
            return 0.0;
        }
        ((value - self.worst) / (self.best - self.worst)).clamp(0.0, 1.0)
    }
}

/// The assessment definition of a portfolio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Definition {
    /// What an hour of service effort costs.
    pub hourly_cost: Money,
    /// The margin % an account should earn after cost of sales and cost to serve.
    pub target_margin_pct: f64,
    /// Days without an answer, a follow-up, a review or a new opportunity that make an
    /// account neglected.
    pub neglect_days: u32,
    /// The ideal account's criteria.
    pub criteria: Vec<Criterion>,
}

impl Default for Definition {
    fn default() -> Definition {
        let c = |kind, weight, best, worst| Criterion { kind, weight, best, worst };
        Definition {
            hourly_cost: Money::from_units(85),
            target_margin_pct: 15.0,
            neglect_days: 90,
            criteria: vec![
                c(CriterionKind::PaymentDays, 15, 30.0, 90.0),
                c(CriterionKind::ExceptionsPerMillion, 10, 0.0, 20.0),
                c(CriterionKind::ServiceRequestsPerMillion, 10, 0.0, 40.0),
                c(CriterionKind::OrderChangesPerMillion, 10, 0.0, 20.0),
                c(CriterionKind::MarginPct, 20, 30.0, 0.0),
                c(CriterionKind::OpportunityFlow, 10, 100.0, 0.0),
                c(CriterionKind::Loyalty, 15, 70.0, -30.0),
                c(CriterionKind::Growth, 10, 20.0, -20.0),
            ],
        }
    }
}

/// Why a definition was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DefinitionError {
    /// A weight out of range.
    #[error("the weight of {kind} is {weight}: give a whole number from 0 to 100")]
    Weight {
        /// Which criterion.
        kind: CriterionKind,
        /// What was given.
        weight: u32,
    },
    /// Best and worst make no scale.
    #[error("{kind} has best {best} and worst {worst}: give two different finite values")]
    Range {
        /// Which criterion.
        kind: CriterionKind,
        /// What was given.
        best: f64,
        /// What was given.
        worst: f64,
    },
    /// A criterion listed twice.
    #[error("{0} is listed twice: keep one")]
    Duplicate(CriterionKind),
    /// Every weight is zero.
    #[error("every criterion has weight 0: give at least one a weight")]
    NoWeight,
    /// A negative or absurd hourly cost.
    #[error("the hourly cost {0} is not between 0 and 100000")]
    HourlyCost(Money),
    /// A target margin out of range.
    #[error("the target margin {0}% is not between -100 and 100")]
    TargetMargin(f64),
    /// A neglect period out of range.
    #[error("neglect after {0} days is not between 1 and 3650 days")]
    NeglectDays(u32),
}

impl Definition {
    /// The definition checked, criteria in the canonical order.
    pub fn validate(mut self) -> Result<Definition, DefinitionError> {
        if !(0..=10_000_000).contains(&self.hourly_cost.0) {
            return Err(DefinitionError::HourlyCost(self.hourly_cost));
        }
        if !self.target_margin_pct.is_finite() || !(-100.0..=100.0).contains(&self.target_margin_pct) {
            return Err(DefinitionError::TargetMargin(self.target_margin_pct));
        }
        if !(1..=3650).contains(&self.neglect_days) {
            return Err(DefinitionError::NeglectDays(self.neglect_days));
        }
        let mut seen = Vec::new();
        for c in &self.criteria {
            if c.weight > 100 {
                return Err(DefinitionError::Weight { kind: c.kind, weight: c.weight });
            }
            if !c.best.is_finite() || !c.worst.is_finite() || c.best == c.worst {
                return Err(DefinitionError::Range { kind: c.kind, best: c.best, worst: c.worst });
            }
            if seen.contains(&c.kind) {
                return Err(DefinitionError::Duplicate(c.kind));
            }
            seen.push(c.kind);
        }
        if self.total_weight() == 0 {
            return Err(DefinitionError::NoWeight);
        }
        self.criteria.sort_by_key(|c| c.kind);
        Ok(self)
    }

    /// The sum of the weights.
    pub fn total_weight(&self) -> u32 {
        self.criteria.iter().map(|c| c.weight).sum()
    }

    /// The criterion of this kind, if the definition has it.
    pub fn criterion(&self, kind: CriterionKind) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.kind == kind)
    }

    /// The criterion of this kind, added with weight 0 and the default scale if missing: how
    /// an edit reaches a criterion the definition left out.
    pub fn criterion_mut(&mut self, kind: CriterionKind) -> &mut Criterion {
        if let Some(i) = self.criteria.iter().position(|c| c.kind == kind) {
            return &mut self.criteria[i];
        }
        let default = Definition::default();
        let template = *default.criterion(kind).expect("the default definition has every criterion");
        self.criteria.push(Criterion { weight: 0, ..template });
        self.criteria.last_mut().expect("just pushed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_definition_is_valid_and_weighs_one_hundred() {
        let d = Definition::default().validate().unwrap();
        assert_eq!(d.total_weight(), 100);
        assert_eq!(d.criteria.len(), CriterionKind::ALL.len());
    }

    #[test]
    fn a_criterion_scores_linearly_between_worst_and_best_in_either_direction() {
        let days = Criterion { kind: CriterionKind::PaymentDays, weight: 10, best: 30.0, worst: 90.0 };
        assert_eq!(days.share(30.0), 1.0);
        assert_eq!(days.share(15.0), 1.0);
        assert_eq!(days.share(60.0), 0.5);
        assert_eq!(days.share(120.0), 0.0);
        let margin = Criterion { kind: CriterionKind::MarginPct, weight: 10, best: 30.0, worst: 0.0 };
        assert_eq!(margin.share(15.0), 0.5);
        assert_eq!(margin.share(f64::INFINITY), 1.0);
        assert_eq!(days.share(f64::INFINITY), 0.0);
        assert_eq!(days.share(f64::NAN), 0.0);
    }

    #[test]
    fn a_bad_definition_says_which_criterion_is_wrong() {
        let mut d = Definition::default();
        d.criterion_mut(CriterionKind::Loyalty).weight = 101;
        assert_eq!(d.validate(), Err(DefinitionError::Weight { kind: CriterionKind::Loyalty, weight: 101 }));
        let mut d = Definition::default();
        d.criterion_mut(CriterionKind::Growth).best = -20.0;
        assert!(matches!(d.validate(), Err(DefinitionError::Range { kind: CriterionKind::Growth, .. })));
        let mut d = Definition::default();
        d.criteria.push(d.criteria[0]);
        assert_eq!(d.validate(), Err(DefinitionError::Duplicate(CriterionKind::PaymentDays)));
        let mut d = Definition::default();
        d.criteria.iter_mut().for_each(|c| c.weight = 0);
        assert_eq!(d.validate(), Err(DefinitionError::NoWeight));
        let d = Definition { neglect_days: 0, ..Definition::default() };
        assert_eq!(d.validate(), Err(DefinitionError::NeglectDays(0)));
        let d = Definition { hourly_cost: Money(-1), ..Definition::default() };
        assert_eq!(d.validate(), Err(DefinitionError::HourlyCost(Money(-1))));
        assert!(DefinitionError::Weight { kind: CriterionKind::Loyalty, weight: 101 }.to_string().contains("loyalty"));
    }

    #[test]
    fn it_round_trips_as_json_and_refuses_unknown_fields() {
        let d = Definition::default();
        let text = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Definition>(&text).unwrap(), d);
        assert!(serde_json::from_str::<Definition>(r#"{"hourly_costs": 1}"#).is_err());
        assert_eq!(CriterionKind::parse("Payment-Days"), Some(CriterionKind::PaymentDays));
    }
}
