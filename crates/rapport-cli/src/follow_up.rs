//! `rapport alerts|tasks|webhook`: closing the loop from the command line: the alert rules,
//! follow-ups and action plans, and the webhooks that tell other systems.

use anyhow::{Context, bail};
use rapport_core::alert::AlertRules;
use rapport_core::event::EventType;
use rapport_core::task::{Function, TaskStatus};
use rapport_store::Store;
use rapport_store::outbox::Delivery;
use rapport_store::tasks::{NewTask, TaskFilter, TaskRow, TaskView};
use time::OffsetDateTime;

use crate::delivery::DeliveryArgs;

/// `rapport alerts ...`.
#[derive(Debug, clap::Subcommand)]
pub enum AlertsCommand {
    /// Show the alert rules, or change them with the flags.
    Rules(RulesArgs),
    /// Apply the rules now, escalate overdue follow-ups and send what is due (what `rapport
    /// serve` does every few seconds), then say what happened.
    Scan(ScanArgs),
    /// The follow-ups alerts opened (open ones unless --view says otherwise).
    List(ListArgs),
}

/// `rapport alerts rules`.
#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Alert on detractor answers (LTR 0-6): on or off.
    #[arg(long, value_parser = on_off)]
    pub detractor: Option<bool>,
    /// Alert when an account's NPS falls by this many points or more between waves, or `off`.
    #[arg(long)]
    pub nps_drop: Option<String>,
    /// Alert when an account enters the Problem quadrant: on or off.
    #[arg(long, value_parser = on_off)]
    pub problem: Option<bool>,
    /// The watch words, separated by commas (replaces the list; "" empties it).
    #[arg(long)]
    pub watch_words: Option<String>,
    /// Hours the owner has to follow up before it escalates.
    #[arg(long)]
    pub deadline_hours: Option<u32>,
}

/// `rapport alerts scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Where notifications go out and links point.
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

/// `rapport alerts list` and `rapport tasks list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// open, overdue, closed or all.
    #[arg(long, default_value = "open", value_parser = view)]
    pub view: TaskView,
    /// Only tasks this person owns (an email).
    #[arg(long)]
    pub owner: Option<String>,
    /// Only this function (sales, service, product, marketing, billing, executive).
    #[arg(long, value_parser = function)]
    pub function: Option<Function>,
    /// Only this account (its CRM id).
    #[arg(long)]
    pub account: Option<String>,
}

/// `rapport tasks ...`.
#[derive(Debug, clap::Subcommand)]
pub enum TasksCommand {
    /// Action plan items and follow-ups (open ones unless --view says otherwise).
    List(ListArgs),
    /// Add an action plan item to an account.
    Add(AddArgs),
    /// Record progress on a task: in progress, done (with what was done) or dropped (with why).
    Update(UpdateArgs),
}

/// `rapport tasks add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The account (its CRM id).
    pub account: String,
    /// What is to be done.
    pub description: String,
    /// Which function does it: sales, service, product, marketing, billing, executive.
    #[arg(long, value_parser = function)]
    pub function: Function,
    /// Who (an email; default: the account owner).
    #[arg(long)]
    pub owner: Option<String>,
    /// By when (YYYY-MM-DD, end of that day UTC).
    #[arg(long)]
    pub due: String,
    /// An answer it responds to (its response id; repeat for several).
    #[arg(long)]
    pub answer: Vec<i64>,
}

/// `rapport tasks update`.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The task's id.
    pub id: i64,
    /// open, in_progress, done or dropped.
    #[arg(long, value_parser = status)]
    pub status: TaskStatus,
    /// What was done (or why it was dropped): required to close.
    #[arg(long)]
    pub outcome: Option<String>,
}

/// `rapport cadence ...`.
#[derive(Debug, clap::Subcommand)]
pub enum CadenceCommand {
    /// Show the cadence and the next cycle.
    Show,
    /// Repeat the program monthly or quarterly: from --start on, each cycle opens a wave,
    /// reminds non-respondents, books a review meeting per sponsored account and reports how
    /// the previous cycle's actions stand.
    Set(CadenceArgs),
    /// Stop starting cycles.
    Off,
}

