//! `rapport wave create|preview|links|close|status`: rounds of the relationship survey.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, bail};
use rapport_core::contact::RoleLevel;
use rapport_store::Store;
use rapport_store::invitations::Channel;
use rapport_store::waves::WaveStatus;
use rapport_web::waves::{self, DEFAULT_EXCLUDE_DAYS, DEFAULT_SURVEY, NewWave};
use time::{Date, OffsetDateTime};

use crate::delivery::{DeliveryArgs, PublicUrl};
use crate::report::FilterArgs;

/// `rapport wave ...`.
#[derive(Debug, clap::Subcommand)]
pub enum WaveCommand {
    /// Create a wave and one invitation per selected contact (nothing is sent yet).
    Create(CreateArgs),
    /// Show the messages the wave's first invitations will send, exactly as sent.
    Preview(PreviewArgs),
    /// Send the wave's invitations by email and SMS (opening the wave), and follow the sending; with
    /// --remind-after, remind those who have not answered.
    Send(SendArgs),
    /// Write every personal link of the wave to a CSV file, for sending from another tool,
    /// and open the wave for answers.
    Links(LinksArgs),
    /// Record the bounces your mail provider reports (a CSV with an `email` column and an
    /// optional `reason` column, or one address per line): those invitations are marked
    /// bounced and get no reminders.
    Bounces(BouncesArgs),
    /// Stop taking answers.
    Close(NameArg),
    /// Invitations, deliveries and answers so far, per wave.
    Status(StatusArgs),
}

/// `rapport wave create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The wave's name, e.g. 2026-Q4.
    pub name: String,
    /// The survey to ask (its latest version is kept with the wave).
    #[arg(long, default_value = DEFAULT_SURVEY)]
    pub survey: String,
    /// First day of answers (YYYY-MM-DD; default today).
    #[arg(long, value_parser = parse_date)]
    pub opens: Option<Date>,
    /// Last day of answers (default three weeks after --opens).
    #[arg(long, value_parser = parse_date)]
    pub closes: Option<Date>,
    /// Only contacts at these levels (executive, manager, user; repeat or separate with commas).
    #[arg(long, value_delimiter = ',', value_parser = parse_role)]
    pub role: Vec<RoleLevel>,
    /// Leave out contacts invited or answering in the last this many days.
    #[arg(long, default_value_t = DEFAULT_EXCLUDE_DAYS)]
    pub exclude_days: u32,
    /// Which accounts (default: all).
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// `rapport wave preview`.
#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    /// The wave.
    pub name: String,
    /// How many invitations to show.
    #[arg(long, default_value_t = 3)]
    pub count: usize,
    /// Where links point.
    #[command(flatten)]
    pub public: PublicUrl,
}

/// `rapport wave send`.
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// The wave.
    pub name: String,
    /// Send again the invitations whose delivery failed.
    #[arg(long)]
    pub retry_failed: bool,
    /// Queue the messages and return: `rapport serve` sends them.
    #[arg(long)]
    pub no_wait: bool,
    /// Remind those who have not answered this many days after the last message.
    #[arg(long)]
    pub remind_after: Option<u32>,
    /// At most this many reminders per contact (with --remind-after).
    #[arg(long, default_value_t = 2)]
    pub reminders: u32,
    /// How to send.
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

/// `rapport wave links`.
#[derive(Debug, clap::Args)]
pub struct LinksArgs {
    /// The wave.
    pub name: String,
    /// The CSV file to write.
    pub file: PathBuf,
    /// Where links point.
    #[command(flatten)]
    pub public: PublicUrl,
}

/// `rapport wave bounces`.
#[derive(Debug, clap::Args)]
pub struct BouncesArgs {
    /// The wave.
    pub name: String,
    /// The bounce report.
    pub file: PathBuf,
}

/// A wave's name.
#[derive(Debug, clap::Args)]
pub struct NameArg {
    /// The wave.
    pub name: String,
}

/// `rapport wave status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Only this wave (default: every wave sent from Rapport).
    pub name: Option<String>,
}

fn parse_date(text: &str) -> Result<Date, String> {
    rapport_core::date::parse_date(text).map_err(|e| e.to_string())
}

