//! Sufficient statistics: what the store keeps per (wave, account, contact role level) so that
//! every report is a merge of small integer records, never a scan of the answers.
//!
//! The store updates one [`CellStats`] in the same transaction as each answer. Analysis uses
//! each contact's **latest** answer in a wave, so when a contact answers again the store
//! calls [`CellStats::remove_answer`] with the old answer and [`CellStats::add_answer`] with
//! the new one (or [`CellStats::replace_answer`]). A rebuild with
//! [`CellStats::from_answers`] over the latest answers gives an identical value: all sums
//! are exact integers, and removing the last answer for a driver deletes its entry.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::loyalty::{LoyaltyCounts, NotCounted};
use crate::response::Response;

/// Exact sums over the answers that rate a driver `x` and have an LTR score `y`: enough for
/// the driver's mean, variance, and correlation with LTR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DriverSums {
    /// Answers with both the driver rating and LTR.
    pub n: u64,
    /// Σx.
    pub sum_x: u64,
    /// Σx².
    pub sum_xx: u64,
    /// Σxy.
    pub sum_xy: u64,
    /// Σy.
    pub sum_y: u64,
    /// Σy².
    pub sum_yy: u64,
}

impl DriverSums {
    /// Counts one (driver rating, LTR) pair.
    pub fn add(&mut self, x: u8, y: u8) {
        let (x, y) = (u64::from(x), u64::from(y));
        self.n += 1;
        self.sum_x += x;
        self.sum_xx += x * x;
        self.sum_xy += x * y;
        self.sum_y += y;
        self.sum_yy += y * y;
    }

    /// Whether [`DriverSums::remove`] of this pair would succeed.
    pub fn can_remove(&self, x: u8, y: u8) -> bool {
        let (x, y) = (u64::from(x), u64::from(y));
        self.n >= 1
            && self.sum_x >= x
            && self.sum_xx >= x * x
            && self.sum_xy >= x * y
            && self.sum_y >= y
            && self.sum_yy >= y * y
    }

    /// Un-counts a pair previously added; fails and changes nothing if impossible.
    pub fn remove(&mut self, x: u8, y: u8) -> Result<(), NotCounted> {
        if !self.can_remove(x, y) {
            return Err(NotCounted);
        }
        let (x, y) = (u64::from(x), u64::from(y));
        self.n -= 1;
        self.sum_x -= x;
        self.sum_xx -= x * x;
        self.sum_xy -= x * y;
        self.sum_y -= y;
        self.sum_yy -= y * y;
        Ok(())
    }

    /// Adds another set of sums (exact, associative, commutative).
    pub fn merge(&mut self, other: &DriverSums) {
        self.n += other.n;
        self.sum_x += other.sum_x;
        self.sum_xx += other.sum_xx;
        self.sum_xy += other.sum_xy;
        self.sum_y += other.sum_y;
        self.sum_yy += other.sum_yy;
    }

    /// Mean driver rating; `None` when n = 0.
    pub fn mean_x(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum_x as f64 / self.n as f64)
    }
}

/// The sufficient statistics of one cell: a (wave, account, role level) in the store, or any
/// merge of cells (a segment, a wave, the portfolio).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellStats {
    /// LTR counts over the answers.
    pub loyalty: LoyaltyCounts,
    /// Per driver key, sums over the answers that rate it. Never holds an entry with n = 0.
    #[serde(default)]
    pub drivers: BTreeMap<String, DriverSums>,
}

