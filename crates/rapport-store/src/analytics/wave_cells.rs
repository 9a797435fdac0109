//! One wave's analytics cells, read once and held in memory compactly: what every figure of a
//! wave is summed from (loyalty per account for the matrix, loyalty and driver sums per
//! segment for the NPS and key driver reports, and any filtered view of them).
//!
//! Why one read for all: at 100,000 accounts a wave has 257,000 cells, and reading them is
//! most of what a report costs the first time after a start. The NPS, drivers and quadrant
//! reports each used to read the wave's cells their own way (summed per account, per segment
//! with the accounts' segments, with or without the driver sums). Read once with their packed
//! driver sums ([`super::packed`], about 100 bytes a cell), the cells of a wave take about
//! 40 MB, and every report of that wave is then a pass in memory over them
//! ([`crate::report_cache`] keeps them while the data is unchanged).

use std::collections::{BTreeMap, HashMap};

use rapport_core::contact::RoleLevel;
use rapport_core::loyalty::LoyaltyCounts;
use rapport_core::segment::Dimension;
use rapport_core::stats::{CellStats, DriverSums};

use super::{PortfolioAccount, WaveCell, counts, packed};
use crate::error::StoreError;

/// From this many cells on, [`WaveCells::by_segment`] sums two halves at once.
const SPLIT_FROM: usize = 20_000;

/// A wave's cells, column by column, in the order read.
#[derive(Debug, Default)]
pub struct WaveCells {
    /// Per cell: the account's internal id and the contacts' role level.
    keys: Vec<(i64, Option<RoleLevel>)>,
    /// Per cell: its loyalty counts.
    loyalty: Vec<LoyaltyCounts>,
    /// Every cell's packed driver sums, one after the other.
    drivers: Vec<u8>,
    /// Per cell: where its packed driver sums end in `drivers`.
    ends: Vec<usize>,
}

impl WaveCells {
    /// Room for `cells` cells.
    pub(crate) fn with_capacity(cells: usize) -> WaveCells {
        WaveCells {
            keys: Vec::with_capacity(cells),
            loyalty: Vec::with_capacity(cells),
            // Six drivers, the template's, pack into about 100 bytes.
            drivers: Vec::with_capacity(cells * 100),
            ends: Vec::with_capacity(cells),
        }
    }

    /// Adds a cell as stored: its account, its role key, its five loyalty sums and its packed
    /// driver sums.
    pub(crate) fn push(&mut self, account_id: i64, role: &str, loyalty: [i64; 5], drivers: &[u8]) {
        self.keys.push((account_id, stored_role(role)));
        self.loyalty.push(counts(loyalty));
        self.drivers.extend_from_slice(drivers);
        self.ends.push(self.drivers.len());
    }

    /// Adds the cells of `other` after these.
    pub(crate) fn append(&mut self, other: WaveCells) {
        if self.is_empty() {
            *self = other;
            return;
        }
        let offset = self.drivers.len();
        self.keys.extend_from_slice(&other.keys);
        self.loyalty.extend_from_slice(&other.loyalty);
        self.drivers.extend_from_slice(&other.drivers);
        self.ends.extend(other.ends.iter().map(|end| end + offset));
    }

