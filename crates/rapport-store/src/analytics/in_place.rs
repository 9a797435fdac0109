//! A batch of answers stored on SQLite in one go, in place: the whole transaction (the
//! contacts' role levels, their previous answers, the cells by difference, the answers, the
//! invitations, the data version, the commit) runs through rusqlite on the store's writing
//! connection ([`crate::direct::OwnConnection`]), with its statements prepared once and no round trip
//! between them.
//!
//! Why: through sqlx, each statement of a batch was a round trip to the connection's worker
//! thread, about twelve a batch at 0.2 ms each with both cores busy, a third of the batch's
//! time (BENCHMARKS.md, issue 4). The arithmetic is the same as the general path's
//! ([`super::increment::difference`]), and so are the statements' texts where they write
//! cells. A batch that meets anything the general path handles and this one does not (a cell
//! out of step, which must be recomputed from its answers; a stored time in a form other than
//! the one Rapport writes) writes nothing here and is handed to the general path.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rapport_core::contact::RoleLevel;
use rapport_core::stats::CellStats;
use rusqlite::{OptionalExtension, Transaction, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::increment::{
    CELL_INSERT, CELL_UPSERT, CellAnswer, CellKey, Counted, Latest, difference, read_scores, stored_ltr,
};
use super::{counts, loyalty_columns, packed, role_key, row_loyalty};
use crate::alerts::in_place::time;
use crate::alerts::{self, AnswerFollowUp};
use crate::direct;
use crate::error::StoreError;
use crate::invitations::{NewAnswer, RESPONSE_COLUMNS, answered_at};
use crate::store::SqliteDb;
use crate::tx::BUMP_DATA_VERSION;

/// What became of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InPlace {
    /// Stored and committed.
    Stored,
    /// Nothing written: the general path must store it.
    Declined,
}

/// Stores `batch` in one durable transaction, or declines it (see the module's text).
/// With `follow_up`, the answers are followed up in the same transaction ([`alerts::in_place`]).
pub(crate) async fn record_answers(
    db: &SqliteDb,
    batch: Vec<NewAnswer>,
    follow_up: Option<Arc<AnswerFollowUp>>,
) -> Result<InPlace, StoreError> {
    direct::write(db, move |tx| store(tx, &batch, follow_up.as_deref())).await
}

/// [`record_answers`] on the calling thread (see [`direct::write_here`]).
pub(crate) fn record_answers_here(
    db: &SqliteDb,
    batch: &[NewAnswer],
    follow_up: Option<&AnswerFollowUp>,
) -> Result<InPlace, StoreError> {
    direct::write_here(db, |tx| store(tx, batch, follow_up))
}

fn store(tx: &Transaction<'_>, batch: &[NewAnswer], follow_up: Option<&AnswerFollowUp>) -> Result<InPlace, StoreError> {
    // This connection leaves foreign keys unchecked (see `direct::ANSWER_WRITER`): what the
    // answers refer to is read here first, in the transaction that writes them, and a batch
    // that refers to anything gone is left to the general path, which checks and refuses it.
    let Some(contacts) = contacts(tx, batch)? else {
        return Ok(InPlace::Declined);
    };
    if !invitations_stand(tx, batch)? {
        return Ok(InPlace::Declined);
    }
    let counted: Vec<CellAnswer<'_>> = batch.iter().map(CellAnswer::of).collect();
    // Every contact of the batch was read above (or the batch was declined).
    let role_of = |contact: i64| contacts[&contact].role;
    let mut by_wave: BTreeMap<i64, Vec<&CellAnswer<'_>>> = BTreeMap::new();
    for a in &counted {
        by_wave.entry(a.wave_id).or_default().push(a);
    }
    let mut changes = Vec::with_capacity(by_wave.len());
    for (wave_id, answers) in by_wave {
        let Some(latest) = previous_answers(tx, wave_id, &answers)? else {
            return Ok(InPlace::Declined);
        };
        let mut keys: Vec<CellKey> = answers.iter().map(|a| (a.account_id, role_of(a.contact_id))).collect();
        keys.sort_unstable();
        keys.dedup();
        let before = read_cells(tx, wave_id, &keys)?;
        let change = difference(&answers, role_of, latest, before)?;
        if !change.out_of_step.is_empty() {
            return Ok(InPlace::Declined);
        }
        changes.push((wave_id, change.changed));
    }
    for (wave_id, changed) in &changes {
        write_cells(tx, *wave_id, changed)?;
    }
    let now = OffsetDateTime::now_utc();
    let response_ids = insert_answers(tx, batch, now)?;
    // This connection writes with triggers off (see `direct::ANSWER_WRITER`): what the inbox
    // trigger would do, the batch does here, or does in its stead.
    let stored: Vec<(i64, &NewAnswer)> = response_ids.into_iter().zip(batch).collect();
    let waiting = alerts::in_place::waiting(&stored, now);
    match follow_up {
        Some(follow_up) => {
            alerts::in_place::follow_up(tx, &waiting, &contacts, follow_up, now)?;
        }
        None => alerts::in_place::leave_to_scanner(tx, &waiting)?,
    }
    tx.prepare_cached(BUMP_DATA_VERSION).and_then(|mut bump| bump.execute([])).map_err(writing)?;
    Ok(InPlace::Stored)
}