fn parse_role(text: &str) -> Result<RoleLevel, String> {
    RoleLevel::parse(text).ok_or_else(|| format!("'{text}' is not a role level: use executive, manager or user"))
}

/// Runs `rapport wave ...`.
pub async fn wave(store: &Store, command: WaveCommand) -> anyhow::Result<()> {
    match command {
        WaveCommand::Create(args) => create(store, args).await,
        WaveCommand::Preview(args) => preview(store, args).await,
        WaveCommand::Links(args) => links(store, args).await,
        WaveCommand::Send(args) => send(store, args).await,
        WaveCommand::Bounces(args) => bounces(store, args).await,
        WaveCommand::Close(args) => {
            let (id, _) = find(store, &args.name).await?;
            store.set_wave_status(id, WaveStatus::Closed, OffsetDateTime::now_utc()).await?;
            crate::audit(store, "wave.closed", &args.name, "").await?;
            say!("Wave {} is closed: its links now show that the survey has ended.", args.name);
            Ok(())
        }
        WaveCommand::Status(args) => status(store, args).await,
    }
}

/// The wave named `name`, which must have been created with `wave create`.
async fn find(store: &Store, name: &str) -> anyhow::Result<(i64, WaveStatus)> {
    match store.wave_by_name(name).await? {
        Some((id, status, Some(_))) => Ok((id, status)),
        Some(_) => bail!("wave {name} holds imported answers; it was not sent from Rapport and has no invitations"),
        None => bail!("there is no wave named {name}: create it with `rapport wave create {name}`"),
    }
}

async fn create(store: &Store, args: CreateArgs) -> anyhow::Result<()> {
    let req = NewWave {
        name: args.name.clone(),
        survey: args.survey,
        opens: args.opens,
        closes: args.closes,
        roles: args.role,
        exclude_days: args.exclude_days,
        filter: args.filter.filter(),
    };
    let done = waves::create(store, &req, OffsetDateTime::now_utc()).await?;
    let detail = format!("{} invitations for {}", done.created.total(), done.selection);
    crate::audit(store, "wave.create", &args.name, &detail).await?;
    say!(
        "Created wave {} ({}, version {}), open {} to {}, for {}.",
        args.name,
        done.survey.survey.name,
        done.survey.version,
        done.opens,
        done.closes,
        done.selection
    );
    let per_channel: Vec<String> = done.created.invited.iter().map(|(c, n)| format!("{n} by {c}")).collect();
    say!(
        "{} invitations: {}.",
        done.created.total(),
        if per_channel.is_empty() { "none".to_string() } else { per_channel.join(", ") }
    );
    say!(
        "Left out: {} opted out or unsubscribed, {} surveyed in the last {} days.",
        done.created.opted_out,
        done.created.recent,
        args.exclude_days
    );
    say!(
        "Next: `rapport wave preview {0}`, then `rapport wave send {0}` or `rapport wave links {0} links.csv`.",
        args.name
    );
    Ok(())
}

async fn preview(store: &Store, args: PreviewArgs) -> anyhow::Result<()> {
    let (id, _) = find(store, &args.name).await?;
    let invitations = store.wave_invitations(id, 0, i64::try_from(args.count).unwrap_or(i64::MAX)).await?;
    if invitations.is_empty() {
        say!("Wave {} has no invitations.", args.name);
    }
    for inv in invitations {
        let version = inv.survey_version_id.context("the wave has no survey")?;
        let survey = store.survey_version(version).await?.survey;
        say!("--- {} ({}), {} · {} · by {}", inv.contact_name, inv.account_name, inv.language, inv.status, inv.channel);
        match inv.channel() {
            Channel::Email => {
                let mail = rapport_web::invite::email(&survey, &inv, args.public.get(), false)?;
                say!("To: {}\nSubject: {}\n\n{}", inv.email.as_deref().unwrap_or_default(), mail.subject, mail.text);
            }
            Channel::Sms => {
                say!(
                    "To: {}\n{}",
                    inv.phone.as_deref().unwrap_or_default(),
                    rapport_web::invite::sms(&survey, &inv, args.public.get())
                );
            }
            Channel::Link => {
                say!("No email or phone on file: hand out {}", rapport_web::invite::link(args.public.get(), &inv))
            }
        }
    }
    Ok(())
}

