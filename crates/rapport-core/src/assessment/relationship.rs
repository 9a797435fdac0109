//! Relationship type: "Big R" (company to company: many people at several levels engaged)
//! or "little r" (one person's trust in one rep, lost when that person moves); and how the
//! account buys, Relationship or Transaction, as stated on the account or inferred from its
//! orders, with the focus each calls for.
//!
//! - Big R: at least [`BIG_R_PEOPLE`] people who answered in one of the recent waves, and two
//!   or more role levels that answered across them. Otherwise little r.
//! - Inferred Transaction buyer: won deals carry an average discount of
//!   [`TRANSACTION_DISCOUNT_PCT`] or more, or the account places many small orders (six or
//!   more opportunities in the window, averaging under 5% of its revenue). Inferred
//!   Relationship buyer: at least two opportunities and neither sign. Fewer: unknown.

use serde::Serialize;

use crate::account::RelationshipStyle;
use crate::money::Money;

use super::activity::Deals;

/// People engaged for a Big R relationship.
pub const BIG_R_PEOPLE: u64 = 3;

/// An average discount this deep marks a Transaction buyer.
pub const TRANSACTION_DISCOUNT_PCT: f64 = 10.0;

/// Big R or little r.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Breadth {
    /// Many people at several levels.
    #[serde(rename = "Big R")]
    BigR,
    /// One person, or one level.
    #[serde(rename = "little r")]
    LittleR,
}

impl Breadth {
    /// How views name it.
    pub fn label(self) -> &'static str {
        match self {
            Breadth::BigR => "Big R",
            Breadth::LittleR => "little r",
        }
    }

    /// What to do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Breadth::BigR => "Company-to-company: keep every level engaged and the switching costs real.",
            Breadth::LittleR => {
                "One person's trust: widen it to more people and levels before that person moves (a third change jobs each year)."
            }
        }
    }
}

/// The breadth of an account's relationship: the most people who answered in one recent wave,
/// and the role levels that answered across the recent waves.
pub fn breadth(people: u64, levels: u64) -> Breadth {
    if people >= BIG_R_PEOPLE && levels >= 2 { Breadth::BigR } else { Breadth::LittleR }
}

/// Where a buying style came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StyleSource {
    /// Stated on the account.
    Stated,
    /// Inferred from its orders.
    Inferred,
}

/// How an account buys, and how we know.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuyingStyle {
    /// Relationship or Transaction.
    pub style: RelationshipStyle,
    /// Stated or inferred.
    pub source: StyleSource,
    /// Why, when inferred.
    pub why: Option<String>,
}

/// The account's buying style: as stated, else inferred from the window's opportunities.
pub fn buying_style(stated: Option<RelationshipStyle>, deals: &Deals, revenue: Money) -> Option<BuyingStyle> {
    if let Some(style) = stated {
        return Some(BuyingStyle { style, source: StyleSource::Stated, why: None });
    }
    let inferred = |style, why: String| Some(BuyingStyle { style, source: StyleSource::Inferred, why: Some(why) });
    if let Some(d) = deals.average_discount().filter(|d| *d >= TRANSACTION_DISCOUNT_PCT) {
        return inferred(RelationshipStyle::Transaction, format!("buys at an average discount of {d:.1}%"));
    }
    if deals.opened >= 6 && revenue.0 > 0 {
        let average = deals.value.as_f64() / deals.opened as f64;
        if average < revenue.as_f64() * 0.05 {
            return inferred(
                RelationshipStyle::Transaction,
                format!("{} small orders averaging {:.0}", deals.opened, average),
            );
        }
    }
    if deals.opened >= 2 {
        return inferred(
            RelationshipStyle::Relationship,
            format!("{} opportunities without deep discounts or many small orders", deals.opened),
        );
    }
    None
}

/// What each buying style cares about: the focus to give it.
pub fn focus(style: RelationshipStyle) -> &'static str {
    match style {
        RelationshipStyle::Relationship => "Support, and information about our direction and new capabilities.",
        RelationshipStyle::Transaction => "Price, conformance to specification, delivery and availability.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deals(opened: u64, value: i64, discount_pct: Option<i64>) -> Deals {
        Deals {
            opened,
            value: Money::from_units(value),
            won: opened,
            won_discount_sum: discount_pct.map_or(0, |d| d * 100 * opened as i64),
            won_discounted: if discount_pct.is_some() { opened } else { 0 },
            ..Deals::default()
        }
    }

    #[test]
    fn big_r_takes_three_people_at_two_levels() {
        assert_eq!(breadth(3, 2), Breadth::BigR);
        assert_eq!(breadth(5, 1), Breadth::LittleR);
        assert_eq!(breadth(2, 2), Breadth::LittleR);
        assert_eq!(breadth(0, 0), Breadth::LittleR);
    }

    #[test]
    fn a_stated_style_wins_over_any_inference() {
        let s = buying_style(Some(RelationshipStyle::Relationship), &deals(9, 10, Some(30)), Money::from_units(1000))
            .unwrap();
        assert_eq!((s.style, s.source), (RelationshipStyle::Relationship, StyleSource::Stated));
    }

    #[test]
    fn deep_discounts_or_many_small_orders_mark_a_transaction_buyer() {
        let revenue = Money::from_units(100_000);
        let s = buying_style(None, &deals(2, 50_000, Some(12)), revenue).unwrap();
        assert_eq!(
            (s.style, s.why.as_deref()),
            (RelationshipStyle::Transaction, Some("buys at an average discount of 12.0%"))
        );
        let s = buying_style(None, &deals(8, 20_000, Some(2)), revenue).unwrap();
        assert_eq!(
            (s.style, s.why.as_deref()),
            (RelationshipStyle::Transaction, Some("8 small orders averaging 2500"))
        );
        let s = buying_style(None, &deals(3, 60_000, Some(4)), revenue).unwrap();
        assert_eq!(s.style, RelationshipStyle::Relationship);
        assert_eq!(buying_style(None, &deals(1, 60_000, None), revenue), None);
        assert!(focus(RelationshipStyle::Transaction).starts_with("Price"));
    }
}
