//! The loyalty reports, computed in `rapport-core` from the analytics cells the store keeps.
//!
//! One implementation serves `rapport report`, the web app and the API: each builds a
//! [`ReportQuery`] and gets a [`Report`] (rows of typed values) to show or export
//! ([`output`]: table, CSV, JSON, XLSX).

pub mod assessment;
pub mod output;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::bail;
use rapport_core::account::Account;
use rapport_core::coverage::{Coverage, CoverageRow, coverage_by};
use rapport_core::drivers::{compare_segments, key_drivers};
use rapport_core::loyalty::{DEFAULT_MIN_ANSWERS, LoyaltyClass, LoyaltyCounts, LoyaltySummary};
use rapport_core::migration::{Direction, Migration, migration};
use rapport_core::money::Money;
use rapport_core::period::Period;
use rapport_core::quadrant::{AccountFacts, DEFAULT_LOYALTY_THRESHOLD, Matrix, Quadrant, Thresholds, place_accounts};
use rapport_core::revenue::billed_in;
use rapport_core::segment::Dimension;
use rapport_core::stats::CellStats;
use rapport_core::theme;
use rapport_core::trend::{LoyaltyRevenueInput, loyalty_trend, loyalty_vs_revenue};
use rapport_core::words::count;
use rapport_store::Store;
use rapport_store::accounts::Verbatim;
use rapport_store::analytics::{PortfolioAccount, WaveInfo};
use rapport_store::report_cache::ReportCache;

pub use output::{Format, Report, Value};

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// Every account on the loyalty x revenue matrix: Emulate, Problem, Growth, Decision.
    Quadrants,
    /// Accounts that moved between quadrants from one wave to another.
    Migration,
    /// NPS per segment (--by), with counts and 90% confidence intervals.
    Nps,
    /// Key drivers of loyalty per segment (--by, default vertical).
    Drivers,
    /// What respondents wrote in a wave, each comment with its themes, and how each theme's
    /// commenters score.
    Comments,
    /// NPS across all waves, for the portfolio or per segment (--by) or one account (--account).
    Trends,
    /// Invited, answered, response rate and revenue coverage per wave (and segment, --by).
    Coverage,
    /// Each account's loyalty change against its revenue change between two waves (--from,
    /// --to), and how the two correlate across accounts.
    LoyaltyRevenue,
    /// Profitability and opportunity flow per account over a window, ranked by margin.
    Portfolio,
    /// The ideal account score of each account, with each criterion's contribution.
    Ideal,
    /// Service effort against revenue and value; ideal accounts whose service is slowing.
    SqueakyWheel,
    /// Accounts at risk, with their reasons.
    Risk,
    /// Big R or little r, Relationship or Transaction buying, and the focus for each.
    Relationships,
}

impl ReportKind {
    /// Every report, in the order menus list them.
    pub const ALL: [ReportKind; 13] = [
        ReportKind::Quadrants,
        ReportKind::Migration,
        ReportKind::Nps,
        ReportKind::Drivers,
        ReportKind::Comments,
        ReportKind::Trends,
        ReportKind::Coverage,
        ReportKind::LoyaltyRevenue,
        ReportKind::Portfolio,
        ReportKind::Ideal,
        ReportKind::SqueakyWheel,
        ReportKind::Risk,
        ReportKind::Relationships,
    ];

    /// The portfolio assessment's reports (over a window, with the assessment definition).
    pub fn is_assessment(self) -> bool {
        matches!(
            self,
            ReportKind::Portfolio
                | ReportKind::Ideal
                | ReportKind::SqueakyWheel
                | ReportKind::Risk
                | ReportKind::Relationships
        )
    }

    /// Its name on the command line and in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Quadrants => "quadrants",
            ReportKind::Migration => "migration",
            ReportKind::Nps => "nps",
            ReportKind::Drivers => "drivers",
            ReportKind::Comments => "comments",
            ReportKind::Trends => "trends",
            ReportKind::Coverage => "coverage",
            ReportKind::LoyaltyRevenue => "loyalty-revenue",
            ReportKind::Portfolio => "portfolio",
            ReportKind::Ideal => "ideal",
            ReportKind::SqueakyWheel => "squeaky-wheel",
            ReportKind::Risk => "risk",
            ReportKind::Relationships => "relationships",
        }
    }

    /// The report named `name`.
    pub fn parse(name: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.as_str() == name.trim())
    }

    /// What to tell someone who asked for a report named `name` that does not exist.
    pub fn unknown(name: &str) -> String {
        let names: Vec<&str> = ReportKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("there is no report '{name}'; the reports are {}", names.join(", "))
    }

    /// What it shows, in a line.
    pub fn about(self) -> &'static str {
        match self {
            ReportKind::Quadrants => {
                "Every account on the loyalty x revenue matrix: Emulate, Problem, Growth, Decision"
            }
            ReportKind::Migration => "Accounts that changed quadrant between two waves (--from, --to)",
            ReportKind::Nps => "NPS per segment (--by), with counts and 90% confidence intervals",
            ReportKind::Drivers => "What drives loyalty in each segment (--by, default vertical)",
            ReportKind::Comments => {
                "What respondents wrote, by theme (product, delivery, support, value, brand, promise), detractors first"
            }
            ReportKind::Trends => "NPS across waves, for the portfolio, each segment (--by) or one account (--account)",
            ReportKind::Coverage => "Who was asked, who answered, and the revenue they stand for, per wave",
            ReportKind::LoyaltyRevenue => {
                "Each account's loyalty change against its revenue change between two waves, and their correlation"
            }
            ReportKind::Portfolio => {
                "Profitability and opportunity flow per account over a window (--since, --until): keep, re-price, reduce or exit"
            }
            ReportKind::Ideal => {
                "How close each account comes to the ideal account definition, criterion by criterion (--compare VERSION)"
            }
            ReportKind::SqueakyWheel => {
                "Each account's share of service effort against its share of revenue and value, and whose service is slowing"
            }
            ReportKind::Risk => {
                "Accounts at risk: falling revenue or loyalty, neglect, a single thread, executive detractors"
            }
            ReportKind::Relationships => {
                "Big R or little r, Relationship or Transaction buying, and the focus for each"
            }
        }
    }
}

