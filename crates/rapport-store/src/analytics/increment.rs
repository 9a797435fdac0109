//! New answers added to the analytics cells by difference: each contact's previous answer in
//! the cell is taken out and the new one put in, so storing a batch of answers reads only
//! the previous answers of those contacts and the cells they land in, however many answers
//! the accounts already have. (Recomputing every touched account from all of its answers,
//! as an import does, reads each answer of those accounts again on every batch.)
//!
//! The arithmetic is `rapport-core`'s ([`CellStats::replace_answer`]), which refuses to take
//! out what a cell never counted. A cell found out of step that way is not patched: its
//! (wave, account) is handed back to be recomputed from its answers, so a difference is never
//! applied to a wrong base.

use std::collections::{BTreeMap, HashMap};

use rapport_core::contact::RoleLevel;
use rapport_core::stats::CellStats;
use sqlx::QueryBuilder;
use time::OffsetDateTime;

use super::{Touched, counts, lock_accounts, loyalty_columns, packed, role_key};
use crate::error::StoreError;
use crate::invitations::NewAnswer;
use crate::tx::{Tx, on_tx};

/// A new answer, before it is stored.
pub(crate) struct CellAnswer<'a> {
    /// Its wave.
    pub wave_id: i64,
    /// The account it counts for.
    pub account_id: i64,
    /// Who gave it.
    pub contact_id: i64,
    /// When: the latest answer of a contact is the one that counts.
    pub submitted_at: OffsetDateTime,
    /// Likelihood to recommend, 0-10.
    pub ltr: u8,
    /// The driver ratings, as stored (a JSON object of key to score).
    pub scores: &'a str,
}