    /// The number of cells.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the wave has no cell (nobody answered in it).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn packed(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.drivers[start..self.ends[i]]
    }

    /// Every cell whole, in key order (account, then role level): for tests and dumps; reports
    /// sum the cells without making them.
    pub fn to_cells(&self) -> Result<Vec<WaveCell>, StoreError> {
        let mut cells = (0..self.len())
            .map(|i| {
                let (account_id, role) = self.keys[i];
                let drivers = packed::unpack_owned(self.packed(i))?;
                Ok(WaveCell { account_id, role, stats: CellStats { loyalty: self.loyalty[i], drivers } })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        cells.sort_by_key(|c| (c.account_id, c.role.map(RoleLevel::as_str).unwrap_or("none")));
        Ok(cells)
    }

    /// Loyalty counts per account (all role levels merged), by internal id.
    pub fn loyalty_per_account(&self) -> HashMap<i64, LoyaltyCounts> {
        // An account's cells are read one after another (its role levels): each run of them is
        // summed first, so the map takes one entry per account and is sized for them.
        let runs = self.keys.iter().zip(self.keys.iter().skip(1)).filter(|(a, b)| a.0 != b.0).count() + 1;
        let mut out: HashMap<i64, LoyaltyCounts> = HashMap::with_capacity(runs);
        let mut run: Option<(i64, LoyaltyCounts)> = None;
        for (&(account, _), loyalty) in self.keys.iter().zip(&self.loyalty) {
            match &mut run {
                Some((a, sum)) if *a == account => sum.merge(loyalty),
                _ => {
                    if let Some((a, sum)) = run.replace((account, *loyalty)) {
                        out.entry(a).or_default().merge(&sum);
                    }
                }
            }
        }
        if let Some((a, sum)) = run {
            out.entry(a).or_default().merge(&sum);
        }
        out
    }

    /// The statistics per segment of `by` (None: one segment, "all") over the cells of the
    /// `accounts` that `shown` keeps (None: all of them), named as reports name segments: the
    /// loyalty counts always, the driver sums when `with_drivers`. A cell whose account is not
    /// among `accounts` is left out, as a join to the accounts leaves it out.
    pub fn by_segment(
        &self,
        accounts: &[PortfolioAccount],
        by: Option<Dimension>,
        shown: Option<&[bool]>,
        with_drivers: bool,
    ) -> Result<BTreeMap<String, CellStats>, StoreError> {
        // Each account's place in `accounts` by id, found by a search in this sorted list.
        let mut places: Vec<(i64, usize)> = accounts.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
        places.sort_unstable();
        let pass = |cells: std::ops::Range<usize>| self.sum_segments(cells, accounts, &places, by, shown, with_drivers);
        if self.len() < SPLIT_FROM {
            return pass(0..self.len());
        }
        // A large wave in two halves on two threads: every sum is an integer, so the halves
        // merge to exactly the figures of one pass (the key driver analysis of 257,000 cells
        // took 56 ms on one core).
        let middle = self.len() / 2;
        let (first, second) = std::thread::scope(|scope| {
            let second = scope.spawn(|| pass(middle..self.len()));
            (pass(0..middle), second.join())
        });
        let mut merged = first?;
        let second =
            second.map_err(|_| StoreError::Other(anyhow::anyhow!("summing a wave's analytics cells stopped")))?;
        for (segment, stats) in second? {
            merged.entry(segment).or_default().merge(&stats);
        }
        Ok(merged)
    }

    /// [`WaveCells::by_segment`] over the cells in `cells`, with `places` each account's place
    /// in `accounts` by id, sorted.
    fn sum_segments(
        &self,
        cells: std::ops::Range<usize>,
        accounts: &[PortfolioAccount],
        places: &[(i64, usize)],
        by: Option<Dimension>,
        shown: Option<&[bool]>,
        with_drivers: bool,
    ) -> Result<BTreeMap<String, CellStats>, StoreError> {
        let mut sums = Sums::default();
        // A dimension other than role level is the account's: its segment is found once per
        // account (u32::MAX: not yet).
        let per_account = by.is_some_and(|d| d != Dimension::Role);
        let mut segment_of_account = vec![u32::MAX; if per_account { accounts.len() } else { 0 }];
        let mut last: Option<(i64, Option<usize>)> = None;
        for i in cells {
            let (account_id, role) = self.keys[i];
            let place = match last {
                Some((id, place)) if id == account_id => place,
                _ => {
                    let place = places.binary_search_by_key(&account_id, |&(id, _)| id).ok().map(|p| places[p].1);
                    last = Some((account_id, place));
                    place
                }
            };
            let Some(place) = place else { continue };
            if shown.is_some_and(|s| !s[place]) {
                continue;
            }
            let segment = match by {
                None => sums.segment("all"),
                Some(d) if per_account => match segment_of_account[place] {
                    u32::MAX => {
                        let s = sums.segment(&d.key(&accounts[place].account, None));
                        segment_of_account[place] = s as u32;
                        s
                    }
                    s => s as usize,
                },
                Some(d) => sums.segment(&d.key(&accounts[place].account, role)),
            };
            sums.loyalty[segment].merge(&self.loyalty[i]);
            if with_drivers {
                sums.add_drivers(segment, self.packed(i))?;
            }
        }
        Ok(sums.into_stats())
    }
}

/// A cell's role key as the store writes it (`none` for contacts without a level), read
/// without the allocation of [`RoleLevel::parse`] for the keys Rapport writes.
fn stored_role(key: &str) -> Option<RoleLevel> {
    match key {
        "executive" => Some(RoleLevel::Executive),
        "manager" => Some(RoleLevel::Manager),
        "user" => Some(RoleLevel::User),
        "none" => None,
        other => RoleLevel::parse(other),
    }
}

/// Sums per segment while the cells go by.
#[derive(Default)]
struct Sums {
    /// The segments met, in order, and where each is.
    names: Vec<String>,
    index: HashMap<String, usize>,
    /// Per segment.
    loyalty: Vec<LoyaltyCounts>,
    /// The drivers met (a survey has a handful: a search in order beats hashing).
    drivers: Vec<String>,
    /// Per segment, per driver.
    driver_sums: Vec<Vec<Option<DriverSums>>>,
}

impl Sums {
    /// The index of segment `name`, allocating only for a segment not met before.
    fn segment(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len();
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        self.loyalty.push(LoyaltyCounts::default());
        self.driver_sums.push(Vec::new());
        i
    }

    /// Adds one cell's packed driver sums to `segment`.
    fn add_drivers(&mut self, segment: usize, packed: &[u8]) -> Result<(), StoreError> {
        let (known, sums_of) = (&mut self.drivers, &mut self.driver_sums[segment]);
        packed::for_each(packed, |i, driver, sums| {
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

    fn into_stats(self) -> BTreeMap<String, CellStats> {
        let drivers = self.drivers;
        let segments = self.names.into_iter().zip(self.loyalty).zip(self.driver_sums);
        segments
            .map(|((name, loyalty), sums)| {
                let drivers =
                    drivers.iter().zip(sums).filter_map(|(driver, sums)| sums.map(|s| (driver.clone(), s))).collect();
                (name, CellStats { loyalty, drivers })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use rapport_core::account::Account;

    use super::*;

    fn account(id: i64, vertical: &str) -> PortfolioAccount {
        PortfolioAccount { id, account: Account { vertical: Some(vertical.to_string()), ..Account::default() } }
    }

    fn drivers(n: u64) -> Vec<u8> {
        let sums = DriverSums { n, sum_x: 4 * n, sum_xx: 16 * n, sum_xy: 36 * n, sum_y: 9 * n, sum_yy: 81 * n };
        packed::pack(&BTreeMap::from([("support".to_string(), sums)]))
    }

    /// Cells of accounts 1 (Retail, two role levels), 2 (" Retail": the same segment) and
    /// 3 (Energy), and one of account 9, which is not in the portfolio.
    fn cells() -> (Vec<PortfolioAccount>, WaveCells) {
        // The portfolio in CRM order, not by internal id.
        let accounts = vec![account(3, "Energy"), account(1, "Retail"), account(2, " Retail")];
        (accounts, read(&rows()))
    }

    /// The cells of [`cells`] as stored: account, role key, loyalty sums, packed drivers.
    fn rows() -> Vec<(i64, &'static str, [i64; 5], Vec<u8>)> {
        vec![
            (1, "executive", [1, 0, 0, 10, 100], drivers(1)),
            (1, "none", [0, 0, 1, 3, 9], vec![0]),
            (2, "manager", [0, 1, 0, 7, 49], drivers(2)),
            (3, "user", [0, 0, 2, 8, 40], drivers(1)),
            (9, "user", [5, 0, 0, 50, 500], drivers(5)),
        ]
    }

    /// `rows` read into a wave's cells.
    fn read(rows: &[(i64, &'static str, [i64; 5], Vec<u8>)]) -> WaveCells {
        let mut cells = WaveCells::with_capacity(rows.len());
        for (account, role, loyalty, drivers) in rows {
            cells.push(*account, role, *loyalty, drivers);
        }
        cells
    }

    #[test]
    fn cells_sum_per_segment_of_the_accounts_shown_and_leave_out_accounts_not_in_the_portfolio() {
        let (accounts, cells) = cells();
        let by_vertical = cells.by_segment(&accounts, Some(Dimension::Vertical), None, true).unwrap();
        assert_eq!(by_vertical.keys().collect::<Vec<_>>(), ["Energy", "Retail"]);
        let retail = &by_vertical["Retail"];
        assert_eq!((retail.loyalty.promoters, retail.loyalty.passives, retail.loyalty.detractors), (1, 1, 1));
        assert_eq!(retail.drivers["support"].n, 3, "a cell without drivers adds none");
        let by_role = cells.by_segment(&accounts, Some(Dimension::Role), None, false).unwrap();
        assert_eq!(by_role.keys().collect::<Vec<_>>(), ["(none)", "executive", "manager", "user"]);
        assert!(by_role.values().all(|s| s.drivers.is_empty()), "driver sums only when asked");
        assert_eq!(by_role["user"].loyalty.detractors, 2, "account 9's cell is left out");

        // A filtered view: Energy's account hidden (its place in the portfolio is 0).
        let shown = [false, true, true];
        let all = cells.by_segment(&accounts, None, Some(&shown), true).unwrap();
        assert_eq!(all.keys().collect::<Vec<_>>(), ["all"]);
        assert_eq!(all["all"].loyalty.n(), 3);
    }

    #[test]
    fn loyalty_per_account_merges_role_levels_and_cells_come_back_whole_in_key_order() {
        let (_, cells) = cells();
        let per_account = cells.loyalty_per_account();
        assert_eq!((per_account[&1].promoters, per_account[&1].detractors, per_account[&1].ltr_sum), (1, 1, 13));
        let whole = cells.to_cells().unwrap();
        let keys: Vec<_> = whole.iter().map(|c| (c.account_id, c.role)).collect();
        assert_eq!(keys[..2], [(1, Some(RoleLevel::Executive)), (1, None)]);
        assert_eq!(whole[0].stats.drivers["support"].sum_xy, 36);

        // PostgreSQL reads a wave's cells in no particular order: an account's cells may be apart.
        let mut apart = WaveCells::with_capacity(3);
        apart.push(1, "user", [1, 0, 0, 9, 81], &[0]);
        apart.push(2, "user", [0, 1, 0, 8, 64], &[0]);
        apart.push(1, "manager", [0, 0, 1, 0, 0], &[0]);
        let per_account = apart.loyalty_per_account();
        assert_eq!((per_account[&1].n(), per_account[&1].ltr_sum, per_account[&2].n()), (2, 9, 1));
    }

    #[test]
    fn a_large_wave_summed_in_two_halves_gives_exactly_the_figures_of_one_pass() {
        // Three verticals; each account has two role levels, and the middle falls inside
        // an account's run of cells; a quarter of the cells rate no driver.
        let verticals = ["Energy", "Retail", "Logistics"];
        let accounts: Vec<PortfolioAccount> =
            (0..SPLIT_FROM as i64).map(|id| account(id, verticals[id as usize % 3])).collect();
        let mut cells = WaveCells::with_capacity(0);
        for id in 0..SPLIT_FROM as i64 {
            for (role, ltr) in [("executive", id % 11), ("user", (id * 7) % 11)] {
                let (p, pa, d) = (i64::from(ltr >= 9), i64::from((7..9).contains(&ltr)), i64::from(ltr < 7));
                let rated = if id % 4 == 0 { vec![0] } else { drivers(1 + id as u64 % 3) };
                cells.push(id, role, [p, pa, d, ltr, ltr * ltr], &rated);
            }
        }
        assert!(cells.len() >= SPLIT_FROM && cells.len() % 2 == 0, "summed in two halves");
        let places: Vec<(i64, usize)> = accounts.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
        for by in [None, Some(Dimension::Vertical), Some(Dimension::Role)] {
            let halves = cells.by_segment(&accounts, by, None, true).unwrap();
            let one_pass = cells.sum_segments(0..cells.len(), &accounts, &places, by, None, true).unwrap();
            assert_eq!(halves, one_pass, "by {by:?}");
        }
        let all = cells.by_segment(&accounts, None, None, true).unwrap();
        assert_eq!(all["all"].loyalty.n(), 2 * SPLIT_FROM as u64, "every cell counted once");
    }

    #[test]
    fn cells_read_in_parts_append_into_one_wave() {
        let (accounts, whole) = cells();
        let rows = rows();
        let (first, second) = rows.split_at(2);
        let mut parts = WaveCells::default();
        parts.append(read(first));
        parts.append(read(second));
        parts.append(WaveCells::default());
        assert_eq!(parts.to_cells().unwrap(), whole.to_cells().unwrap());
        assert_eq!(
            parts.by_segment(&accounts, Some(Dimension::Vertical), None, true).unwrap(),
            whole.by_segment(&accounts, Some(Dimension::Vertical), None, true).unwrap()
        );
    }
}