/// What to report: the report and its options (the flags of `rapport report`, the query of a
/// web view).
#[derive(Debug, Clone)]
pub struct ReportQuery {
    /// The report.
    pub report: ReportKind,
    /// The wave (e.g. 2026-Q4); the latest wave by default.
    pub wave: Option<String>,
    /// Migration: the earlier wave (default: the one before --to).
    pub from: Option<String>,
    /// Migration: the later wave (default: the latest).
    pub to: Option<String>,
    /// Segment by vertical, region, owner, role, relationship_style or strategic.
    pub by: Option<Dimension>,
    /// Trends, comments and coverage: one account only (its account_id).
    pub account: Option<String>,
    /// High loyalty is NPS at or above this.
    pub loyalty_threshold: f64,
    /// High revenue is billed revenue at or above this amount (default: the median billed
    /// revenue of the accounts surveyed in the wave).
    pub revenue_threshold: Option<Money>,
    /// Figures from fewer answers than this are flagged as low sample.
    pub min_answers: u64,
    /// Which accounts the report covers.
    pub filter: AccountFilter,
    /// Assessment reports: the first quarter of the window (a month stands for its quarter;
    /// default: three quarters before `until`, or the four quarters up to today).
    pub since: Option<String>,
    /// Assessment reports: the last quarter of the window (default: the current quarter).
    pub until: Option<String>,
    /// Assessment reports: the day neglect is counted to and the default window ends in
    /// (default: today).
    pub as_of: Option<time::Date>,
    /// The ideal report: compare with this version of the definition.
    pub compare: Option<i64>,
    /// Comments: only those on this theme (a key of `rapport_core::theme::keys`).
    pub theme: Option<String>,
}

impl ReportQuery {
    /// A query for `report` with every option at its default: the latest wave, the default
    /// thresholds, the whole portfolio.
    pub fn new(report: ReportKind) -> ReportQuery {
        ReportQuery {
            report,
            wave: None,
            from: None,
            to: None,
            by: None,
            account: None,
            loyalty_threshold: DEFAULT_LOYALTY_THRESHOLD,
            revenue_threshold: None,
            min_answers: DEFAULT_MIN_ANSWERS,
            filter: AccountFilter::default(),
            since: None,
            until: None,
            as_of: None,
            compare: None,
            theme: None,
        }
    }
}

/// Which accounts a view covers: the filters a user picked, and the scope of who is asking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFilter {
    /// Only this vertical (a segment name as reports show it, "(none)" for accounts without one).
    pub vertical: Option<String>,
    /// Only this region.
    pub region: Option<String>,
    /// Only accounts this owner (an email) manages.
    pub owner: Option<String>,
    /// Only this relationship style (relationship or transaction).
    pub relationship_style: Option<String>,
    /// Only the accounts of this account manager (an email): their scope, set by the server
    /// from who signed in, never from a request.
    pub owned_by: Option<String>,
}

impl AccountFilter {
    /// Whether it lets every account through.
    pub fn is_empty(&self) -> bool {
        *self == AccountFilter::default()
    }

    /// Whether `account` is in the view. Segment values compare as reports name segments
    /// (trimmed), ignoring case, as do owners' emails.
    pub fn matches(&self, account: &Account) -> bool {
        let segment = |dim: Dimension, wanted: &Option<String>| {
            wanted
                .as_deref()
                .is_none_or(|w| dim.key(account, None).to_lowercase() == dim.key_of_value(Some(w)).to_lowercase())
        };
        let owner = |wanted: &Option<String>| {
            wanted
                .as_deref()
                .is_none_or(|w| account.owner_email.as_deref().is_some_and(|o| o.trim().eq_ignore_ascii_case(w.trim())))
        };
        segment(Dimension::Vertical, &self.vertical)
            && segment(Dimension::Region, &self.region)
            && segment(Dimension::RelationshipStyle, &self.relationship_style)
            && owner(&self.owner)
            && owner(&self.owned_by)
    }
}

/// A matrix with the account list its placements index into.
type PlacedPortfolio = (Arc<Vec<PortfolioAccount>>, Arc<Matrix<usize>>);

/// Two waves compared: each placed on the matrix, and the migration between them (placements
/// are keyed by index into [`Portfolio::accounts`]).
pub struct Compared {
    /// The earlier wave.
    pub from: WaveInfo,
    /// The later wave.
    pub to: WaveInfo,
    /// The matrix of the earlier wave.
    pub earlier: Matrix<usize>,
    /// The matrix of the later wave.
    pub later: Matrix<usize>,
    /// Who moved where.
    pub migration: Migration<usize>,
}

/// The portfolio as every report needs it.
pub struct Portfolio {
    /// Every account (also those a filter hides: quadrant thresholds are the whole portfolio's).
    pub accounts: Arc<Vec<PortfolioAccount>>,
    /// The waves, oldest first.
    pub waves: Arc<Vec<WaveInfo>>,
    /// Which of `accounts` the view shows (by index); `None` = all of them.
    shown: Option<Vec<bool>>,
}

