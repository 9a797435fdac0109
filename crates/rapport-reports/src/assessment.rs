//! The portfolio assessment reports (portfolio, ideal, squeaky-wheel, risk, relationships):
//! every account assessed once per window, definition and data version, then shown five ways.
//! The figures are `rapport-core`'s; this module gathers their inputs and lays out the rows.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rapport_core::assessment::activity::{Deals, Effort};
use rapport_core::assessment::flow::{Flow, flow};
use rapport_core::assessment::ideal::{Band, IdealScore, Measures, Mover, ideal_score, movers, per_million};
use rapport_core::assessment::profitability::{Profitability, Prospects, Verdict, profitability_from, verdict};
use rapport_core::assessment::relationship::{Breadth, BuyingStyle, StyleSource, breadth, buying_style, focus};
use rapport_core::assessment::risk::{Risk, RiskFacts, risks};
use rapport_core::assessment::squeaky::{Load, ServiceLevel, Share, shares};
use rapport_core::assessment::{Activity, Window};
use rapport_core::money::Money;
use rapport_core::quadrant::Quadrant;
use rapport_core::words::count;
use rapport_store::Store;
use rapport_store::analytics::PortfolioAccount;
use rapport_store::assessment::DefinitionVersion;
use rapport_store::report_cache::ReportCache;
use time::Date;

use crate::output::{Report, Value};
use crate::{Portfolio, ReportQuery};

/// How many recent waves the relationship breadth looks back over.
pub const ENGAGEMENT_WAVES: usize = 4;

/// One account, assessed.
#[derive(Debug, Clone)]
pub struct AccountAssessment {
    /// Its quadrant in the latest wave.
    pub quadrant: Quadrant,
    /// Its NPS in the latest wave (None: unsurveyed).
    pub nps: Option<f64>,
    /// Profit and loss over the window.
    pub profit: Profitability,
    /// Keep, reduce cost to serve, re-price or exit.
    pub verdict: Verdict,
    /// Why.
    pub verdict_reasons: Vec<String>,
    /// Opportunity flow.
    pub flow: Flow,
    /// The ideal account score.
    pub ideal: IdealScore,
    /// Service effort in the window.
    pub effort: Effort,
    /// Its share of effort, revenue and value.
    pub share: Share,
    /// Days to resolve, earlier and later half of the window.
    pub service: ServiceLevel,
    /// Why it is at risk (empty: it is not).
    pub risks: Vec<Risk>,
    /// The most people who answered in any one of the recent waves, and the role levels
    /// that answered across them.
    pub engaged: (u64, u64),
    /// Contacts on file.
    pub contacts: i64,
    /// Big R or little r.
    pub breadth: Breadth,
    /// How it buys, when known.
    pub style: Option<BuyingStyle>,
}

/// Every account assessed over one window with one definition.
#[derive(Debug)]
pub struct Assessment {
    /// The window.
    pub window: Window,
    /// The day neglect is counted to.
    pub today: Date,
    /// The definition applied.
    pub definition: DefinitionVersion,
    /// The latest wave, when there is one.
    pub wave: Option<String>,
    /// The accounts, in the order of `rows`.
    pub accounts: Arc<Vec<PortfolioAccount>>,
    /// One per account.
    pub rows: Vec<AccountAssessment>,
}

/// The window and the day a query asks for.
pub fn window_of(args: &ReportQuery) -> anyhow::Result<(Window, Date)> {
    let today = args.as_of.unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let window = Window::parse(args.since.as_deref(), args.until.as_deref(), today)?;
    Ok((window, today))
}

/// Every account assessed with the stored definition (or version `version`), cached while
/// the data and the definition are unchanged.
pub async fn assess(
    store: &Store,
    cache: &ReportCache,
    p: &Portfolio,
    args: &ReportQuery,
    version: Option<i64>,
) -> anyhow::Result<Arc<Assessment>> {
    let definition = match version {
        Some(v) => store.assessment_version(v).await.map_err(|e| match e {
            rapport_store::StoreError::NotFound => {
                anyhow::anyhow!("there is no definition version {v}: `rapport ideal history` lists them")
            }
            other => other.into(),
        })?,
        None => store.assessment_definition().await?,
    };
    let (window, today) = window_of(args)?;
    let key = format!(
        "assessment|{window:?}|{today}|{}|{}|{:?}|{}",
        definition.version, args.loyalty_threshold, args.revenue_threshold, args.min_answers
    );
    let everyone = Portfolio { accounts: p.accounts.clone(), waves: p.waves.clone(), shown: None };
    cache.derived(store, key, || assess_with(store, cache, &everyone, args, window, today, definition)).await
}

