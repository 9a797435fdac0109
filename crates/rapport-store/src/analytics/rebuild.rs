//! `rapport analytics rebuild`: every cell recomputed from every answer, and the stored cells
//! that differ corrected ([`super::kept`]), in one transaction.
//!
//! Both backends split the accounts into parts by id and read and fold each part's answers
//! on a connection and a thread of its own, two at a time, while the transaction writes the
//! cells that differ as the parts find them: reading 2.5M answers out of a row store and
//! folding them is nearly all of a rebuild, and one reader keeps one of the two cores busy
//! (BENCHMARKS.md, issue 3). A part reads its answers in the order they are stored, without
//! their contacts, and orders them in memory ([`PartAnswers`]); the contacts' role levels are
//! read once for all parts ([`Roles`]). Each part folds its answers with the general path's
//! fold ([`super::Folder`]), so the cells are the same.

use std::collections::HashMap;

use rapport_core::contact::RoleLevel;
use time::OffsetDateTime;

use super::kept::{KeptCells, Key};
use super::{Answer, Cell, DriverKeys, Folder, Scores};
use crate::error::StoreError;

mod postgres;
mod sqlite;

pub(super) use postgres::on_postgres;
pub(super) use sqlite::in_place;

/// Parts a rebuild reads, at the least: two read while the two before them are folded. Each
/// part is read by scanning the whole answer table (on PostgreSQL a quarter of the answers
/// took 0.41 s to send, half 0.56 s), so parts cost scans; but a part is folded only once it
/// is read, and with two parts the reading and the folding each left a core idle in turn. At
/// 100,000 accounts four parts beat two and six on both backends (BENCHMARKS.md, issue 3).
/// A fixed count, not a fixed size: parts of 650,000 answers made sixteen scans of the whole
/// table at 10M answers, and the rebuild took 8 times as long for 4 times the answers.
const PARTS: usize = 4;

/// The most answers a part holds, to keep memory bounded whatever the portfolio's size
/// (about 75 bytes an answer while it is ordered and folded, and four parts held at once:
/// under 1 GB); past 12M answers, more parts than [`PARTS`].
const PART_ANSWERS: usize = 3_000_000;

/// How many parts a rebuild of `answers` answers reads.
fn part_count(answers: usize) -> usize {
    answers.div_ceil(PART_ANSWERS).max(PARTS)
}

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

/// A part's answers as they were read, in no order, their driver ratings read out of their
/// JSON text and numbered by driver ([`DriverKeys`]) one after the other in one list; put in
/// order here for the fold (see [`PartAnswers::order`]). The ratings take 4 bytes each, about
/// 20 an answer, where the text took about 65: memory touched for the first time is what a
/// rebuild pays most for after the reading itself (the kernel zeroes every fresh page, at
/// about 2 ms a megabyte on this machine; BENCHMARKS.md, issue 3).
struct PartAnswers {
    rows: Vec<AnswerAt>,
    ratings: Vec<(u16, u8)>,
    keys: DriverKeys,
}

/// Room for an answer's ratings (four to six drivers).
const RATINGS: usize = 6;

/// One answer of [`PartAnswers`]. Its ratings end at `ratings_end` and start where those of
/// the answer read before it end (at 0 for the first).
struct AnswerAt {
    wave_id: i64,
    account_id: i64,
    contact_id: i64,
    submitted_at: OffsetDateTime,
    ltr: i32,
    /// Set by [`PartAnswers::push`].
    ratings_end: u32,
}

impl PartAnswers {
    /// Room for about `answers` answers: a list grown by doubling copies itself as it grows and
    /// touches about three times the memory in the end, and the kernel's zeroing of fresh pages
    /// was a third of a rebuild's time before parts were sized.
    fn with_capacity(answers: usize) -> PartAnswers {
        // An estimate from ids far apart must not reserve more than parts ever hold.
        let answers = answers.min(PART_ANSWERS * 2);
        PartAnswers {
            rows: Vec::with_capacity(answers),
            ratings: Vec::with_capacity(answers * RATINGS),
            keys: DriverKeys::default(),
        }
    }

    /// Adds `answer`, whose scores' JSON text is `scores`.
    fn push(&mut self, mut answer: AnswerAt, scores: &str) -> Result<(), StoreError> {
        let answer_named = || super::named(answer.contact_id, answer.wave_id, answer.submitted_at);
        self.keys.read(scores, &mut self.ratings).map_err(|e| {
            StoreError::Other(e.context(format!(
                "reading the scores of {}: correct them in the database (a JSON object of driver \
                 keys and ratings), then rebuild",
                answer_named()
            )))
        })?;
        answer.ratings_end = u32::try_from(self.ratings.len()).map_err(|_| {
            anyhow::anyhow!("a part of the rebuild holds more than 4 billion ratings, at {}", answer_named())
        })?;
        self.rows.push(answer);
        Ok(())
    }

    /// The ratings of the answer at `i`.
    fn ratings_of(&self, i: usize) -> &[(u16, u8)] {
        let start = i.checked_sub(1).map_or(0, |before| self.rows[before].ratings_end);
        &self.ratings[start as usize..self.rows[i].ratings_end as usize]
    }

