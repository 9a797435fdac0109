//! The `rapport` command line: every subcommand, its flags and environment variables.
//!
//! # Layout
//! - [`Cli`] and [`Command`]: the clap definitions (their doc comments are the `--help`).
//! - [`serve`]: the web app; [`user`]: the people who sign in.
//! - [`survey`]: survey definitions; [`wave`]: waves, their invitations and links;
//!   [`delivery`]: the SMTP and public-address settings `serve` and `wave send` share.
//! - [`transfer`]: `import` and `export`; [`demo`]: the demo portfolio; [`report`]: the
//!   reports and their output formats; [`assessment`]: the ideal account definition.
//! - [`follow_up`]: alert rules, follow-ups and action plans, webhooks.
//! - [`telemetry`] sets up logging.

/// Writes a line to standard output and returns its error instead of panicking as `println!`
/// does, so that `rapport ... | head` ends quietly (see `main`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?;
    }};
}

pub mod assessment;
pub mod backup;
pub mod bench;
pub mod delivery;
pub mod demo;
pub mod follow_up;
pub mod report;
pub mod serve;
pub mod survey;
pub mod telemetry;
pub mod transfer;
pub mod user;
pub mod wave;

use clap::{Parser, Subcommand};
use rapport_store::Store;

/// Rapport turns what business customers say into account strategy: relationship surveys,
/// the loyalty x revenue matrix, key drivers per vertical, closed-loop follow-up.
#[derive(Debug, Parser)]
#[command(name = "rapport", version, about, long_about = None)]
pub struct Cli {
    /// The database: sqlite://FILE (created on first use) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "RAPPORT_DATABASE_URL",
        default_value = "sqlite://rapport.db",
        hide_env_values = true
    )]
    pub database_url: String,

    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `rapport_store=debug`.
    #[arg(long, global = true, env = "RAPPORT_LOG", default_value = "warn,sqlx=error")]
    pub log: String,

    /// Log format: text for people, json for log collectors.
    #[arg(long, global = true, env = "RAPPORT_LOG_FORMAT", value_enum, default_value_t = telemetry::LogFormat::Text)]
    pub log_format: telemetry::LogFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web app: the dashboard, account pages, reports and exports.
    Serve(serve::ServeArgs),
    /// Survey definitions: the built-in B2B relationship survey, your own, their versions.
    #[command(subcommand)]
    Survey(survey::SurveyCommand),
    /// Survey waves: create one, preview its messages, hand out its links, follow it, close it.
    #[command(subcommand)]
    Wave(wave::WaveCommand),
    /// Manage the people who sign in.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Alert rules, and the follow-ups they opened.
    #[command(subcommand)]
    Alerts(follow_up::AlertsCommand),
    /// Action plans and follow-ups: list, add, record progress.
    #[command(subcommand)]
    Tasks(follow_up::TasksCommand),
    /// Webhooks: where events (answers, alerts, overdue tasks, quadrant moves) are posted.
    #[command(subcommand)]
    Webhook(follow_up::WebhookCommand),
    /// The monthly or quarterly cycle: waves, reminders and review meetings on a schedule.
    #[command(subcommand)]
    Cadence(follow_up::CadenceCommand),
    /// Load a CSV file of accounts, contacts, revenue, opportunities, service cases or
    /// survey responses. A file is one transaction: one bad row and nothing is stored.
    Import(transfer::ImportArgs),
    /// Write every record of a kind to a CSV file (canonical headers; re-importable).
    Export(transfer::ExportArgs),
    /// Fill the database with a realistic demo portfolio: verticals, accounts, contacts at
    /// several levels, revenue, opportunities, service cases and four quarterly waves of answers.
    Demo(demo::DemoArgs),
    /// Reports: quadrants, migration, nps, drivers, trends, coverage, loyalty-revenue, and the
    /// portfolio assessment: portfolio, ideal, squeaky-wheel, risk, relationships.
    Report(Box<report::ReportArgs>),
    /// The ideal account definition (and the assessment's hourly cost, target margin and
    /// neglect period): show it, its history, or change it and see which accounts move.
    #[command(subcommand)]
    Ideal(assessment::IdealCommand),
    /// Measure Rapport on the configured database (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Maintain the analytics statistics.
    #[command(subcommand)]
    Analytics(AnalyticsCommand),
    /// Write a consistent copy of the SQLite database to a new file, while Rapport runs.
    Backup(backup::BackupArgs),
    /// Replace the SQLite database with a backup (stop `rapport serve` first).
    Restore(backup::BackupArgs),
    /// Create or upgrade the database schema (also done by every other command).
    Migrate,
}

