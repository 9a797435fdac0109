//! `rapport wave create|preview|links|close|status`: rounds of the relationship survey.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, bail};
use rapport_core::contact::RoleLevel;
use rapport_store::Store;
use rapport_store::formula::guard;
use rapport_store::invitations::{Channel, WavePlan};
use rapport_store::waves::WaveStatus;
use time::{Date, Duration, OffsetDateTime};

use crate::delivery::{DeliveryArgs, PublicUrl};
use crate::report::FilterArgs;

/// The survey a wave asks unless told otherwise.
const DEFAULT_SURVEY: &str = "B2B relationship survey";

/// `rapport wave ...`.
#[derive(Debug, clap::Subcommand)]
pub enum WaveCommand {
    /// Create a wave and one invitation per selected contact (nothing is sent yet).
    Create(CreateArgs),
    /// Show the messages the wave's first invitations will send, exactly as sent.
    Preview(PreviewArgs),
    /// Send the wave's invitations by email (opening the wave), and follow the sending; with
    /// --remind-after, remind those who have not answered.
    Send(SendArgs),
    /// Write every personal link of the wave to a CSV file, for sending from another tool,
    /// and open the wave for answers.
    Links(LinksArgs),
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
    #[arg(long, default_value_t = 30)]
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
        WaveCommand::Close(args) => {
            let (id, _) = find(store, &args.name).await?;
            store.set_wave_status(id, WaveStatus::Closed, OffsetDateTime::now_utc()).await?;
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
    let Some(survey) = store.latest_survey(&args.survey).await? else {
        bail!(
            "there is no survey named '{}': save the built-in one with `rapport survey add --template --company \
             \"Your company\" --email surveys@your.domain`, or list them with `rapport survey list`",
            args.survey
        );
    };
    let now = OffsetDateTime::now_utc();
    let opens = args.opens.unwrap_or(now.date());
    let closes = args.closes.unwrap_or(opens + Duration::days(21));
    if closes < opens {
        bail!("--closes {closes} is before --opens {opens}: the last day of answers must come after the first");
    }
    let filter = args.filter.filter();
    let accounts: Option<Vec<i64>> = if filter.is_empty() {
        None
    } else {
        let all = store.portfolio_accounts().await?;
        Some(all.into_iter().filter(|a| filter.matches(&a.account)).map(|a| a.id).collect())
    };
    let mut selection = Vec::new();
    for (label, value) in [
        ("vertical", &filter.vertical),
        ("region", &filter.region),
        ("owner", &filter.owner),
        ("relationship style", &filter.relationship_style),
    ] {
        if let Some(v) = value {
            selection.push(format!("{label} {v}"));
        }
    }
    if !args.role.is_empty() {
        let roles: Vec<&str> = args.role.iter().map(|r| r.as_str()).collect();
        selection.push(format!("role {}", roles.join("/")));
    }
    let selection = if selection.is_empty() { "every contact".to_string() } else { selection.join(", ") };
    let plan = WavePlan {
        name: &args.name,
        survey: &survey,
        opens_on: opens,
        closes_on: closes,
        accounts: accounts.as_deref(),
        roles: &args.role,
        exclude_days: args.exclude_days,
        selection: &selection,
        now,
    };
    let created = store.create_wave(&plan).await?;
    say!(
        "Created wave {} ({}, version {}), open {opens} to {closes}, for {selection}.",
        args.name,
        survey.survey.name,
        survey.version
    );
    let per_channel: Vec<String> = created.invited.iter().map(|(c, n)| format!("{n} by {c}")).collect();
    say!(
        "{} invitations: {}.",
        created.total(),
        if per_channel.is_empty() { "none".to_string() } else { per_channel.join(", ") }
    );
    say!(
        "Left out: {} opted out or unsubscribed, {} surveyed in the last {} days.",
        created.opted_out,
        created.recent,
        args.exclude_days
    );
    say!("Next: `rapport wave preview {0}`, then `rapport wave links {0} links.csv`.", args.name);
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
                let mail = rapport_web::invite::email(&survey, &inv, &args.public.url, false)?;
                say!("To: {}\nSubject: {}\n\n{}", inv.email.as_deref().unwrap_or_default(), mail.subject, mail.text);
            }
            Channel::Sms => {
                say!(
                    "To: {}\n{}",
                    inv.phone.as_deref().unwrap_or_default(),
                    rapport_web::invite::sms(&survey, &inv, &args.public.url)
                );
            }
            Channel::Link => {
                say!("No email or phone on file: hand out {}", rapport_web::invite::link(&args.public.url, &inv))
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
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(file));
    out.write_record(["account_name", "contact_name", "email", "phone", "language", "channel", "link"])?;
    let (mut after, mut written) = (0, 0u64);
    loop {
        let page = store.wave_invitations(id, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for inv in &page {
            let link = rapport_web::invite::link(&args.public.url, inv);
            out.write_record([
                guard(&inv.account_name).as_ref(),
                guard(&inv.contact_name).as_ref(),
                guard(inv.email.as_deref().unwrap_or_default()).as_ref(),
                guard(inv.phone.as_deref().unwrap_or_default()).as_ref(),
                &inv.language,
                &inv.channel,
                &link,
            ])?;
            written += 1;
        }
    }
    out.flush()?;
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
            "no SMTP server is set: give --smtp-url smtp://USER:PASSWORD@HOST:587 (or set RAPPORT_SMTP_URL), \
             or hand out the links yourself with `rapport wave links {} links.csv`",
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
    let queued = store.queue_invitations(id, &[Channel::Email.as_str()], now).await?;
    if queued > 0 || !args.retry_failed {
        say!("{queued} invitations queued for email.");
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
        let ran = worker.run_batch().await?;
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