impl Portfolio {
    /// Loads the waves, and the accounts when the report lists them or a filter needs them
    /// (unfiltered nps, drivers and trends need only sums from the database).
    pub async fn load(
        store: &Store,
        cache: &ReportCache,
        with_accounts: bool,
        filter: &AccountFilter,
    ) -> anyhow::Result<Portfolio> {
        let filtered = !filter.is_empty();
        let accounts = if with_accounts || filtered { cache.accounts(store).await? } else { Arc::default() };
        let shown = filtered.then(|| accounts.iter().map(|a| filter.matches(&a.account)).collect());
        let waves = cache.waves(store).await?;
        Ok(Portfolio { accounts, waves, shown })
    }

    /// The index in `accounts` of the account with this id (the CRM's account_id).
    pub fn position(&self, account_id: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a.account.account_id == account_id)
    }

    /// The one account (its account_id) a report is narrowed to, if any, which must be in the
    /// view: one out of the viewer's scope is named as missing, so that ids cannot be probed.
    pub fn only<'a>(&self, account_id: Option<&'a str>) -> anyhow::Result<Option<&'a str>> {
        if let Some(ext) = account_id
            && !self.position(ext).is_some_and(|i| self.shows(i))
        {
            bail!("there is no account with account_id '{ext}'");
        }
        Ok(account_id)
    }

    /// Whether the account at `index` is in the view.
    pub fn shows(&self, index: usize) -> bool {
        self.shown.as_ref().is_none_or(|s| s[index])
    }

    /// Whether the view is filtered.
    pub fn is_filtered(&self) -> bool {
        self.shown.is_some()
    }

    /// Statistics per segment (`by`; None = one segment, "all") in one wave over the accounts
    /// the view shows, summed in memory from the cached cells: how filtered views get the
    /// figures the cache keeps for the whole portfolio. Driver sums only `with_drivers`.
    pub async fn segment_stats(
        &self,
        store: &Store,
        cache: &ReportCache,
        wave_id: i64,
        by: Option<Dimension>,
        with_drivers: bool,
    ) -> anyhow::Result<BTreeMap<String, CellStats>> {
        let cells = cache.wave_cells(store, wave_id).await?;
        Ok(cells.by_segment(&self.accounts, by, self.shown.as_deref(), with_drivers)?)
    }

    /// Driver sums and loyalty per segment in one wave, over the accounts the view shows: the
    /// input of the key driver analysis.
    pub async fn driver_stats(
        &self,
        store: &Store,
        cache: &ReportCache,
        wave_id: i64,
        by: Dimension,
    ) -> anyhow::Result<Arc<BTreeMap<String, CellStats>>> {
        Ok(if self.is_filtered() {
            Arc::new(self.segment_stats(store, cache, wave_id, Some(by), true).await?)
        } else {
            cache.drivers_by_segment(store, wave_id, by).await?
        })
    }

    /// Both waves of a comparison (`from` and `to` of the query) placed on the matrix, and the
    /// migration between them.
    pub async fn compare(&self, store: &Store, cache: &ReportCache, args: &ReportQuery) -> anyhow::Result<Compared> {
        let (from, to) = self.waves_compared(args)?;
        let earlier = self.place(&*cache.loyalty_per_account(store, from.id).await?, args);
        let later = self.place(&*cache.loyalty_per_account(store, to.id).await?, args);
        let migration = migration(&earlier.placements, &later.placements);
        Ok(Compared { from: from.clone(), to: to.clone(), earlier, later, migration })
    }

    /// The waves up to the latest one anyone has answered in (every wave when none has an
    /// answer yet), oldest first. Views read "the latest wave" as the last of these, so a wave
    /// just created, and not yet answered, does not empty the dashboard and every report.
    pub fn waves_so_far(&self) -> &[WaveInfo] {
        waves_so_far(&self.waves)
    }

    /// The wave named `name`, or the latest one answered (see [`Portfolio::waves_so_far`]).
    pub fn wave(&self, name: Option<&str>) -> anyhow::Result<&WaveInfo> {
        let names = || self.waves.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join(", ");
        match name {
            Some(n) => match self.waves.iter().find(|w| w.name == n) {
                Some(w) => Ok(w),
                None => bail!("there is no wave named '{n}'; the waves are: {}", names()),
            },
            None => match self.waves_so_far().last() {
                Some(w) => Ok(w),
                None => bail!(
                    "there are no waves yet: import responses (`rapport import responses FILE`) or run `rapport demo`"
                ),
            },
        }
    }

    /// The two waves to compare: --to (default: the latest) and --from (default: the one
    /// before it).
    pub fn waves_compared(&self, args: &ReportQuery) -> anyhow::Result<(&WaveInfo, &WaveInfo)> {
        let to = self.wave(args.to.as_deref())?;
        let from = match args.from.as_deref() {
            Some(name) => self.wave(Some(name))?,
            None => match self.waves.iter().position(|w| w.id == to.id) {
                Some(i) if i > 0 => &self.waves[i - 1],
                _ => bail!("wave {} has no earlier wave to compare with: give --from", to.name),
            },
        };
        Ok((from, to))
    }

    /// The matrix of one wave for the view: every account placed with the query's thresholds
    /// (computed once per wave and thresholds while the data is unchanged, then shared), and
    /// those the view shows kept. Placements are keyed by index into `accounts`.
    pub async fn placed(
        &self,
        store: &Store,
        cache: &ReportCache,
        wave_id: i64,
        args: &ReportQuery,
    ) -> anyhow::Result<Arc<Matrix<usize>>> {
        let key =
            format!("matrix|{wave_id}|{}|{:?}|{}", args.loyalty_threshold, args.revenue_threshold, args.min_answers);
        let everyone = Portfolio { accounts: self.accounts.clone(), waves: self.waves.clone(), shown: None };
        let place = || async {
            let counts = cache.loyalty_per_account(store, wave_id).await?;
            Ok::<_, anyhow::Error>((everyone.accounts.clone(), Arc::new(everyone.place(&counts, args))))
        };
        let cached: Arc<PlacedPortfolio> = cache.derived(store, key, place).await?;
        // Placements index into the account list they were made from: should the data have
        // changed between loading this portfolio and placing it, place it afresh.
        let whole = if Arc::ptr_eq(&cached.0, &self.accounts) { cached.1.clone() } else { place().await?.1 };
        Ok(if self.is_filtered() { Arc::new(whole.as_ref().clone().retain(|&i| self.shows(i))) } else { whole })
    }

    /// Places every account on the matrix from its loyalty counts in a wave, and keeps those
    /// the view shows; placements are keyed by index into `accounts`.
    pub fn place(&self, counts: &HashMap<i64, LoyaltyCounts>, args: &ReportQuery) -> Matrix<usize> {
        let facts: Vec<AccountFacts<usize>> = self
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| AccountFacts {
                account: i,
                billed: a.account.billed_revenue,
                potential: a.account.potential_revenue,
                loyalty: counts.get(&a.id).copied().unwrap_or_default(),
            })
            .collect();
        let thresholds = Thresholds { loyalty: args.loyalty_threshold, revenue: args.revenue_threshold };
        place_accounts(&facts, &thresholds, args.min_answers).retain(|&i| self.shows(i))
    }
}