/// `rapport bench ...`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time the quadrant, NPS-by-vertical and drivers-by-vertical reports, cold then warm.
    Reports(bench::BenchArgs),
}

/// `rapport analytics ...`.
#[derive(Debug, Subcommand)]
pub enum AnalyticsCommand {
    /// Recompute every statistics cell from all answers (the same figures that imports keep
    /// current; use after restoring a database or changing answers by hand).
    Rebuild,
}

/// Whether `err` is a write to standard output whose reader went away (`rapport report ... |
/// head`), which is not a failure. The CSV and JSON writers keep the I/O error inside errors
/// of their own, which do not give it as their source, so each is asked for it.
pub fn reader_went_away(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let kind = if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            Some(io.kind())
        } else if let Some(csv) = cause.downcast_ref::<csv::Error>() {
            match csv.kind() {
                csv::ErrorKind::Io(io) => Some(io.kind()),
                _ => None,
            }
        } else {
            cause.downcast_ref::<serde_json::Error>().and_then(serde_json::Error::io_error_kind)
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // Restoring replaces the database file: it must not be open.
    let command = match cli.command {
        Command::Restore(args) => return backup::restore(&cli.database_url, args).await,
        other => other,
    };
    let store = open(&cli.database_url).await?;
    let result = match command {
        Command::Backup(args) => backup::backup(&store, args).await,
        Command::Restore(_) => unreachable!("restore runs before the database is opened"),
        Command::Serve(args) => serve::serve(&store, args).await,
        Command::User(command) => user::user(&store, command).await,
        Command::Alerts(command) => follow_up::alerts(&store, command).await,
        Command::Tasks(command) => follow_up::tasks(&store, command).await,
        Command::Webhook(command) => follow_up::webhook(&store, command).await,
        Command::Cadence(command) => follow_up::cadence(&store, command).await,
        Command::Survey(command) => survey::survey(&store, command).await,
        Command::Wave(command) => wave::wave(&store, command).await,
        Command::Import(args) => transfer::import(&store, args).await,
        Command::Export(args) => transfer::export(&store, args).await,
        Command::Demo(args) => demo::demo(&store, args).await,
        Command::Report(args) => report::report(&store, *args).await,
        Command::Ideal(command) => assessment::ideal(&store, command).await,
        Command::Bench(BenchCommand::Reports(args)) => bench::bench_reports(&store, args).await,
        Command::Analytics(AnalyticsCommand::Rebuild) => {
            let started = std::time::Instant::now();
            let summary = store.rebuild_analytics().await?;
            let corrected = match summary.corrected {
                0 => "every stored cell was right".to_string(),
                1 => "1 stored cell differed and was corrected".to_string(),
                n => format!("{n} stored cells differed and were corrected"),
            };
            say!(
                "Rebuilt {} statistics cells from {} answers in {:.1} s: {corrected}.",
                summary.cells,
                summary.answers,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Migrate => {
            say!("The database schema is up to date ({}).", rapport_store::store::redact(&cli.database_url));
            Ok(())
        }
    };
    store.close().await;
    result
}

/// Records a change made from the command line in the audit log (the web app records its own).
pub async fn audit(store: &Store, action: &str, target: &str, detail: &str) -> anyhow::Result<()> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Ok(store.audit(now, Some("command line"), action, target, detail).await?)
}

/// Opens (and migrates) the database.
pub async fn open(url: &str) -> anyhow::Result<Store> {
    Ok(Store::connect(url).await?)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        super::Cli::command().debug_assert();
    }
}
