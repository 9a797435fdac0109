//! Profitability per account over a window, and what to do about it: keep, reduce the cost
//! to serve, re-price, or exit.
//!
//! - Revenue: billed revenue in the window's quarters (from the revenue history; an account
//!   without any history counts the billed revenue on its record).
//! - Cost of sales: the account record's cost of sales, as a share of the record's billed
//!   revenue, applied to the window's revenue (the record's figure as it stands when the
//!   record's revenue is zero or unknown).
//! - Cost to serve: every hour of service effort on cases opened in the window, at the
//!   definition's hourly cost. The unpaid part (cases the customer did not pay for: value
//!   given away) is shown on its own; paid cases' income is already in billed revenue.
//! - Margin: revenue - cost of sales - cost to serve.

use std::fmt;

use serde::Serialize;

use crate::account::Account;
use crate::money::Money;
use crate::service_case::Hours;

use super::activity::{Activity, Deals, Effort};
use super::definition::Definition;
use super::window::Window;

/// Service cost at or above this share of revenue makes a thin margin a service problem.
pub const SERVICE_HEAVY_PCT: f64 = 10.0;

/// An average discount at or above this on won deals is deep.
pub const DEEP_DISCOUNT_PCT: f64 = 10.0;

/// An account's profit and loss over the window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Profitability {
    /// Billed revenue.
    pub revenue: Money,
    /// Cost of sales.
    pub cost_of_sales: Money,
    /// Cost to serve (all service hours at the hourly cost).
    pub cost_to_serve: Money,
    /// Of which unpaid (value-added work given away).
    pub unpaid_work: Money,
    /// Service hours.
    pub service_hours: Hours,
    /// Revenue - cost of sales - cost to serve.
    pub margin: Money,
    /// Margin as % of revenue (None without revenue).
    pub margin_pct: Option<f64>,
    /// Whether revenue came from the account record (no revenue history).
    pub revenue_from_record: bool,
    /// Whether the account has a cost of sales at all.
    pub cost_of_sales_known: bool,
}

/// `hours` at `rate` per hour, to the cent.
fn cost_of(hours: Hours, rate: Money) -> Money {
    let cents = i128::from(hours.0) * i128::from(rate.0);
    Money(i64::try_from((cents + 50).div_euclid(100)).unwrap_or(i64::MAX))
}

/// The account's profitability over `window`.
pub fn profitability(account: &Account, activity: &Activity, window: &Window, def: &Definition) -> Profitability {
    let effort = activity.effort(window);
    profitability_from(account, activity.billed(window), activity.has_revenue_history(), &effort, def)
}

/// [`profitability`] from figures already summed.
pub fn profitability_from(
    account: &Account,
    billed: Option<Money>,
    has_history: bool,
    effort: &Effort,
    def: &Definition,
) -> Profitability {
    let record = account.billed_revenue;
    let revenue_from_record = !has_history;
    let revenue = if has_history { billed.unwrap_or_default() } else { record.unwrap_or_default() };
    let cost_of_sales = match (account.cost_of_sales, record) {
        (Some(cost), Some(base)) if base.0 > 0 && !revenue_from_record => {
            let scaled = i128::from(cost.0) * i128::from(revenue.0) / i128::from(base.0);
            Money(i64::try_from(scaled).unwrap_or(i64::MAX))
        }
        (Some(cost), _) => cost,
        (None, _) => Money::ZERO,
    };
    let cost_to_serve = cost_of(effort.hours, def.hourly_cost);
    let margin = Money(revenue.0.saturating_sub(cost_of_sales.0).saturating_sub(cost_to_serve.0));
    Profitability {
        revenue,
        cost_of_sales,
        cost_to_serve,
        unpaid_work: cost_of(effort.unpaid_hours, def.hourly_cost),
        service_hours: effort.hours,
        margin,
        // A share of no revenue, or of a negative one (credit notes), means nothing.
        margin_pct: if revenue.0 > 0 { super::percent(margin.as_f64(), revenue.as_f64()) } else { None },
        revenue_from_record,
        cost_of_sales_known: account.cost_of_sales.is_some(),
    }
}

/// What to do with an account, commercially.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Earns its target margin.
    Keep,
    /// A thin margin eaten by service: cut the cost to serve (or charge for it).
    ReduceCostToServe,
    /// A thin or negative margin from price: re-price.
    Reprice,
    /// Loses money with nothing to show for it: exit, or hand to a cheaper channel.
    Exit,
}

impl Verdict {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Keep => "keep",
            Verdict::ReduceCostToServe => "reduce_cost_to_serve",
            Verdict::Reprice => "re_price",
            Verdict::Exit => "exit",
        }
    }

    /// How views name it.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Keep => "Keep",
            Verdict::ReduceCostToServe => "Reduce cost to serve",
            Verdict::Reprice => "Re-price",
            Verdict::Exit => "Exit",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What else a verdict weighs: loyalty and the flow of new business.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prospects {
    /// The account is highly loyal (NPS at or above the loyalty threshold, well measured).
    pub loyal: bool,
    /// It brings a steady flow of real opportunities.
    pub steady_flow: bool,
}

