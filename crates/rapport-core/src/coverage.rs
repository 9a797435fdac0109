//! How well the portfolio is heard: response rates, revenue coverage, and relationship breadth.
//!
//! # Conventions
//! - **Response rate** = answered / invited, `None` when nobody was invited. Answers that came
//!   without an invitation (an open link) still count, so the rate can exceed 1; it is not
//!   capped, so that the anomaly stays visible.
//! - **Revenue coverage** = billed revenue of the accounts with at least one answer / billed
//!   revenue of all accounts in the group, `None` when the group's billed revenue is ≤ 0. The
//!   target is [`REVENUE_COVERAGE_TARGET`] (80%) per quarter.
//! - **Breadth**: an account is *single-threaded* ("little r") when at most one person, or
//!   people at at most one role level, answered. Respondents without a role level count as
//!   respondents but add no level.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::contact::RoleLevel;
use crate::loyalty::LoyaltyCounts;
use crate::money::Money;

/// The share of billed revenue whose accounts should answer each quarter.
pub const REVENUE_COVERAGE_TARGET: f64 = 0.80;

/// One account (typically in one wave) for a coverage fold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageRow<K> {
    /// The group the row falls in: a wave, an account, an owner, a segment, or `()` for all.
    pub group: K,
    /// Contacts invited.
    pub invited: u64,
    /// Contacts who answered.
    pub answered: u64,
    /// The account's billed revenue (missing = 0).
    pub billed: Money,
    /// Whether the account has at least one answer.
    pub account_answered: bool,
}

/// Coverage of one group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Rows (accounts) in the group.
    pub accounts: u64,
    /// Accounts with at least one answer.
    pub accounts_answered: u64,
    /// Contacts invited.
    pub invited: u64,
    /// Contacts who answered.
    pub answered: u64,
    /// Billed revenue of all the group's accounts.
    pub billed: Money,
    /// Billed revenue of the accounts with at least one answer.
    pub billed_answered: Money,
}

impl Coverage {
    /// Adds one row.
    pub fn add<K>(&mut self, row: &CoverageRow<K>) {
        self.accounts += 1;
        self.invited += row.invited;
        self.answered += row.answered;
        self.billed = self.billed + row.billed;
        if row.account_answered {
            self.accounts_answered += 1;
            self.billed_answered = self.billed_answered + row.billed;
        }
    }

    /// Adds another group's coverage (exact, associative, commutative).
    pub fn merge(&mut self, other: &Coverage) {
        self.accounts += other.accounts;
        self.accounts_answered += other.accounts_answered;
        self.invited += other.invited;
        self.answered += other.answered;
        self.billed = self.billed + other.billed;
        self.billed_answered = self.billed_answered + other.billed_answered;
    }

    /// Answered / invited; `None` when nobody was invited.
    pub fn response_rate(&self) -> Option<f64> {
        (self.invited > 0).then(|| self.answered as f64 / self.invited as f64)
    }

    /// Share of billed revenue whose accounts answered, 0-1; `None` when billed revenue ≤ 0.
    pub fn revenue_coverage(&self) -> Option<f64> {
        (self.billed.cents() > 0).then(|| self.billed_answered.cents() as f64 / self.billed.cents() as f64)
    }

    /// Whether revenue coverage reaches [`REVENUE_COVERAGE_TARGET`]; `None` without revenue.
    /// Compared exactly in cents: answered × 100 ≥ total × 80.
    pub fn meets_target(&self) -> Option<bool> {
        (self.billed.cents() > 0)
            .then(|| i128::from(self.billed_answered.cents()) * 100 >= i128::from(self.billed.cents()) * 80)
    }
}

/// Folds rows into coverage per group, sorted by group key.
pub fn coverage_by<K: Ord>(rows: impl IntoIterator<Item = CoverageRow<K>>) -> BTreeMap<K, Coverage> {
    let mut groups: BTreeMap<K, Coverage> = BTreeMap::new();
    for row in rows {
        let mut coverage = Coverage::default();
        coverage.add(&row);
        groups.entry(row.group).or_default().merge(&coverage);
    }
    groups
}

/// How broad an account's relationship is in a wave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breadth {
    /// Distinct people who answered.
    pub respondents: u64,
    /// Distinct role levels among them.
    pub role_levels: u64,
    /// One person's trust, or one level only: lost when that person moves.
    pub single_threaded: bool,
}

impl Breadth {
    fn new(respondents: u64, role_levels: u64) -> Breadth {
        Breadth { respondents, role_levels, single_threaded: respondents <= 1 || role_levels <= 1 }
    }
}

/// Breadth from respondents given as (contact id, role level); a contact listed twice (two
/// answers) counts once, and at each level it is listed with.
pub fn relationship_breadth<'a>(respondents: impl IntoIterator<Item = (&'a str, Option<RoleLevel>)>) -> Breadth {
    let mut people = BTreeSet::new();
    let mut levels = BTreeSet::new();
    for (contact, role) in respondents {
        people.insert(contact);
        levels.extend(role);
    }
    Breadth::new(people.len() as u64, levels.len() as u64)
}