fn nps_values(s: &LoyaltySummary) -> [Value; 3] {
    [Value::num(s.nps, 1), Value::num(s.ci90.map(|c| c.low), 1), Value::num(s.ci90.map(|c| c.high), 1)]
}

fn low_sample_note(min: u64) -> String {
    format!("low_sample: fewer than {min} answers; the NPS is shown but not comparable with well-measured figures.")
}

/// [`build`], kept in `cache` while the data is unchanged: what a server answers repeated
/// requests for the same report, view and scope with.
pub async fn build_cached(store: &Store, cache: &ReportCache, args: &ReportQuery) -> anyhow::Result<Arc<Report>> {
    // The query's every field (filters and the viewer's scope included) names the result.
    let key = format!("report|{args:?}");
    cache.derived(store, key, || build(store, cache, args)).await
}

/// Computes a report (everything `rapport report` does but writing it), reading through
/// `cache`.
pub async fn build(store: &Store, cache: &ReportCache, args: &ReportQuery) -> anyhow::Result<Report> {
    let lists_accounts = args.report.is_assessment()
        || matches!(
            args.report,
            ReportKind::Quadrants
                | ReportKind::Migration
                | ReportKind::Comments
                | ReportKind::Coverage
                | ReportKind::LoyaltyRevenue
        );
    if args.report == ReportKind::Quadrants {
        read_accounts_and_cells(store, cache, args.wave.as_deref()).await?;
    }
    let portfolio = Portfolio::load(store, cache, lists_accounts, &args.filter).await?;
    let args = args.clone();
    let report = match args.report {
        ReportKind::Quadrants => quadrants(store, cache, &portfolio, &args).await?,
        ReportKind::Migration => migration_report(store, cache, &portfolio, &args).await?,
        ReportKind::Nps => nps(store, cache, &portfolio, &args).await?,
        ReportKind::Drivers => drivers(store, cache, &portfolio, &args).await?,
        ReportKind::Comments => comments(store, &portfolio, &args).await?,
        ReportKind::Trends => trends(store, cache, &portfolio, &args).await?,
        ReportKind::Coverage => coverage(store, cache, &portfolio, &args).await?,
        ReportKind::LoyaltyRevenue => loyalty_revenue(store, cache, &portfolio, &args).await?,
        kind => {
            let a = assessment::assess(store, cache, &portfolio, &args, None).await?;
            match kind {
                ReportKind::Portfolio => assessment::portfolio_report(&portfolio, &a),
                ReportKind::Ideal => {
                    let compared = match args.compare {
                        Some(v) => Some(assessment::assess(store, cache, &portfolio, &args, Some(v)).await?),
                        None => None,
                    };
                    assessment::ideal_report(&portfolio, &a, compared.as_deref())
                }
                ReportKind::SqueakyWheel => assessment::squeaky_report(&portfolio, &a),
                ReportKind::Risk => assessment::risk_report(&portfolio, &a),
                _ => assessment::relationships_report(&portfolio, &a),
            }
        }
    };
    Ok(report)
}

/// Reads the accounts and the cells of the wave named `wave` (the latest when None) into
/// `cache` at once ([`ReportCache::accounts_and_cells`]), for the matrix to find there: one
/// after the other, they were most of the first quadrant report after a start. An unknown
/// wave reads nothing here: the report says what is wrong.
async fn read_accounts_and_cells(store: &Store, cache: &ReportCache, wave: Option<&str>) -> anyhow::Result<()> {
    let waves = Portfolio { accounts: Arc::default(), waves: cache.waves(store).await?, shown: None };
    if let Ok(w) = waves.wave(wave) {
        cache.accounts_and_cells(store, w.id).await?;
    }
    Ok(())
}

