//! The portfolio assessment in the app: one account's assessment on its page, and the ideal
//! account definition (administrators edit it, see which accounts would move, and save it as
//! a new version with their reason).

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use rapport_core::assessment::ideal::describe;
use rapport_core::assessment::relationship::{StyleSource, focus};
use rapport_core::assessment::{CriterionKind, Definition};
use rapport_core::money::Money;
use rapport_core::words::count;
use rapport_reports::assessment::{AccountAssessment, Assessment, assess, preview};
use rapport_reports::{Portfolio, ReportKind, ReportQuery};
use rapport_store::assessment::{DefinitionVersion, SaveDefinitionError};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::authz::Need;
use crate::error::WebError;
use crate::pages::dashboard::account_href;
use crate::pages::format;
use crate::pages::view::Layout;
use crate::state::AppState;

/// One account's assessment, as its page shows it.
pub struct AccountView {
    /// The window.
    pub window: String,
    /// keep, re_price, ...
    pub verdict: &'static str,
    /// Keep, Re-price, ...
    pub verdict_label: &'static str,
    /// Why.
    pub verdict_reasons: Vec<String>,
    /// (label, amount) lines of the profit and loss.
    pub money: Vec<(&'static str, String)>,
    /// Opportunities per quarter: (quarter, count, value).
    pub quarters: Vec<(String, u64, String)>,
    /// Flow facts: (label, value).
    pub flow: Vec<(&'static str, String)>,
    /// Ideal score and band.
    pub score: String,
    /// ideal, fair, poor.
    pub band: &'static str,
    /// Each criterion in words.
    pub contributions: Vec<String>,
    /// Service facts: (label, value).
    pub service: Vec<(&'static str, String)>,
    /// Risks in words.
    pub risks: Vec<String>,
    /// Big R or little r.
    pub breadth: &'static str,
    /// What to do about it.
    pub breadth_advice: &'static str,
    /// People and levels engaged.
    pub engaged: String,
    /// Buying style in words (None: unknown).
    pub style: Option<String>,
    /// Its focus.
    pub focus: Option<&'static str>,
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| format::NONE.to_string(), |x| format!("{x:.1}%"))
}

/// The view of one assessed account.
pub fn account_view(a: &Assessment, r: &AccountAssessment) -> AccountView {
    let p = &r.profit;
    let mut money = vec![
        ("Revenue", format::money(p.revenue)),
        ("Cost of sales", if p.cost_of_sales_known { format::money(p.cost_of_sales) } else { "not on file".into() }),
        ("Cost to serve", format!("{} ({} h)", format::money(p.cost_to_serve), p.service_hours)),
        ("of which unpaid work", format::money(p.unpaid_work)),
        ("Margin", format!("{} ({})", format::money(p.margin), pct(p.margin_pct))),
    ];
    if p.revenue_from_record {
        money.push(("Revenue source", "the account record (no revenue history)".into()));
    }
    let d = &r.flow.deals;
    let style = r.style.as_ref().map(|s| {
        let source = match s.source {
            StyleSource::Stated => "as stated on the account".to_string(),
            StyleSource::Inferred => format!("inferred: {}", s.why.as_deref().unwrap_or_default()),
        };
        let style = match s.style {
            rapport_core::account::RelationshipStyle::Relationship => "Relationship",
            rapport_core::account::RelationshipStyle::Transaction => "Transaction",
        };
        format!("{style} buyer ({source})")
    });
    AccountView {
        window: a.window.to_string(),
        verdict: r.verdict.as_str(),
        verdict_label: r.verdict.label(),
        verdict_reasons: r.verdict_reasons.clone(),
        money,
        quarters: r.flow.per_quarter.iter().map(|(q, n, v)| (q.to_string(), *n, format::money(*v))).collect(),
        flow: vec![
            ("Opportunities", format!("{} worth {}", d.opened, format::money(d.value))),
            ("Win rate", pct(d.win_rate())),
            ("Average discount (won)", pct(d.average_discount())),
            ("Trend (later vs earlier half)", pct(r.flow.trend_pct)),
            ("Steady flow", if r.flow.steady { "yes" } else { "no" }.into()),
            ("Once brought more", r.flow.once_more.clone().unwrap_or_else(|| "no".into())),
        ],
        score: format!("{:.1}", r.ideal.score),
        band: r.ideal.band.as_str(),
        contributions: r.ideal.contributions.iter().map(describe).collect(),
        service: vec![
            ("Cases", r.effort.cases.to_string()),
            ("Share of all service effort", format!("{:.2}%", r.share.effort_pct)),
            ("Share of revenue", format!("{:.2}%", r.share.revenue_pct)),
            ("Share of value (margin)", format!("{:.2}%", r.share.value_pct)),
            ("Squeaky wheel", if r.share.squeaky { "yes" } else { "no" }.into()),
            (
                "Days to resolve, earlier → later half",
                format!(
                    "{} → {}{}",
                    r.service.earlier_days.map_or("–".into(), |x| format!("{x:.1}")),
                    r.service.later_days.map_or("–".into(), |x| format!("{x:.1}")),
                    if r.service.worsening() { " (slower)" } else { "" }
                ),
            ),
        ],
        risks: r.risks.iter().map(ToString::to_string).collect(),
        breadth: r.breadth.label(),
        breadth_advice: r.breadth.advice(),
        engaged: format!(
            "{} at {} answered in the recent waves",
            count(r.engaged.0, "person", "people"),
            count(r.engaged.1, "role level", "role levels")
        ),
        focus: r.style.as_ref().map(|s| focus(s.style)),
        style,
    }
}

/// One account's assessment with the stored definition and the default window.
pub async fn of_account(state: &AppState, p: &Portfolio, index: usize) -> Result<AccountView, WebError> {
    let query = ReportQuery::new(ReportKind::Portfolio);
    let a = assess(&state.store, &state.cache, p, &query, None).await.map_err(WebError::from_report)?;
    Ok(account_view(&a, &a.rows[index]))
}

/// One row of the definition form.
pub struct CriterionRow {
    /// Stored name.
    pub kind: &'static str,
    /// How people name it.
    pub label: &'static str,
    /// Weight.
    pub weight: u32,
    /// Best value.
    pub best: f64,
    /// Worst value.
    pub worst: f64,
}

/// An account that would move.
pub struct MoverRow {
    /// Link to the account.
    pub href: String,
    /// Its id.
    pub account_id: String,
    /// Its name.
    pub name: String,
    /// Score and band before.
    pub before: String,
    /// After.
    pub after: String,
    /// Points.
    pub change: String,
}

#[derive(Template)]
#[template(path = "ideal.html")]
struct IdealPage {
    layout: Layout,
    current: DefinitionVersion,
    history: Vec<DefinitionVersion>,
    /// The form's values: the current definition, or the one being previewed.
    form: Vec<CriterionRow>,
    hourly_cost: String,
    target_margin: String,
    neglect_days: u32,
    reason: String,
    admin: bool,
    /// A preview: who moves (None: no preview asked).
    movers: Option<Vec<MoverRow>>,
    movers_total: usize,
    saved: Option<i64>,
}

impl IdealPage {
    fn when(v: &DefinitionVersion) -> String {
        v.changed_at
            .map_or_else(|| "built in".to_string(), |t| format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute()))
    }
}

fn rows_of(d: &Definition) -> Vec<CriterionRow> {
    // Every criterion, those the definition leaves out at weight 0 (so that they can be added).
    let mut full = d.clone();
    CriterionKind::ALL
        .iter()
        .map(|&k| {
            let c = *full.criterion_mut(k);
            CriterionRow { kind: k.as_str(), label: k.label(), weight: c.weight, best: c.best, worst: c.worst }
        })
        .collect()
}

/// `?saved=N` after a save.
#[derive(Debug, Deserialize)]
pub struct SavedQuery {
    saved: Option<i64>,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    shown: &Definition,
    reason: String,
    movers: Option<(Vec<MoverRow>, usize)>,
    saved: Option<i64>,
) -> Result<Html<String>, WebError> {
    let current = state.store.assessment_definition().await?;
    let page = IdealPage {
        layout: Layout::new(user, "The ideal account", "assessment"),
        history: state.store.assessment_history().await?,
        form: rows_of(shown),
        hourly_cost: shown.hourly_cost.to_string(),
        target_margin: format!("{}", shown.target_margin_pct),
        neglect_days: shown.neglect_days,
        reason,
        admin: user.require(Need::Admin).is_ok(),
        movers_total: movers.as_ref().map_or(0, |m| m.1),
        movers: movers.map(|m| m.0),
        saved,
        current,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

/// GET /ideal: the definition, its history, and (administrators) the form to change it.
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SavedQuery>,
) -> Result<Html<String>, WebError> {
    user.require(Need::Portfolio)?;
    let current = state.store.assessment_definition().await?;
    page(&state, &user, &current.definition, String::new(), None, q.saved).await
}

/// Saves a new version of the definition for `actor` (the web app and the API alike), made
/// from version `edited`: refused when it is invalid, has no reason, or `edited` is no longer
/// the current version. Returns the new version, with an audit entry.
pub(crate) async fn save_definition(
    state: &AppState,
    actor: &str,
    definition: Definition,
    edited: i64,
    reason: &str,
) -> Result<i64, WebError> {
    let d = definition.validate().map_err(|e| WebError::BadRequest(format!("The definition was not saved: {e}")))?;
    let now = time::OffsetDateTime::now_utc();
    let version = match state.store.save_assessment_definition(&d, edited, Some(actor), reason, now).await {
        Ok(v) => v,
        Err(SaveDefinitionError::Store(e)) => return Err(e.into()),
        Err(e @ SaveDefinitionError::Stale { .. }) => return Err(WebError::Conflict(e.to_string())),
        Err(e) => return Err(WebError::BadRequest(e.to_string())),
    };
    state.audit(Some(actor), "definition.change", "ideal_account", &format!("version {version}: {reason}")).await?;
    Ok(version)
}

/// POST /ideal: preview or save a changed definition. Every field of the form is one map
/// entry: `weight.KIND`, `best.KIND`, `worst.KIND`, and the settings.
pub async fn change(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    user.check_csrf(&field("csrf").unwrap_or_default())?;
    user.require(Need::Admin)?;
    let edited: i64 = field("version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| WebError::BadRequest("The form lost the version it edits: reload the page".into()))?;
    let mut d = Definition::default();
    for kind in CriterionKind::ALL {
        let number = |prefix: &str| -> Result<f64, WebError> {
            let name = format!("{prefix}.{}", kind.as_str());
            let text = field(&name).unwrap_or_default();
            text.parse::<f64>()
                .map_err(|_| WebError::BadRequest(format!("{} ({prefix}): '{text}' is not a number", kind.label())))
        };
        let c = d.criterion_mut(kind);
        let weight = number("weight")?;
        if weight.fract() != 0.0 || !(0.0..=100.0).contains(&weight) {
            return Err(WebError::BadRequest(format!(
                "{}: the weight {weight} is not a whole number from 0 to 100",
                kind.label()
            )));
        }
        c.weight = weight as u32;
        c.best = number("best")?;
        c.worst = number("worst")?;
    }
    let cost = field("hourly_cost").unwrap_or_default();
    d.hourly_cost = Money::parse(&cost).map_err(|e| WebError::BadRequest(format!("Hourly cost: {e}")))?;
    let margin = field("target_margin").unwrap_or_default();
    d.target_margin_pct = margin
        .parse()
        .map_err(|_| WebError::BadRequest(format!("Target margin: '{margin}' is not a number of percent")))?;
    let neglect = field("neglect_days").unwrap_or_default();
    d.neglect_days = neglect
        .parse()
        .map_err(|_| WebError::BadRequest(format!("Neglect: '{neglect}' is not a whole number of days")))?;
    let d = d.validate().map_err(|e| WebError::BadRequest(format!("The definition was not saved: {e}")))?;
    let reason = field("reason").unwrap_or_default();
    if field("action").as_deref() == Some("save") {
        let version = save_definition(&state, &user.0.email, d, edited, &reason).await?;
        return Ok(Redirect::to(&format!("/ideal?saved={version}")).into_response());
    }
    let query = ReportQuery { filter: user.scoped(Default::default()), ..ReportQuery::new(ReportKind::Ideal) };
    let p = preview(&state.store, &state.cache, &query, d.clone()).await.map_err(WebError::from_report)?;
    let total = p.movers.len();
    let rows = p
        .movers
        .iter()
        .take(200)
        .map(|m| {
            let a = &p.portfolio.accounts[m.account].account;
            MoverRow {
                href: account_href(&a.account_id),
                account_id: a.account_id.clone(),
                name: a.name.clone(),
                before: m.before_text(),
                after: m.after_text(),
                change: format!("{:+.1}", m.delta()),
            }
        })
        .collect();
    Ok(page(&state, &user, &d, reason, Some((rows, total)), None).await?.into_response())
}
