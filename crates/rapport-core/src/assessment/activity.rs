//! What an account did, as the assessment reads it: its billed revenue per period and the
//! monthly sums of its opportunities and service cases (the store aggregates; nothing here
//! scans single records).

use crate::money::Money;
use crate::opportunity::Outcome;
use crate::period::Period;
use crate::revenue::billed_in;
use crate::service_case::{CaseKind, Hours};

use super::window::{Quarter, Window};

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// The year.
    pub year: i32,
    /// 1-12.
    pub month: u8,
}

impl Month {
    /// The quarter it falls in.
    pub fn quarter(self) -> Quarter {
        Quarter { year: self.year, quarter: (self.month.clamp(1, 12) - 1) / 3 + 1 }
    }

    /// Parses "YYYY-MM" (as the store groups by).
    pub fn parse(text: &str) -> Option<Month> {
        match Period::parse(text).ok()? {
            Period::Month { year, month } => Some(Month { year, month }),
            Period::Quarter { .. } => None,
        }
    }
}

/// The opportunities an account opened in one month with one outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpportunityMonth {
    /// The month they were opened.
    pub month: Month,
    /// Open, won or lost (None: the CRM did not say).
    pub outcome: Option<Outcome>,
    /// How many.
    pub count: u64,
    /// Their summed amount.
    pub amount: Money,
    /// The sum of the discounts given, in hundredths of a percent, over those with one.
    pub discount_sum: i64,
    /// How many carried a discount.
    pub discounted: u64,
}

/// The service cases an account opened in one month of one kind, paid or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaseMonth {
    /// The month they were opened.
    pub month: Month,
    /// What kind of work (None: not said).
    pub kind: Option<CaseKind>,
    /// Whether the customer paid for it.
    pub billable: bool,
    /// How many.
    pub count: u64,
    /// The effort spent on them.
    pub effort: Hours,
    /// How many are closed.
    pub resolved: u64,
    /// Days from opening to closing, summed over the closed ones.
    pub resolve_days: i64,
}

/// Everything the assessment knows of one account's activity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// Billed revenue per period as finance reported it (months and quarters may mix).
    pub revenue: Vec<(Period, Money)>,
    /// Opportunities, summed per month and outcome.
    pub opportunities: Vec<OpportunityMonth>,
    /// Service cases, summed per month, kind and billing.
    pub cases: Vec<CaseMonth>,
}

/// Service effort in a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Effort {
    /// Cases opened.
    pub cases: u64,
    /// Hours spent on them.
    pub hours: Hours,
    /// Of which the customer did not pay for.
    pub unpaid_hours: Hours,
    /// Product exceptions.
    pub exceptions: u64,
    /// Service requests.
    pub service_requests: u64,
    /// Order changes.
    pub order_changes: u64,
    /// Closed cases.
    pub resolved: u64,
    /// Their days to resolve, summed.
    pub resolve_days: i64,
}

impl Effort {
    /// The mean days from opening to closing, over the closed cases.
    pub fn mean_resolve_days(&self) -> Option<f64> {
        (self.resolved > 0).then(|| self.resolve_days as f64 / self.resolved as f64)
    }
}

/// Opportunity sums in a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deals {
    /// Opened.
    pub opened: u64,
    /// Their value.
    pub value: Money,
    /// Won.
    pub won: u64,
    /// Lost.
    pub lost: u64,
    /// Discounts on the won ones, summed (hundredths of a percent).
    pub won_discount_sum: i64,
    /// Won ones that carried a discount.
    pub won_discounted: u64,
}

impl Deals {
    /// Won out of those decided (won or lost), as a percentage.
    pub fn win_rate(&self) -> Option<f64> {
        super::percent(self.won as f64, (self.won + self.lost) as f64)
    }

    /// The mean discount on won deals, as a percentage.
    pub fn average_discount(&self) -> Option<f64> {
        (self.won_discounted > 0).then(|| self.won_discount_sum as f64 / self.won_discounted as f64 / 100.0)
    }

    /// Adds another window's sums (a quadrant's total, say).
    pub fn merge(&mut self, other: &Deals) {
        self.opened += other.opened;
        self.value = Money(self.value.0.saturating_add(other.value.0));
        self.won += other.won;
        self.lost += other.lost;
        self.won_discount_sum += other.won_discount_sum;
        self.won_discounted += other.won_discounted;
    }
}

impl Activity {
    /// Billed revenue over a window: per quarter, the quarter's own entry, else the sum of its
    /// months (never both). `None` when no entry covers any quarter of it.
    pub fn billed(&self, window: &Window) -> Option<Money> {
        let mut total: Option<Money> = None;
        for q in window.quarters() {
            if let Some(m) = billed_in(q.period(), &self.revenue) {
                total = Some(Money(total.unwrap_or_default().0.saturating_add(m.0)));
            }
        }
        total
    }