async fn quadrants(store: &Store, cache: &ReportCache, p: &Portfolio, args: &ReportQuery) -> anyhow::Result<Report> {
    let wave = p.wave(args.wave.as_deref())?;
    // The matrix placed once per wave and thresholds while the data is unchanged (a warm
    // report only orders and lists it).
    let matrix = p.placed(store, cache, wave.id, args).await?;
    // By quadrant; well-measured accounts before low-sample ones; then by billed revenue;
    // ties in portfolio order (the account index), so the order is the same on every run.
    // The rows are made in portfolio order, then sorted by their keys: made in report order,
    // each row read its account's id and name from a scattered place in 100,000 accounts, and
    // waiting for memory was most of a warm report.
    let mut keyed: Vec<_> = matrix
        .placements
        .iter()
        .map(|pl| {
            let a = &p.accounts[pl.account].account;
            let key = (pl.quadrant.index(), pl.loyalty.low_sample, std::cmp::Reverse(pl.billed), pl.account);
            let row = vec![
                Value::Text(a.account_id.clone()),
                Value::Text(a.name.clone()),
                Value::Int(pl.loyalty.n as i64),
                Value::num(pl.loyalty.nps, 1),
                Value::Money(pl.billed),
                Value::Money(pl.potential),
                Value::Text(pl.quadrant.as_str().into()),
                Value::Bool(pl.loyalty.low_sample && pl.quadrant != Quadrant::Unsurveyed),
            ];
            (key, row)
        })
        .collect();
    keyed.sort_unstable_by_key(|(key, _)| *key);
    let rows = keyed.into_iter().map(|(_, row)| row).collect();
    let t = &matrix.thresholds;
    let revenue = match t.revenue {
        Some(r) if t.revenue_is_median => {
            format!("billed revenue >= {} (the median of surveyed accounts)", r.grouped())
        }
        Some(r) => format!("billed revenue >= {}", r.grouped()),
        None => "no account was surveyed in this wave".into(),
    };
    let mut notes = vec![format!("High loyalty: NPS >= {:.1}. High revenue: {revenue}.", t.loyalty)];
    for q in Quadrant::ALL {
        let tot = matrix.total(q);
        notes.push(format!(
            "{:<10} {:>14}, billed {}, potential {} — {}",
            q.label(),
            count(tot.accounts, "account", "accounts"),
            tot.billed.grouped(),
            tot.potential.grouped(),
            q.strategy()
        ));
    }
    notes.push(low_sample_note(args.min_answers));
    Ok(Report {
        title: format!("Loyalty x revenue quadrants, wave {}", wave.name),
        columns: vec![
            "account_id",
            "name",
            "respondents",
            "nps",
            "billed_revenue",
            "potential_revenue",
            "quadrant",
            "low_sample",
        ],
        rows,
        notes,
    })
}

async fn migration_report(
    store: &Store,
    cache: &ReportCache,
    p: &Portfolio,
    args: &ReportQuery,
) -> anyhow::Result<Report> {
    let Compared { from, to, earlier, later, migration: m } = p.compare(store, cache, args).await?;
    let before: HashMap<usize, Quadrant> = earlier.placements.iter().map(|pl| (pl.account, pl.quadrant)).collect();
    let mut rows = Vec::new();
    for pl in &later.placements {
        let Some(&was) = before.get(&pl.account) else { continue };
        if was == Quadrant::Unsurveyed || pl.quadrant == Quadrant::Unsurveyed {
            continue;
        }
        let a = &p.accounts[pl.account].account;
        let direction = Direction::of(was, pl.quadrant).map_or("unchanged", Direction::as_str);
        rows.push(vec![
            Value::Text(a.account_id.clone()),
            Value::Text(a.name.clone()),
            Value::Text(was.as_str().into()),
            Value::Text(pl.quadrant.as_str().into()),
            Value::Text(direction.into()),
        ]);
    }
    let mut notes = vec![format!(
        "{} accounts moved toward Emulate, {} away, {} sideways; {} stayed. Billed revenue that moved into Problem: {}.",
        m.movers_toward(Direction::TowardEmulate),
        m.movers_toward(Direction::AwayFromEmulate),
        m.movers_toward(Direction::Sideways),
        m.unchanged,
        m.billed_into_problem
    )];
    notes.push(format!("Matrix (rows: {}, columns: {}):", from.name, to.name));
    let labels: Vec<String> = Quadrant::ALL.iter().map(|q| format!("{:>10}", q.as_str())).collect();
    notes.push(format!("{:>10} {}", "", labels.join(" ")));
    for f in Quadrant::ALL {
        let counts: Vec<String> = Quadrant::ALL.iter().map(|t| format!("{:>10}", m.count(f, *t))).collect();
        notes.push(format!("{:>10} {}", f.as_str(), counts.join(" ")));
    }
    Ok(Report {
        title: format!("Quadrant migration, {} to {}", from.name, to.name),
        columns: vec!["account_id", "name", "from", "to", "direction"],
        rows,
        notes,
    })
}

async fn nps(store: &Store, cache: &ReportCache, p: &Portfolio, args: &ReportQuery) -> anyhow::Result<Report> {
    let wave = p.wave(args.wave.as_deref())?;
    let groups: Vec<(String, LoyaltyCounts)> = if p.is_filtered() {
        p.segment_stats(store, cache, wave.id, args.by, false).await?.into_iter().map(|(k, s)| (k, s.loyalty)).collect()
    } else {
        cache
            .loyalty_by_segment(store, Some(wave.id), args.by, None)
            .await?
            .iter()
            .map(|(_, k, c)| (k.clone(), *c))
            .collect()
    };
    let rows = groups
        .iter()
        .map(|(segment, counts)| {
            let s = LoyaltySummary::new(*counts, args.min_answers);
            let [nps, low, high] = nps_values(&s);
            vec![
                Value::Text(segment.clone()),
                Value::Int(s.n as i64),
                Value::Int(counts.promoters as i64),
                Value::Int(counts.passives as i64),
                Value::Int(counts.detractors as i64),
                nps,
                low,
                high,
                Value::Bool(s.low_sample),
            ]
        })
        .collect();
    let by = args.by.map_or("the whole portfolio".to_string(), |d| d.as_str().to_string());
    Ok(Report {
        title: format!("NPS by {by}, wave {}", wave.name),
        columns: vec![
            "segment",
            "responses",
            "promoters",
            "passives",
            "detractors",
            "nps",
            "ci90_low",
            "ci90_high",
            "low_sample",
        ],
        rows,
        notes: vec![
            "NPS = 100 x (promoters 9-10 - detractors 0-6) / answers, over the latest answer of each contact in the wave."
                .into(),
            low_sample_note(args.min_answers),
        ],
    })
}

