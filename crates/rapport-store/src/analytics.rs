//! The analytics cells: per (wave, account, contact role level) sufficient statistics over
//! the latest answer of each contact, kept current in the same transaction as the answers
//! (see [`crate::writer`]), and rebuilt from all answers on demand. Reports read cells and
//! merge them in `rapport-core`; they never scan answers.

use std::collections::{BTreeMap, HashSet};

use futures_util::TryStreamExt;
use rapport_core::account::{Account, RelationshipStyle};
use rapport_core::contact::RoleLevel;
use rapport_core::money::Money;
use rapport_core::stats::CellStats;
use sqlx::QueryBuilder;
use time::{Date, OffsetDateTime};

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;
use crate::tx::{Tx, on_tx};

/// How a role level is stored in a cell key (`none` for contacts without one).
fn role_key(role: Option<RoleLevel>) -> &'static str {
    role.map_or("none", RoleLevel::as_str)
}

/// One answer as the fold needs it.
#[derive(sqlx::FromRow)]
struct AnswerRow {
    id: i64,
    wave_id: i64,
    account_id: i64,
    contact_id: i64,
    role: Option<String>,
    submitted_at: OffsetDateTime,
    ltr: i32,
    scores: String,
}

const ANSWER_COLUMNS: &str = "r.id, r.wave_id, r.account_id, r.contact_id, c.role, r.submitted_at, r.ltr, r.scores \
     FROM responses r JOIN contacts c ON c.id = r.contact_id";

/// A finished cell, ready to store.
struct Cell {
    wave_id: i64,
    account_id: i64,
    role: &'static str,
    stats: CellStats,
}

/// Folds answers ordered by (wave, account, contact) into cells, keeping only the latest
/// answer of each contact (greatest `submitted_at`, then greatest id).
#[derive(Default)]
struct Folder {
    group: Option<(i64, i64)>,
    cells: BTreeMap<&'static str, CellStats>,
    best: Option<AnswerRow>,
    done: Vec<Cell>,
}

impl Folder {
    fn push(&mut self, row: AnswerRow) -> Result<(), StoreError> {
        let same_contact = self
            .best
            .as_ref()
            .is_some_and(|b| (b.wave_id, b.account_id, b.contact_id) == (row.wave_id, row.account_id, row.contact_id));
        if same_contact {
            let best = self.best.as_ref().expect("checked above");
            if (row.submitted_at, row.id) > (best.submitted_at, best.id) {
                self.best = Some(row);
            }
            return Ok(());
        }
        self.take_best()?;
        if self.group != Some((row.wave_id, row.account_id)) {
            self.close_group();
            self.group = Some((row.wave_id, row.account_id));
        }
        self.best = Some(row);
        Ok(())
    }

    fn take_best(&mut self) -> Result<(), StoreError> {
        let Some(best) = self.best.take() else { return Ok(()) };
        let scores: BTreeMap<String, u8> = serde_json::from_str(&best.scores).map_err(|e| {
            StoreError::Other(anyhow::Error::new(e).context(format!("reading the scores of answer {}", best.id)))
        })?;
        let drivers: Vec<(&str, u8)> = scores.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let ltr = u8::try_from(best.ltr).ok().filter(|l| *l <= 10).ok_or_else(|| {
            StoreError::Other(anyhow::anyhow!("answer {} has an LTR of {} outside 0-10", best.id, best.ltr))
        })?;
        let role = role_key(best.role.as_deref().and_then(RoleLevel::parse));
        self.cells.entry(role).or_default().add_answer(ltr, &drivers);
        Ok(())
    }

    fn close_group(&mut self) {
        if let Some((wave_id, account_id)) = self.group.take() {
            for (role, stats) in std::mem::take(&mut self.cells) {
                self.done.push(Cell { wave_id, account_id, role, stats });
            }
        }
    }

    fn finish(mut self) -> Result<Vec<Cell>, StoreError> {
        self.take_best()?;
        self.close_group();
        Ok(self.done)
    }
}

/// Account ids per wave whose cells must be recomputed.
pub(crate) type Touched = BTreeMap<i64, HashSet<i64>>;

