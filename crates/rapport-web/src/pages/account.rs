//! The account page: the account report for a wave (each respondent, the account against its
//! vertical and the whole base, its previous waves), loyalty and revenue on one chart,
//! relationship breadth, opportunities and service cases.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use rapport_core::contact::RoleLevel;
use rapport_core::loyalty::{LoyaltyClass, LoyaltySummary};
use rapport_core::money::Money;
use rapport_core::period::Period;
use rapport_core::quadrant::Quadrant;
use rapport_core::revenue::billed_in;
use rapport_core::segment::Dimension;
use rapport_core::task::Function;
use rapport_reports::{AccountFilter, Format, Portfolio, Report, ReportKind, ReportQuery, Value, wave_period};
use rapport_store::accounts::{ContactSummary, OpportunityRow, Respondent, ServiceCaseRow};
use rapport_store::tasks::{TaskFilter, TaskRow, TaskView};

use crate::auth::CurrentUser;
use crate::authz::Need;
use crate::chart::line::{self, LineChart, NPS_COLOUR, REVENUE_COLOUR, Series};
use crate::chart::scale::money_short;
use crate::error::WebError;
use crate::pages::download::{FormatQuery, download, download_format};
use crate::pages::format;
use crate::pages::view::{Layout, ViewQuery, Viewer};
use crate::state::AppState;

/// One wave in the account's history.
pub struct WaveRow {
    /// The wave.
    pub wave: String,
    /// Answers.
    pub n: u64,
    /// NPS.
    pub nps: String,
    /// Quadrant.
    pub quadrant: &'static str,
    /// CSS class of the quadrant.
    pub class: &'static str,
    /// Billed revenue in the wave's period.
    pub billed: String,
}

/// A comparison line: the account, its vertical, the whole base.
pub struct Benchmark {
    /// What is measured.
    pub label: String,
    /// Answers.
    pub n: u64,
    /// NPS.
    pub nps: String,
}

/// Role-level breadth.
pub struct Breadth {
    /// The level.
    pub level: &'static str,
    /// Contacts on file.
    pub contacts: usize,
    /// Who answered in the wave.
    pub answered: usize,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    hide_people: bool,
    name: String,
    account_id: String,
    account_href_id: String,
    wave_query: String,
    facts: Vec<(&'static str, String)>,
    waves: Vec<String>,
    wave: String,
    quadrant: &'static str,
    quadrant_class: &'static str,
    strategy: &'static str,
    benchmarks: Vec<Benchmark>,
    respondents: Vec<Respondent>,
    history: Vec<WaveRow>,
    chart: LineChart,
    breadth: Vec<Breadth>,
    single_threaded: bool,
    contacts: Vec<ContactSummary>,
    opportunities: Vec<OpportunityRow>,
    cases: Vec<ServiceCaseRow>,
    /// The action plan and follow-ups (signed-in users only; None on shared pages).
    plan: Option<Vec<TaskRow>>,
    functions: Vec<&'static str>,
    /// The plan item form: what was typed when it was refused, with why.
    draft: PlanDraft,
    now: time::OffsetDateTime,
    /// The portfolio assessment of the account (signed-in users only: margins are not for
    /// share links).
    assessment: Option<crate::pages::assessment::AccountView>,
}

impl AccountPage {
    fn class_of(ltr: &u8) -> &'static str {
        LoyaltyClass::of(*ltr).as_str()
    }

    fn role_of(role: &Option<RoleLevel>) -> &'static str {
        role.map_or("–", RoleLevel::as_str)
    }

    fn opt(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or("–")
    }

    fn money(v: &Option<i64>) -> String {
        format::money_opt(*v)
    }

    fn hours(v: &Option<i64>) -> String {
        v.map_or_else(|| "–".to_string(), |c| format!("{:.1} h", c as f64 / 100.0))
    }

    fn discount(v: &Option<i64>) -> String {
        v.map_or_else(|| "–".to_string(), |bp| format!("{:.1}%", bp as f64 / 100.0))
    }

    fn overdue_of(&self, t: &TaskRow) -> bool {
        t.is_overdue(self.now)
    }

    fn scores(r: &Respondent) -> String {
        r.scores.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
    }
}