async fn links(store: &Store, args: LinksArgs) -> anyhow::Result<()> {
    let (id, status) = find(store, &args.name).await?;
    if status == WaveStatus::Closed {
        bail!("wave {} is closed: its links would only say so", args.name);
    }
    let file = std::fs::File::create(&args.file).with_context(|| format!("creating {}", args.file.display()))?;
    let written = waves::write_links(store, id, args.public.get(), std::io::BufWriter::new(file)).await?;
    crate::audit(store, "wave.links", &args.name, &format!("{written} links")).await?;
    if status == WaveStatus::Draft {
        store.set_wave_status(id, WaveStatus::Open, OffsetDateTime::now_utc()).await?;
        say!("Wave {} is open for answers.", args.name);
    }
    say!("Wrote {written} personal links to {}.", args.file.display());
    Ok(())
}

async fn status(store: &Store, args: StatusArgs) -> anyhow::Result<()> {
    let waves = store.list_waves().await?;
    let mut shown = 0;
    for w in waves.iter().filter(|w| args.name.as_ref().is_none_or(|n| *n == w.name)) {
        let p = store.wave_progress(w.id).await?;
        if p.invited == 0 && args.name.is_none() {
            continue;
        }
        if p.invited == 0 {
            bail!("wave {} holds imported answers: it was not sent from Rapport and has no invitations", w.name);
        }
        shown += 1;
        let rate = if p.invited == 0 { 0.0 } else { 100.0 * p.answered as f64 / p.invited as f64 };
        let q = store.queue_counts(Some(w.id)).await?;
        say!(
            "{}  {}  invited {}  queued {}  sent {}  failed {}  bounced {}  opened {}  partial {}  answered {} ({rate:.0}%)",
            w.name,
            w.status,
            p.invited,
            q.queued + q.running,
            p.sent,
            p.failed,
            p.bounced,
            p.opened,
            p.partial,
            p.answered
        );
    }
    if let Some(name) = &args.name
        && let Some(w) = waves.iter().find(|w| &w.name == name)
    {
        for (contact, address, error) in store.failed_invitations(w.id, 20).await? {
            say!("  failed: {contact} <{address}>: {error}");
        }
    }
    if shown == 0 {
        match &args.name {
            Some(n) => bail!("there is no wave named {n}"),
            None => say!("No wave has been sent from Rapport yet: start one with `rapport wave create 2026-Q4`."),
        }
    }
    Ok(())
}

