//! The account record and its revenue history.

use rand::Rng;
use rapport_core::account::{Account, Attributes, RelationshipStyle};
use rapport_core::money::Money;
use rapport_core::period::Period;
use rapport_core::revenue::RevenueEntry;

use crate::Story;
use crate::names::{REGIONS, VERTICALS};
use crate::plan::Plan;
use crate::random::{DemoRng, normal, pick};
use crate::user::REGIONAL_VPS;

/// The quarters of revenue history: 2025-Q1 to 2026-Q4.
pub(crate) const QUARTERS: usize = 8;

/// Quarterly revenue, 2025-Q1 to 2026-Q4, billed and booked. The 2026 quarters average
/// `plan.annual / 4`, and the trend runs through them.
pub(crate) fn revenue(rng: &mut DemoRng, plan: &Plan, account_id: &str) -> Vec<RevenueEntry> {
    let quarterly = plan.annual / 4.0;
    // Centre the trend on 2026 so the current year keeps the planned size.
    let centre: f64 = (4..QUARTERS).map(|q| plan.growth.powf(q as f64 - 5.5)).sum::<f64>() / 4.0;
    (0..QUARTERS)
        .map(|q| {
            let level = plan.growth.powf(q as f64 - 5.5) / centre;
            let billed = (quarterly * level * (1.0 + 0.07 * normal(rng))).max(0.0);
            let booked = billed * rng.gen_range(0.9..1.25);
            RevenueEntry {
                account_id: account_id.to_string(),
                period: Period::Quarter { year: 2025 + (q / 4) as i32, quarter: (q % 4) as u8 + 1 },
                billed: Some(Money::from_units(billed.round() as i64)),
                booked: Some(Money::from_units(booked.round() as i64)),
            }
        })
        .collect()
}

/// Everything about the account record that is not drawn elsewhere.
pub(crate) struct AccountParts {
    pub account_id: String,
    pub name: String,
    pub vertical: usize,
    pub owner_email: String,
    pub billed: Money,
    pub potential: Money,
}

/// The account record.
pub(crate) fn account(rng: &mut DemoRng, plan: &Plan, parts: AccountParts) -> Account {
    let billed = parts.billed;
    let cost_ratio =
        if plan.story == Some(Story::SqueakyWheel) { rng.gen_range(0.8..0.95) } else { rng.gen_range(0.55..0.85) };
    let payment_days = if plan.story == Some(Story::SqueakyWheel) {
        rng.gen_range(92..=125)
    } else {
        (pick(rng, &[15, 30, 30, 30, 30, 45, 45, 45, 60, 60, 75, 90]) + rng.gen_range(-3..=3)).clamp(15, 90)
    };
    let mut attributes = Attributes::new();
    let tier = match plan.annual {
        a if a >= 1_000_000.0 => "A",
        a if a >= 150_000.0 => "B",
        _ => "C",
    };
    attributes.insert("tier".to_string(), tier.to_string());
    let sponsored = matches!(
        plan.story,
        Some(Story::Sours | Story::SingleThreadedKeyAccount | Story::ExecutivesDetract | Story::Grows)
    ) && plan.index < crate::plan::FIXED_ACCOUNTS
        || plan.strategic && plan.index < 300;
    Account {
        account_id: parts.account_id,
        name: parts.name,
        vertical: Some(VERTICALS[parts.vertical].to_string()),
        region: Some(REGIONS[plan.region].to_string()),
        owner_email: Some(parts.owner_email),
        billed_revenue: Some(billed),
        potential_revenue: Some(parts.potential),
        cost_of_sales: Some(Money::from_units((billed.as_f64() * cost_ratio).round() as i64)),
        payment_days: Some(payment_days),
        relationship_style: plan
            .transactional
            .map(|t| if t { RelationshipStyle::Transaction } else { RelationshipStyle::Relationship }),
        strategic: Some(plan.strategic),
        sponsor_email: sponsored.then(|| REGIONAL_VPS[plan.region].0.to_string()),
        attributes,
    }
}