async fn drivers(store: &Store, cache: &ReportCache, p: &Portfolio, args: &ReportQuery) -> anyhow::Result<Report> {
    let wave = p.wave(args.wave.as_deref())?;
    let dim = args.by.unwrap_or(Dimension::Vertical);
    let segments = p.driver_stats(store, cache, wave.id, dim).await?;
    let mut rows = Vec::new();
    for (segment, stats) in segments.iter() {
        for d in key_drivers(stats, args.min_answers) {
            rows.push(vec![
                Value::Text(segment.clone()),
                Value::Text(d.driver.clone()),
                Value::Int(d.n as i64),
                Value::num(d.mean, 2),
                Value::num(d.correlation, 3),
                Value::num(d.importance, 3),
                d.rank.map_or(Value::Empty, |r| Value::Int(i64::from(r))),
                Value::Bool(d.low_sample),
            ]);
        }
    }
    let comparison = compare_segments(&segments, args.min_answers);
    let mut notes = vec![
        "correlation: Pearson with LTR over answers rating both; empty under 3 pairs or with no variance.".to_string(),
        "importance: the driver's squared correlation as a share of the segment's total (sums to 1).".to_string(),
    ];
    for (i, segment) in comparison.segments.iter().enumerate() {
        let top: Vec<&str> = comparison
            .drivers
            .iter()
            .filter(|d| d.per_segment[i].as_ref().and_then(|f| f.rank) == Some(1))
            .map(|d| d.driver.as_str())
            .collect();
        if !top.is_empty() {
            notes.push(format!("Top driver in {segment}: {}", top.join(", ")));
        }
    }
    Ok(Report {
        title: format!("Key drivers of loyalty by {}, wave {}", dim.as_str(), wave.name),
        columns: vec!["segment", "driver", "n", "mean", "correlation", "importance", "rank", "low_sample"],
        rows,
        notes,
    })
}

async fn trends(store: &Store, cache: &ReportCache, p: &Portfolio, args: &ReportQuery) -> anyhow::Result<Report> {
    if let (Some(ext), Some(_)) = (&args.account, &args.filter.owned_by)
        && !p.position(ext).is_some_and(|i| p.shows(i))
    {
        bail!("there is no account with account_id '{ext}'");
    }
    let only = match &args.account {
        Some(ext) => match store.find_account_id(ext).await? {
            Some(id) => Some(id),
            None => bail!("there is no account with account_id '{ext}'"),
        },
        None => None,
    };
    let groups = if p.is_filtered() && only.is_none() {
        let mut groups = Vec::new();
        for wave in p.waves.iter() {
            for (segment, stats) in p.segment_stats(store, cache, wave.id, args.by, false).await? {
                groups.push((wave.id, segment, stats.loyalty));
            }
        }
        Arc::new(groups)
    } else {
        cache.loyalty_by_segment(store, None, args.by, only).await?
    };
    // Every segment gets every wave, in wave order: a wave without answers stays in the
    // trend, with no NPS.
    let mut per_segment: BTreeMap<String, Vec<(String, LoyaltyCounts)>> = BTreeMap::new();
    for (_, segment, _) in groups.iter() {
        per_segment
            .entry(segment.clone())
            .or_insert_with(|| p.waves.iter().map(|w| (w.name.clone(), LoyaltyCounts::default())).collect());
    }
    for (wave_id, segment, counts) in groups.iter() {
        let Some(i) = p.waves.iter().position(|w| w.id == *wave_id) else { continue };
        if let Some(series) = per_segment.get_mut(segment) {
            series[i].1 = *counts;
        }
    }
    let mut rows = Vec::new();
    for (segment, series) in &per_segment {
        for point in loyalty_trend(series, args.min_answers) {
            let [nps, low, high] = nps_values(&point.summary);
            rows.push(vec![
                Value::Text(segment.clone()),
                Value::Text(point.wave.clone()),
                Value::Int(point.summary.n as i64),
                nps,
                low,
                high,
                Value::num(point.nps_delta, 1),
                Value::Bool(point.delta_beyond_noise),
                Value::Bool(point.summary.low_sample),
            ]);
        }
    }
    let whom = match (&args.account, args.by) {
        (Some(a), _) => format!("account {a}"),
        (None, Some(d)) => format!("each {}", d.as_str()),
        (None, None) => "the portfolio".into(),
    };
    Ok(Report {
        title: format!("Loyalty trend across waves, {whom}"),
        columns: vec![
            "segment",
            "wave",
            "responses",
            "nps",
            "ci90_low",
            "ci90_high",
            "change",
            "beyond_noise",
            "low_sample",
        ],
        rows,
        notes: vec![
            "change: NPS points since the previous wave; beyond_noise: the two waves' 90% intervals do not overlap."
                .into(),
            low_sample_note(args.min_answers),
        ],
    })
}