/// `rapport cadence set`.
#[derive(Debug, clap::Args)]
pub struct CadenceArgs {
    /// monthly or quarterly.
    #[arg(long, value_parser = period)]
    pub period: rapport_core::cadence::CyclePeriod,
    /// The first day of the next cycle (YYYY-MM-DD).
    #[arg(long)]
    pub start: String,
    /// The survey each wave asks.
    #[arg(long, default_value = rapport_web::waves::DEFAULT_SURVEY)]
    pub survey: String,
    /// Days each wave takes answers.
    #[arg(long, default_value_t = 21)]
    pub wave_days: u32,
    /// Days without an answer before a reminder.
    #[arg(long, default_value_t = 7)]
    pub remind_after: u32,
    /// Reminders at most.
    #[arg(long, default_value_t = 1)]
    pub reminders: u32,
    /// Days after a wave closes by which review meetings are held.
    #[arg(long, default_value_t = 30)]
    pub review_within: u32,
}

fn period(text: &str) -> Result<rapport_core::cadence::CyclePeriod, String> {
    rapport_core::cadence::CyclePeriod::parse(text)
        .ok_or_else(|| format!("'{text}' is not a period: use monthly or quarterly"))
}

/// Runs `rapport cadence ...`.
pub async fn cadence(store: &Store, command: CadenceCommand) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    match command {
        CadenceCommand::Show => match store.cadence().await? {
            None => say!("No cadence: set one with `rapport cadence set --period quarterly --start YYYY-MM-DD`."),
            Some(c) => {
                let next = c.cycle(c.next_start);
                say!(
                    "{} cycles. The next starts on {}: wave {} takes answers until {} (survey \"{}\"), reminders after {} days (at most {}), review meetings by {}.",
                    c.period.as_str(),
                    next.opens,
                    next.wave,
                    next.closes,
                    c.survey,
                    c.remind_after_days,
                    c.max_reminders,
                    next.reviews_due
                );
            }
        },
        CadenceCommand::Set(a) => {
            let start = rapport_core::date::parse_date(&a.start).map_err(|e| anyhow::anyhow!("--start: {e}"))?;
            let c = rapport_core::cadence::Cadence {
                period: a.period,
                next_start: start,
                survey: a.survey,
                wave_days: a.wave_days,
                remind_after_days: a.remind_after,
                max_reminders: a.reminders,
                review_within_days: a.review_within,
            }
            .validate()?;
            if store.latest_survey(&c.survey).await?.is_none() {
                bail!("there is no survey named '{}': see `rapport survey list`", c.survey);
            }
            store.save_cadence(Some(&c), Some("command line"), now).await?;
            crate::audit(store, "cadence.change", "cadence", &serde_json::to_string(&c)?).await?;
            say!("Saved. The next cycle starts on {} with wave {}.", start, c.cycle(start).wave);
        }
        CadenceCommand::Off => {
            store.save_cadence(None, Some("command line"), now).await?;
            crate::audit(store, "cadence.change", "cadence", "off").await?;
            say!("No more cycles will start.");
        }
    }
    Ok(())
}