/// The plan item form as typed: empty (due today) on a fresh page; as the user left it, with
/// what to fix, when it was refused, so that nothing typed is lost.
#[derive(Debug, Clone, Default)]
pub struct PlanDraft {
    pub description: String,
    pub function: String,
    pub owner: String,
    pub due: String,
    pub answers: String,
    pub error: Option<String>,
}

/// GET /accounts/{account_id}.
pub async fn account(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(account_id): Path<String>,
    Query(view): Query<ViewQuery>,
) -> Result<Html<String>, WebError> {
    render(&state, &Viewer::of(&user), &account_id, view, PlanDraft::default()).await
}

/// The whole portfolio (an account's quadrant uses the portfolio's thresholds) and the index
/// of the account `account_id` in it, if the viewer may see that account. Otherwise "not
/// found", the same answer as for an id that does not exist, so ids cannot be probed. Every
/// route that names an account by id goes through here.
pub async fn portfolio_with(
    state: &AppState,
    viewer: &Viewer,
    account_id: &str,
) -> Result<(Portfolio, usize), WebError> {
    let p = Portfolio::load(&state.store, &state.cache, true, &AccountFilter::default())
        .await
        .map_err(WebError::from_report)?;
    let not_found = || WebError::NotFound(format!("There is no account '{account_id}'"));
    let index = p.position(account_id).ok_or_else(not_found)?;
    match &viewer.user {
        Some(user) => user.require(Need::Account(&p.accounts[index].account))?,
        None if !viewer.can_see(&p.accounts[index].account) => return Err(not_found()),
        None => (),
    }
    Ok((p, index))
}