async fn send(store: &Store, args: SendArgs) -> anyhow::Result<()> {
    let (id, status) = find(store, &args.name).await?;
    if status == WaveStatus::Closed {
        bail!("wave {} is closed: its invitations would only find a closed survey", args.name);
    }
    let Some(worker) = args.delivery.worker(store)? else {
        bail!(
            "no SMTP server or SMS gateway is set: give --smtp-url smtp://USER:PASSWORD@HOST:587 (or set \
             RAPPORT_SMTP_URL; --sms-url for text messages), or hand out the links yourself with `rapport wave \
             links {} links.csv`",
            args.name
        );
    };
    let now = OffsetDateTime::now_utc();
    if let Some(days) = args.remind_after {
        store.set_reminders(id, days, args.reminders).await?;
        say!(
            "Those who have not answered get a reminder {days} days after the last message, at most {} times.",
            args.reminders
        );
    }
    if args.retry_failed {
        say!("{} failed invitations queued again.", store.requeue_failed(id, now).await?);
    }
    if status == WaveStatus::Draft {
        store.set_wave_status(id, WaveStatus::Open, now).await?;
        say!("Wave {} is open for answers.", args.name);
    }
    let channels = worker.channels();
    let queued = store.queue_invitations(id, &channels, now).await?;
    crate::audit(store, "wave.send", &args.name, &format!("{queued} invitations queued by {}", channels.join(" and ")))
        .await?;
    if queued > 0 || !args.retry_failed {
        say!("{queued} invitations queued ({}).", channels.join(" and "));
    }
    if args.no_wait {
        say!(
            "`rapport serve` (with RAPPORT_SMTP_URL set) sends them; follow with `rapport wave status {}`.",
            args.name
        );
        return Ok(());
    }
    let total = {
        let c = store.queue_counts(Some(id)).await?;
        c.queued + c.running + c.done + c.failed
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} sending [{bar:30}] {pos}/{len} messages ({eta})")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        b
    });
    // Deliver in slices so the bar moves; stop when nothing more is due now.
    worker.prepare().await?;
    loop {
        let ran = worker.run_next().await?;
        let c = store.queue_counts(Some(id)).await?;
        if let Some(b) = &bar {
            b.set_position(c.done + c.failed);
        }
        if ran == 0 {
            break;
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let c = store.queue_counts(Some(id)).await?;
    let p = store.wave_progress(id).await?;
    say!("Sent {} messages; {} invitations failed; {} waiting to be retried.", c.done, p.failed, c.queued);
    if p.failed > 0 {
        say!(
            "`rapport wave status {0}` shows the reasons; `rapport wave send {0} --retry-failed` tries them again.",
            args.name
        );
    }
    Ok(())
}

/// The (address, reason) pairs of a bounce report: a CSV with an `email` (or `recipient`,
/// `address`) column and an optional `reason` (or `diagnostic`) column, or one address a line.
fn read_bounces(path: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let mut rows = reader.records();
    let Some(first) = rows.next().transpose().with_context(|| format!("reading {}", path.display()))? else {
        return Ok(Vec::new());
    };
    let named = |names: &[&str]| first.iter().position(|h| names.contains(&h.trim().to_ascii_lowercase().as_str()));
    let (email_col, reason_col, mut out) = if first.iter().any(|f| f.contains('@')) {
        let col = first.iter().position(|f| f.contains('@')).unwrap_or(0);
        (col, None, vec![(first.get(col).unwrap_or_default().trim().to_string(), waves::bounce_reason(None))])
    } else {
        let Some(col) = named(&["email", "recipient", "address", "email address"]) else {
            bail!(
                "{}: no column of email addresses: name it `email` (a `reason` column is optional), or list one \
                 address per line",
                path.display()
            );
        };
        (col, named(&["reason", "diagnostic", "diagnostic code", "bounce reason"]), Vec::new())
    };
    for (i, row) in rows.enumerate() {
        let row = row.with_context(|| format!("{}, line {}", path.display(), i + 2))?;
        let email = row.get(email_col).unwrap_or_default().trim();
        if email.is_empty() {
            continue;
        }
        out.push((email.to_string(), waves::bounce_reason(reason_col.and_then(|c| row.get(c)))));
    }
    Ok(out)
}

async fn bounces(store: &Store, args: BouncesArgs) -> anyhow::Result<()> {
    let (id, _) = find(store, &args.name).await?;
    let reported = read_bounces(&args.file)?;
    let (marked, unknown) = waves::record_bounces(store, id, &reported).await?;
    say!("{marked} invitations of wave {} marked bounced, from {} reported addresses.", args.name, reported.len());
    crate::audit(store, "wave.bounces", &args.name, &format!("{marked} invitations marked bounced")).await?;
    if !unknown.is_empty() {
        let shown: Vec<&str> = unknown.iter().take(10).map(String::as_str).collect();
        say!(
            "{} addresses match no email invitation of the wave (other waves, or typos): {}{}",
            unknown.len(),
            shown.join(", "),
            if unknown.len() > 10 { ", ..." } else { "" }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounce_reports_are_read_with_or_without_a_header() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("bounces.csv");
        std::fs::write(&csv, "Recipient,Diagnostic Code,Date\nana@x.example,550 5.1.1 unknown user,2026-11-24\n,,\n")
            .unwrap();
        assert_eq!(
            read_bounces(&csv).unwrap(),
            [("ana@x.example".to_string(), "bounced: 550 5.1.1 unknown user".to_string())]
        );
        let list = dir.path().join("bounces.txt");
        std::fs::write(&list, "ana@x.example\nbo@y.example\n").unwrap();
        let read = read_bounces(&list).unwrap();
        assert_eq!(read.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(), ["ana@x.example", "bo@y.example"]);
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "name,phone\nAna,123\n").unwrap();
        assert!(read_bounces(&bad).unwrap_err().to_string().contains("no column of email addresses"));
    }
}