async fn comments(store: &Store, p: &Portfolio, args: &ReportQuery) -> anyhow::Result<Report> {
    let wave = p.wave(args.wave.as_deref())?;
    let only = p.only(args.account.as_deref())?;
    let on = match args.theme.as_deref() {
        Some(name) => Some(theme::key_of(name).ok_or_else(|| {
            anyhow::anyhow!(
                "there is no theme '{name}'; the themes are {}",
                theme::keys().collect::<Vec<_>>().join(", ")
            )
        })?),
        None => None,
    };
    let position: HashMap<i64, usize> = p.accounts.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
    let mut shown: Vec<(&Account, Verbatim)> = store
        .wave_comments(wave.id)
        .await?
        .into_iter()
        .filter_map(|v| {
            let i = *position.get(&v.account_id)?;
            let account = &p.accounts[i].account;
            (p.shows(i) && only.is_none_or(|ext| ext == account.account_id)).then_some((account, v))
        })
        .collect();
    // Detractors first (the comments to act on), then by account and contact.
    shown.sort_by(|(a, x), (b, y)| (x.ltr, &a.name, &x.name).cmp(&(y.ltr, &b.name, &y.name)));
    let tagged: Vec<Vec<&'static str>> = shown.iter().map(|(_, v)| theme::theme_keys(&v.comment)).collect();
    // The notes sum up every theme of the view; the rows are those on the theme asked for.
    let summary = theme::summarize(shown.iter().zip(&tagged).map(|((_, v), keys)| (v.ltr, keys.as_slice())));
    let rows = shown
        .iter()
        .zip(&tagged)
        .filter(|(_, keys)| on.is_none_or(|k| keys.contains(&k)))
        .map(|((account, v), keys)| {
            vec![
                Value::Text(account.account_id.clone()),
                Value::Text(account.name.clone()),
                Value::Text(v.name.clone()),
                Value::Text(v.title.clone().unwrap_or_default()),
                Value::Text(v.role.map_or("", |r| r.as_str()).to_string()),
                Value::Int(i64::from(v.ltr)),
                Value::Text(LoyaltyClass::of(v.ltr).as_str().to_string()),
                Value::Text(theme::joined(keys)),
                Value::Text(v.comment.clone()),
                Value::Text(v.submitted_on.clone()),
            ]
        })
        .collect();
    let mut notes = vec![
        "Each contact's latest answer in the wave, where it has a comment. themes: what the comment is about, \
         found by the words it uses (English and German); other: none of them."
            .to_string(),
    ];
    notes.extend(summary.iter().map(|t| {
        format!(
            "{} ({}): {}, {} from detractors, NPS among them {}.",
            t.key,
            t.about,
            count(t.counts.n(), "comment", "comments"),
            t.counts.detractors,
            t.counts.nps().map_or_else(|| "-".to_string(), |n| format!("{n:+.1}")),
        )
    }));
    Ok(Report {
        title: match (only, on) {
            (Some(ext), Some(key)) => format!("Comments of {ext} on {key}, wave {}", wave.name),
            (Some(ext), None) => format!("Comments of {ext}, wave {}", wave.name),
            (None, Some(key)) => format!("Comments on {key}, wave {}", wave.name),
            (None, None) => format!("Comments by theme, wave {}", wave.name),
        },
        columns: vec![
            "account_id",
            "account",
            "contact",
            "title",
            "role",
            "ltr",
            "class",
            "themes",
            "comment",
            "submitted_on",
        ],
        rows,
        notes,
    })
}

async fn coverage(store: &Store, cache: &ReportCache, p: &Portfolio, args: &ReportQuery) -> anyhow::Result<Report> {
    if args.by == Some(Dimension::Role) {
        bail!("coverage is counted per account: use --by vertical, region, owner, relationship_style or strategic");
    }
    let waves: Vec<&WaveInfo> = match &args.wave {
        Some(name) => vec![p.wave(Some(name))?],
        None => p.waves.iter().collect(),
    };
    let only = p.only(args.account.as_deref())?;
    let contacts: HashMap<i64, i64> = store.contacts_per_account().await?.into_iter().collect();
    let mut rows = Vec::new();
    let mut imported_waves = Vec::new();
    for wave in waves {
        let answered = cache.loyalty_per_account(store, wave.id).await?;
        let mut invited: HashMap<i64, i64> = store.invitations_per_account(wave.id).await?.into_iter().collect();
        if invited.is_empty() {
            // Answers collected elsewhere: every contact on file counts as invited.
            invited = contacts.clone();
            imported_waves.push(wave.name.clone());
        }
        let groups = coverage_by(
            p.accounts
                .iter()
                .enumerate()
                .filter(|(i, a)| p.shows(*i) && only.is_none_or(|ext| ext == a.account.account_id))
                .map(|(_, a)| {
                    let n = answered.get(&a.id).map_or(0, LoyaltyCounts::n);
                    CoverageRow {
                        group: match (only, args.by) {
                            (Some(ext), _) => ext.to_string(),
                            (None, Some(d)) => d.key(&a.account, None).into_owned(),
                            (None, None) => "all".to_string(),
                        },
                        invited: invited.get(&a.id).copied().unwrap_or(0) as u64,
                        answered: n,
                        billed: a.account.billed_revenue.unwrap_or(Money::ZERO),
                        account_answered: n > 0,
                    }
                }),
        );
        for (segment, c) in groups {
            rows.push(coverage_row(&wave.name, segment, &c));
        }
    }
    let mut notes = vec![format!(
        "revenue_coverage: the share of billed revenue whose accounts answered; leading programmes aim at {:.0}% per quarter.",
        rapport_core::coverage::REVENUE_COVERAGE_TARGET * 100.0
    )];
    if !imported_waves.is_empty() {
        notes.push(format!(
            "Waves without invitations (answers imported): {}; every contact on file counts as invited.",
            imported_waves.join(", ")
        ));
    }
    Ok(Report {
        title: match args.by {
            Some(d) => format!("Survey coverage by wave and {}", d.as_str()),
            None => "Survey coverage by wave".into(),
        },
        columns: vec![
            "wave",
            "segment",
            "accounts",
            "accounts_answered",
            "invited",
            "answered",
            "response_rate",
            "billed_revenue",
            "billed_answered",
            "revenue_coverage",
            "meets_target",
        ],
        rows,
        notes,
    })
}

