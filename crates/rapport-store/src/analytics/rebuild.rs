//! `rapport analytics rebuild`: every cell recomputed from every answer, and the stored cells
//! that differ corrected ([`super::kept`]), in one transaction.
//!
//! Both backends split the accounts into parts by id and read and fold each part's answers
//! on a connection and a thread of its own, two at a time, while the transaction writes the
//! cells that differ as the parts find them: reading 2.5M answers out of a row store and
//! folding them is nearly all of a rebuild, and one reader keeps one of the two cores busy
//! (BENCHMARKS.md, issue 3). A part reads its answers in the order they are stored, without
//! their contacts, and sorts them in memory ([`PartAnswers`]); the contacts' role levels are
//! read once for all parts ([`Roles`]). Each part folds its answers with the general path's
//! fold ([`super::Folder`]), so the cells are the same.

use std::collections::HashMap;
use std::ops::Range;

use rapport_core::contact::RoleLevel;
use time::OffsetDateTime;

use super::kept::{KeptCells, Key};
use super::{Answer, Cell, Folder};
use crate::error::StoreError;

mod postgres;
mod sqlite;

pub(super) use postgres::on_postgres;
pub(super) use sqlite::in_place;

/// About how many answers a part holds, to keep memory bounded whatever the portfolio's size
/// (about 130 bytes an answer while it is sorted and folded). No smaller parts than that: each
/// part is read by scanning the whole answer table (on PostgreSQL a quarter of the answers took
/// 0.5-0.7 s to send, all of them 1.5 s), so at 100,000 accounts two parts of 1.27M answers
/// beat four of 634,000 (BENCHMARKS.md, issue 3).
const PART_ANSWERS: usize = 1_300_000;

/// Parts read at once, each keeping a reader (a server process, on PostgreSQL) busy, and
/// parts folded at once, each keeping a thread busy.
const AT_ONCE: usize = 2;

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

/// Each contact's role level (None: none, or one Rapport does not know), by contact id.
/// Read once for every part, beside their answers: joining each answer to its contact cost
/// the server (PostgreSQL) or the reader (SQLite) a lookup an answer, and sorting the joined
/// rows most of a part's read (BENCHMARKS.md, issue 3). Ids are handed out in turn, so they
/// usually index a list of a byte a contact from the smallest id: looking 2.5M answers'
/// contacts up in a map of 1M was a tenth of a rebuild's time. Ids far apart (more than four
/// places a contact) go into a map instead.
enum Roles {
    /// The level of contact `first + i` coded at `i` ([`Roles::code`]).
    Listed {
        first: i64,
        levels: Vec<u8>,
    },
    Mapped(HashMap<i64, Option<RoleLevel>>),
}

impl Roles {
    fn new(contacts: Vec<(i64, Option<RoleLevel>)>) -> Roles {
        let ids = || contacts.iter().map(|c| c.0);
        let (Some(first), Some(last)) = (ids().min(), ids().max()) else { return Roles::Mapped(HashMap::new()) };
        let span = i128::from(last) - i128::from(first) + 1;
        match usize::try_from(span) {
            Ok(span) if span <= contacts.len() * 4 + 1024 => {
                let mut levels = vec![Roles::NO_CONTACT; span];
                for (id, level) in contacts {
                    // In range: first <= id <= last.
                    levels[usize::try_from(id - first).unwrap_or_default()] = Roles::code(level);
                }
                Roles::Listed { first, levels }
            }
            _ => Roles::Mapped(contacts.into_iter().collect()),
        }
    }

    const NO_CONTACT: u8 = 0;
    const NO_LEVEL: u8 = 1;

    fn code(level: Option<RoleLevel>) -> u8 {
        level
            .and_then(|l| RoleLevel::ALL.iter().position(|r| *r == l))
            .map_or(Roles::NO_LEVEL, |i| u8::try_from(i).unwrap_or(u8::MAX - 2) + 2)
    }

