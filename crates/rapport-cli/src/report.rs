//! `rapport report ...`: the flags of each report, mapped onto a [`ReportQuery`] that
//! `rapport-reports` computes; written as a table, CSV, JSON or XLSX.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, bail};
use rapport_core::loyalty::DEFAULT_MIN_ANSWERS;
use rapport_core::money::Money;
use rapport_core::quadrant::DEFAULT_LOYALTY_THRESHOLD;
use rapport_core::segment::Dimension;
use rapport_reports::{AccountFilter, Format, ReportKind, ReportQuery, build};
use rapport_store::Store;
use rapport_store::report_cache::ReportCache;

fn parse_report(text: &str) -> Result<ReportKind, String> {
    ReportKind::parse(text).ok_or_else(|| ReportKind::unknown(text))
}

fn parse_dimension(text: &str) -> Result<Dimension, String> {
    Dimension::parse(text).map_err(|e| e.to_string())
}

fn parse_money(text: &str) -> Result<Money, String> {
    Money::parse(text).map_err(|e| e.to_string())
}

fn parse_day(text: &str) -> Result<time::Date, String> {
    rapport_core::date::parse_date(text).map_err(|e| e.to_string())
}

fn parse_format(text: &str) -> Result<Format, String> {
    Format::parse(text).ok_or_else(|| format!("'{text}' is not a format: use table, csv, json or xlsx"))
}

/// The account filter flags `report` and `wave create` share.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterArgs {
    /// Only accounts of this vertical.
    #[arg(long)]
    pub vertical: Option<String>,
    /// Only accounts of this region.
    #[arg(long)]
    pub region: Option<String>,
    /// Only accounts this owner (email) manages.
    #[arg(long)]
    pub owner: Option<String>,
    /// Only accounts with this relationship style (relationship or transaction).
    #[arg(long)]
    pub relationship_style: Option<String>,
}

impl FilterArgs {
    /// The filter these flags ask for.
    pub fn filter(&self) -> AccountFilter {
        AccountFilter {
            vertical: self.vertical.clone(),
            region: self.region.clone(),
            owner: self.owner.clone(),
            relationship_style: self.relationship_style.clone(),
            owned_by: None,
        }
    }
}

/// `rapport report`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// The report: quadrants, migration, nps, drivers, comments, trends, coverage, loyalty-revenue, or
    /// the portfolio assessment: portfolio, ideal, squeaky-wheel, risk, relationships (each
    /// described in the README).
    #[arg(value_parser = parse_report)]
    pub report: ReportKind,
    /// The wave (e.g. 2026-Q4); the latest wave by default.
    #[arg(long)]
    pub wave: Option<String>,
    /// Migration: the earlier wave (default: the one before --to).
    #[arg(long)]
    pub from: Option<String>,
    /// Migration: the later wave (default: the latest).
    #[arg(long)]
    pub to: Option<String>,
    /// Segment by vertical, region, owner, role, relationship_style or strategic.
    #[arg(long, value_parser = parse_dimension)]
    pub by: Option<Dimension>,
    /// Trends, comments and coverage: one account only (its account_id).
    #[arg(long)]
    pub account: Option<String>,
    /// Comments: only those on this theme (product, delivery, support, value, brand, promise
    /// or other).
    #[arg(long)]
    pub theme: Option<String>,
    /// Which accounts.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// High loyalty is NPS at or above this.
    #[arg(long, default_value_t = DEFAULT_LOYALTY_THRESHOLD)]
    pub loyalty_threshold: f64,
    /// High revenue is billed revenue at or above this amount (default: the median billed
    /// revenue of the accounts surveyed in the wave).
    #[arg(long, value_parser = parse_money)]
    pub revenue_threshold: Option<Money>,
    /// Figures from fewer answers than this are flagged as low sample.
    #[arg(long, default_value_t = DEFAULT_MIN_ANSWERS)]
    pub min_answers: u64,
    /// Assessment reports: the first quarter of the window (2026-Q1; a month stands for its
    /// quarter). Default: the four quarters up to --until, or up to today.
    #[arg(long)]
    pub since: Option<String>,
    /// Assessment reports: the last quarter of the window (default: the current quarter).
    #[arg(long)]
    pub until: Option<String>,
    /// Assessment reports: count neglect up to this day (YYYY-MM-DD; default: today).
    #[arg(long, value_parser = parse_day)]
    pub as_of: Option<time::Date>,
    /// The ideal report: compare with this version of the definition (`rapport ideal
    /// history` lists them) and show which accounts move.
    #[arg(long)]
    pub compare: Option<i64>,
    /// table (readable), csv, json or xlsx (a workbook; needs --output).
    #[arg(long, value_parser = parse_format, default_value = "table")]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

impl ReportArgs {
    /// The query these flags ask for.
    pub fn query(&self) -> ReportQuery {
        ReportQuery {
            wave: self.wave.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            by: self.by,
            account: self.account.clone(),
            loyalty_threshold: self.loyalty_threshold,
            revenue_threshold: self.revenue_threshold,
            min_answers: self.min_answers,
            filter: self.filter.filter(),
            since: self.since.clone(),
            until: self.until.clone(),
            as_of: self.as_of,
            compare: self.compare,
            theme: self.theme.clone(),
            ..ReportQuery::new(self.report)
        }
    }
}

/// Runs `rapport report`.
pub async fn report(store: &Store, args: ReportArgs) -> anyhow::Result<()> {
    if args.format == Format::Xlsx && args.output.is_none() && std::io::stdout().is_terminal() {
        bail!("an XLSX workbook is not for the terminal: add --output FILE.xlsx");
    }
    let report = build(store, &ReportCache::new(), &args.query()).await?;
    match &args.output {
        Some(path) => {
            let mut file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
            report.write(args.format, &mut file)?;
            eprintln!("Report written to {}.", path.display());
        }
        None => report.write(args.format, &mut std::io::stdout().lock())?,
    }
    Ok(())
}