/// Accounts per statement when cells are refreshed.
const REFRESH_CHUNK: usize = 400;
/// Cells per insert statement.
const INSERT_CHUNK: usize = 500;

async fn insert_cells(tx: &mut Tx, cells: &[Cell]) -> Result<(), StoreError> {
    for chunk in cells.chunks(INSERT_CHUNK) {
        let rows: Vec<(i64, i64, &str, String)> = chunk
            .iter()
            .map(|c| {
                let json = serde_json::to_string(&c.stats).expect("cell statistics always serialise");
                (c.wave_id, c.account_id, c.role, json)
            })
            .collect();
        on_tx!(tx, |t| {
            let mut qb = QueryBuilder::new("INSERT INTO wave_account_stats (wave_id, account_id, role, stats) ");
            qb.push_values(&rows, |mut b, (w, a, r, s)| {
                b.push_bind(*w).push_bind(*a).push_bind(*r).push_bind(s.as_str());
            });
            qb.build().execute(&mut **t).await?;
        });
    }
    Ok(())
}

/// Recomputes the cells of the given (wave, account) pairs from their answers, inside the
/// transaction that changed those answers.
pub(crate) async fn refresh_cells(tx: &mut Tx, touched: &Touched) -> Result<(), StoreError> {
    for (&wave_id, accounts) in touched {
        let mut ids: Vec<i64> = accounts.iter().copied().collect();
        ids.sort_unstable();
        for chunk in ids.chunks(REFRESH_CHUNK) {
            let rows: Vec<AnswerRow> = on_tx!(tx, |t| {
                let mut qb = QueryBuilder::new(format!("SELECT {ANSWER_COLUMNS} WHERE r.wave_id = "));
                qb.push_bind(wave_id).push(" AND r.account_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(") ORDER BY r.account_id, r.contact_id");
                qb.build_query_as().fetch_all(&mut **t).await?
            });
            let mut folder = Folder::default();
            for row in rows {
                folder.push(row)?;
            }
            let cells = folder.finish()?;
            on_tx!(tx, |t| {
                let mut qb = QueryBuilder::new("DELETE FROM wave_account_stats WHERE wave_id = ");
                qb.push_bind(wave_id).push(" AND account_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(")");
                qb.build().execute(&mut **t).await?;
            });
            insert_cells(tx, &cells).await?;
        }
    }
    Ok(())
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildSummary {
    /// Answers read.
    pub answers: u64,
    /// Cells written.
    pub cells: u64,
}

/// A wave, as reports list it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WaveInfo {
    /// Internal id.
    pub id: i64,
    /// Its name, e.g. 2026-Q3.
    pub name: String,
    /// First day of answers, when known.
    pub opens_on: Option<Date>,
    /// Last day, when known.
    pub closes_on: Option<Date>,
    /// draft, open or closed.
    pub status: String,
}

/// An account with its internal id, as reports need it.
#[derive(Debug, Clone)]
pub struct PortfolioAccount {
    /// Internal id (the key of analytics cells).
    pub id: i64,
    /// The account (custom attributes are not loaded).
    pub account: Account,
}

#[derive(sqlx::FromRow)]
struct PortfolioRow {
    id: i64,
    external_id: String,
    name: String,
    vertical: Option<String>,
    region: Option<String>,
    owner_email: Option<String>,
    billed_revenue: Option<i64>,
    potential_revenue: Option<i64>,
    cost_of_sales: Option<i64>,
    payment_days: Option<i32>,
    relationship_style: Option<String>,
    strategic: Option<bool>,
}

/// One cell as reports read it.
#[derive(Debug, Clone, PartialEq)]
pub struct WaveCell {
    /// The account's internal id.
    pub account_id: i64,
    /// The contacts' role level (None: contacts without one).
    pub role: Option<RoleLevel>,
    /// The statistics.
    pub stats: CellStats,
}