/// Every account assessed with `definition` (a stored one, or one being edited).
pub async fn assess_with(
    store: &Store,
    cache: &ReportCache,
    p: &Portfolio,
    args: &ReportQuery,
    window: Window,
    today: Date,
    definition: DefinitionVersion,
) -> anyhow::Result<Assessment> {
    let activity: Arc<HashMap<i64, Activity>> =
        cache.derived(store, "assessment-activity".into(), || store.assessment_activity()).await?;
    let touches = cache.derived(store, "last-touches".into(), || store.last_touches()).await?;
    let contacts = cache.contacts_per_account(store).await?;
    let waves = p.waves_so_far();
    let latest = waves.last();
    let (placements, high_revenue_from, previous, breadth_of) = match latest {
        Some(w) => {
            let matrix = p.placed(store, cache, w.id, args).await?;
            let by_index: HashMap<usize, (Quadrant, Option<f64>, bool)> = matrix
                .placements
                .iter()
                .map(|pl| (pl.account, (pl.quadrant, pl.loyalty.nps, pl.loyalty.low_sample)))
                .collect();
            // The last three waves' loyalty (the latest is the matrix's own).
            let mut previous = Vec::new();
            for earlier in waves.iter().rev().skip(1).take(2).rev() {
                previous.push(Some(cache.loyalty_per_account(store, earlier.id).await?));
            }
            while previous.len() < 2 {
                previous.insert(0, None);
            }
            let recent: Vec<i64> = waves.iter().rev().take(ENGAGEMENT_WAVES).map(|w| w.id).collect();
            let key = format!("breadth|{recent:?}");
            let breadth_of = cache.derived(store, key, || store.breadth_by_account(w.id, &recent)).await?;
            (by_index, matrix.thresholds.revenue, previous, breadth_of)
        }
        None => (HashMap::new(), None, vec![None, None], Arc::default()),
    };
    let def = &definition.definition;
    let previous_window = window.previous();
    let empty = Activity::default();
    // First pass: money and flow, which the shares need across the whole portfolio.
    let mut partial = Vec::with_capacity(p.accounts.len());
    for (i, pa) in p.accounts.iter().enumerate() {
        let act = activity.get(&pa.id).unwrap_or(&empty);
        let effort = act.effort(&window);
        let billed = act.billed(&window);
        let profit = profitability_from(&pa.account, billed, act.has_revenue_history(), &effort, def);
        let before = act.billed(&previous_window);
        let growth_pct = match (billed, before) {
            (Some(now), Some(b)) if b.0 > 0 => Some(100.0 * (now.0 - b.0) as f64 / b.0 as f64),
            _ => None,
        };
        let f = flow(act, &window);
        partial.push((i, act, effort, profit, before, growth_pct, f));
    }
    let loads: Vec<Load> = partial
        .iter()
        .map(|(_, _, e, pr, ..)| Load { hours: e.hours, revenue: pr.revenue, margin: pr.margin })
        .collect();
    let all_shares = shares(&loads);
    let (earlier, later) = (window.earlier_half(), window.later_half());
    let mut rows = Vec::with_capacity(partial.len());
    for ((i, act, effort, profit, before, growth_pct, f), share) in partial.into_iter().zip(all_shares) {
        let pa = &p.accounts[i];
        let (quadrant, nps, low_sample) = placements.get(&i).copied().unwrap_or((Quadrant::Unsurveyed, None, true));
        let loyal = matches!(quadrant, Quadrant::Emulate | Quadrant::Growth) && !low_sample;
        let (verdict, verdict_reasons) = verdict(&profit, &f.deals, Prospects { loyal, steady_flow: f.steady }, def);
        let revenue_units = profit.revenue.as_f64();
        let measures = Measures {
            payment_days: pa.account.payment_days.map(f64::from),
            exceptions_per_million: per_million(effort.exceptions, revenue_units),
            service_requests_per_million: per_million(effort.service_requests, revenue_units),
            order_changes_per_million: per_million(effort.order_changes, revenue_units),
            margin_pct: profit.margin_pct,
            opportunity_flow: Some(100.0 * f.active_quarters as f64 / window.len() as f64),
            loyalty: nps,
            growth: growth_pct,
        };
        let ideal = ideal_score(&measures, def);
        let (e, l) = (act.effort(&earlier), act.effort(&later));
        let service = ServiceLevel::new((e.resolved, e.resolve_days), (l.resolved, l.resolve_days));
        let b = breadth_of.get(&pa.id).copied().unwrap_or_default();
        let facts = RiskFacts {
            revenue_now: act.has_revenue_history().then_some(profit.revenue),
            revenue_before: before,
            nps_history: [
                well_measured(previous[0].as_deref(), pa.id, args.min_answers),
                well_measured(previous[1].as_deref(), pa.id, args.min_answers),
                nps.filter(|_| !low_sample),
            ],
            last_touch: touches.get(&pa.id).copied(),
            respondents: (b.respondents > 0).then_some(b.respondents),
            single_threaded: b.respondents > 0 && (b.respondents <= 1 || b.levels <= 1),
            high_revenue: high_revenue_from.is_some_and(|t| pa.account.billed_revenue.unwrap_or_default() >= t),
            executive_detractors: b.executive_detractors,
        };
        let engaged = (b.engaged_people, b.engaged_levels);
        rows.push(AccountAssessment {
            quadrant,
            nps,
            risks: risks(&facts, today, def.neglect_days),
            style: buying_style(pa.account.relationship_style, &f.deals, profit.revenue),
            breadth: breadth(engaged.0, engaged.1),
            engaged,
            contacts: contacts.get(&pa.id).copied().unwrap_or(0),
            profit,
            verdict,
            verdict_reasons,
            flow: f,
            ideal,
            effort,
            share,
            service,
        });
    }
    Ok(Assessment {
        window,
        today,
        definition,
        wave: latest.map(|w| w.name.clone()),
        accounts: p.accounts.clone(),
        rows,
    })
}