fn coverage_row(wave: &str, segment: String, c: &Coverage) -> Vec<Value> {
    vec![
        Value::Text(wave.to_string()),
        Value::Text(segment),
        Value::Int(c.accounts as i64),
        Value::Int(c.accounts_answered as i64),
        Value::Int(c.invited as i64),
        Value::Int(c.answered as i64),
        Value::num(c.response_rate().map(|r| r * 100.0), 1),
        Value::Money(c.billed),
        Value::Money(c.billed_answered),
        Value::num(c.revenue_coverage().map(|r| r * 100.0), 1),
        c.meets_target().map_or(Value::Empty, Value::Bool),
    ]
}

/// The revenue period a wave stands for: its name when it is one (2026-Q3), otherwise the
/// quarter it opened in.
pub fn wave_period(wave: &WaveInfo) -> anyhow::Result<Period> {
    if let Ok(p) = Period::parse(&wave.name) {
        return Ok(p);
    }
    match wave.opens_on {
        Some(d) => Ok(Period::Quarter { year: d.year(), quarter: (u8::from(d.month()) - 1) / 3 + 1 }),
        None => bail!(
            "wave '{}' has no revenue period: name waves like 2026-Q3 or 2026-07, or give it an opening date",
            wave.name
        ),
    }
}

/// The stored periods that can make up `period`'s billed revenue (a quarter and its months).
pub fn stored_periods(period: Period) -> Vec<String> {
    let mut out = vec![period.to_string()];
    if let Period::Quarter { year, quarter } = period {
        out.extend((0..3).map(|i| Period::Month { year, month: (quarter - 1) * 3 + 1 + i }.to_string()));
    }
    out
}

async fn loyalty_revenue(
    store: &Store,
    cache: &ReportCache,
    p: &Portfolio,
    args: &ReportQuery,
) -> anyhow::Result<Report> {
    let (from, to) = p.waves_compared(args)?;
    let (before, after) = (wave_period(from)?, wave_period(to)?);
    let mut entries: HashMap<i64, Vec<(Period, Money)>> = HashMap::new();
    let periods: Vec<String> = stored_periods(before).into_iter().chain(stored_periods(after)).collect();
    for (account, period, billed) in store.billed_in_periods(&periods).await? {
        if let (Ok(period), Some(billed)) = (Period::parse(&period), billed) {
            entries.entry(account).or_default().push((period, Money(billed)));
        }
    }
    let was = cache.loyalty_per_account(store, from.id).await?;
    let now = cache.loyalty_per_account(store, to.id).await?;
    let mut inputs = Vec::new();
    for (i, a) in p.accounts.iter().enumerate().filter(|(i, _)| p.shows(*i)) {
        let (Some(b), Some(n)) = (was.get(&a.id), now.get(&a.id)) else { continue };
        let own = entries.get(&a.id).map_or(&[][..], Vec::as_slice);
        inputs.push(LoyaltyRevenueInput {
            account: i,
            nps_before: b.nps(),
            nps_after: n.nps(),
            revenue_before: billed_in(before, own),
            revenue_after: billed_in(after, own),
        });
    }
    let result = loyalty_vs_revenue(&inputs);
    let mut rows: Vec<(Option<f64>, Vec<Value>)> = inputs
        .iter()
        .zip(&result.accounts)
        .map(|(input, change)| {
            let a = &p.accounts[input.account].account;
            let row = vec![
                Value::Text(a.account_id.clone()),
                Value::Text(a.name.clone()),
                Value::num(input.nps_before, 1),
                Value::num(input.nps_after, 1),
                Value::num(change.nps_change, 1),
                input.revenue_before.map_or(Value::Empty, Value::Money),
                input.revenue_after.map_or(Value::Empty, Value::Money),
                Value::num(change.revenue_change_pct, 1),
            ];
            (change.nps_change, row)
        })
        .collect();
    // The biggest loyalty falls first.
    rows.sort_by(|a, b| a.0.unwrap_or(0.0).total_cmp(&b.0.unwrap_or(0.0)));
    let relation = match result.correlation {
        Some(r) => format!("r = {r:.3} (Pearson)"),
        None => "not computable (fewer than 3 accounts with both figures, or no variation)".into(),
    };
    Ok(Report {
        title: format!("Loyalty change against revenue change, {} to {}", from.name, to.name),
        columns: vec![
            "account_id",
            "name",
            "nps_from",
            "nps_to",
            "nps_change",
            "billed_from",
            "billed_to",
            "revenue_change_pct",
        ],
        rows: rows.into_iter().map(|(_, r)| r).collect(),
        notes: vec![
            format!(
                "Accounts surveyed in both waves. Revenue is billed in each wave's period ({before} and {after}): the \
                 quarter's own entry, or the sum of its months."
            ),
            format!("NPS change against revenue change across {} accounts: {relation}.", result.n),
        ],
    })
}

/// The waves (oldest first) up to the latest one anyone has answered in, or all of them when
/// none has an answer yet: what views call "so far", the last being the wave shown by default.
pub fn waves_so_far(waves: &[WaveInfo]) -> &[WaveInfo] {
    match waves.iter().rposition(|w| w.answered) {
        Some(i) => &waves[..=i],
        None => waves,
    }
}