/// `rapport webhook ...`.
#[derive(Debug, clap::Subcommand)]
pub enum WebhookCommand {
    /// Add a webhook; prints the secret its deliveries are signed with (once).
    Add(WebhookAddArgs),
    /// The webhooks.
    List,
    /// Remove a webhook and its delivery log.
    Remove {
        /// Its id.
        id: i64,
    },
    /// The latest deliveries (of one webhook with --webhook), newest first.
    Log {
        /// Only this webhook's.
        #[arg(long)]
        webhook: Option<i64>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

/// `rapport webhook add`.
#[derive(Debug, clap::Args)]
pub struct WebhookAddArgs {
    /// Where events are posted (https://...).
    pub url: String,
    /// The events, separated by commas (default: all): response.submitted, alert.raised,
    /// task.overdue, account.quadrant_changed.
    #[arg(long, default_value = "all")]
    pub events: String,
}

fn on_off(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        other => Err(format!("'{other}' is neither on nor off")),
    }
}

fn view(text: &str) -> Result<TaskView, String> {
    TaskView::parse(text).ok_or_else(|| format!("'{text}' is not a view: use open, overdue, closed or all"))
}

fn function(text: &str) -> Result<Function, String> {
    Function::parse(text).ok_or_else(|| format!("'{text}' is not a function: use one of {}", Function::names()))
}

fn status(text: &str) -> Result<TaskStatus, String> {
    TaskStatus::parse(text).ok_or_else(|| format!("'{text}' is not a status: use open, in_progress, done or dropped"))
}

/// Runs `rapport alerts ...`.
pub async fn alerts(store: &Store, command: AlertsCommand) -> anyhow::Result<()> {
    match command {
        AlertsCommand::Rules(args) => rules(store, args).await,
        AlertsCommand::Scan(args) => {
            let fu = args.delivery.follow_up(store, Default::default())?;
            let s = fu.scan(OffsetDateTime::now_utc()).await?;
            let sent = fu.deliver_due().await?;
            say!(
                "Looked at {} new answers; raised {} alerts; {} accounts changed quadrant; escalated {} overdue tasks; {sent} deliveries attempted.",
                s.answers,
                s.alerts,
                s.moves,
                s.escalations
            );
            if let Some(wave) = &s.cycle {
                say!("A new cycle started: wave {wave} is open and its review meetings are booked.");
            }
            let counts = store.outbox_counts().await?;
            say!(
                "Outbox: {} queued, {} delivered, {} failed.{}",
                counts.queued,
                counts.done,
                counts.failed,
                if args.delivery.smtp_url.is_none() && counts.queued > 0 {
                    " Notifications wait for a mail server: set RAPPORT_SMTP_URL."
                } else {
                    ""
                }
            );
            Ok(())
        }
        AlertsCommand::List(args) => list(store, args, Some(true)).await,
    }
}

async fn rules(store: &Store, args: RulesArgs) -> anyhow::Result<()> {
    let mut rules = store.alert_rules().await?;
    let before = rules.clone();
    if let Some(on) = args.detractor {
        rules.detractor = on;
    }
    if let Some(points) = args.nps_drop {
        rules.nps_drop = match points.trim() {
            "off" => None,
            n => Some(n.parse().with_context(|| format!("--nps-drop '{n}': give a number of points or off"))?),
        };
    }
    if let Some(on) = args.problem {
        rules.problem = on;
    }
    if let Some(words) = args.watch_words {
        rules.watch_words = words.split(',').map(str::trim).filter(|w| !w.is_empty()).map(String::from).collect();
    }
    if let Some(hours) = args.deadline_hours {
        rules.deadline_hours = hours;
    }
    let rules = rules.validate()?;
    if rules != before {
        store.save_alert_rules(&rules, Some("command line"), OffsetDateTime::now_utc()).await?;
        crate::audit(store, "alert_rules.change", "alert_rules", &serde_json::to_string(&rules)?).await?;
        say!("Saved the alert rules:");
    }
    print_rules(&rules)
}

fn print_rules(r: &AlertRules) -> anyhow::Result<()> {
    let on = |b: bool| if b { "on" } else { "off" };
    say!("  detractor answers (LTR 0-6)  {}", on(r.detractor));
    match r.nps_drop {
        Some(p) => say!("  NPS falls by                 {p} points or more between waves"),
        None => say!("  NPS falls                    off"),
    }
    say!("  entering Problem             {}", on(r.problem));
    say!(
        "  watch words                  {}",
        if r.watch_words.is_empty() { "(none)".to_string() } else { r.watch_words.join(", ") }
    );
    say!("  follow-up deadline           {} hours", r.deadline_hours);
    Ok(())
}

async fn account_id(store: &Store, external: &str) -> anyhow::Result<i64> {
    store.find_account_id(external).await?.with_context(|| {
        format!("there is no account with id '{external}' (use the CRM's account id, as in `rapport export accounts`)")
    })
}

async fn list(store: &Store, args: ListArgs, follow_ups: Option<bool>) -> anyhow::Result<()> {
    let account_id = match &args.account {
        Some(a) => Some(account_id(store, a).await?),
        None => None,
    };
    let filter = TaskFilter {
        view: args.view,
        account_id,
        owner: args.owner,
        function: args.function,
        follow_ups,
        ..TaskFilter::default()
    };
    let now = OffsetDateTime::now_utc();
    let tasks = store.list_tasks(&filter, now, 500).await?;
    if tasks.is_empty() {
        say!("No {} tasks.", args.view.as_str());
        return Ok(());
    }
    for t in &tasks {
        print_task(t, now)?;
    }
    say!("{} tasks.", tasks.len());
    Ok(())
}

fn print_task(t: &TaskRow, now: OffsetDateTime) -> anyhow::Result<()> {
    let due = t.due_at.date();
    let flag = if t.is_overdue(now) { " OVERDUE" } else { "" };
    say!(
        "#{:<5} {:<11} {:<9} due {due}{flag}  {} ({})  owner {}",
        t.id,
        t.status().label(),
        t.function,
        t.account_name,
        t.account_external_id,
        t.owner_email.as_deref().unwrap_or("-")
    );
    say!("       {}", t.description);
    if let Some(outcome) = &t.outcome {
        say!("       outcome: {outcome}");
    }
    Ok(())
}

/// Runs `rapport tasks ...`.
pub async fn tasks(store: &Store, command: TasksCommand) -> anyhow::Result<()> {
    match command {
        TasksCommand::List(args) => list(store, args, None).await,
        TasksCommand::Add(args) => {
            let id = account_id(store, &args.account).await?;
            let due_on = rapport_core::date::parse_date(&args.due).map_err(|e| anyhow::anyhow!("--due: {e}"))?;
            let due = due_on.with_hms(23, 59, 59).expect("a valid time").assume_utc();
            if args.description.trim().is_empty() {
                bail!("say what is to be done: the description is empty");
            }
            let today = OffsetDateTime::now_utc().date();
            if let Some(problem) =
                rapport_web::plan::owner_and_due_problem(store, args.owner.as_deref(), due_on, today).await?
            {
                bail!("{problem}");
            }
            let owner = match args.owner {
                Some(o) => Some(o),
                None => store.find_account_owner(id).await?,
            };
            let task = NewTask {
                account_id: id,
                description: args.description.trim().to_string(),
                function: args.function,
                owner_email: owner,
                due_at: due,
                created_by: Some("command line".to_string()),
                response_ids: args.answer,
            };
            let task_id = store.add_task(&task, OffsetDateTime::now_utc()).await?;
            say!("Added task #{task_id} to the action plan of {}.", args.account);
            Ok(())
        }
        TasksCommand::Update(args) => {
            let outcome = args.outcome.as_deref().map(str::trim).filter(|o| !o.is_empty());
            if !args.status.is_open() && outcome.is_none() {
                bail!("closing a task records what was done (or why it was dropped): give --outcome \"...\"");
            }
            let t = store
                .update_task(args.id, args.status, outcome, Some("command line"), OffsetDateTime::now_utc())
                .await?;
            say!("Task #{} is now {}.", t.id, t.status().label().to_lowercase());
            Ok(())
        }
    }
}

/// Runs `rapport webhook ...`.
pub async fn webhook(store: &Store, command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Add(args) => {
            let url = rapport_web::follow_up::webhook::check_url(&args.url)?;
            let events = EventType::parse_list(&args.events).map_err(|e| anyhow::anyhow!("--events: {e}"))?;
            let secret = format!("whsec_{}", rapport_web::token::new_token());
            let id = store.add_webhook(&url, &secret, &events).await?;
            crate::audit(store, "webhook.create", &id.to_string(), &url).await?;
            say!("Added webhook #{id} for {}.", events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", "));
            say!("Its signing secret (shown once; keep it with the receiver): {secret}");
            Ok(())
        }
        WebhookCommand::List => {
            let hooks = store.list_webhooks().await?;
            if hooks.is_empty() {
                say!("No webhooks: add one with `rapport webhook add URL`.");
            }
            for h in hooks {
                say!(
                    "#{:<4} {} {}  events: {}",
                    h.id,
                    if h.active { "on " } else { "off" },
                    h.url,
                    h.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
                );
            }
            Ok(())
        }
        WebhookCommand::Remove { id } => {
            if !store.remove_webhook(id).await? {
                bail!("there is no webhook #{id} (see `rapport webhook list`)");
            }
            crate::audit(store, "webhook.delete", &id.to_string(), "").await?;
            say!("Removed webhook #{id}.");
            Ok(())
        }
        WebhookCommand::Log { webhook, limit } => {
            let rows = store.outbox_log(Some(Delivery::Webhook), webhook, None, limit).await?;
            if rows.is_empty() {
                say!("No deliveries yet.");
            }
            for r in rows {
                say!(
                    "{}  {:<24} {:<7} attempts {}  HTTP {}  {}{}",
                    r.created_at.date(),
                    r.subject,
                    r.status,
                    r.attempts,
                    r.last_status.map_or("-".to_string(), |s| s.to_string()),
                    r.recipient,
                    r.last_error.map(|e| format!("  ({e})")).unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}