    /// Whether finance reported any revenue for the account at all.
    pub fn has_revenue_history(&self) -> bool {
        !self.revenue.is_empty()
    }

    /// Service effort in a window (cases by the month they were opened).
    pub fn effort(&self, window: &Window) -> Effort {
        let mut e = Effort::default();
        for c in self.cases.iter().filter(|c| window.contains(c.month.quarter())) {
            e.cases += c.count;
            e.hours = Hours(e.hours.0 + c.effort.0);
            if !c.billable {
                e.unpaid_hours = Hours(e.unpaid_hours.0 + c.effort.0);
            }
            match c.kind {
                Some(CaseKind::Exception) => e.exceptions += c.count,
                Some(CaseKind::ServiceRequest) => e.service_requests += c.count,
                Some(CaseKind::OrderChange) => e.order_changes += c.count,
                _ => {}
            }
            e.resolved += c.resolved;
            e.resolve_days += c.resolve_days;
        }
        e
    }

    /// Opportunities opened in a window.
    pub fn deals(&self, window: &Window) -> Deals {
        let mut d = Deals::default();
        for o in self.opportunities.iter().filter(|o| window.contains(o.month.quarter())) {
            d.opened += o.count;
            d.value = Money(d.value.0.saturating_add(o.amount.0));
            match o.outcome {
                Some(Outcome::Won) => {
                    d.won += o.count;
                    d.won_discount_sum += o.discount_sum;
                    d.won_discounted += o.discounted;
                }
                Some(Outcome::Lost) => d.lost += o.count,
                _ => {}
            }
        }
        d
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn month(text: &str) -> Month {
        Month::parse(text).expect("a month")
    }

    pub(crate) fn deal(m: &str, outcome: Outcome, count: u64, amount: i64, discount_pct: i64) -> OpportunityMonth {
        OpportunityMonth {
            month: month(m),
            outcome: Some(outcome),
            count,
            amount: Money::from_units(amount),
            discount_sum: discount_pct * 100 * count as i64,
            discounted: count,
        }
    }

    pub(crate) fn case(m: &str, kind: CaseKind, count: u64, hours: i64, billable: bool) -> CaseMonth {
        CaseMonth {
            month: month(m),
            kind: Some(kind),
            billable,
            count,
            effort: Hours(hours * 100),
            resolved: count,
            resolve_days: 5 * count as i64,
        }
    }

    pub(crate) fn window(first: &str, last: &str) -> Window {
        Window {
            first: Quarter::of_period(Period::parse(first).unwrap()),
            last: Quarter::of_period(Period::parse(last).unwrap()),
        }
    }

    #[test]
    fn revenue_over_a_window_counts_a_quarter_once_whether_reported_by_quarter_or_month() {
        let p = |t: &str| Period::parse(t).unwrap();
        let a = Activity {
            revenue: vec![
                (p("2026-Q1"), Money::from_units(100)),
                (p("2026-01"), Money::from_units(40)),
                (p("2026-04"), Money::from_units(30)),
                (p("2026-05"), Money::from_units(30)),
                (p("2025-Q4"), Money::from_units(999)),
            ],
            ..Activity::default()
        };
        assert_eq!(a.billed(&window("2026-Q1", "2026-Q4")), Some(Money::from_units(160)));
        assert_eq!(a.billed(&window("2027-Q1", "2027-Q2")), None);
    }

    #[test]
    fn effort_and_deals_count_only_what_was_opened_inside_the_window() {
        let a = Activity {
            opportunities: vec![
                deal("2026-02", Outcome::Won, 2, 1000, 10),
                deal("2026-03", Outcome::Lost, 1, 500, 0),
                deal("2026-05", Outcome::Open, 1, 700, 0),
                deal("2025-12", Outcome::Won, 5, 9000, 30),
            ],
            cases: vec![
                case("2026-01", CaseKind::Exception, 2, 10, false),
                case("2026-07", CaseKind::ServiceRequest, 1, 4, true),
                case("2025-11", CaseKind::OrderChange, 9, 90, false),
            ],
            ..Activity::default()
        };
        let w = window("2026-Q1", "2026-Q4");
        let d = a.deals(&w);
        assert_eq!((d.opened, d.won, d.lost, d.value), (4, 2, 1, Money::from_units(2200)));
        assert_eq!(d.win_rate().map(|r| (r * 10.0).round()), Some(667.0));
        assert_eq!(d.average_discount(), Some(10.0));
        let e = a.effort(&w);
        assert_eq!(
            (e.cases, e.hours, e.unpaid_hours, e.exceptions, e.service_requests),
            (3, Hours(1400), Hours(1000), 2, 1)
        );
        assert_eq!(e.mean_resolve_days(), Some(5.0));
        assert_eq!(Deals::default().win_rate(), None);
    }
}