impl<'a> CellAnswer<'a> {
    /// How `answer` counts in its cell.
    pub(crate) fn of(answer: &'a NewAnswer) -> CellAnswer<'a> {
        CellAnswer {
            wave_id: answer.wave_id,
            account_id: answer.account_id,
            contact_id: answer.contact_id,
            submitted_at: answer.submitted_at,
            ltr: answer.ltr,
            scores: &answer.scores,
        }
    }
}

/// Keys per statement (two values each).
const KEY_CHUNK: usize = 400;

/// A cell's key within one wave.
pub(super) type CellKey = (i64, &'static str);

/// The answer a cell counts for a contact: when it was given, its id (None for one of this
/// batch, which is stored after every earlier answer) and its scores.
pub(super) struct Counted {
    pub(super) submitted_at: OffsetDateTime,
    pub(super) id: Option<i64>,
    pub(super) ltr: u8,
    pub(super) scores: Vec<(String, u8)>,
}

/// The answer each (account, contact) counts so far in a wave.
pub(super) type Latest = HashMap<(i64, i64), Counted>;

impl Counted {
    fn drivers(&self) -> Vec<(&str, u8)> {
        self.scores.iter().map(|(k, v)| (k.as_str(), *v)).collect()
    }
}

pub(super) fn read_scores(json: &str, what: impl std::fmt::Display) -> Result<Vec<(String, u8)>, StoreError> {
    let scores: BTreeMap<String, u8> = serde_json::from_str(json)
        .map_err(|e| StoreError::Other(anyhow::Error::new(e).context(format!("reading the scores of {what}"))))?;
    Ok(scores.into_iter().collect())
}

/// Counts `answers` in the cells of their (wave, account, role level), inside the
/// transaction that stores them, and before they are stored. Returns the (wave, account)
/// pairs whose cells were out of step: the caller recomputes those once the answers are in.
pub(crate) async fn add_answers(tx: &mut Tx, answers: &[CellAnswer<'_>]) -> Result<Touched, StoreError> {
    let mut stale = Touched::new();
    if answers.is_empty() {
        return Ok(stale);
    }
    let mut accounts: Vec<i64> = answers.iter().map(|a| a.account_id).collect();
    accounts.sort_unstable();
    accounts.dedup();
    // Another process may be storing answers of the same contacts: the previous answer read
    // below must still be the previous one when the cell is written.
    lock_accounts(tx, &accounts).await?;
    let roles = contact_roles(tx, answers).await?;
    let mut by_wave: BTreeMap<i64, Vec<&CellAnswer<'_>>> = BTreeMap::new();
    for a in answers {
        by_wave.entry(a.wave_id).or_default().push(a);
    }
    let role_of = |contact: i64| roles.get(&contact).copied().unwrap_or_else(|| role_key(None));
    for (wave_id, answers) in by_wave {
        let latest = previous_answers(tx, wave_id, &answers).await?;
        let mut keys: Vec<CellKey> = answers.iter().map(|a| (a.account_id, role_of(a.contact_id))).collect();
        keys.sort_unstable();
        keys.dedup();
        let before = read_cells(tx, wave_id, &keys).await?;
        let change = difference(&answers, role_of, latest, before)?;
        if !change.out_of_step.is_empty() {
            stale.entry(wave_id).or_default().extend(change.out_of_step);
        }
        write_cells(tx, wave_id, &change.changed).await?;
    }
    Ok(stale)
}

/// What a wave's new answers do to its cells.
pub(super) struct Difference {
    /// The cells that changed, by key: as they were (None for a new cell) and as they are.
    /// The cells of out-of-step accounts are left out.
    pub(super) changed: Vec<(CellKey, Option<CellStats>, CellStats)>,
    /// The accounts with a cell out of step: each must be recomputed from its answers.
    pub(super) out_of_step: Vec<i64>,
}

/// Counts the new `answers` of one wave into the cells `before`, given the answer each
/// (account, contact) has counted so far (`latest`) and each contact's role level.
pub(super) fn difference(
    answers: &[&CellAnswer<'_>],
    role_of: impl Fn(i64) -> &'static str,
    mut latest: Latest,
    before: HashMap<CellKey, CellStats>,
) -> Result<Difference, StoreError> {
    let mut after = before.clone();
    let mut out_of_step: Vec<i64> = Vec::new();
    for a in answers {
        let new = Counted {
            submitted_at: a.submitted_at,
            id: None,
            ltr: a.ltr,
            scores: read_scores(a.scores, format_args!("a new answer of contact {}", a.contact_id))?,
        };
        let previous = latest.get(&(a.account_id, a.contact_id));
        // An answer dated before the one counted joins the history only.
        if previous.is_some_and(|p| new.submitted_at < p.submitted_at) {
            continue;
        }
        let cell = after.entry((a.account_id, role_of(a.contact_id))).or_default();
        let counted = match previous {
            Some(p) => cell.replace_answer((p.ltr, &p.drivers()), (new.ltr, &new.drivers())).is_ok(),
            None => {
                cell.add_answer(new.ltr, &new.drivers());
                true
            }
        };
        if !counted {
            out_of_step.push(a.account_id);
        }
        latest.insert((a.account_id, a.contact_id), new);
    }
    out_of_step.sort_unstable();
    out_of_step.dedup();
    let mut changed: Vec<(CellKey, Option<CellStats>, CellStats)> = Vec::new();
    for (key, stats) in after {
        if out_of_step.binary_search(&key.0).is_ok() {
            continue;
        }
        let old = before.get(&key);
        if old != Some(&stats) {
            changed.push((key, old.cloned(), stats));
        }
    }
    // The order of the writes, whichever order the map gave.
    changed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(Difference { changed, out_of_step })
}

/// Keeps, for (account, contact), whichever of the answer already kept and `answer` counts:
/// the latest (greatest `submitted_at`, then greatest id).
fn keep_latest(latest: &mut Latest, account: i64, contact: i64, answer: Counted) {
    if latest.get(&(account, contact)).is_some_and(|c| (c.submitted_at, c.id) > (answer.submitted_at, answer.id)) {
        return;
    }
    latest.insert((account, contact), answer);
}

/// A stored answer's LTR, which the schema keeps within 0-10.
pub(super) fn stored_ltr(id: i64, ltr: i64) -> Result<u8, StoreError> {
    u8::try_from(ltr)
        .ok()
        .filter(|l| *l <= 10)
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("answer {id} has an LTR of {ltr} outside 0-10")))
}

/// The statement that writes a cell: `INSERT` + values + [`CELL_UPSERT`].
pub(super) const CELL_INSERT: &str = "INSERT INTO wave_account_stats \
     (wave_id, account_id, role, promoters, passives, detractors, ltr_sum, ltr_sumsq, drivers) ";
pub(super) const CELL_UPSERT: &str = " ON CONFLICT (wave_id, account_id, role) DO UPDATE SET \
     promoters = excluded.promoters, passives = excluded.passives, detractors = excluded.detractors, \
     ltr_sum = excluded.ltr_sum, ltr_sumsq = excluded.ltr_sumsq, drivers = excluded.drivers";

/// The role level each answering contact's cells are keyed by.
async fn contact_roles(tx: &mut Tx, answers: &[CellAnswer<'_>]) -> Result<HashMap<i64, &'static str>, StoreError> {
    let mut ids: Vec<i64> = answers.iter().map(|a| a.contact_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut roles = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(KEY_CHUNK * 2) {
        let rows: Vec<(i64, Option<String>)> = on_tx!(&mut *tx, |t| {
            let mut qb = QueryBuilder::new("SELECT id, role FROM contacts WHERE id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(&mut **t).await?
        });
        for (id, role) in rows {
            roles.insert(id, role_key(role.as_deref().and_then(RoleLevel::parse)));
        }
    }
    Ok(roles)
}

/// The answer each (account, contact) of `answers` has counted in the wave so far: the latest
/// stored (greatest `submitted_at`, then greatest id), as the cells count it.
async fn previous_answers(tx: &mut Tx, wave_id: i64, answers: &[&CellAnswer<'_>]) -> Result<Latest, StoreError> {
    let mut keys: Vec<(i64, i64)> = answers.iter().map(|a| (a.account_id, a.contact_id)).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut latest: Latest = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(KEY_CHUNK) {
        // Keyed by the index on (wave, account, contact): one lookup per key. CROSS JOIN is
        // SQLite's way of saying which loop is outer (its planner may otherwise scan the
        // answers and probe the keys); PostgreSQL reads it as a plain join.
        let rows: Vec<(i64, i64, i64, OffsetDateTime, i32, String)> = on_tx!(&mut *tx, |t| {
            let mut qb = QueryBuilder::new("WITH k (account_id, contact_id) AS (");
            qb.push_values(chunk, |mut b, (account, contact)| {
                b.push_bind(*account).push_bind(*contact);
            });
            qb.push(
                ") SELECT r.id, r.account_id, r.contact_id, r.submitted_at, r.ltr, r.scores FROM k \
                 CROSS JOIN responses r WHERE r.wave_id = ",
            );
            qb.push_bind(wave_id).push(" AND r.account_id = k.account_id AND r.contact_id = k.contact_id");
            qb.build_query_as().fetch_all(&mut **t).await?
        });
        for (id, account, contact, submitted_at, ltr, scores) in rows {
            let ltr = stored_ltr(id, i64::from(ltr))?;
            let scores = read_scores(&scores, format_args!("answer {id}"))?;
            keep_latest(&mut latest, account, contact, Counted { submitted_at, id: Some(id), ltr, scores });
        }
    }
    Ok(latest)
}

/// The stored cells of `keys` in a wave (a key without a cell is absent).
async fn read_cells(tx: &mut Tx, wave_id: i64, keys: &[CellKey]) -> Result<HashMap<CellKey, CellStats>, StoreError> {
    let mut cells: HashMap<CellKey, CellStats> = HashMap::with_capacity(keys.len());
    let role_of: HashMap<&str, &'static str> = keys.iter().map(|(_, r)| (*r, *r)).collect();
    for chunk in keys.chunks(KEY_CHUNK) {
        type Row = (i64, String, i64, i64, i64, i64, i64, Vec<u8>);
        let rows: Vec<Row> = on_tx!(&mut *tx, |t| {
            let mut qb = cell_query(
                "s.account_id, s.role, s.promoters, s.passives, s.detractors, s.ltr_sum, s.ltr_sumsq, s.drivers",
                wave_id,
                chunk,
            );
            qb.build_query_as().fetch_all(&mut **t).await?
        });
        for (account, role, p, pa, d, s, ss, drivers) in rows {
            if let Some(role) = role_of.get(role.as_str()) {
                let stats = CellStats { loyalty: counts([p, pa, d, s, ss]), drivers: packed::unpack_owned(&drivers)? };
                cells.insert((account, role), stats);
            }
        }
    }
    Ok(cells)
}

/// `SELECT columns FROM wave_account_stats s` for the cells of `keys` in a wave, by the
/// table's primary key (one lookup per key: see the CROSS JOIN in [`previous_answers`]).
fn cell_query<'a, DB: sqlx::Database>(columns: &str, wave_id: i64, keys: &'a [CellKey]) -> QueryBuilder<'a, DB>
where
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut qb = QueryBuilder::new("WITH k (account_id, role) AS (");
    qb.push_values(keys, |mut b, (account, role)| {
        b.push_bind(*account).push_bind(*role);
    });
    qb.push(format!(") SELECT {columns} FROM k CROSS JOIN wave_account_stats s WHERE s.wave_id = "));
    qb.push_bind(wave_id).push(" AND s.account_id = k.account_id AND s.role = k.role");
    qb
}

/// The cells that changed, as they are now (see [`Difference::changed`]).
async fn write_cells(
    tx: &mut Tx,
    wave_id: i64,
    changed: &[(CellKey, Option<CellStats>, CellStats)],
) -> Result<(), StoreError> {
    for chunk in changed.chunks(KEY_CHUNK) {
        on_tx!(&mut *tx, |t| {
            let mut qb = QueryBuilder::new(CELL_INSERT);
            qb.push_values(chunk, |mut b, ((account, role), _, stats)| {
                b.push_bind(wave_id).push_bind(*account).push_bind(*role);
                for v in loyalty_columns(&stats.loyalty) {
                    b.push_bind(v);
                }
                b.push_bind(packed::pack(&stats.drivers));
            });
            qb.push(CELL_UPSERT);
            qb.build().execute(&mut **t).await?;
        });
    }
    Ok(())
}