/// An account's NPS in one wave's loyalty counts, when measured on at least `min` answers.
fn well_measured(
    counts: Option<&HashMap<i64, rapport_core::loyalty::LoyaltyCounts>>,
    account: i64,
    min: u64,
) -> Option<f64> {
    counts?.get(&account).filter(|c| c.n() >= min.max(1)).and_then(|c| c.nps())
}

/// Who moves from one assessment's ideal scores to another's (same accounts, same order),
/// among the accounts the view shows.
pub fn ideal_movers(p: &Portfolio, before: &Assessment, after: &Assessment) -> Vec<Mover<usize>> {
    let scores = |a: &Assessment| -> Vec<(usize, f64)> {
        a.rows.iter().enumerate().filter(|(i, _)| p.shows(*i)).map(|(i, r)| (i, r.ideal.score)).collect()
    };
    movers(&scores(before), &scores(after))
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn id_and_name(a: &PortfolioAccount) -> [Value; 2] {
    [text(a.account.account_id.clone()), text(a.account.name.clone())]
}

fn shown<'a>(p: &'a Portfolio, a: &'a Assessment) -> impl Iterator<Item = (usize, &'a AccountAssessment)> + 'a {
    a.rows.iter().enumerate().filter(|(i, _)| p.shows(*i))
}

fn settings_note(a: &Assessment) -> String {
    let d = &a.definition;
    let by = d.changed_by.as_deref().map_or(String::new(), |b| format!(" by {b}"));
    let when = d.changed_at.map_or(String::new(), |t| format!(" on {}", t.date()));
    format!(
        "Window {}; definition version {}{by}{when} ({}): hourly cost {}, target margin {:.1}%, neglect after {} days.",
        a.window,
        d.version,
        d.reason,
        d.definition.hourly_cost,
        d.definition.target_margin_pct,
        d.definition.neglect_days
    )
}