fn writing(err: rusqlite::Error) -> StoreError {
    StoreError::Other(anyhow::Error::new(err).context("storing a batch of answers in the SQLite database"))
}

/// An answering contact as the batch reads it once: the role level its cells are keyed by,
/// and what the follow-up says of it.
pub(crate) struct AnswerContact {
    pub(crate) role: &'static str,
    pub(crate) external_id: String,
    pub(crate) name: String,
}

/// Each answering contact, or None when one is gone or no longer at the answer's account.
fn contacts(tx: &Transaction<'_>, batch: &[NewAnswer]) -> Result<Option<HashMap<i64, AnswerContact>>, StoreError> {
    let mut read =
        tx.prepare_cached("SELECT role, account_id, external_id, name FROM contacts WHERE id = ?1").map_err(writing)?;
    let mut contacts = HashMap::with_capacity(batch.len());
    for a in batch {
        if contacts.contains_key(&a.contact_id) {
            continue;
        }
        let found = read
            .query_row([a.contact_id], |row| {
                let role: Option<String> = row.get(0)?;
                Ok((role, row.get::<_, i64>(1)?, row.get(2)?, row.get(3)?))
            })
            .optional()
            .map_err(writing)?;
        let Some((role, account_id, external_id, name)) = found else { return Ok(None) };
        if account_id != a.account_id {
            return Ok(None);
        }
        let role = role_key(role.as_deref().and_then(RoleLevel::parse));
        contacts.insert(a.contact_id, AnswerContact { role, external_id, name });
    }
    Ok(Some(contacts))
}