/// Breadth from an account's cells in one wave, as (role level, loyalty counts): no scan of
/// answers. Each contact counts once per wave (its latest answer), so the respondents are
/// the sum of the cells' n.
pub fn breadth_from_cells<'a>(cells: impl IntoIterator<Item = (Option<RoleLevel>, &'a LoyaltyCounts)>) -> Breadth {
    let mut respondents = 0;
    let mut levels = BTreeSet::new();
    for (role, counts) in cells {
        respondents += counts.n();
        if counts.n() > 0 {
            levels.extend(role);
        }
    }
    Breadth::new(respondents, levels.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(group: &'static str, invited: u64, answered: u64, billed: i64) -> CoverageRow<&'static str> {
        CoverageRow { group, invited, answered, billed: Money::from_units(billed), account_answered: answered > 0 }
    }

    #[test]
    fn coverage_per_group_counts_invitations_answers_and_revenue_heard() {
        let by_owner = coverage_by([
            row("ana", 4, 2, 600),
            row("ana", 3, 0, 400),
            row("bo", 2, 2, 90),
            row("bo", 0, 0, 10),
            row("cy", 0, 0, 0),
        ]);
        let ana = by_owner["ana"];
        assert_eq!((ana.accounts, ana.accounts_answered, ana.invited, ana.answered), (2, 1, 7, 2));
        assert_eq!(ana.response_rate(), Some(2.0 / 7.0));
        assert_eq!(ana.revenue_coverage(), Some(0.6));
        assert_eq!(ana.meets_target(), Some(false));
        let bo = by_owner["bo"];
        assert_eq!(bo.revenue_coverage(), Some(0.9));
        assert_eq!(bo.meets_target(), Some(true));
        let cy = by_owner["cy"];
        assert_eq!((cy.response_rate(), cy.revenue_coverage(), cy.meets_target()), (None, None, None));
    }

    #[test]
    fn revenue_coverage_of_exactly_80_percent_meets_the_target() {
        let all = coverage_by([
            CoverageRow { group: (), invited: 1, answered: 1, billed: Money::from_units(80), account_answered: true },
            CoverageRow { group: (), invited: 1, answered: 0, billed: Money::from_units(20), account_answered: false },
        ]);
        assert_eq!(all[&()].meets_target(), Some(true));
        assert_eq!(REVENUE_COVERAGE_TARGET, 0.8);
        let under = coverage_by([
            CoverageRow { group: (), invited: 1, answered: 1, billed: Money(7999), account_answered: true },
            CoverageRow { group: (), invited: 1, answered: 0, billed: Money(2001), account_answered: false },
        ]);
        assert_eq!(under[&()].meets_target(), Some(false));
    }

    #[test]
    fn answers_without_invitation_can_push_the_response_rate_above_one() {
        let c = coverage_by([row("w", 1, 3, 10)]);
        assert_eq!(c["w"].response_rate(), Some(3.0));
    }

    #[test]
    fn merging_coverage_equals_folding_all_rows() {
        let rows = [row("x", 4, 2, 600), row("x", 3, 0, 400), row("x", 2, 1, 5)];
        let mut merged = coverage_by(rows[..2].iter().cloned())["x"];
        merged.merge(&coverage_by(rows[2..].iter().cloned())["x"]);
        assert_eq!(merged, coverage_by(rows)["x"]);
    }

    #[test]
    fn one_respondent_or_one_role_level_is_a_single_threaded_relationship() {
        let one = relationship_breadth([("c1", Some(RoleLevel::Executive)), ("c1", Some(RoleLevel::Executive))]);
        assert_eq!(one, Breadth { respondents: 1, role_levels: 1, single_threaded: true });
        let same_level = relationship_breadth([("c1", Some(RoleLevel::User)), ("c2", Some(RoleLevel::User))]);
        assert_eq!(same_level, Breadth { respondents: 2, role_levels: 1, single_threaded: true });
        let no_levels = relationship_breadth([("c1", None), ("c2", None), ("c3", None)]);
        assert_eq!(no_levels, Breadth { respondents: 3, role_levels: 0, single_threaded: true });
        let broad =
            relationship_breadth([("c1", Some(RoleLevel::Executive)), ("c2", Some(RoleLevel::User)), ("c3", None)]);
        assert_eq!(broad, Breadth { respondents: 3, role_levels: 2, single_threaded: false });
        assert!(relationship_breadth([]).single_threaded);
    }

    #[test]
    fn breadth_from_cells_counts_respondents_and_levels_with_answers() {
        let exec = LoyaltyCounts::from_scores([9]);
        let users = LoyaltyCounts::from_scores([6, 10]);
        let empty = LoyaltyCounts::EMPTY;
        let b = breadth_from_cells([
            (Some(RoleLevel::Executive), &exec),
            (Some(RoleLevel::User), &users),
            (Some(RoleLevel::Manager), &empty),
            (None, &exec),
        ]);
        assert_eq!(b, Breadth { respondents: 4, role_levels: 2, single_threaded: false });
        assert!(breadth_from_cells([(Some(RoleLevel::User), &users)]).single_threaded);
    }
}