/// Profitability and opportunity flow per account, ranked by margin.
pub fn portfolio_report(p: &Portfolio, a: &Assessment) -> Report {
    let mut order: Vec<(usize, &AccountAssessment)> = shown(p, a).collect();
    order.sort_by_key(|x| std::cmp::Reverse(x.1.profit.margin));
    let mut verdicts: BTreeMap<&str, (u64, Money)> = BTreeMap::new();
    let mut by_quadrant: BTreeMap<usize, Deals> = BTreeMap::new();
    let mut from_record = 0;
    let rows = order
        .iter()
        .enumerate()
        .map(|(rank, (i, r))| {
            let e = verdicts.entry(r.verdict.label()).or_default();
            e.0 += 1;
            e.1 = Money(e.1.0 + r.profit.revenue.0);
            by_quadrant.entry(r.quadrant.index()).or_default().merge(&r.flow.deals);
            from_record += usize::from(r.profit.revenue_from_record);
            let [id, name] = id_and_name(&a.accounts[*i]);
            vec![
                Value::Int(rank as i64 + 1),
                id,
                name,
                text(r.quadrant.as_str()),
                Value::Money(r.profit.revenue),
                Value::Money(r.profit.cost_of_sales),
                Value::Money(r.profit.cost_to_serve),
                Value::Money(r.profit.unpaid_work),
                Value::Money(r.profit.margin),
                Value::num(r.profit.margin_pct, 1),
                text(r.verdict.as_str()),
                text(r.verdict_reasons.join("; ")),
                Value::Int(r.flow.deals.opened as i64),
                Value::Money(r.flow.deals.value),
                text(r.flow.counts_text()),
                Value::num(r.flow.deals.win_rate(), 1),
                Value::num(r.flow.deals.average_discount(), 1),
                Value::num(r.flow.trend_pct, 1),
                Value::Bool(r.flow.steady),
                text(r.flow.once_more.clone().unwrap_or_default()),
            ]
        })
        .collect();
    let mut notes = vec![settings_note(a)];
    for (label, (n, revenue)) in &verdicts {
        notes.push(format!("{label}: {}, revenue {}.", count(*n, "account", "accounts"), revenue.grouped()));
    }
    notes.push(
        "Opportunities opened per quarter of the window, oldest first, in per_quarter. Win rate: won of won+lost; \
         discount: the average on won deals. Steady flow: a new opportunity in at least 3 quarters of 4, at least 1 in 5 won."
            .to_string(),
    );
    notes.push(
        "Do loyal accounts convert better and at better prices? Win rate and average discount by quadrant:".into(),
    );
    for q in Quadrant::ALL {
        let d = by_quadrant.get(&q.index()).copied().unwrap_or_default();
        let pct = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.1}%"));
        notes.push(format!(
            "  {:<10} {:>7} opportunities, win rate {:>6}, average discount {:>6}",
            q.label(),
            d.opened,
            pct(d.win_rate()),
            pct(d.average_discount())
        ));
    }
    if from_record > 0 {
        notes.push(format!(
            "{from_record} accounts have no revenue history: their revenue is the billed revenue on the account record."
        ));
    }
    Report {
        title: format!("Portfolio profitability and opportunity flow, {}", a.window),
        columns: vec![
            "rank",
            "account_id",
            "name",
            "quadrant",
            "revenue",
            "cost_of_sales",
            "cost_to_serve",
            "unpaid_work",
            "margin",
            "margin_pct",
            "verdict",
            "reasons",
            "opportunities",
            "opportunity_value",
            "per_quarter",
            "win_rate",
            "avg_discount",
            "trend_pct",
            "steady_flow",
            "once_brought_more",
        ],
        rows,
        notes,
    }
}