/// The account page for a viewer: a signed-in user, or a share link.
pub async fn render(
    state: &AppState,
    viewer: &Viewer,
    account_id: &str,
    view: ViewQuery,
    mut draft: PlanDraft,
) -> Result<Html<String>, WebError> {
    let (store, cache) = (&state.store, &state.cache);
    let (p, index) = portfolio_with(state, viewer, account_id).await?;
    let entry = &p.accounts[index];
    let a = &entry.account;

    let waves: Vec<String> = p.waves.iter().rev().map(|w| w.name.clone()).collect();
    let query = ReportQuery { wave: view.wave.clone(), ..ReportQuery::new(ReportKind::Quadrants) };
    let (history, chart) = history(state, &p, index, entry.id, &query).await?;

    let (wave_name, quadrant, benchmarks, respondents) = match p.waves.is_empty() {
        true => (String::new(), Quadrant::Unsurveyed, Vec::new(), Vec::new()),
        false => {
            let wave = p.wave(view.wave.as_deref()).map_err(WebError::from_report)?;
            let placed = p.placed(store, cache, wave.id, &query).await.map_err(WebError::from_report)?;
            let pl = &placed.placements[index];
            let vertical = Dimension::Vertical.key(a, None).into_owned();
            let by_vertical = cache.loyalty_by_segment(store, Some(wave.id), Some(Dimension::Vertical), None).await?;
            let whole = cache.loyalty_by_segment(store, Some(wave.id), None, None).await?;
            let line = |label: String, counts| {
                let s = LoyaltySummary::new(counts, query.min_answers);
                Benchmark { label, n: s.n, nps: format::nps(s.nps) }
            };
            let benchmarks = vec![
                line(a.name.clone(), pl.loyalty.counts),
                line(
                    format!("{vertical} (vertical)"),
                    by_vertical.iter().find(|(_, k, _)| *k == vertical).map(|(_, _, c)| *c).unwrap_or_default(),
                ),
                line("All accounts".into(), whole.first().map(|(_, _, c)| *c).unwrap_or_default()),
            ];
            let mut respondents = store.respondents(entry.id, wave.id).await?;
            if viewer.hide_people {
                for (i, r) in respondents.iter_mut().enumerate() {
                    r.name = format!("Respondent {}", i + 1);
                    r.title = None;
                    r.comment = r.comment.as_ref().map(|_| "(hidden)".to_string());
                }
            }
            (wave.name.clone(), pl.quadrant, benchmarks, respondents)
        }
    };

    let now = time::OffsetDateTime::now_utc();
    let mut contacts = store.contacts_of(entry.id).await?;
    let breadth: Vec<Breadth> = [RoleLevel::Executive, RoleLevel::Manager, RoleLevel::User]
        .into_iter()
        .map(|level| Breadth {
            level: level.as_str(),
            contacts: contacts.iter().filter(|c| c.role == Some(level)).count(),
            answered: respondents.iter().filter(|r| r.role == Some(level)).count(),
        })
        .collect();
    let facts = vec![
        ("Vertical", a.vertical.clone().unwrap_or_else(|| format::NONE.into())),
        ("Region", a.region.clone().unwrap_or_else(|| format::NONE.into())),
        ("Owner", a.owner_email.clone().unwrap_or_else(|| format::NONE.into())),
        ("Billed revenue", a.billed_revenue.map_or_else(|| format::NONE.into(), format::money)),
        ("Potential revenue", a.potential_revenue.map_or_else(|| format::NONE.into(), format::money)),
        ("Relationship style", a.relationship_style.map_or_else(|| format::NONE.into(), |s| s.as_str().to_string())),
        ("Executive sponsor", a.sponsor_email.clone().unwrap_or_else(|| format::NONE.into())),
        ("Strategic", a.strategic.map_or_else(|| format::NONE.into(), |s| if s { "yes" } else { "no" }.to_string())),
    ];
    let page = AccountPage {
        layout: viewer.layout(a.name.clone(), "dashboard"),
        hide_people: viewer.hide_people,
        name: a.name.clone(),
        account_id: a.account_id.clone(),
        account_href_id: percent_encoding::utf8_percent_encode(&a.account_id, crate::URL_SAFE).to_string(),
        wave_query: percent_encoding::utf8_percent_encode(&wave_name, crate::URL_SAFE).to_string(),
        facts,
        waves,
        wave: wave_name,
        quadrant: quadrant.label(),
        quadrant_class: quadrant.as_str(),
        strategy: quadrant.strategy(),
        benchmarks,
        respondents,
        history,
        chart,
        single_threaded: contacts.len() <= 1,
        breadth,
        contacts: if viewer.hide_people { Vec::new() } else { std::mem::take(&mut contacts) },
        opportunities: store.opportunities_of(entry.id).await?,
        cases: store.service_cases_of(entry.id).await?,
        plan: match viewer.user {
            Some(_) => {
                let filter = TaskFilter { view: TaskView::All, account_id: Some(entry.id), ..TaskFilter::default() };
                let mut tasks = store.list_tasks(&filter, now, 200).await?;
                // Open work first, then the latest closed.
                tasks.sort_by_key(|t| (!t.status().is_open(), t.closed_at.map(|c| -c.unix_timestamp())));
                Some(tasks)
            }
            None => None,
        },
        functions: Function::ALL.map(Function::as_str).to_vec(),
        draft: {
            if draft.due.is_empty() {
                draft.due = now.date().to_string();
            }
            draft
        },
        now,
        assessment: match viewer.user {
            Some(_) => Some(crate::pages::assessment::of_account(state, &p, index).await?),
            None => None,
        },
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

/// GET /accounts/{account_id}/respondents?format=csv|xlsx[&wave=W]: the account report's
/// respondents as a file.
pub async fn respondents_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(account_id): Path<String>,
    Query(view): Query<ViewQuery>,
    Query(format): Query<FormatQuery>,
) -> Result<Response, WebError> {
    let format = download_format(&format)?.unwrap_or(Format::Csv);
    let (p, index) = portfolio_with(&state, &Viewer::of(&user), &account_id).await?;
    let entry = &p.accounts[index];
    // Recorded once allowed: a refused request exports nothing.
    let target = format!("account {account_id}: respondents");
    state.audit(Some(&user.0.email), "export", &target, format.file_type().0).await?;
    let store = &state.store;
    let wave = p.wave(view.wave.as_deref()).map_err(WebError::from_report)?;
    let text = |v: &Option<String>| v.clone().map_or(Value::Empty, Value::Text);
    let rows = store
        .respondents(entry.id, wave.id)
        .await?
        .iter()
        .map(|r| {
            vec![
                Value::Text(r.name.clone()),
                text(&r.title),
                r.role.map_or(Value::Empty, |l| Value::Text(l.as_str().into())),
                Value::Int(i64::from(r.ltr)),
                Value::Text(LoyaltyClass::of(r.ltr).as_str().into()),
                text(&r.comment),
                Value::Text(AccountPage::scores(r)),
                Value::Text(r.submitted_on.clone()),
            ]
        })
        .collect();
    let report = Report {
        title: format!("{} ({}), wave {}: who answered", entry.account.name, account_id, wave.name),
        columns: vec!["name", "title", "role", "ltr", "class", "comment", "ratings", "submitted_on"],
        rows,
        notes: vec!["The latest answer of each contact in the wave.".into()],
    };
    download(&report, format, &format!("rapport-{account_id}-{}", wave.name))
}

/// The account's loyalty and billed revenue in every wave: the rows of the history table and
/// the chart that draws them on two axes.
async fn history(
    state: &AppState,
    p: &Portfolio,
    index: usize,
    account_id: i64,
    query: &ReportQuery,
) -> Result<(Vec<WaveRow>, LineChart), WebError> {
    let (store, cache) = (&state.store, &state.cache);
    let revenue: Vec<(Period, Money)> = store
        .revenue_of(account_id)
        .await?
        .into_iter()
        .filter_map(|r| Some((Period::parse(&r.period).ok()?, Money(r.billed?))))
        .collect();

    let mut history = Vec::new();
    let (mut nps_points, mut revenue_points) = (Vec::new(), Vec::new());
    for w in p.waves.iter() {
        let placed = p.placed(store, cache, w.id, query).await.map_err(WebError::from_report)?;
        let pl = &placed.placements[index];
        let billed = wave_period(w).ok().and_then(|period| billed_in(period, &revenue));
        nps_points.push(pl.loyalty.nps);
        revenue_points.push(billed.map(|m| m.cents() as f64));
        history.push(WaveRow {
            wave: w.name.clone(),
            n: pl.loyalty.n,
            nps: format::nps(pl.loyalty.nps),
            quadrant: pl.quadrant.label(),
            class: pl.quadrant.as_str(),
            billed: billed.map_or_else(|| format::NONE.to_string(), format::money),
        });
    }
    let categories: Vec<String> = p.waves.iter().map(|w| w.name.clone()).collect();
    let chart = line::layout(
        &categories,
        &[Series { name: "NPS".into(), class: "nps", colour: NPS_COLOUR, points: nps_points }],
        Some((-100.0, 100.0)),
        &[Series { name: "Billed".into(), class: "revenue", colour: REVENUE_COLOUR, points: revenue_points }],
        money_short,
        640.0,
        240.0,
    );

    Ok((history, chart))
}

#[derive(Template)]
#[template(path = "chart.svg", escape = "html")]
struct ChartSvg {
    line_chart: LineChart,
    chart_label: String,
}

/// A line chart as an SVG file to download.
pub fn svg_file(line_chart: LineChart, chart_label: String, file: &str) -> Result<Response, WebError> {
    let svg = crate::chart::xml_document(ChartSvg { line_chart, chart_label }.render().map_err(anyhow::Error::from)?);
    let disposition = format!("attachment; filename=\"{file}\"");
    Ok(([(header::CONTENT_TYPE, "image/svg+xml".to_string()), (header::CONTENT_DISPOSITION, disposition)], svg)
        .into_response())
}

/// GET /accounts/{account_id}/chart.svg: the account's loyalty and revenue chart as a file.
pub async fn chart_svg(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(account_id): Path<String>,
) -> Result<Response, WebError> {
    let (p, index) = portfolio_with(&state, &Viewer::of(&user), &account_id).await?;
    let entry = &p.accounts[index];
    let query = ReportQuery::new(ReportKind::Quadrants);
    let (_, chart) = history(&state, &p, index, entry.id, &query).await?;
    let label = format!("{}: NPS and billed revenue across waves", entry.account.name);
    let safe: String =
        account_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    svg_file(chart, label, &format!("rapport-{safe}-loyalty-revenue.svg"))
}
