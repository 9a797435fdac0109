//! `rapport import` and `rapport export`.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rapport_store::import::{ImportOptions, import_file};
use rapport_store::{Kind, Store};

/// Parses a kind's name; `--help` lists each kind with its canonical headers, taken from
/// the store so that the two can never disagree.
fn kind_parser() -> impl clap::builder::TypedValueParser<Value = Kind> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let values = Kind::ALL.map(|k| {
        let mut help = k.canonical_headers().join(", ");
        if k == Kind::Responses {
            help.push_str(", then one column per rated question");
        }
        PossibleValue::new(k.as_str()).help(help)
    });
    PossibleValuesParser::new(values).map(|name| Kind::parse(&name).expect("every possible value names a kind"))
}

/// `rapport import KIND FILE`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Headers are matched case-insensitively; Salesforce and HubSpot export headers \
(\"Account ID\", \"Account Name\", \"Industry\", \"Record ID\", \"First Name\" + \"Last Name\", ...) work too. \
Unknown columns become custom attributes (for responses: rated questions). Rows are upserted by their id: \
importing the same file twice changes nothing.")]
pub struct ImportArgs {
    /// What the file holds.
    #[arg(value_parser = kind_parser())]
    pub kind: Kind,
    /// The CSV file (UTF-8 with or without BOM; comma, semicolon or tab separated).
    pub file: PathBuf,
    /// Check every row (and every reference to existing records) without storing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// How many problems to list before only counting them.
    #[arg(long, default_value_t = 100)]
    pub max_errors: usize,
}

/// `rapport export KIND FILE`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// What to export.
    #[arg(value_parser = kind_parser())]
    pub kind: Kind,
    /// The CSV file to write (`-` for standard output).
    pub file: PathBuf,
}

fn progress_bar(total: u64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    Some(bar)
}

/// Runs `rapport import`.
pub async fn import(store: &Store, args: ImportArgs) -> anyhow::Result<()> {
    let kind = args.kind;
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    let bar = progress_bar(size);
    if let Some(b) = &bar {
        b.set_message(format!("importing {kind}"));
    }
    let options = ImportOptions { dry_run: args.dry_run, max_errors: args.max_errors, delimiter: None };
    let mut tick = |bytes: u64| {
        if let Some(b) = &bar {
            b.set_position(bytes);
        }
    };
    let result = import_file(store, kind, &args.file, options, &mut tick).await;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let summary = result.with_context(|| format!("importing {} from {}", kind, args.file.display()))?;
    let c = summary.counts;
    let verb = if summary.dry_run { "checked (dry run, nothing stored)" } else { "imported" };
    say!("{} {kind} rows {verb}: {} new, {} updated, {} unchanged.", c.rows, c.inserted, c.updated, c.unchanged);
    Ok(())
}

/// Runs `rapport export`.
pub async fn export(store: &Store, args: ExportArgs) -> anyhow::Result<()> {
    let kind = args.kind;
    if args.file.as_os_str() == "-" {
        let stdout = std::io::stdout();
        rapport_store::export::export_csv(store, kind, stdout.lock()).await?;
        return Ok(());
    }
    // Write beside the target and rename, so a failed export never leaves half a file.
    let tmp = args.file.with_extension("csv.partial");
    let file = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let rows = rapport_store::export::export_csv(store, kind, std::io::BufWriter::new(file))
        .await
        .with_context(|| format!("exporting {kind}"))?;
    std::fs::rename(&tmp, &args.file).with_context(|| format!("writing {}", args.file.display()))?;
    say!("{rows} {kind} rows exported to {}.", args.file.display());
    Ok(())
}