/// The ideal account score of each account, with each criterion's points; compared with
/// another version of the definition when `compared` is given.
pub fn ideal_report(p: &Portfolio, a: &Assessment, compared: Option<&Assessment>) -> Report {
    let kinds: Vec<_> = a.definition.definition.criteria.iter().filter(|c| c.weight > 0).map(|c| c.kind).collect();
    let mut order: Vec<(usize, &AccountAssessment)> = shown(p, a).collect();
    order.sort_by(|x, y| y.1.ideal.score.total_cmp(&x.1.ideal.score));
    let mut bands: BTreeMap<Band, u64> = BTreeMap::new();
    let rows = order
        .iter()
        .map(|(i, r)| {
            *bands.entry(r.ideal.band).or_default() += 1;
            let [id, name] = id_and_name(&a.accounts[*i]);
            let mut row = vec![id, name, Value::Num(r.ideal.score, 1), text(r.ideal.band.as_str())];
            for k in &kinds {
                row.push(Value::num(r.ideal.contributions.iter().find(|c| c.kind == *k).map(|c| c.points), 1));
            }
            row.push(text(r.ideal.shortfalls(3).join("; ")));
            if let Some(c) = compared {
                let before = &c.rows[*i].ideal;
                row.push(Value::Num(before.score, 1));
                row.push(text(before.band.as_str()));
                row.push(Value::Num(r.ideal.score - before.score, 1));
            }
            row
        })
        .collect();
    let mut columns = vec!["account_id", "name", "score", "band"];
    columns.extend(kinds.iter().map(|k| k.as_str()));
    columns.push("shortfalls");
    let mut notes = vec![settings_note(a)];
    notes.push(format!(
        "Score: each criterion earns its weight's share of 100 in proportion to where the account stands between the \
         criterion's worst and best value; no data earns half. Bands: ideal >= {}, poor < {}.",
        rapport_core::assessment::ideal::IDEAL_AT,
        rapport_core::assessment::ideal::POOR_BELOW
    ));
    for c in a.definition.definition.criteria.iter().filter(|c| c.weight > 0) {
        notes.push(format!("  {:<30} weight {:>3}, best {}, worst {}", c.kind.as_str(), c.weight, c.best, c.worst));
    }
    notes.push(format!(
        "Ideal {}, fair {}, poor {} accounts.",
        bands.get(&Band::Ideal).unwrap_or(&0),
        bands.get(&Band::Fair).unwrap_or(&0),
        bands.get(&Band::Poor).unwrap_or(&0)
    ));
    if let Some(c) = compared {
        columns.extend(["compared_score", "compared_band", "change"]);
        let moved = ideal_movers(p, c, a);
        notes.push(format!(
            "Compared with version {} ({}): {} accounts move (a change of band or 5 points or more).",
            c.definition.version,
            c.definition.reason,
            moved.len()
        ));
        for m in moved.iter().take(20) {
            let acc = &a.accounts[m.account].account;
            notes.push(format!("  {} {}: {} to {}", acc.account_id, acc.name, m.before_text(), m.after_text()));
        }
    }
    Report { title: format!("The ideal account, {}", a.window), columns, rows, notes }
}

