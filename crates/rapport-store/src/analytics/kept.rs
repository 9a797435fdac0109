//! The cells a rebuild finds stored, to compare with the cells it recomputes from the answers:
//! a rebuild writes only the cells that differ and deletes those no answer accounts for.
//!
//! Why: cells kept current by every import and answer almost always equal a rebuild (tests
//! prove they should), so rewriting every cell was nearly all wasted work: at 100,000 accounts
//! a rebuild wrote about 1M rows, and on PostgreSQL each row's two foreign keys cost a lookup
//! that locks the referenced row, 7 s of an 8.7 s insert (BENCHMARKS.md, issue 3). Comparing
//! costs one read of the stored cells, merged in key order with the recomputed ones (no
//! lookups); what is stored afterwards is the same either way.

use rapport_core::contact::RoleLevel;
use xxhash_rust::xxh3::Xxh3;

use super::{Cell, role_key};
use crate::error::StoreError;

/// A cell's key as stored: wave, account, role key.
pub(super) type Key = (i64, i64, String);

/// A stored cell: its key and the digest of what it stores ([`digest`]). Memory touched for
/// the first time costs more than reading the rows (the kernel zeroes every fresh page, about
/// 2 ms a megabyte on this machine): the cell's five loyalty sums and packed driver sums kept
/// as they are took 171 bytes a cell, 176 MB at 100,000 accounts, against 48.
struct Kept {
    wave_id: i64,
    account_id: i64,
    role: &'static str,
    digest: u128,
}

/// A cell's stored columns in one number: the 128-bit XXH3 of its loyalty sums and its packed
/// driver sums. Two cells that store different columns get the same digest with a chance of
/// about one in 10^38, far below any chance that matters.
fn digest(loyalty: &[i64; 5], drivers: &[u8]) -> u128 {
    let mut hasher = Xxh3::new();
    for sum in loyalty {
        hasher.update(&sum.to_le_bytes());
    }
    hasher.update(drivers);
    hasher.digest128()
}

impl Kept {
    fn key(&self) -> (i64, i64, &'static str) {
        (self.wave_id, self.account_id, self.role)
    }
}

/// The stored cells in key order, and how far the recomputed cells have come through them.
#[derive(Default)]
pub(super) struct KeptCells {
    cells: Vec<Kept>,
    /// Stored cells under a role key that no recomputed cell has: to delete.
    strays: Vec<Key>,
    sorted: bool,
    /// The first kept cell not yet met.
    next: usize,
    /// Kept cells that the recomputed ones went past without meeting: to delete.
    passed: Vec<Key>,
    /// The key of the last recomputed cell (they must come in key order).
    last: Option<(i64, i64, &'static str)>,
    /// Recomputed cells written so far: they differed from the kept ones or were not kept.
    pub(super) written: u64,
}

/// The role key a cell is stored under, as one of those recomputed cells have.
fn known_role(text: &str) -> Option<&'static str> {
    let keys = RoleLevel::ALL.map(|r| role_key(Some(r)));
    keys.into_iter().chain([role_key(None)]).find(|key| *key == text)
}

impl KeptCells {
    /// Room for `cells` cells.
    pub(super) fn with_capacity(cells: usize) -> KeptCells {
        KeptCells { cells: Vec::with_capacity(cells), ..KeptCells::default() }
    }

    /// Adds a stored cell, in any order.
    pub(super) fn insert(&mut self, wave_id: i64, account_id: i64, role: &str, loyalty: [i64; 5], drivers: &[u8]) {
        let Some(role) = known_role(role) else {
            self.strays.push((wave_id, account_id, role.to_string()));
            return;
        };
        self.cells.push(Kept { wave_id, account_id, role, digest: digest(&loyalty, drivers) });
    }

    /// The cells of `recomputed` to write: those not stored as they are. They must come in
    /// key order (wave, account, then role key as bytes), as the fold of answers read in
    /// (wave, account) order makes them. Each is compared in its stored form (the digest of
    /// the same columns and packed bytes a write would store); every kept cell passed without
    /// a recomputed one is set aside to delete.
    pub(super) fn changed(&mut self, recomputed: Vec<Cell>) -> Result<Vec<Cell>, StoreError> {
        if !self.sorted {
            // Already in order when read in key order: then this is one pass.
            self.cells.sort_by_key(Kept::key);
            self.sorted = true;
        }
        let mut write = Vec::new();
        for cell in recomputed {
            let key = (cell.wave_id, cell.account_id, cell.role);
            if self.last.is_some_and(|last| last >= key) {
                // A merge out of order would delete cells it had just written.
                return Err(anyhow::anyhow!("internal: recomputed cells out of key order at {key:?}").into());
            }
            self.last = Some(key);
            while let Some(kept) = self.cells.get(self.next) {
                if kept.key() >= key {
                    break;
                }
                self.passed.push((kept.wave_id, kept.account_id, kept.role.to_string()));
                self.next += 1;
            }
            let same = match self.cells.get(self.next) {
                Some(kept) if kept.key() == key => {
                    self.next += 1;
                    kept.digest == digest(&cell.loyalty, &cell.drivers)
                }
                _ => false,
            };
            if !same {
                write.push(cell);
            }
        }
        self.written += write.len() as u64;
        Ok(write)
    }

