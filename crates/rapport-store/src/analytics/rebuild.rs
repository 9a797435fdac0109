//! `rapport analytics rebuild`: every cell recomputed from every answer, and the stored cells
//! that differ corrected ([`super::kept`]), in one transaction.
//!
//! Both backends split the accounts into parts by id and read and fold each part's answers
//! on a connection and a thread of its own, two at a time, while the transaction writes the
//! cells that differ as the parts find them: reading 2.5M answers out of a row store and
//! folding them is nearly all of a rebuild, and one reader keeps one of the two cores busy
//! (BENCHMARKS.md, issue 3). Each part folds its answers with the general path's fold
//! ([`super::Folder`]), so the cells are the same.

use super::kept::{KeptCells, Key};
use super::{Answer, Cell, Folder};
use crate::error::StoreError;

mod postgres;
mod sqlite;

pub(super) use postgres::on_postgres;
pub(super) use sqlite::in_place;

/// The accounts one part of a rebuild covers: ids from the first to the second, inclusive.
type Accounts = (i64, i64);

/// `parts` ranges of account ids covering the smallest to the largest of `ids` (and every id
/// beyond them, so no answer is left out), each of about as many ids; one range of every id
/// when there are no accounts. Ids are handed out in turn, so each part holds about as many
/// answers as the others.
fn split(ids: (Option<i64>, Option<i64>), parts: usize) -> Vec<Accounts> {
    let (Some(first), Some(last)) = ids else { return vec![(i64::MIN, i64::MAX)] };
    let span = i128::from(last) - i128::from(first) + 1;
    let parts = i128::try_from(parts.max(1)).unwrap_or(1).min(span.max(1));
    let mut ranges: Vec<Accounts> = (0..parts)
        .map(|i| {
            let start = i128::from(first) + span * i / parts;
            let end = i128::from(first) + span * (i + 1) / parts - 1;
            (i64::try_from(start).unwrap_or(i64::MIN), i64::try_from(end).unwrap_or(i64::MAX))
        })
        .collect();
    if let Some(range) = ranges.first_mut() {
        range.0 = i64::MIN;
    }
    if let Some(range) = ranges.last_mut() {
        range.1 = i64::MAX;
    }
    ranges
}

/// What one part of a rebuild found.
struct Found {
    answers: u64,
    cells: u64,
    /// Recomputed cells that differed from the stored ones, sent to be written.
    written: u64,
    /// Stored cells that no answer accounts for, to delete.
    unmatched: Vec<Key>,
}

/// Folds the answers that `read` hands over, in (wave, account, contact) order, into cells,
/// and sends those that differ from `kept` (the part's stored cells) to `send`, a chunk at a
/// time.
fn fold_part(
    mut kept: KeptCells,
    mut send: impl FnMut(Vec<Cell>) -> Result<(), StoreError>,
    read: impl FnOnce(&mut dyn FnMut(Answer<'_>) -> Result<(), StoreError>) -> Result<(), StoreError>,
) -> Result<Found, StoreError> {
    let mut folder = Folder::default();
    let mut changed = |cells: Vec<Cell>, kept: &mut KeptCells| {
        let differ = kept.changed(cells)?;
        if differ.is_empty() { Ok(()) } else { send(differ) }
    };
    read(&mut |answer| {
        folder.push(answer)?;
        match folder.ready() {
            Some(ready) => changed(ready, &mut kept),
            None => Ok(()),
        }
    })?;
    changed(folder.finish()?, &mut kept)?;
    Ok(Found { answers: folder.answers, cells: folder.cells_done, written: kept.written, unmatched: kept.unmatched() })
}

/// The summary of a rebuild whose parts found `parts`.
fn summary(parts: &[Found]) -> super::RebuildSummary {
    let mut summary = super::RebuildSummary { answers: 0, cells: 0, corrected: 0 };
    for part in parts {
        summary.answers += part.answers;
        summary.cells += part.cells;
        summary.corrected += part.written + part.unmatched.len() as u64;
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_every_account_id_once_in_order() {
        let ids = |first, last| (Some(first), Some(last));
        assert_eq!(split(ids(1, 100), 2), [(i64::MIN, 50), (51, i64::MAX)]);
        assert_eq!(split(ids(1, 10), 3), [(i64::MIN, 3), (4, 6), (7, i64::MAX)]);
        assert_eq!(split(ids(7, 7), 2), [(i64::MIN, i64::MAX)], "one account makes one part");
        assert_eq!(split(ids(1, 2), 5), [(i64::MIN, 1), (2, i64::MAX)], "never more parts than accounts");
        assert_eq!(split((None, None), 2), [(i64::MIN, i64::MAX)], "no accounts: one part of every id");
        let parts = split(ids(-5, i64::MAX - 1), 4);
        assert!(parts.windows(2).all(|w| w[0].1 + 1 == w[1].0), "{parts:?}");
    }
}