/// Each account's share of service effort against its share of revenue and value, and the
/// ideal accounts whose service is getting slower.
pub fn squeaky_report(p: &Portfolio, a: &Assessment) -> Report {
    let mut order: Vec<(usize, &AccountAssessment)> = shown(p, a).filter(|(_, r)| r.effort.cases > 0).collect();
    order.sort_by(|x, y| {
        let ratio = |r: &AccountAssessment| r.share.oil_ratio.unwrap_or(0.0);
        ratio(y.1).total_cmp(&ratio(x.1)).then(y.1.effort.hours.cmp(&x.1.effort.hours))
    });
    let (mut squeaky_effort, mut squeaky_revenue, mut squeaky_n) = (0.0, 0.0, 0);
    let mut slower: Vec<String> = Vec::new();
    let rows = order
        .iter()
        .map(|(i, r)| {
            let acc = &a.accounts[*i];
            if r.share.squeaky {
                squeaky_n += 1;
                squeaky_effort += r.share.effort_pct;
                squeaky_revenue += r.share.revenue_pct;
            }
            let worse = r.service.worsening();
            if worse && r.ideal.band == Band::Ideal {
                slower.push(format!(
                    "{} ({:.1} to {:.1} days)",
                    acc.account.name,
                    r.service.earlier_days.unwrap_or_default(),
                    r.service.later_days.unwrap_or_default()
                ));
            }
            let [id, name] = id_and_name(acc);
            vec![
                id,
                name,
                Value::Int(r.effort.cases as i64),
                Value::Num(r.effort.hours.as_f64(), 2),
                Value::Num(r.share.effort_pct, 2),
                Value::Num(r.share.revenue_pct, 2),
                Value::Num(r.share.value_pct, 2),
                Value::num(r.share.oil_ratio.filter(|x| x.is_finite()), 2),
                Value::Bool(r.share.squeaky),
                Value::Int(r.effort.exceptions as i64),
                Value::Int(r.effort.order_changes as i64),
                Value::Money(r.profit.unpaid_work),
                text(r.ideal.band.as_str()),
                Value::num(r.service.earlier_days, 1),
                Value::num(r.service.later_days, 1),
                Value::Bool(worse),
            ]
        })
        .collect();
    let mut notes = vec![settings_note(a)];
    notes.push(format!(
        "{squeaky_n} squeaky wheels (twice the effort their revenue would justify, 10 hours or more) take \
         {squeaky_effort:.1}% of all service effort for {squeaky_revenue:.1}% of revenue. Shares are of the whole portfolio."
    ));
    if slower.is_empty() {
        notes.push("No ideal account is being resolved slower in the later half of the window.".into());
    } else {
        notes.push(format!("Ideal accounts resolved slower in the later half of the window: {}.", slower.join(", ")));
    }
    notes.push(
        "Service level is days from opening to closing a case (Rapport records no first-response time). Accounts \
         without cases in the window are not listed."
            .into(),
    );
    Report {
        title: format!("The squeaky wheel: service effort against value, {}", a.window),
        columns: vec![
            "account_id",
            "name",
            "cases",
            "service_hours",
            "effort_pct",
            "revenue_pct",
            "value_pct",
            "oil_ratio",
            "squeaky",
            "exceptions",
            "order_changes",
            "unpaid_work",
            "ideal_band",
            "resolve_days_before",
            "resolve_days_now",
            "service_worsening",
        ],
        rows,
        notes,
    }
}

