//! One wave's cells added up by segment, as they stream by: on SQLite through rusqlite (see
//! [`crate::direct`]), on PostgreSQL through sqlx.
//!
//! SQLite groups rows by sorting them in a temporary B-tree, and joining each cell to its
//! account cost more than reading it: so each account's segment is read once, then the wave's
//! cells are summed per segment in one pass. A cell's driver sums are packed in its row
//! ([`super::packed`]), which neither database can add up, so the key driver analysis sums
//! them here on both backends (PostgreSQL joins each cell to its account's segment). A store
//! test checks both against the cells added up by segment, for every dimension.

use std::collections::{BTreeMap, HashMap};

use futures_util::TryStreamExt;
use rapport_core::segment::Dimension;
use rapport_core::stats::{CellStats, DriverSums};
use rusqlite::Connection;
use sqlx::PgPool;

use super::{counts, packed, segment_column};
use crate::error::StoreError;

/// Sums per stored segment value.
#[derive(Default)]
pub(super) struct SegmentSums {
    /// The stored segment values met, in order.
    segments: Vec<Option<String>>,
    /// Where each non-empty value is in `segments`.
    index: HashMap<String, usize>,
    /// Where the empty value is in `segments`, once met.
    empty: Option<usize>,
    /// Per segment: whether a cell of the wave was counted in it.
    counted: Vec<bool>,
    /// Per segment: promoters, passives, detractors, LTR sum, LTR sum of squares.
    loyalty: Vec<[i64; 5]>,
    /// The drivers met (a survey has a handful: a linear search beats hashing).
    drivers: Vec<String>,
    /// Per segment, per driver.
    driver_sums: Vec<Vec<Option<DriverSums>>>,
}

/// Sums the cells of `wave_id` by `by` on SQLite: loyalty always, driver sums when `drivers`.
pub(super) fn read(db: &Connection, wave_id: i64, by: Dimension, drivers: bool) -> rusqlite::Result<SegmentSums> {
    let mut sums = SegmentSums::default();
    // Role is the cell's own key; every other dimension is a property of the account.
    let per_account = by != Dimension::Role;
    let mut segment_of: HashMap<i64, usize> = HashMap::new();
    if per_account {
        let mut statement = db.prepare(&format!("SELECT a.id, {} FROM accounts a", segment_column(by)))?;
        let mut rows = statement.query([])?;
        while let Some(r) = rows.next()? {
            let segment = sums.segment(r.get_ref(1)?.as_str_or_null()?);
            segment_of.insert(r.get(0)?, segment);
        }
    }
    let mut statement = db.prepare(
        "SELECT account_id, role, promoters, passives, detractors, ltr_sum, ltr_sumsq, drivers \
         FROM wave_account_stats WHERE wave_id = ?1",
    )?;
    let mut rows = statement.query([wave_id])?;
    // Rows come by account: its segment is looked up once per run of its rows. A cell whose
    // account is gone is left out, as the join of a grouped query leaves it out.
    let mut last: Option<(i64, Option<usize>)> = None;
    while let Some(r) = rows.next()? {
        let segment = if per_account {
            let account: i64 = r.get(0)?;
            match last {
                Some((a, segment)) if a == account => segment,
                _ => {
                    let segment = segment_of.get(&account).copied();
                    last = Some((account, segment));
                    segment
                }
            }
        } else {
            Some(sums.segment(Some(r.get_ref(1)?.as_str()?)))
        };
        let Some(s) = segment else { continue };
        let mut loyalty = [0i64; 5];
        for (i, v) in loyalty.iter_mut().enumerate() {
            *v = r.get(i + 2)?;
        }
        let packed = if drivers { Some(r.get_ref(7)?.as_blob()?) } else { None };
        sums.add_cell(s, loyalty, packed)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Blob, Box::new(e)))?;
    }
    Ok(sums)
}

/// Sums the cells of `wave_id` by `by` on PostgreSQL, loyalty and driver sums.
pub(super) async fn read_postgres(pool: &PgPool, wave_id: i64, by: Dimension) -> Result<SegmentSums, StoreError> {
    let sql = format!(
        "SELECT {} AS k, s.promoters, s.passives, s.detractors, s.ltr_sum, s.ltr_sumsq, s.drivers \
         FROM wave_account_stats s JOIN accounts a ON a.id = s.account_id WHERE s.wave_id = $1",
        segment_column(by)
    );
    type Row = (Option<String>, i64, i64, i64, i64, i64, Vec<u8>);
    let mut sums = SegmentSums::default();
    let mut rows = sqlx::query_as::<_, Row>(&sql).bind(wave_id).fetch(pool);
    while let Some((k, p, pa, d, s, ss, drivers)) = rows.try_next().await? {
        let segment = sums.segment(k.as_deref());
        sums.add_cell(segment, [p, pa, d, s, ss], Some(&drivers))?;
    }
    Ok(sums)
}

impl SegmentSums {
    /// The index of a stored segment value, allocating only for a value not met before.
    fn segment(&mut self, value: Option<&str>) -> usize {
        let known = match value {
            Some(v) => self.index.get(v).copied(),
            None => self.empty,
        };
        known.unwrap_or_else(|| {
            let i = self.segments.len();
            self.segments.push(value.map(str::to_string));
            self.counted.push(false);
            self.loyalty.push([0; 5]);
            self.driver_sums.push(Vec::new());
            match value {
                Some(v) => {
                    self.index.insert(v.to_string(), i);
                }
                None => self.empty = Some(i),
            }
            i
        })
    }

    /// Adds one cell to `segment`: its loyalty sums, and its packed driver sums when given.
    fn add_cell(&mut self, segment: usize, loyalty: [i64; 5], drivers: Option<&[u8]>) -> Result<(), StoreError> {
        self.counted[segment] = true;
        for (sum, v) in self.loyalty[segment].iter_mut().zip(loyalty) {
            *sum += v;
        }
        let Some(drivers) = drivers else { return Ok(()) };
        let (known, sums_of) = (&mut self.drivers, &mut self.driver_sums[segment]);
        packed::for_each(drivers, |i, driver, sums| {
            // Cells of one survey list the same drivers in the same (key) order: the i-th is
            // usually the i-th met, and otherwise found by a search.
            let d = match known.get(i) {
                Some(k) if k == driver => i,
                _ => known.iter().position(|k| k == driver).unwrap_or_else(|| {
                    known.push(driver.to_string());
                    known.len() - 1
                }),
            };
            if sums_of.len() <= d {
                sums_of.resize(d + 1, None);
            }
            sums_of[d].get_or_insert_with(DriverSums::default).merge(&sums);
        })
    }

    /// The statistics per segment, named as reports name them: stored values that name the
    /// same segment ("Retail" and " Retail") merge here. A segment met only among accounts
    /// with no cell in the wave is left out, as the grouped query leaves it out.
    pub(super) fn into_stats(self, by: Dimension) -> BTreeMap<String, CellStats> {
        let mut out: BTreeMap<String, CellStats> = BTreeMap::new();
        let drivers = self.drivers;
        let segments = self.segments.iter().zip(self.counted).zip(self.loyalty).zip(self.driver_sums);
        for (((raw, counted), loyalty), driver_sums) in segments {
            if !counted {
                continue;
            }
            let stats = out.entry(by.key_of_value(raw.as_deref()).into_owned()).or_default();
            stats.loyalty.merge(&counts(loyalty));
            for (driver, sums) in drivers.iter().zip(driver_sums) {
                if let Some(sums) = sums {
                    stats.drivers.entry(driver.clone()).or_default().merge(&sums);
                }
            }
        }
        out
    }
}