    /// The contact's role level; None when there is no such contact.
    fn get(&self, contact: i64) -> Option<Option<RoleLevel>> {
        match self {
            Roles::Listed { first, levels } => {
                let code = *levels.get(usize::try_from(contact.checked_sub(*first)?).ok()?)?;
                match code {
                    Roles::NO_CONTACT => None,
                    Roles::NO_LEVEL => Some(None),
                    c => Some(RoleLevel::ALL.get(usize::from(c - 2)).copied()),
                }
            }
            Roles::Mapped(levels) => levels.get(&contact).copied(),
        }
    }
}

/// A part's answers as they were read, in no order, their scores' texts side by side in one
/// string; sorted here for the fold (see [`PartAnswers::fold`]).
struct PartAnswers {
    rows: Vec<AnswerAt>,
    scores: String,
}

/// Room for the text of an answer's scores, in bytes (four or five ratings take about 60).
const SCORES_TEXT: usize = 80;

/// One answer of [`PartAnswers`]; its scores are a range of their text.
struct AnswerAt {
    wave_id: i64,
    account_id: i64,
    contact_id: i64,
    id: i64,
    submitted_at: OffsetDateTime,
    ltr: i32,
    scores: Range<usize>,
}

impl PartAnswers {
    /// Room for about `answers` answers: a list grown by doubling copies itself as it grows and
    /// touches about three times the memory in the end, and the kernel's zeroing of fresh pages
    /// was a third of a rebuild's time before parts were sized.
    fn with_capacity(answers: usize) -> PartAnswers {
        // An estimate from ids far apart must not reserve more than parts ever hold.
        let answers = answers.min(PART_ANSWERS * 2);
        PartAnswers { rows: Vec::with_capacity(answers), scores: String::with_capacity(answers * SCORES_TEXT) }
    }

    /// Adds `answer`, whose scores' text is `scores` (its own range is set here).
    fn push(&mut self, mut answer: AnswerAt, scores: &str) {
        let start = self.scores.len();
        self.scores.push_str(scores);
        answer.scores = start..self.scores.len();
        self.rows.push(answer);
    }

    /// Hands each answer to `fold` in (wave, account, contact) order, with its contact's role
    /// level. An answer whose contact is gone is left out, as a join with the contacts would.
    fn fold(
        mut self,
        roles: &Roles,
        fold: &mut dyn FnMut(Answer<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.rows.sort_by_key(|a| (a.wave_id, a.account_id, a.contact_id));
        for a in &self.rows {
            let Some(role) = roles.get(a.contact_id) else { continue };
            fold(Answer {
                id: a.id,
                wave_id: a.wave_id,
                account_id: a.account_id,
                contact_id: a.contact_id,
                role,
                submitted_at: a.submitted_at,
                ltr: a.ltr,
                scores: &self.scores[a.scores.clone()],
            })?;
        }
        Ok(())
    }
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
    fn role_levels_read_the_same_listed_or_mapped() {
        let contacts =
            vec![(3, Some(RoleLevel::User)), (1, Some(RoleLevel::Executive)), (2, None), (5, Some(RoleLevel::Manager))];
        let listed = Roles::new(contacts.clone());
        assert!(matches!(listed, Roles::Listed { first: 1, .. }), "ids close together are listed");
        let far = Roles::new(contacts.iter().map(|&(id, level)| (id * 1_000_000, level)).collect());
        assert!(matches!(far, Roles::Mapped(_)), "ids far apart are mapped");
        for (id, level) in &contacts {
            assert_eq!(listed.get(*id), Some(*level), "contact {id}");
            assert_eq!(far.get(id * 1_000_000), Some(*level), "contact {id}");
        }
        for missing in [0, 4, 6, -1, i64::MIN, i64::MAX] {
            assert_eq!(listed.get(missing), None, "no contact {missing}");
        }
        assert_eq!(far.get(4_000_000), None);
        assert_eq!(Roles::new(Vec::new()).get(1), None);
    }

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