/// Accounts at risk with their reasons, the most revenue at stake first.
pub fn risk_report(p: &Portfolio, a: &Assessment) -> Report {
    let mut order: Vec<(usize, &AccountAssessment)> = shown(p, a).filter(|(_, r)| !r.risks.is_empty()).collect();
    order.sort_by(|x, y| {
        let stake = |i: usize| a.accounts[i].account.billed_revenue.unwrap_or_default();
        stake(y.0).cmp(&stake(x.0)).then(y.1.risks.len().cmp(&x.1.risks.len()))
    });
    let mut per_reason: BTreeMap<&'static str, (u64, Money)> = BTreeMap::new();
    let rows = order
        .iter()
        .map(|(i, r)| {
            let acc = &a.accounts[*i].account;
            let billed = acc.billed_revenue.unwrap_or_default();
            for risk in &r.risks {
                let e = per_reason.entry(risk.label()).or_default();
                e.0 += 1;
                e.1 = Money(e.1.0 + billed.0);
            }
            let [id, name] = id_and_name(&a.accounts[*i]);
            vec![
                id,
                name,
                text(acc.owner_email.clone().unwrap_or_default()),
                Value::Money(billed),
                text(r.quadrant.as_str()),
                Value::Int(r.risks.len() as i64),
                text(r.risks.iter().map(Risk::as_str).collect::<Vec<_>>().join(", ")),
                text(r.risks.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")),
            ]
        })
        .collect();
    let mut notes = vec![settings_note(a)];
    for (reason, (n, billed)) in &per_reason {
        notes.push(format!("{reason}: {}, billed revenue {}.", count(*n, "account", "accounts"), billed.grouped()));
    }
    notes.push(format!(
        "Revenue falling: down 15% or more against the previous window ({}). Loyalty falling: NPS down at every step of the \
         last three waves by 10 points or more in all, or by 20 in one step (waves with at least the minimum of answers). Neglected: no answer, follow-up, review or new opportunity in {} days to {}. \
         Single-threaded: one respondent or one role level in the latest wave, on revenue at or above the quadrant threshold.",
        a.window.previous(),
        a.definition.definition.neglect_days,
        a.today
    ));
    Report {
        title: format!("Accounts at risk, {}", a.window),
        columns: vec!["account_id", "name", "owner", "billed_revenue", "quadrant", "risks", "kinds", "reasons"],
        rows,
        notes,
    }
}

/// Big R or little r, and Relationship or Transaction buying, with the focus each calls for.
pub fn relationships_report(p: &Portfolio, a: &Assessment) -> Report {
    let mut tally: BTreeMap<(&'static str, &'static str), (u64, Money)> = BTreeMap::new();
    let rows = shown(p, a)
        .map(|(i, r)| {
            let acc = &a.accounts[i].account;
            let style = r.style.as_ref();
            let style_name = style.map_or("unknown", |s| s.style.as_str());
            let e = tally.entry((r.breadth.label(), style_name)).or_default();
            e.0 += 1;
            e.1 = Money(e.1.0 + acc.billed_revenue.unwrap_or_default().0);
            let [id, name] = id_and_name(&a.accounts[i]);
            vec![
                id,
                name,
                Value::Money(acc.billed_revenue.unwrap_or_default()),
                Value::Int(r.contacts),
                Value::Int(r.engaged.0 as i64),
                Value::Int(r.engaged.1 as i64),
                text(r.breadth.label()),
                text(style_name),
                text(style.map_or("", |s| match s.source {
                    StyleSource::Stated => "stated",
                    StyleSource::Inferred => "inferred",
                })),
                text(style.and_then(|s| s.why.clone()).unwrap_or_default()),
                text(style.map_or("", |s| focus(s.style))),
                text(r.breadth.advice()),
            ]
        })
        .collect();
    let mut notes = vec![format!(
        "Big R: {} or more people answered in one of the last {ENGAGEMENT_WAVES} waves, at two or more role levels across them; else little r. \
         Buying style as stated on the account, else inferred from the window's opportunities ({}).",
        rapport_core::assessment::relationship::BIG_R_PEOPLE,
        a.window
    )];
    for ((b, s), (n, billed)) in &tally {
        notes.push(format!(
            "{b}, {s} buyers: {}, billed revenue {}.",
            count(*n, "account", "accounts"),
            billed.grouped()
        ));
    }
    Report {
        title: "Relationship type and buying style".to_string(),
        columns: vec![
            "account_id",
            "name",
            "billed_revenue",
            "contacts",
            "people_engaged",
            "role_levels",
            "relationship",
            "buying_style",
            "style_source",
            "style_why",
            "focus",
            "advice",
        ],
        rows,
        notes,
    }
}

/// A proposed definition against the current one: both assessments, and who moves.
pub struct Preview {
    /// The accounts (and the view's filter).
    pub portfolio: Portfolio,
    /// With the current definition.
    pub current: Arc<Assessment>,
    /// With the proposed one (its version is the one it would get).
    pub proposed: Assessment,
    /// Who moves, the largest moves first (indices into the accounts).
    pub movers: Vec<Mover<usize>>,
}

/// What changing the definition to `proposed` would do, over the query's window and view.
pub async fn preview(
    store: &Store,
    cache: &ReportCache,
    args: &ReportQuery,
    proposed: rapport_core::assessment::Definition,
) -> anyhow::Result<Preview> {
    let portfolio = Portfolio::load(store, cache, true, &args.filter).await?;
    let current = assess(store, cache, &portfolio, args, None).await?;
    let (window, today) = window_of(args)?;
    let everyone = Portfolio { accounts: portfolio.accounts.clone(), waves: portfolio.waves.clone(), shown: None };
    let version = DefinitionVersion {
        version: current.definition.version + 1,
        definition: proposed,
        changed_by: None,
        changed_at: None,
        reason: "proposed".to_string(),
    };
    let proposed = assess_with(store, cache, &everyone, args, window, today, version).await?;
    let movers = ideal_movers(&portfolio, &current, &proposed);
    Ok(Preview { portfolio, current, proposed, movers })
}