/// The verdict on an account, with the reasons in words.
pub fn verdict(p: &Profitability, deals: &Deals, prospects: Prospects, def: &Definition) -> (Verdict, Vec<String>) {
    let pct = |x: f64| format!("{x:.1}%");
    let mut reasons = Vec::new();
    let Some(margin_pct) = p.margin_pct else {
        // No revenue in the window (or only credit notes): whatever it cost is a loss.
        if p.margin.0 < 0 {
            reasons.push(format!(
                "no revenue in the window ({}) but {} of cost of sales and {} of service: loses {}",
                p.revenue,
                p.cost_of_sales,
                p.cost_to_serve,
                Money(p.margin.0.saturating_neg())
            ));
            return (Verdict::Exit, reasons);
        }
        reasons.push("no revenue and no cost in the window".to_string());
        return (Verdict::Keep, reasons);
    };
    let service_share = 100.0 * p.cost_to_serve.as_f64() / p.revenue.as_f64();
    let discount = deals.average_discount().filter(|d| *d >= DEEP_DISCOUNT_PCT);
    if p.margin.0 < 0 {
        reasons.push(format!("loses {} ({})", Money(-p.margin.0).grouped(), pct(margin_pct)));
        if prospects.loyal || prospects.steady_flow {
            let why = match (prospects.loyal, prospects.steady_flow) {
                (true, true) => "loyal and brings a steady flow of business",
                (true, false) => "loyal",
                _ => "brings a steady flow of business",
            };
            reasons.push(format!("{why}: fix the price before walking away"));
            if service_share >= SERVICE_HEAVY_PCT {
                reasons.push(format!("service costs {} of revenue", pct(service_share)));
            }
            return (Verdict::Reprice, reasons);
        }
        reasons.push("loyalty is not high and there is no steady flow of new business".to_string());
        return (Verdict::Exit, reasons);
    }
    // Judged on the margin as shown (one decimal), so no one reads "15.0% is below 15.0%".
    if (margin_pct * 10.0).round() / 10.0 < def.target_margin_pct {
        reasons.push(format!("margin {} is below the {} target", pct(margin_pct), pct(def.target_margin_pct)));
        if service_share >= SERVICE_HEAVY_PCT {
            reasons.push(format!(
                "service costs {} of revenue ({} of it unpaid)",
                pct(service_share),
                p.unpaid_work.grouped()
            ));
            return (Verdict::ReduceCostToServe, reasons);
        }
        if let Some(d) = discount {
            reasons.push(format!("average discount on won deals {}", pct(d)));
        }
        return (Verdict::Reprice, reasons);
    }
    reasons.push(format!("margin {} meets the {} target", pct(margin_pct), pct(def.target_margin_pct)));
    (Verdict::Keep, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::activity::tests::{case, deal};
    use crate::opportunity::Outcome;
    use crate::period::Period;
    use crate::service_case::CaseKind;

    fn account(billed: i64, cost: Option<i64>) -> Account {
        Account {
            account_id: "A-1".into(),
            name: "Acme".into(),
            billed_revenue: Some(Money::from_units(billed)),
            cost_of_sales: cost.map(Money::from_units),
            ..Account::default()
        }
    }

    fn window() -> Window {
        crate::assessment::activity::tests::window("2026-Q1", "2026-Q4")
    }

    fn activity(quarterly: i64, hours: i64, unpaid_hours: i64) -> Activity {
        Activity {
            revenue: (1..=4)
                .map(|q| (Period::Quarter { year: 2026, quarter: q }, Money::from_units(quarterly)))
                .collect(),
            cases: vec![
                case("2026-03", CaseKind::ServiceRequest, 1, hours - unpaid_hours, true),
                case("2026-06", CaseKind::Exception, 1, unpaid_hours, false),
            ],
            ..Activity::default()
        }
    }

    #[test]
    fn margin_is_revenue_less_cost_of_sales_less_cost_to_serve() {
        // 400k billed in the window; the record says 60% cost of sales; 100 h at 85 = 8,500.
        let p = profitability(
            &account(400_000, Some(240_000)),
            &activity(100_000, 100, 40),
            &window(),
            &Definition::default(),
        );
        assert_eq!(p.revenue, Money::from_units(400_000));
        assert_eq!(p.cost_of_sales, Money::from_units(240_000));
        assert_eq!(p.cost_to_serve, Money::from_units(8_500));
        assert_eq!(p.unpaid_work, Money::from_units(3_400));
        assert_eq!(p.margin, Money::from_units(151_500));
        assert_eq!(p.margin_pct.map(|m| (m * 100.0).round() / 100.0), Some(37.88));
        assert!(!p.revenue_from_record && p.cost_of_sales_known);
    }

    #[test]
    fn cost_of_sales_follows_the_window_revenue_as_a_share_of_the_record() {
        // The record: 200k billed, 150k cost (75%). The window billed 100k: 75k cost.
        let p =
            profitability(&account(200_000, Some(150_000)), &activity(25_000, 0, 0), &window(), &Definition::default());
        assert_eq!(p.cost_of_sales, Money::from_units(75_000));
        // Without a revenue history the record's own figures stand.
        let p =
            profitability(&account(200_000, Some(150_000)), &Activity::default(), &window(), &Definition::default());
        assert_eq!(
            (p.revenue, p.cost_of_sales, p.revenue_from_record),
            (Money::from_units(200_000), Money::from_units(150_000), true)
        );
        let p = profitability(&account(200_000, None), &Activity::default(), &window(), &Definition::default());
        assert_eq!((p.cost_of_sales, p.cost_of_sales_known), (Money::ZERO, false));
    }

    #[test]
    fn the_hourly_cost_is_the_definitions() {
        let def = Definition { hourly_cost: Money(12_345), ..Definition::default() };
        let p = profitability(&account(1, None), &activity(0, 3, 0), &window(), &def);
        assert_eq!(p.cost_to_serve, Money(37_035));
        assert_eq!(cost_of(Hours(25), Money(1)), Money(0));
        assert_eq!(cost_of(Hours(50), Money(1)), Money(1));
    }

    fn judged(billed: i64, cost: i64, hours: i64, deals: Deals, prospects: Prospects) -> (Verdict, Vec<String>) {
        let def = Definition::default();
        let p = profitability(&account(billed * 4, Some(cost * 4)), &activity(billed, hours, hours), &window(), &def);
        verdict(&p, &deals, prospects, &def)
    }

    #[test]
    fn keepers_earn_the_target_and_the_rest_are_told_why_not() {
        let none = Deals::default();
        let (v, why) = judged(100_000, 60_000, 10, none, Prospects::default());
        assert_eq!(v, Verdict::Keep);
        assert!(why[0].contains("meets the 15.0% target"), "{why:?}");

        // 10% margin before service; 500 h x 85 = 42.5k of 400k: service eats it.
        let (v, why) = judged(100_000, 85_000, 500, none, Prospects::default());
        assert_eq!(v, Verdict::ReduceCostToServe, "{why:?}");

        // Thin margin, little service, deep discounts: re-price.
        let mut discounted = Deals::default();
        discounted.merge(
            &Activity { opportunities: vec![deal("2026-02", Outcome::Won, 2, 10, 20)], ..Activity::default() }
                .deals(&window()),
        );
        let (v, why) = judged(100_000, 90_000, 1, discounted, Prospects::default());
        assert_eq!(v, Verdict::Reprice);
        assert!(why.iter().any(|r| r.contains("average discount on won deals 20.0%")), "{why:?}");

        // Losing money: exit, unless the account is loyal or keeps buying.
        let (v, why) = judged(100_000, 110_000, 1, none, Prospects::default());
        assert_eq!(v, Verdict::Exit);
        assert!(why[0].starts_with("loses $40,085 (-10.0%)"), "{why:?}");
        let (v, _) = judged(100_000, 110_000, 1, none, Prospects { loyal: true, steady_flow: false });
        assert_eq!(v, Verdict::Reprice);

        // Service with no revenue at all.
        let p = profitability_from(
            &account(0, None),
            Some(Money::ZERO),
            true,
            &Effort { hours: Hours(1000), ..Effort::default() },
            &Definition::default(),
        );
        assert_eq!(verdict(&p, &none, Prospects::default(), &Definition::default()).0, Verdict::Exit);

        // Cost of sales with no revenue on record is a loss too, not "keep".
        let p = profitability_from(&account(0, Some(5_000)), None, false, &Effort::default(), &Definition::default());
        let (v, why) = verdict(&p, &none, Prospects::default(), &Definition::default());
        assert_eq!(v, Verdict::Exit, "{why:?}");
        assert!(why[0].contains("5000.00 of cost of sales") && why[0].ends_with("loses 5000.00"), "{why:?}");
        // Only credit notes in the window: no margin share, and a loss.
        let p = profitability_from(
            &account(0, None),
            Some(Money::from_units(-200)),
            true,
            &Effort::default(),
            &Definition::default(),
        );
        assert_eq!(p.margin_pct, None);
        assert_eq!(verdict(&p, &none, Prospects::default(), &Definition::default()).0, Verdict::Exit);
        // Nothing in, nothing out: nothing to act on.
        let p =
            profitability_from(&account(0, None), Some(Money::ZERO), true, &Effort::default(), &Definition::default());
        assert_eq!(verdict(&p, &none, Prospects::default(), &Definition::default()).0, Verdict::Keep);
    }
}