/// Yields each driver of an answer once: when a key repeats, the last rating wins (as it
/// would when collected into a map), so that add and remove always see the same pairs.
fn unique_drivers<'a, I>(drivers: I) -> impl Iterator<Item = (&'a str, u8)>
where
    I: Iterator<Item = (&'a str, u8)> + Clone,
{
    // O(k²) over a handful of drivers, and no allocation.
    let later = drivers.clone();
    drivers.enumerate().filter_map(move |(i, (key, x))| {
        let repeated = later.clone().skip(i + 1).any(|(k, _)| k == key);
        (!repeated).then_some((key, x))
    })
}

impl CellStats {
    /// No answers.
    pub fn new() -> CellStats {
        CellStats::default()
    }

    /// Whether no answer is counted (and so no driver either).
    pub fn is_empty(&self) -> bool {
        self.loyalty.is_empty() && self.drivers.is_empty()
    }

    /// Counts one answer: its LTR score and the drivers it rated (missing drivers are simply
    /// absent). A driver key given twice counts once, with its last rating.
    pub fn add_answer(&mut self, ltr: u8, drivers: &[(&str, u8)]) {
        self.add_pairs(ltr, drivers.iter().copied());
    }

    /// Un-counts an answer previously added with the same scores. Fails, leaving the stats
    /// untouched, if any part of it was never counted.
    pub fn remove_answer(&mut self, ltr: u8, drivers: &[(&str, u8)]) -> Result<(), NotCounted> {
        self.remove_pairs(ltr, drivers.iter().copied())
    }

    /// A contact answered again: un-counts their previous answer and counts the new one, or
    /// changes nothing and fails if the previous answer was never counted.
    pub fn replace_answer(&mut self, old: (u8, &[(&str, u8)]), new: (u8, &[(&str, u8)])) -> Result<(), NotCounted> {
        self.remove_answer(old.0, old.1)?;
        self.add_answer(new.0, new.1);
        Ok(())
    }

    /// Counts a stored [`Response`] (its LTR and its driver scores), without copying it.
    pub fn add_response(&mut self, response: &Response) {
        self.add_pairs(response.ltr.get(), response.scores.iter().map(|(k, &x)| (k.as_str(), x)));
    }

    /// Un-counts a [`Response`] previously added; see [`CellStats::remove_answer`].
    pub fn remove_response(&mut self, response: &Response) -> Result<(), NotCounted> {
        self.remove_pairs(response.ltr.get(), response.scores.iter().map(|(k, &x)| (k.as_str(), x)))
    }

    fn add_pairs<'a, I>(&mut self, ltr: u8, drivers: I)
    where
        I: Iterator<Item = (&'a str, u8)> + Clone,
    {
        self.loyalty.add(ltr);
        // Keys in ascending order are each there once: no need to look for repeats (a
        // rebuild counts millions of answers, whose keys come sorted).
        let ascending = drivers.clone().zip(drivers.clone().skip(1)).all(|((a, _), (b, _))| a < b);
        if ascending {
            drivers.for_each(|(key, x)| self.add_driver(key, x, ltr));
        } else {
            unique_drivers(drivers).for_each(|(key, x)| self.add_driver(key, x, ltr));
        }
    }

    fn add_driver(&mut self, key: &str, x: u8, ltr: u8) {
        // Look up by &str first: only a driver seen for the first time allocates its key.
        if let Some(sums) = self.drivers.get_mut(key) {
            sums.add(x, ltr);
        } else {
            let mut sums = DriverSums::default();
            sums.add(x, ltr);
            self.drivers.insert(key.to_owned(), sums);
        }
    }

    fn remove_pairs<'a, I>(&mut self, ltr: u8, drivers: I) -> Result<(), NotCounted>
    where
        I: Iterator<Item = (&'a str, u8)> + Clone,
    {
        // Check everything before changing anything, so a failure leaves the stats as they were.
        let possible = self.loyalty.can_remove(ltr)
            && unique_drivers(drivers.clone())
                .all(|(key, x)| self.drivers.get(key).is_some_and(|s| s.can_remove(x, ltr)));
        if !possible {
            return Err(NotCounted);
        }
        self.loyalty.remove(ltr)?;
        for (key, x) in unique_drivers(drivers) {
            let Some(sums) = self.drivers.get_mut(key) else { return Err(NotCounted) };
            sums.remove(x, ltr)?;
            if sums.n == 0 {
                self.drivers.remove(key);
            }
        }
        Ok(())
    }

    /// Adds another cell's statistics to this one (exact, associative, commutative).
    pub fn merge(&mut self, other: &CellStats) {
        self.loyalty.merge(&other.loyalty);
        for (key, theirs) in &other.drivers {
            if let Some(ours) = self.drivers.get_mut(key.as_str()) {
                ours.merge(theirs);
            } else {
                self.drivers.insert(key.clone(), *theirs);
            }
        }
    }

    /// Rebuilds statistics from scratch over answers given as (LTR, driver ratings). The
    /// store's full rebuild passes each contact's latest answer per wave and cell.
    pub fn from_answers<'a, I>(answers: I) -> CellStats
    where
        I: IntoIterator<Item = (u8, &'a [(&'a str, u8)])>,
    {
        let mut stats = CellStats::new();
        for (ltr, drivers) in answers {
            stats.add_answer(ltr, drivers);
        }
        stats
    }

    /// Rebuilds statistics from scratch over stored responses.
    pub fn from_responses<'a>(responses: impl IntoIterator<Item = &'a Response>) -> CellStats {
        let mut stats = CellStats::new();
        for response in responses {
            stats.add_response(response);
        }
        stats
    }

    /// The merge of many cells.
    pub fn merged<'a>(cells: impl IntoIterator<Item = &'a CellStats>) -> CellStats {
        let mut total = CellStats::new();
        for cell in cells {
            total.merge(cell);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use time::OffsetDateTime;

    use super::*;
    use crate::response::Ltr;

    #[test]
    fn an_answer_counts_its_ltr_and_each_driver_it_rates_paired_with_ltr() {
        let mut s = CellStats::new();
        s.add_answer(9, &[("delivery", 4), ("brand", 5)]);
        s.add_answer(6, &[("delivery", 2)]);
        assert_eq!(s.loyalty, LoyaltyCounts::from_scores([9, 6]));
        assert_eq!(
            s.drivers["delivery"],
            DriverSums { n: 2, sum_x: 6, sum_xx: 20, sum_xy: 36 + 12, sum_y: 15, sum_yy: 81 + 36 }
        );
        // brand was rated once: its sums cover only that answer, LTR 9.
        assert_eq!(s.drivers["brand"], DriverSums { n: 1, sum_x: 5, sum_xx: 25, sum_xy: 45, sum_y: 9, sum_yy: 81 });
        assert_eq!(s.drivers["delivery"].mean_x(), Some(3.0));
    }

    #[test]
    fn a_missing_driver_answer_leaves_that_driver_out_of_the_pairs() {
        let s = CellStats::from_answers([(10, &[][..]), (0, &[("support", 3)][..])]);
        assert_eq!(s.loyalty.n(), 2);
        assert_eq!(s.drivers.len(), 1);
        assert_eq!(s.drivers["support"].n, 1);
        assert_eq!(s.drivers["support"].sum_y, 0);
    }

    #[test]
    fn a_contact_answering_twice_in_a_wave_counts_only_the_latest_answer() {
        let mut s = CellStats::new();
        s.add_answer(8, &[("support", 2)]);
        s.add_answer(3, &[("support", 1), ("brand", 4)]); // first answer of a second contact
        s.replace_answer((3, &[("support", 1), ("brand", 4)]), (10, &[("brand", 5)])).unwrap();
        let latest = CellStats::from_answers([(8, &[("support", 2)][..]), (10, &[("brand", 5)][..])]);
        assert_eq!(s, latest);
    }

    #[test]
    fn removing_the_last_rating_of_a_driver_removes_its_entry() {
        let mut s = CellStats::new();
        s.add_answer(7, &[("price", 3)]);
        s.remove_answer(7, &[("price", 3)]).unwrap();
        assert_eq!(s, CellStats::new());
        assert!(s.is_empty());
    }

    #[test]
    fn removing_an_answer_never_counted_fails_and_changes_nothing() {
        let mut s = CellStats::from_answers([(9, &[("brand", 4)][..])]);
        let before = s.clone();
        assert_eq!(s.remove_answer(9, &[("brand", 4), ("price", 2)]), Err(NotCounted));
        assert_eq!(s.remove_answer(5, &[("brand", 4)]), Err(NotCounted));
        assert_eq!(s.remove_answer(9, &[("brand", 5)]), Err(NotCounted));
        assert_eq!(s.replace_answer((6, &[]), (10, &[])), Err(NotCounted));
        assert_eq!(s, before);
    }

    #[test]
    fn a_driver_given_twice_in_one_answer_counts_once_with_its_last_rating() {
        let s = CellStats::from_answers([(9, &[("brand", 1), ("brand", 4)][..])]);
        assert_eq!(s, CellStats::from_answers([(9, &[("brand", 4)][..])]));
        let mut t = s.clone();
        t.remove_answer(9, &[("brand", 1), ("brand", 4)]).unwrap();
        assert!(t.is_empty());
    }

    #[test]
    fn drivers_count_the_same_in_any_order_with_or_without_repeats() {
        let sorted = CellStats::from_answers([(9, &[("brand", 4), ("delivery", 2), ("value", 5)][..])]);
        let unsorted = CellStats::from_answers([(9, &[("value", 5), ("brand", 4), ("delivery", 2)][..])]);
        let repeated = CellStats::from_answers([(9, &[("brand", 1), ("delivery", 2), ("value", 5), ("brand", 4)][..])]);
        assert_eq!(sorted, unsorted);
        assert_eq!(sorted, repeated);
        // Sorted but with a key twice in a row is not "ascending": the last rating still wins.
        assert_eq!(CellStats::from_answers([(9, &[("brand", 1), ("brand", 4)][..])]).drivers["brand"].sum_x, 4);
    }

    #[test]
    fn responses_count_like_their_scores() {
        let response = Response {
            contact_id: "c1".into(),
            wave: "2026-Q1".into(),
            submitted_at: OffsetDateTime::UNIX_EPOCH,
            ltr: Ltr::new(9).unwrap(),
            comment: None,
            scores: BTreeMap::from([("brand".to_string(), 4), ("delivery".to_string(), 2)]),
        };
        let mut s = CellStats::from_responses([&response]);
        assert_eq!(s, CellStats::from_answers([(9, &[("delivery", 2), ("brand", 4)][..])]));
        s.remove_response(&response).unwrap();
        assert!(s.is_empty());
    }

    #[test]
    fn merging_cells_adds_their_loyalty_and_their_drivers() {
        let a = CellStats::from_answers([(9, &[("brand", 4)][..])]);
        let b = CellStats::from_answers([(2, &[("brand", 1), ("price", 3)][..])]);
        let both = CellStats::merged([&a, &b]);
        assert_eq!(both, CellStats::from_answers([(9, &[("brand", 4)][..]), (2, &[("brand", 1), ("price", 3)][..])]));
    }

    const KEYS: [&str; 3] = ["brand", "delivery", "support"];

    /// An answer: contact, LTR, and an optional rating per driver key.
    fn answer() -> impl Strategy<Value = (u8, u8, [Option<u8>; 3])> {
        (
            0u8..6,
            0u8..=10,
            [proptest::option::of(1u8..=5), proptest::option::of(1u8..=5), proptest::option::of(1u8..=5)],
        )
    }

    fn pairs(drivers: &[Option<u8>; 3]) -> Vec<(&'static str, u8)> {
        KEYS.iter().zip(drivers).filter_map(|(k, x)| x.map(|x| (*k, x))).collect()
    }

    fn stats_of(answers: &[(u8, [Option<u8>; 3])]) -> CellStats {
        let owned: Vec<(u8, Vec<(&str, u8)>)> = answers.iter().map(|(ltr, d)| (*ltr, pairs(d))).collect();
        CellStats::from_answers(owned.iter().map(|(ltr, d)| (*ltr, d.as_slice())))
    }

    proptest! {
        #[test]
        fn incremental_stats_equal_a_rebuild_over_each_contacts_latest_answer(
            stream in proptest::collection::vec(answer(), 0..40)
        ) {
            let mut incremental = CellStats::new();
            let mut latest: BTreeMap<u8, (u8, [Option<u8>; 3])> = BTreeMap::new();
            for (contact, ltr, drivers) in &stream {
                let new = pairs(drivers);
                if let Some((old_ltr, old_drivers)) = latest.get(contact) {
                    incremental.replace_answer((*old_ltr, &pairs(old_drivers)), (*ltr, &new)).unwrap();
                } else {
                    incremental.add_answer(*ltr, &new);
                }
                latest.insert(*contact, (*ltr, *drivers));
            }
            let rebuilt = stats_of(&latest.values().copied().collect::<Vec<_>>());
            prop_assert_eq!(&incremental, &rebuilt);
            prop_assert!(incremental.drivers.values().all(|s| s.n > 0));
            // Removing every latest answer leaves nothing behind, structurally.
            for (ltr, drivers) in latest.values() {
                incremental.remove_answer(*ltr, &pairs(drivers)).unwrap();
            }
            prop_assert_eq!(incremental, CellStats::new());
        }

        #[test]
        fn merge_is_associative_and_commutative_and_equals_a_rebuild(
            a in proptest::collection::vec(answer(), 0..10),
            b in proptest::collection::vec(answer(), 0..10),
            c in proptest::collection::vec(answer(), 0..10),
        ) {
            let strip = |v: &[(u8, u8, [Option<u8>; 3])]| v.iter().map(|(_, l, d)| (*l, *d)).collect::<Vec<_>>();
            let (a, b, c) = (strip(&a), strip(&b), strip(&c));
            let (sa, sb, sc) = (stats_of(&a), stats_of(&b), stats_of(&c));
            let mut ab_c = sa.clone();
            ab_c.merge(&sb);
            ab_c.merge(&sc);
            let mut bc = sb.clone();
            bc.merge(&sc);
            let mut a_bc = sa.clone();
            a_bc.merge(&bc);
            let mut c_b_a = sc.clone();
            c_b_a.merge(&sb);
            c_b_a.merge(&sa);
            let all: Vec<_> = a.iter().chain(&b).chain(&c).copied().collect();
            prop_assert_eq!(&ab_c, &a_bc);
            prop_assert_eq!(&ab_c, &c_b_a);
            prop_assert_eq!(&ab_c, &stats_of(&all));
        }
    }
}