impl Store {
    /// Recomputes every analytics cell from all answers, in one transaction. The result is
    /// identical to what answers and imports maintained incrementally.
    pub async fn rebuild_analytics(&self) -> Result<RebuildSummary, StoreError> {
        let mut tx = Tx::begin(self).await?;
        on_tx!(&mut tx, |t| {
            sqlx::query("DELETE FROM wave_account_stats").execute(&mut **t).await?;
        });
        let sql = format!("SELECT {ANSWER_COLUMNS} ORDER BY r.wave_id, r.account_id, r.contact_id");
        let mut answers = 0u64;
        let mut cells = 0u64;
        let mut folder = Folder::default();
        // Read through the pool while writing through the transaction: the answers are not
        // changed by a rebuild, so a snapshot read is exact.
        on_pool!(self, |pool| {
            let mut rows = sqlx::query_as::<_, AnswerRow>(&sql).fetch(pool);
            while let Some(row) = rows.try_next().await? {
                answers += 1;
                folder.push(row)?;
                if folder.done.len() >= INSERT_CHUNK {
                    let ready = std::mem::take(&mut folder.done);
                    cells += ready.len() as u64;
                    insert_cells(&mut tx, &ready).await?;
                }
            }
        });
        let rest = folder.finish()?;
        cells += rest.len() as u64;
        insert_cells(&mut tx, &rest).await?;
        tx.commit().await?;
        Ok(RebuildSummary { answers, cells })
    }

    /// Every wave, oldest first.
    pub async fn list_waves(&self) -> Result<Vec<WaveInfo>, StoreError> {
        let sql = "SELECT id, name, opens_on, closes_on, status FROM waves ORDER BY opens_on, name";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, WaveInfo>(sql).fetch_all(pool).await?))
    }

    /// Every account with the fields reports use, ordered by CRM id.
    pub async fn portfolio_accounts(&self) -> Result<Vec<PortfolioAccount>, StoreError> {
        let sql = "SELECT id, external_id, name, vertical, region, owner_email, billed_revenue, potential_revenue, \
                   cost_of_sales, payment_days, relationship_style, strategic FROM accounts ORDER BY external_id";
        let rows: Vec<PortfolioRow> = on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|r| PortfolioAccount {
                id: r.id,
                account: Account {
                    account_id: r.external_id,
                    name: r.name,
                    vertical: r.vertical,
                    region: r.region,
                    owner_email: r.owner_email,
                    billed_revenue: r.billed_revenue.map(Money),
                    potential_revenue: r.potential_revenue.map(Money),
                    cost_of_sales: r.cost_of_sales.map(Money),
                    payment_days: r.payment_days,
                    relationship_style: r.relationship_style.as_deref().and_then(RelationshipStyle::parse),
                    strategic: r.strategic,
                    attributes: BTreeMap::new(),
                },
            })
            .collect())
    }

    /// The analytics cells of one wave.
    pub async fn wave_cells(&self, wave_id: i64) -> Result<Vec<WaveCell>, StoreError> {
        let sql = "SELECT account_id, role, stats FROM wave_account_stats WHERE wave_id = $1";
        let rows: Vec<(i64, String, String)> =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(wave_id).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(account_id, role, stats)| {
                let stats: CellStats = serde_json::from_str(&stats).map_err(|e| {
                    StoreError::Other(
                        anyhow::Error::new(e).context("reading analytics cells: run `rapport analytics rebuild`"),
                    )
                })?;
                Ok(WaveCell { account_id, role: RoleLevel::parse(&role), stats })
            })
            .collect()
    }

    /// Invitations sent per account in a wave (empty when the wave's answers were imported).
    pub async fn invitations_per_account(&self, wave_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let sql = "SELECT c.account_id, COUNT(*) FROM invitations i JOIN contacts c ON c.id = i.contact_id \
                   WHERE i.wave_id = $1 GROUP BY c.account_id";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql).bind(wave_id).fetch_all(pool).await?))
    }

    /// Contacts on file per account (the base of response rates for imported waves).
    pub async fn contacts_per_account(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        let sql = "SELECT account_id, COUNT(*) FROM contacts GROUP BY account_id";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?))
    }

    /// Every cell as stored (wave id, account id, role, JSON), in key order: for tests that
    /// compare incremental maintenance with a rebuild.
    pub async fn dump_analytics(&self) -> Result<Vec<(i64, i64, String, String)>, StoreError> {
        let sql = "SELECT wave_id, account_id, role, stats FROM wave_account_stats ORDER BY wave_id, account_id, role";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?))
    }
}