    /// The kept cells that no recomputed cell matched (wave, account, role key).
    pub(super) fn unmatched(mut self) -> Vec<Key> {
        if !self.sorted {
            self.cells.sort_by_key(Kept::key);
        }
        let rest = self.cells.drain(self.next..).map(|kept| (kept.wave_id, kept.account_id, kept.role.to_string()));
        self.passed.extend(rest);
        self.passed.extend(self.strays);
        self.passed
    }
}

#[cfg(test)]
mod tests {
    use rapport_core::stats::CellStats;

    use super::*;

    fn cell(account_id: i64, role: &'static str, ltrs: &[u8], delivery: Option<u8>) -> Cell {
        let mut stats = CellStats::new();
        for &ltr in ltrs {
            let drivers: Vec<(&str, u8)> = delivery.map(|d| ("delivery", d)).into_iter().collect();
            stats.add_answer(ltr, &drivers);
        }
        Cell::of(1, account_id, role, &stats)
    }

    fn keep(kept: &mut KeptCells, c: &Cell) {
        kept.insert(c.wave_id, c.account_id, c.role, c.loyalty, &c.drivers);
    }

    #[test]
    fn only_cells_that_differ_from_those_kept_are_written_and_the_unmatched_ones_deleted() {
        let mut kept = KeptCells::with_capacity(4);
        // Kept: account 1's executives as they are; account 2's users with another rating;
        // account 3's managers, whose answers are gone.
        keep(&mut kept, &cell(1, "executive", &[9, 10], Some(4)));
        keep(&mut kept, &cell(2, "user", &[6], Some(2)));
        keep(&mut kept, &cell(3, "manager", &[8], None));
        let recomputed =
            vec![cell(1, "executive", &[9, 10], Some(4)), cell(2, "none", &[7], None), cell(2, "user", &[6], Some(3))];
        let written: Vec<(i64, &str)> =
            kept.changed(recomputed).unwrap().iter().map(|c| (c.account_id, c.role)).collect();
        assert_eq!(written, [(2, "none"), (2, "user")], "a new cell and a changed rating");
        assert_eq!(kept.written, 2);
        assert_eq!(kept.unmatched(), [(1, 3, "manager".to_string())]);
    }

    #[test]
    fn a_cell_differing_only_in_its_loyalty_sums_or_only_in_its_driver_sums_is_written() {
        let mut kept = KeptCells::default();
        keep(&mut kept, &cell(1, "user", &[9], Some(4)));
        keep(&mut kept, &cell(2, "user", &[9], Some(4)));
        let mut loyalty = cell(1, "user", &[9], Some(4));
        loyalty.loyalty[3] += 1;
        let mut drivers = cell(2, "user", &[9], Some(4));
        *drivers.drivers.last_mut().unwrap() ^= 1;
        let written: Vec<i64> = kept.changed(vec![loyalty, drivers]).unwrap().iter().map(|c| c.account_id).collect();
        assert_eq!(written, [1, 2]);
    }

    #[test]
    fn a_kept_cell_is_matched_by_its_wave_too() {
        let mut kept = KeptCells::default();
        keep(&mut kept, &cell(1, "user", &[10], None));
        let mut later = cell(1, "user", &[10], None);
        later.wave_id = 2;
        assert_eq!(kept.changed(vec![later]).unwrap().len(), 1, "the same figures in another wave are another cell");
        assert_eq!(kept.unmatched(), [(1, 1, "user".to_string())]);
    }

    #[test]
    fn cells_kept_in_any_order_and_met_over_several_batches_are_each_matched_once() {
        let mut kept = KeptCells::default();
        // Kept in no order: accounts 3, 1, 2; account 2 has no answers left.
        for c in [cell(3, "user", &[9], None), cell(1, "user", &[9], None), cell(2, "user", &[9], None)] {
            keep(&mut kept, &c);
        }
        assert!(kept.changed(vec![cell(1, "user", &[9], None)]).unwrap().is_empty());
        assert!(kept.changed(vec![cell(3, "user", &[9], None)]).unwrap().is_empty());
        assert_eq!(kept.written, 0);
        assert_eq!(kept.unmatched(), [(1, 2, "user".to_string())]);
    }

    #[test]
    fn a_cell_kept_under_a_role_key_rapport_does_not_write_is_deleted() {
        let mut kept = KeptCells::default();
        keep(&mut kept, &cell(1, "user", &[9], None));
        kept.insert(1, 1, "Users", [1, 0, 0, 9, 81], &[]);
        assert!(kept.changed(vec![cell(1, "user", &[9], None)]).unwrap().is_empty());
        assert_eq!(kept.unmatched(), [(1, 1, "Users".to_string())]);
    }

    #[test]
    fn recomputed_cells_out_of_key_order_are_refused_rather_than_merged() {
        let mut kept = KeptCells::default();
        keep(&mut kept, &cell(1, "user", &[9], None));
        let backwards = vec![cell(2, "user", &[9], None), cell(1, "user", &[9], None)];
        let Err(err) = kept.changed(backwards) else { panic!("cells out of order were merged") };
        assert!(format!("{err:#}").contains("out of key order"), "{err:#}");
    }
}
