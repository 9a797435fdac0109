//! `rapport bench reports`: times the headline reports in one process, the first run cold
//! (nothing cached by this process), the rest warm (computed again from the inputs the report
//! cache holds, after checking the data version), and a repeated request as `rapport serve`
//! answers it (the finished report, cached until the data changes), for BENCHMARKS.md.

use std::time::{Duration, Instant};

use clap::Parser;
use rapport_store::Store;
use rapport_store::report_cache::ReportCache;

use rapport_reports::{build, build_cached};

use crate::report::ReportArgs;

/// `rapport bench reports`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The wave (default: the latest).
    #[arg(long)]
    pub wave: Option<String>,
    /// How many times to run each report (the first is the cold run).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Time the portfolio assessment reports (portfolio, ideal, squeaky-wheel, risk,
    /// relationships) over this window's last quarter instead of the loyalty reports.
    #[arg(long, value_name = "QUARTER")]
    pub assessment_until: Option<String>,
}

/// Parses report arguments as `rapport report` would.
#[derive(Parser)]
struct ReportLine {
    #[command(flatten)]
    args: ReportArgs,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    if v.is_empty() { Duration::ZERO } else { v[v.len() / 2] }
}

/// Runs the quadrant, NPS-by-vertical and drivers-by-vertical reports (or the five assessment
/// reports) `runs` times each and prints the cold time, the median warm time, and the median time
/// of a repeated request served from the finished report.
pub async fn bench_reports(store: &Store, args: BenchArgs) -> anyhow::Result<()> {
    let mut extra = args.wave.map(|w| vec!["--wave".to_string(), w]).unwrap_or_default();
    let loyalty: &[&[&str]] = &[&["quadrants"], &["nps", "--by", "vertical"], &["drivers", "--by", "vertical"]];
    let assessment: &[&[&str]] = &[&["portfolio"], &["ideal"], &["squeaky-wheel"], &["risk"], &["relationships"]];
    let reports = match args.assessment_until {
        Some(until) => {
            extra.extend(["--until".to_string(), until]);
            assessment
        }
        None => loyalty,
    };
    // One cache for the whole run: the first run of each report fills it, the others read
    // it after checking the data version, as a server process does between changes.
    let cache = ReportCache::new();
    say!("{:<24} {:>10} {:>14} {:>16} {:>6}", "report", "cold ms", "warm ms (med)", "repeated ms (med)", "rows");
    for words in reports {
        let argv =
            std::iter::once("report".to_string()).chain(words.iter().map(|w| w.to_string())).chain(extra.clone());
        let parsed = ReportLine::try_parse_from(argv)?.args;
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..args.runs.max(1) {
            let started = Instant::now();
            rows = build(store, &cache, &parsed.query()).await?.rows.len();
            times.push(started.elapsed());
        }
        let cold = times.remove(0);
        let warm = if times.is_empty() { "-".to_string() } else { format!("{:.1}", median(times).as_secs_f64() * 1e3) };
        // The server keeps each finished report until the data changes: the first request
        // below builds it, the others are served from the cache.
        let mut repeated = Vec::new();
        for _ in 0..=args.runs.max(1) {
            let started = Instant::now();
            build_cached(store, &cache, &parsed.query()).await?;
            repeated.push(started.elapsed());
        }
        repeated.remove(0);
        let repeated = format!("{:.2}", median(repeated).as_secs_f64() * 1e3);
        say!("{:<24} {:>10.1} {:>14} {:>16} {:>6}", words.join(" "), cold.as_secs_f64() * 1e3, warm, repeated, rows);
    }
    Ok(())
}
