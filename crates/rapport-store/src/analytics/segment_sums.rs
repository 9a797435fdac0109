//! One wave's cells added up by segment on SQLite, as they stream by (through rusqlite, see
//! [`crate::direct`]).
//!
//! SQLite groups rows by sorting them in a temporary B-tree: for the 1.5M driver rows of a
//! wave at 100,000 accounts that took 3 s, and joining each row to its account cost more than
//! reading it. So each account's segment is read once, then the wave's loyalty cells (and, for
//! the key driver analysis, its driver rows) are summed per segment in one pass each.
//! PostgreSQL keeps its `GROUP BY` (hash aggregation); a store test checks both against the
//! cells added up by segment, for every dimension.

use std::collections::{BTreeMap, HashMap};

use rapport_core::segment::Dimension;
use rapport_core::stats::CellStats;
use rusqlite::Connection;

use super::{DriverRow, counts, segment_column};

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
    /// Per segment, per driver: n, sum x, sum x², sum xy, sum y, sum y².
    driver_sums: Vec<Vec<Option<[i64; 6]>>>,
}

/// Sums the cells of `wave_id` by `by`: loyalty always, driver rows when `drivers`.
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
    // Rows come by account: its segment is looked up once per run of its rows. A cell whose account
    // is gone is left out, as the join of the grouped query leaves it out.
    let mut last: Option<(i64, Option<usize>)> = None;
    let mut segment = |sums: &mut SegmentSums, r: &rusqlite::Row<'_>| -> rusqlite::Result<Option<usize>> {
        if !per_account {
            return Ok(Some(sums.segment(Some(r.get_ref(1)?.as_str()?))));
        }
        let account: i64 = r.get(0)?;
        Ok(match last {
            Some((a, segment)) if a == account => segment,
            _ => {
                let segment = segment_of.get(&account).copied();
                last = Some((account, segment));
                segment
            }
        })
    };
    let mut statement = db.prepare(
        "SELECT account_id, role, promoters, passives, detractors, ltr_sum, ltr_sumsq \
         FROM wave_account_stats WHERE wave_id = ?1",
    )?;
    let mut rows = statement.query([wave_id])?;
    while let Some(r) = rows.next()? {
        let Some(s) = segment(&mut sums, r)? else { continue };
        sums.counted[s] = true;
        for (i, sum) in sums.loyalty[s].iter_mut().enumerate() {
            *sum += r.get::<_, i64>(i + 2)?;
        }
    }
    if drivers {
        let mut statement = db.prepare(
            "SELECT account_id, role, driver, n, sum_x, sum_xx, sum_xy, sum_y, sum_yy \
             FROM wave_driver_stats WHERE wave_id = ?1",
        )?;
        let mut rows = statement.query([wave_id])?;
        while let Some(r) = rows.next()? {
            let Some(s) = segment(&mut sums, r)? else { continue };
            let values = [r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?];
            sums.add_driver(s, r.get_ref(2)?.as_str()?, values);
        }
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

    fn add_driver(&mut self, segment: usize, driver: &str, values: [i64; 6]) {
        let d = self.drivers.iter().position(|known| known == driver).unwrap_or_else(|| {
            self.drivers.push(driver.to_string());
            self.drivers.len() - 1
        });
        self.counted[segment] = true;
        let row = &mut self.driver_sums[segment];
        if row.len() <= d {
            row.resize(d + 1, None);
        }
        let sums = row[d].get_or_insert([0; 6]);
        for (sum, v) in sums.iter_mut().zip(values) {
            *sum += v;
        }
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
                    stats.drivers.entry(driver.clone()).or_default().merge(&DriverRow::sums_of(sums));
                }
            }
        }
        out
    }
}
