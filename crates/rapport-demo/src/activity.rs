//! Opportunities and service cases: the flow of new business, and the effort each
//! account takes to serve.

use rand::Rng;
use rapport_core::money::Money;
use rapport_core::opportunity::{Opportunity, Outcome, Percent};
use rapport_core::service_case::{CaseKind, Hours, ServiceCase};
use time::macros::date;
use time::{Date, Duration};

use crate::Story;
use crate::plan::Plan;
use crate::random::{DemoRng, normal, pick, weighted};
use crate::wave::TODAY;

/// Opportunity ids are `OPP-` and this many slots per account.
pub(crate) const OPPORTUNITY_SLOTS: usize = 16;

/// Case ids are `CASE-` and this many slots per account.
pub(crate) const CASE_SLOTS: usize = 100;

/// The first day of the history.
const HISTORY_STARTS: Date = date!(2025 - 01 - 01);

fn day_between(rng: &mut DemoRng, from: Date, to: Date) -> Date {
    from + Duration::days(rng.gen_range(0..=(to - from).whole_days().max(0)))
}

/// The account's opportunities over 2025-2026.
pub(crate) fn opportunities(rng: &mut DemoRng, plan: &Plan, account_id: &str) -> Vec<Opportunity> {
    let count = (1.5 + 0.8 * (plan.annual / 50_000.0).ln() + normal(rng)).round().clamp(0.0, 12.0) as usize;
    let count = match plan.story {
        Some(Story::Grows) => count.max(5),
        Some(Story::Sours | Story::SingleThreadedKeyAccount | Story::ExecutivesDetract) => count.max(3),
        _ => count,
    };
    let transactional = plan.transactional == Some(true);
    (0..count.min(OPPORTUNITY_SLOTS))
        .map(|j| {
            // The neglected account has had nothing new since the spring.
            let last_open =
                if plan.story == Some(Story::Neglected) { date!(2026 - 04 - 30) } else { TODAY - Duration::days(3) };
            let opened_on = day_between(rng, HISTORY_STARTS, last_open);
            let closes = opened_on + Duration::days(rng.gen_range(14..150));
            let win_rate = match plan.story {
                Some(Story::Grows) => 0.8,
                Some(Story::Sours) if opened_on.year() == 2026 => 0.2,
                _ if transactional => 0.4,
                _ => 0.55,
            };
            let (outcome, closed_on, stage) = if closes > TODAY {
                (Outcome::Open, None, pick(rng, &["Qualification", "Proposal", "Negotiation"]))
            } else if rng.gen_bool(win_rate) {
                (Outcome::Won, Some(closes), "Closed Won")
            } else {
                (Outcome::Lost, Some(closes), "Closed Lost")
            };
            let max_discount = if transactional { 3000 } else { 1500 };
            // Discounts are quoted to the half percent.
            let discount = rng.gen_range(0..=max_discount / 50) * 50;
            let amount = (plan.annual * rng.gen_range(0.03..0.35) / 100.0).round().max(5.0) as i64 * 100;
            Opportunity {
                opportunity_id: format!("OPP-{:07}", plan.index * OPPORTUNITY_SLOTS + j + 1),
                account_id: account_id.to_string(),
                amount: Some(Money::from_units(amount)),
                stage: Some(stage.to_string()),
                outcome: Some(outcome),
                discount: Some(Percent(discount)),
                opened_on: Some(opened_on),
                closed_on,
            }
        })
        .collect()
}

/// The account's service cases over 2025-2026.
pub(crate) fn service_cases(rng: &mut DemoRng, plan: &Plan, account_id: &str) -> Vec<ServiceCase> {
    let squeaky = plan.story == Some(Story::SqueakyWheel);
    let count = if squeaky {
        rng.gen_range(45..=80)
    } else {
        (0.5 + 1.2 * (plan.annual / 20_000.0).ln() + 1.5 * normal(rng)).round().clamp(0.0, 20.0) as usize
    };
    const KINDS: [CaseKind; 5] =
        [CaseKind::Exception, CaseKind::ServiceRequest, CaseKind::OrderChange, CaseKind::Complaint, CaseKind::Other];
    let kind_weights: [u32; 5] = if squeaky { [35, 12, 33, 15, 5] } else { [12, 42, 20, 8, 18] };
    (0..count.min(CASE_SLOTS))
        .map(|j| {
            let kind = KINDS[weighted(rng, &kind_weights)];
            let opened_on = day_between(rng, HISTORY_STARTS, TODAY);
            let days_open = (4f64.ln() + normal(rng)).exp().min(90.0).round() as i64;
            let closes = opened_on + Duration::days(days_open);
            let closed_on = (closes < TODAY).then_some(closes);
            let typical_hours: f64 = if squeaky { 6.0 } else { 2.5 };
            let hours = (typical_hours.ln() + 0.8 * normal(rng)).exp().clamp(0.25, 60.0);
            let billable_rate = match (squeaky, kind) {
                (true, _) => 0.05,
                (false, CaseKind::ServiceRequest) => 0.5,
                (false, CaseKind::Complaint) => 0.0,
                (false, _) => 0.25,
            };
            ServiceCase {
                case_id: format!("CASE-{:08}", plan.index * CASE_SLOTS + j + 1),
                account_id: account_id.to_string(),
                kind: Some(kind),
                opened_on: Some(opened_on),
                closed_on,
                // Effort is logged in quarter hours.
                effort: Some(Hours((hours * 4.0).round().max(1.0) as i64 * 25)),
                billable: Some(rng.gen_bool(billable_rate)),
            }
        })
        .collect()
}
