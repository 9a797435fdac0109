//! `rapport ideal ...`: the assessment definition (the ideal account's weighted criteria, the
//! hourly cost of service, the target margin, the neglect period), its history, and changing
//! it with a look at which accounts move first.

use anyhow::{Context, bail};
use rapport_core::assessment::{CriterionKind, Definition};
use rapport_core::money::Money;
use rapport_reports::ReportKind;
use rapport_reports::ReportQuery;
use rapport_reports::assessment::preview;
use rapport_store::Store;
use rapport_store::assessment::DefinitionVersion;
use rapport_store::report_cache::ReportCache;
use time::OffsetDateTime;

/// `rapport ideal ...`.
#[derive(Debug, clap::Subcommand)]
pub enum IdealCommand {
    /// Show the current definition: its version, who changed it, when and why.
    Show,
    /// Every version, the latest first.
    History,
    /// Change the definition: prints which accounts move (a change of band, or 5 points or
    /// more), then saves it as a new version unless --dry-run.
    Set(SetArgs),
}

/// `rapport ideal set`.
#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// A criterion's weight, 0-100, as KIND=WEIGHT (repeatable). The kinds: payment_days,
    /// exceptions_per_million, service_requests_per_million, order_changes_per_million,
    /// margin_pct, opportunity_flow, loyalty, growth.
    #[arg(long = "weight", value_name = "KIND=WEIGHT")]
    pub weights: Vec<String>,
    /// A criterion's scale as KIND=BEST:WORST (repeatable): the value that earns the whole
    /// weight and the value that earns nothing, e.g. payment_days=30:90.
    #[arg(long = "range", value_name = "KIND=BEST:WORST")]
    pub ranges: Vec<String>,
    /// What an hour of service effort costs.
    #[arg(long)]
    pub hourly_cost: Option<String>,
    /// The margin % an account should earn after cost of sales and cost to serve.
    #[arg(long)]
    pub target_margin: Option<f64>,
    /// Days without an answer, follow-up, review or new opportunity that make an account
    /// neglected.
    #[arg(long)]
    pub neglect_days: Option<u32>,
    /// Why the definition changes (kept with the version).
    #[arg(long)]
    pub reason: Option<String>,
    /// Show who would move; save nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn kind_of(text: &str, flag: &str) -> anyhow::Result<CriterionKind> {
    CriterionKind::parse(text).with_context(|| {
        let kinds: Vec<&str> = CriterionKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("--{flag}: '{text}' is not a criterion; the criteria are {}", kinds.join(", "))
    })
}

/// The current definition with the flags' changes applied (not yet checked).
fn edited(mut d: Definition, a: &SetArgs) -> anyhow::Result<Definition> {
    for w in &a.weights {
        let (kind, weight) = w.split_once('=').with_context(|| format!("--weight '{w}': write KIND=WEIGHT"))?;
        let kind = kind_of(kind, "weight")?;
        d.criterion_mut(kind).weight = weight
            .trim()
            .parse()
            .with_context(|| format!("--weight '{w}': the weight is a whole number from 0 to 100"))?;
    }
    for r in &a.ranges {
        let parsed = r.split_once('=').and_then(|(k, v)| Some((k, v.split_once(':')?)));
        let Some((kind, (best, worst))) = parsed else {
            bail!("--range '{r}': write KIND=BEST:WORST, e.g. payment_days=30:90")
        };
        let kind = kind_of(kind, "range")?;
        let number = |t: &str| t.trim().parse::<f64>().with_context(|| format!("--range '{r}': '{t}' is not a number"));
        let c = d.criterion_mut(kind);
        c.best = number(best)?;
        c.worst = number(worst)?;
    }
    if let Some(cost) = &a.hourly_cost {
        d.hourly_cost = Money::parse(cost).map_err(|e| anyhow::anyhow!("--hourly-cost: {e}"))?;
    }
    if let Some(m) = a.target_margin {
        d.target_margin_pct = m;
    }
    if let Some(n) = a.neglect_days {
        d.neglect_days = n;
    }
    Ok(d)
}

fn describe(v: &DefinitionVersion) -> anyhow::Result<()> {
    let by = v.changed_by.as_deref().unwrap_or("-");
    let when = v.changed_at.map_or("-".to_string(), |t| t.date().to_string());
    say!("Version {} ({when}, {by}): {}", v.version, v.reason);
    let d = &v.definition;
    say!(
        "  hourly cost {}, target margin {:.1}%, neglect after {} days",
        d.hourly_cost,
        d.target_margin_pct,
        d.neglect_days
    );
    for c in &d.criteria {
        say!("  {:<30} weight {:>3}   best {:>8}   worst {:>8}", c.kind.as_str(), c.weight, c.best, c.worst);
    }
    Ok(())
}

/// Runs `rapport ideal ...`.
pub async fn ideal(store: &Store, command: IdealCommand) -> anyhow::Result<()> {
    match command {
        IdealCommand::Show => describe(&store.assessment_definition().await?)?,
        IdealCommand::History => {
            for v in store.assessment_history().await? {
                describe(&v)?;
            }
        }
        IdealCommand::Set(a) => {
            let current = store.assessment_definition().await?;
            let proposed = edited(current.definition.clone(), &a)?.validate()?;
            if proposed == current.definition {
                say!("Nothing changes: the definition is already so (version {}).", current.version);
                return Ok(());
            }
            let reason = a.reason.as_deref().map(str::trim).unwrap_or_default();
            if reason.is_empty() && !a.dry_run {
                bail!("say why the definition changes with --reason \"...\" (kept with the version)");
            }
            let query = ReportQuery::new(ReportKind::Ideal);
            let p = preview(store, &ReportCache::new(), &query, proposed.clone()).await?;
            say!("{} accounts move (a change of band, or 5 points or more):", p.movers.len());
            for m in p.movers.iter().take(25) {
                let acc = &p.portfolio.accounts[m.account].account;
                say!("  {:<14} {:<32} {:>12} -> {}", acc.account_id, acc.name, m.before_text(), m.after_text());
            }
            if p.movers.len() > 25 {
                say!(
                    "  ... and {} more: `rapport report ideal --compare {}` lists them all once saved.",
                    p.movers.len() - 25,
                    current.version
                );
            }
            if a.dry_run {
                say!("Dry run: nothing saved.");
                return Ok(());
            }
            let now = OffsetDateTime::now_utc();
            let version =
                store.save_assessment_definition(&proposed, current.version, Some("command line"), reason, now).await?;
            crate::audit(store, "definition.change", "ideal_account", &format!("version {version}: {reason}")).await?;
            say!("Saved as version {version}.");
        }
    }
    Ok(())
}