/// Whether every answer's invitation is still there, for its wave and contact (and so the
/// wave is: deleting one deletes its invitations).
fn invitations_stand(tx: &Transaction<'_>, batch: &[NewAnswer]) -> Result<bool, StoreError> {
    let mut read = tx
        .prepare_cached("SELECT 1 FROM invitations WHERE id = ?1 AND wave_id = ?2 AND contact_id = ?3")
        .map_err(writing)?;
    for a in batch {
        if !read.exists(params![a.invitation_id, a.wave_id, a.contact_id]).map_err(writing)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The answer each (account, contact) of `answers` has counted in the wave so far, as
/// [`super::increment`] reads it; None when a stored time is not in the form Rapport writes.
///
/// A contact answers a wave many times (each answer after the first is kept as history), and
/// only the latest counts: by time, then id. The contact's answers are first listed from the
/// unique index on (wave, contact, time), which holds each answer's id and time, so that only
/// the latest is read from the table (its account, which must be the one asked about, its
/// score and its ratings) rather than every answer of the history. Only a contact that moved
/// between accounts within the wave makes it read further back.
fn previous_answers(
    tx: &Transaction<'_>,
    wave_id: i64,
    answers: &[&CellAnswer<'_>],
) -> Result<Option<Latest>, StoreError> {
    let mut history = tx
        .prepare_cached("SELECT id, submitted_at FROM responses WHERE wave_id = ?1 AND contact_id = ?2")
        .map_err(writing)?;
    let mut answer =
        tx.prepare_cached("SELECT account_id, ltr, scores FROM responses WHERE id = ?1").map_err(writing)?;
    let mut latest: Latest = HashMap::with_capacity(answers.len());
    let mut times: Vec<(OffsetDateTime, i64)> = Vec::new();
    for a in answers {
        let key = (a.account_id, a.contact_id);
        if latest.contains_key(&key) {
            continue;
        }
        times.clear();
        let mut rows = history.query(params![wave_id, a.contact_id]).map_err(writing)?;
        while let Some(row) = rows.next().map_err(writing)? {
            let id: i64 = row.get(0).map_err(writing)?;
            let Ok(submitted_at) =
                OffsetDateTime::parse(row.get_ref(1).map_err(writing)?.as_str().unwrap_or(""), &Rfc3339)
            else {
                return Ok(None);
            };
            times.push((submitted_at, id));
        }
        times.sort_unstable_by(|x, y| y.cmp(x));
        for &(submitted_at, id) in &times {
            let (account_id, ltr, scores): (i64, i64, String) =
                answer.query_row([id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?))).map_err(writing)?;
            if account_id == a.account_id {
                let ltr = stored_ltr(id, ltr)?;
                let scores = read_scores(&scores, format_args!("answer {id}"))?;
                latest.insert(key, Counted { submitted_at, id: Some(id), ltr, scores });
                break;
            }
        }
    }
    Ok(Some(latest))
}

/// The stored cells of `keys` in a wave (a key without a cell is absent).
fn read_cells(tx: &Transaction<'_>, wave_id: i64, keys: &[CellKey]) -> Result<HashMap<CellKey, CellStats>, StoreError> {
    let mut read = tx
        .prepare_cached(
            "SELECT promoters, passives, detractors, ltr_sum, ltr_sumsq, drivers FROM wave_account_stats \
             WHERE wave_id = ?1 AND account_id = ?2 AND role = ?3",
        )
        .map_err(writing)?;
    let mut cells: HashMap<CellKey, CellStats> = HashMap::with_capacity(keys.len());
    for &(account, role) in keys {
        let mut rows = read.query(params![wave_id, account, role]).map_err(writing)?;
        if let Some(row) = rows.next().map_err(writing)? {
            let sums = row_loyalty(row, 0).map_err(writing)?;
            let drivers =
                packed::unpack_owned(row.get_ref(5).map_err(writing)?.as_blob().map_err(|e| writing(e.into()))?)?;
            cells.insert((account, role), CellStats { loyalty: counts(sums), drivers });
        }
    }
    Ok(cells)
}

/// The cells that changed, as they are now (see [`super::increment::Difference::changed`]).
fn write_cells(
    tx: &Transaction<'_>,
    wave_id: i64,
    changed: &[(CellKey, Option<CellStats>, CellStats)],
) -> Result<(), StoreError> {
    let mut put = tx.prepare_cached(&format!("{CELL_INSERT} VALUES {CELL_VALUES}{CELL_UPSERT}")).map_err(writing)?;
    for ((account, role), _, stats) in changed {
        put_cell(&mut put, (wave_id, *account, role), loyalty_columns(&stats.loyalty), &packed::pack(&stats.drivers))
            .map_err(writing)?;
    }
    Ok(())
}

/// The parameters of one cell's row after [`CELL_INSERT`], for rusqlite.
pub(super) const CELL_VALUES: &str = "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

/// Runs `statement`, a [`CELL_INSERT`] with [`CELL_VALUES`], for one cell in its stored form:
/// its key (wave, account, role key), its loyalty columns and its packed driver sums.
pub(super) fn put_cell(
    statement: &mut rusqlite::Statement<'_>,
    (wave_id, account, role): (i64, i64, &str),
    [promoters, passives, detractors, ltr_sum, ltr_sumsq]: [i64; 5],
    drivers: &[u8],
) -> rusqlite::Result<usize> {
    statement.execute(params![wave_id, account, role, promoters, passives, detractors, ltr_sum, ltr_sumsq, drivers])
}

/// The answers themselves, stored at `now`, and their invitations marked answered (each at the
/// time of its latest answer in the batch, as the general path marks them). Returns the
/// answers' ids.
fn insert_answers(tx: &Transaction<'_>, batch: &[NewAnswer], now: OffsetDateTime) -> Result<Vec<i64>, StoreError> {
    let created_at = direct::stamp(now)?;
    let mut insert = tx
        .prepare_cached(&format!(
            "INSERT INTO responses ({RESPONSE_COLUMNS}, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'survey', ?9, ?10)"
        ))
        .map_err(writing)?;
    let mut ids = Vec::with_capacity(batch.len());
    for a in batch {
        insert
            .execute(params![
                a.wave_id,
                a.contact_id,
                a.account_id,
                a.invitation_id,
                time(a.submitted_at)?,
                a.ltr,
                a.comment,
                a.scores,
                a.answers,
                created_at
            ])
            .map_err(writing)?;
        ids.push(tx.last_insert_rowid());
    }
    let mut mark = tx
        .prepare_cached(
            "UPDATE invitations SET draft = NULL, answered_at = ?2, opened_at = COALESCE(opened_at, ?2) WHERE id = ?1",
        )
        .map_err(writing)?;
    for (invitation, at) in answered_at(batch) {
        mark.execute(params![invitation, time(at)?]).map_err(writing)?;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use rapport_core::answer::Intent;
    use rapport_core::survey::{Sender, relationship_template};
    use time::macros::datetime;

    use super::*;
    use crate::Kind;
    use crate::import::{ImportOptions, import_reader};
    use crate::invitations::WavePlan;
    use crate::store::Store;

    const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

    /// A SQLite store with two contacts invited to an open wave, and their invitations.
    async fn invited(
        dir: &std::path::Path,
    ) -> (Store, rapport_core::survey::Survey, Vec<crate::invitations::Invitation>) {
        let store = Store::connect(&format!("sqlite://{}", dir.join("rapport.db").display())).await.unwrap();
        for (kind, csv) in [
            (Kind::Accounts, "account_id,name\nA1,Northwind Logistics\nA2,Helix Biomedical\n"),
            (Kind::Contacts, "contact_id,account_id,name,role\nC1,A1,Ana Ruiz,executive\nC2,A1,Tom Lee,manager\n"),
        ] {
            import_reader(&store, kind, csv.as_bytes(), ImportOptions::default(), &mut |_| {}).await.unwrap();
        }
        let sender = Sender {
            company: "Acme Industrial".into(),
            contact_name: "CX team".into(),
            email: "cx@acme.example".into(),
            phone: String::new(),
            logo_svg: None,
        };
        let survey = store.save_survey(&relationship_template(sender)).await.unwrap();
        let plan = WavePlan {
            name: "2026-Q4",
            survey: &survey,
            opens_on: NOW.date(),
            closes_on: NOW.date() + time::Duration::days(21),
            accounts: None,
            roles: &[],
            exclude_days: 0,
            selection: "every contact",
            now: NOW,
        };
        let wave = store.create_wave(&plan).await.unwrap().wave_id;
        store.set_wave_status(wave, crate::waves::WaveStatus::Open, NOW).await.unwrap();
        let invitations = store.wave_invitations(wave, 0, 10).await.unwrap();
        (store, survey.survey, invitations)
    }

    fn answer(inv: &crate::invitations::Invitation, survey: &rapport_core::survey::Survey, ltr: &str) -> NewAnswer {
        let form = survey.read_answers([("ltr", ltr), ("product", "4")], Intent::Submit).unwrap();
        NewAnswer::new(inv, survey, &form, NOW).unwrap()
    }

    #[tokio::test]
    async fn a_batch_is_stored_in_place_and_a_cell_out_of_step_is_left_to_the_general_path() {
        let dir = tempfile::tempdir().unwrap();
        let (store, survey, invs) = invited(dir.path()).await;
        let Store::Sqlite(db) = &store else { unreachable!("a sqlite:// URL opens SQLite") };
        let batch = vec![answer(&invs[0], &survey, "9"), answer(&invs[1], &survey, "4")];
        assert_eq!(record_answers(db, batch, None).await.unwrap(), InPlace::Stored);
        let stored = store.dump_analytics().await.unwrap();
        assert!(!stored.is_empty(), "the answers were counted");
        store.rebuild_analytics().await.unwrap();
        assert_eq!(store.dump_analytics().await.unwrap(), stored, "the cells equal a rebuild");
        assert_eq!(store.answer_count(invs[0].id).await.unwrap(), 1);
        // Stamped as the column's default stamps a row written any other way.
        let (stamped, by_default): (String, String) = sqlx::query_as(
            "SELECT min(created_at), strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM responses WHERE source = 'survey'",
        )
        .fetch_one(db.readers())
        .await
        .unwrap();
        assert_eq!(stamped.len(), by_default.len(), "{stamped} against {by_default}");
        assert!(stamped.ends_with('Z') && stamped <= by_default, "{stamped} against {by_default}");

        // A cell emptied behind Rapport's back: nothing is written here, not even the answer.
        sqlx::query("DELETE FROM wave_account_stats").execute(db.readers()).await.unwrap();
        let again = vec![answer(&invs[0], &survey, "10")];
        assert_eq!(record_answers(db, again, None).await.unwrap(), InPlace::Declined);
        assert_eq!(store.answer_count(invs[0].id).await.unwrap(), 1, "a declined batch writes nothing");

        // A closed store takes no more answers, rather than opening the file again.
        store.close().await;
        let err = record_answers(db, vec![answer(&invs[1], &survey, "8")], None).await.unwrap_err();
        assert!(format!("{err:#}").contains("was closed"), "{err:#}");
    }

    #[tokio::test]
    async fn a_contact_who_moved_to_another_account_is_counted_in_place_there() {
        let dir = tempfile::tempdir().unwrap();
        let (store, survey, invs) = invited(dir.path()).await;
        let Store::Sqlite(db) = &store else { unreachable!("a sqlite:// URL opens SQLite") };
        assert_eq!(record_answers(db, vec![answer(&invs[1], &survey, "4")], None).await.unwrap(), InPlace::Stored);
        let moved = "contact_id,account_id,name,role\nC2,A2,Tom Lee,manager\n";
        import_reader(&store, Kind::Contacts, moved.as_bytes(), ImportOptions::default(), &mut |_| {}).await.unwrap();
        let tom = store.invitation(invs[1].id).await.unwrap().unwrap();
        assert_ne!(tom.account_id, invs[1].account_id);

        // His answer at Northwind is history there; at Helix he has answered nothing yet.
        let later = |ltr| {
            let mut a = answer(&tom, &survey, ltr);
            a.submitted_at += time::Duration::minutes(1);
            a
        };
        assert_eq!(record_answers(db, vec![later("9")], None).await.unwrap(), InPlace::Stored);
        let stored = store.dump_analytics().await.unwrap();
        store.rebuild_analytics().await.unwrap();
        assert_eq!(store.dump_analytics().await.unwrap(), stored, "the cells equal a rebuild");
    }

    #[tokio::test]
    async fn the_schemas_one_trigger_is_what_the_answer_writer_does_itself() {
        // The answer writer's connection writes with triggers off (`direct::ANSWER_WRITER`):
        // a trigger added to the schema would not fire for the answers it stores, so whatever
        // it does, the batch must do too (as it does the inbox's, `alerts::in_place`).
        let dir = tempfile::tempdir().unwrap();
        let (store, _, _) = invited(dir.path()).await;
        let Store::Sqlite(db) = &store else { unreachable!("a sqlite:// URL opens SQLite") };
        let triggers: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
                .fetch_all(db.readers())
                .await
                .unwrap();
        assert_eq!(triggers, ["responses_to_inbox"]);
    }
}