    /// Folds the answers in (wave, account, contact) order, each with its contact's role
    /// level, into cells, and sends those that differ from `kept` (the part's stored cells) to
    /// `send`, a chunk at a time. An answer whose contact is gone is left out, as a join with
    /// the contacts would.
    fn fold(
        mut self,
        roles: &Roles,
        kept: KeptCells,
        send: impl FnMut(Vec<Cell>) -> Result<(), StoreError>,
    ) -> Result<Found, StoreError> {
        let order = self.order()?;
        let folder = Folder::with_keys(std::mem::take(&mut self.keys));
        fold_part(folder, kept, send, |fold| {
            for i in order {
                let i = i as usize;
                let a = &self.rows[i];
                let Some(role) = roles.get(a.contact_id) else { continue };
                fold(Answer {
                    wave_id: a.wave_id,
                    account_id: a.account_id,
                    contact_id: a.contact_id,
                    role,
                    submitted_at: a.submitted_at,
                    ltr: a.ltr,
                    scores: Scores::Numbered(self.ratings_of(i)),
                })?;
            }
            Ok(())
        })
    }

    /// The places of the answers in (wave, account, contact) order. A part's accounts are a
    /// range of ids handed out in turn, and its waves a handful, so the answers are counted
    /// into one bucket per (wave, account) and each bucket's few answers sorted by contact:
    /// linear, and only a place (4 bytes) an answer moves. Sorting the answers themselves
    /// (72 bytes each then, and room for half of them again) was a sixth of a rebuild's time.
    /// Where waves and accounts would make too many buckets (ids far apart, years of waves),
    /// the places are sorted by key instead, in the same order.
    fn order(&self) -> Result<Vec<u32>, StoreError> {
        let rows = &self.rows;
        let count = u32::try_from(rows.len()).map_err(|_| {
            anyhow::anyhow!("a part of the rebuild holds {} answers, more than it can order", rows.len())
        })?;
        let mut waves: Vec<i64> = Vec::new();
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        for a in rows {
            if let Err(at) = waves.binary_search(&a.wave_id) {
                waves.insert(at, a.wave_id);
            }
            (first, last) = (first.min(a.account_id), last.max(a.account_id));
        }
        let span = usize::try_from(i128::from(last) - i128::from(first) + 1).unwrap_or(usize::MAX);
        let buckets = span.saturating_mul(waves.len());
        let mut order: Vec<u32> = Vec::with_capacity(rows.len());
        if rows.is_empty() || buckets > rows.len().saturating_mul(8).saturating_add(1 << 16) {
            order.extend(0..count);
            order.sort_unstable_by_key(|&i| {
                let a = &rows[i as usize];
                (a.wave_id, a.account_id, a.contact_id)
            });
            return Ok(order);
        }
        // In range by construction: every wave is listed, and first <= account <= last.
        let bucket = |a: &AnswerAt| {
            let wave = waves.binary_search(&a.wave_id).unwrap_or_default();
            wave * span + usize::try_from(a.account_id - first).unwrap_or_default()
        };
        // Each bucket's start, then (as its answers are placed) the end of what it holds.
        let mut next = vec![0u32; buckets];
        for a in rows {
            next[bucket(a)] += 1;
        }
        let mut start = 0;
        for n in &mut next {
            (*n, start) = (start, start + *n);
        }
        order.resize(rows.len(), 0);
        for (i, a) in (0..count).zip(rows) {
            let at = &mut next[bucket(a)];
            order[*at as usize] = i;
            *at += 1;
        }
        let mut begin = 0;
        for end in next {
            let end = end as usize;
            if end - begin > 1 {
                order[begin..end].sort_unstable_by_key(|&i| rows[i as usize].contact_id);
            }
            begin = end;
        }
        Ok(order)
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

/// Folds with `folder` the answers that `read` hands over, in (wave, account, contact) order,
/// into cells, and sends those that differ from `kept` (the part's stored cells) to `send`, a chunk at a
/// time.
fn fold_part(
    mut folder: Folder,
    mut kept: KeptCells,
    mut send: impl FnMut(Vec<Cell>) -> Result<(), StoreError>,
    read: impl FnOnce(&mut dyn FnMut(Answer<'_>) -> Result<(), StoreError>) -> Result<(), StoreError>,
) -> Result<Found, StoreError> {
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

    /// `count` answers of random waves, accounts and contacts, each account id spread by
    /// `spread`; the answer at `i` rates driver "x" `i % 5 + 1`.
    fn random_part(count: usize, spread: i64, seed: u64) -> PartAnswers {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut part = PartAnswers::with_capacity(count);
        for i in 0..count {
            let answer = AnswerAt {
                wave_id: rng.gen_range(1..5),
                account_id: rng.gen_range(100..140) * spread,
                contact_id: rng.gen_range(1..30),
                submitted_at: time::macros::datetime!(2026-08-01 12:00 UTC),
                ltr: 9,
                ratings_end: 0,
            };
            part.push(answer, &format!("{{\"x\":{}}}", i % 5 + 1)).unwrap();
        }
        part
    }

    #[test]
    fn a_parts_answers_are_put_in_wave_account_contact_order_by_bucket_or_by_key() {
        for (spread, seed) in [(1, 1), (1, 2), (1_000_000_000, 3)] {
            let part = random_part(5_000, spread, seed);
            let order = part.order().unwrap();
            let mut seen: Vec<u32> = order.clone();
            seen.sort_unstable();
            assert!(seen.iter().copied().eq(0..5_000), "every answer once (spread {spread})");
            let keys: Vec<_> = order
                .iter()
                .map(|&i| {
                    let a = &part.rows[i as usize];
                    (a.wave_id, a.account_id, a.contact_id)
                })
                .collect();
            assert!(keys.is_sorted(), "in key order (spread {spread})");
            for &i in &order {
                assert_eq!(part.ratings_of(i as usize), [(0, (i % 5 + 1) as u8)], "each answer keeps its own ratings");
            }
        }
        assert!(PartAnswers::with_capacity(0).order().unwrap().is_empty());
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
