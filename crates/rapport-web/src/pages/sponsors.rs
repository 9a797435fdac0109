//! Executive sponsors: the accounts that most deserve one (a documented priority score), each
//! executive with the accounts they sponsor (more than three is flagged), and assigning a
//! sponsor (administrators).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::response::{Html, Redirect};
use rapport_core::account::Account;
use rapport_core::quadrant::Quadrant;
use rapport_core::sponsor::{PriorityFacts, load_warning, rank_for_sponsors};
use rapport_core::user::Role;
use rapport_reports::{AccountFilter, Portfolio, ReportKind, ReportQuery};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::authz::Need;
use crate::error::WebError;
use crate::pages::format;
use crate::pages::view::Layout;
use crate::state::AppState;

/// How many ranked accounts the page lists unless asked for all.
const TOP: usize = 30;

/// A ranked account.
pub struct Ranked {
    /// Its rank (1 = highest priority).
    pub rank: usize,
    /// The CRM id, and as a link.
    pub id: String,
    /// The link to its page.
    pub href: String,
    /// Its name.
    pub name: String,
    /// Billed revenue.
    pub billed: String,
    /// Potential revenue.
    pub potential: String,
    /// Strategic.
    pub strategic: bool,
    /// Partner.
    pub partner: bool,
    /// Its quadrant in the latest wave.
    pub quadrant: &'static str,
    /// The quadrant's CSS class.
    pub quadrant_class: &'static str,
    /// The points.
    pub score: String,
    /// Why.
    pub reasons: String,
    /// Its sponsor now.
    pub sponsor: Option<String>,
}

/// An executive and the accounts they sponsor.
pub struct Executive {
    /// Their email.
    pub email: String,
    /// Their name (the email for sponsors who do not sign in).
    pub name: String,
    /// The accounts they sponsor that the viewer may see, by name.
    pub accounts: Vec<Sponsored>,
    /// How many accounts they sponsor in the whole portfolio: their load, whoever looks.
    pub sponsored: usize,
    /// Above the guidance.
    pub warning: Option<String>,
    /// Not a Rapport user.
    pub external: bool,
}

/// An account an executive sponsors.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sponsored {
    /// Its name.
    pub name: String,
    /// Its id in the CRM.
    pub account_id: String,
}

impl Sponsored {
    /// The link to its page.
    pub fn href(&self) -> String {
        href(&self.account_id)
    }
}

fn href(id: &str) -> String {
    format!("/accounts/{}", percent_encoding::utf8_percent_encode(id, crate::URL_SAFE))
}

/// An account by sponsor priority.
pub struct Candidate {
    /// The account.
    pub account: Account,
    /// What its priority is made of.
    pub facts: PriorityFacts,
    /// The points.
    pub score: f64,
    /// What earned them, largest first.
    pub reasons: Vec<String>,
}

/// Sponsorship as the user may see it, for the web page and the API alike: their accounts
/// by sponsor priority, and every executive with the accounts they sponsor.
pub struct Sponsorship {
    /// The wave whose quadrants count (the latest; empty without one).
    pub wave: String,
    /// The accounts, highest priority first.
    pub ranked: Vec<Candidate>,
    /// Every executive who signs in, and every sponsor named on an account who does not,
    /// those with the most accounts first.
    pub executives: Vec<Executive>,
}

/// Ranks the user's accounts for sponsors and lists each executive's accounts.
pub(crate) async fn sponsorship(state: &AppState, user: &CurrentUser) -> Result<Sponsorship, WebError> {
    let (store, cache) = (&state.store, &state.cache);
    let p = Portfolio::load(store, cache, true, &AccountFilter::default()).await.map_err(WebError::from_report)?;
    let query = ReportQuery::new(ReportKind::Quadrants);
    let (placed, wave) = match p.waves_so_far().last() {
        Some(w) => (Some(p.placed(store, cache, w.id, &query).await.map_err(WebError::from_report)?), w.name.clone()),
        None => (None, String::new()),
    };
    let partners = store.partner_accounts().await?;
    // Every account is scored against the whole portfolio, whoever looks (the same points for
    // the same account); an account manager then sees only their own.
    let facts: Vec<PriorityFacts> = p
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| PriorityFacts {
            billed: a.account.billed_revenue.unwrap_or_default(),
            potential: a.account.potential_revenue.unwrap_or_default(),
            strategic: a.account.strategic.unwrap_or(false),
            partner: partners.contains(&a.id),
            quadrant: placed.as_ref().map_or(Quadrant::Unsurveyed, |m| m.placements[i].quadrant),
        })
        .collect();
    let scope = user.scoped(AccountFilter::default());
    let ranked = rank_for_sponsors(&facts)
        .into_iter()
        .filter(|pr| scope.matches(&p.accounts[pr.index].account))
        .map(|pr| Candidate {
            account: p.accounts[pr.index].account.clone(),
            facts: facts[pr.index],
            score: pr.score,
            reasons: pr.reasons,
        })
        .collect();

    let users = store.list_users().await?;
    let mut executives: BTreeMap<String, Executive> = BTreeMap::new();
    for u in users.iter().filter(|u| u.role == Role::Executive) {
        let executive = Executive {
            email: u.email.clone(),
            name: u.name.clone(),
            accounts: vec![],
            sponsored: 0,
            warning: None,
            external: false,
        };
        executives.insert(u.email.to_lowercase(), executive);
    }
    for a in p.accounts.iter().map(|a| &a.account) {
        let Some(sponsor) = a.sponsor_email.as_deref().map(str::trim).filter(|s| !s.is_empty()) else { continue };
        let e = executives.entry(sponsor.to_lowercase()).or_insert_with(|| Executive {
            email: sponsor.to_string(),
            name: sponsor.to_string(),
            accounts: vec![],
            sponsored: 0,
            warning: None,
            external: !users.iter().any(|u| u.email.eq_ignore_ascii_case(sponsor)),
        });
        e.sponsored += 1;
        if scope.matches(a) {
            e.accounts.push(Sponsored { name: a.name.clone(), account_id: a.account_id.clone() });
        }
    }
    let mut executives: Vec<Executive> = executives.into_values().collect();
    for e in &mut executives {
        e.accounts.sort();
        e.warning = load_warning(e.sponsored);
    }
    executives.sort_by_key(|e| std::cmp::Reverse(e.sponsored));
    Ok(Sponsorship { wave, ranked, executives })
}

#[derive(Template)]
#[template(path = "sponsors.html")]
struct SponsorsPage {
    layout: Layout,
    executives: Vec<Executive>,
    ranked: Vec<Ranked>,
    total: usize,
    all: bool,
    can_assign: bool,
    choices: Vec<(String, String)>,
    wave: String,
    notice: Option<String>,
}

/// The page's options.
#[derive(Debug, Default, Deserialize)]
pub struct SponsorsQuery {
    /// List every account, not only the top.
    #[serde(default)]
    all: Option<String>,
    /// Who was just assigned (to say whether they are over the guidance).
    #[serde(default)]
    assigned: Option<String>,
}

/// GET /sponsors.
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SponsorsQuery>,
) -> Result<Html<String>, WebError> {
    user.require(Need::Portfolio)?;
    let s = sponsorship(&state, &user).await?;
    let all = q.all.is_some();
    let total = s.ranked.len();
    let ranked: Vec<Ranked> = s
        .ranked
        .iter()
        .take(if all { usize::MAX } else { TOP })
        .enumerate()
        .map(|(n, c)| Ranked {
            rank: n + 1,
            id: c.account.account_id.clone(),
            href: href(&c.account.account_id),
            name: c.account.name.clone(),
            billed: format::money(c.facts.billed),
            potential: format::money(c.facts.potential),
            strategic: c.facts.strategic,
            partner: c.facts.partner,
            quadrant: c.facts.quadrant.label(),
            quadrant_class: c.facts.quadrant.as_str(),
            score: format!("{:.0}", c.score),
            reasons: c.reasons.join("; "),
            sponsor: c.account.sponsor_email.clone().filter(|s| !s.trim().is_empty()),
        })
        .collect();
    let notice = q.assigned.as_deref().and_then(|who| {
        let e = s.executives.iter().find(|e| e.email.eq_ignore_ascii_case(who))?;
        Some(match &e.warning {
            Some(w) => format!("Assigned. {} now {w}.", e.name),
            None => format!("Assigned. {} sponsors {} accounts.", e.name, e.accounts.len()),
        })
    });
    let users = state.store.list_users().await?;
    let page = SponsorsPage {
        layout: Layout::new(&user, "Executive sponsors", "sponsors"),
        choices: users
            .iter()
            .filter(|u| u.role == Role::Executive)
            .map(|u| (u.email.clone(), format!("{} ({})", u.name, u.email)))
            .collect(),
        executives: s.executives,
        total,
        ranked,
        all,
        can_assign: user.0.role == Role::Admin,
        wave: s.wave,
        notice,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

/// The form that assigns a sponsor.
#[derive(Debug, Deserialize)]
pub struct AssignForm {
    csrf: String,
    #[serde(default)]
    account_id: String,
    /// An executive's email; empty removes the sponsor.
    #[serde(default)]
    sponsor: String,
}

/// POST /sponsors: assigns (or removes) an account's sponsor.
pub async fn assign(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<AssignForm>,
) -> Result<Redirect, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Admin)?;
    let sponsor = Some(form.sponsor.trim()).filter(|s| !s.is_empty());
    assign_sponsor(&state, &user.0.email, form.account_id.trim(), sponsor).await?;
    Ok(Redirect::to(&match sponsor {
        Some(s) => format!("/sponsors?assigned={}", percent_encoding::utf8_percent_encode(s, crate::URL_SAFE)),
        None => "/sponsors".to_string(),
    }))
}

/// Makes `sponsor` (an executive who signs in; `None`: nobody) the account's executive
/// sponsor, for `actor` (the web app and the API alike), with an audit entry.
pub(crate) async fn assign_sponsor(
    state: &AppState,
    actor: &str,
    account_id: &str,
    sponsor: Option<&str>,
) -> Result<(), WebError> {
    let id = state
        .store
        .find_account_id(account_id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("There is no account '{account_id}'")))?;
    if let Some(s) = sponsor {
        match state.store.user_login(s).await? {
            Some(u) if u.role == Role::Executive => {}
            // `user add` updates the role of an existing user too.
            Some(u) => {
                return Err(WebError::BadRequest(format!(
                    "'{s}' is an {} in Rapport, not an executive: an executive sponsors accounts (change their \
                     role with `rapport user add {s} --role executive`), or choose one of the executives",
                    u.role.as_str().replace('_', " ")
                )));
            }
            None => {
                return Err(WebError::BadRequest(format!(
                    "'{s}' is not an executive who signs in to Rapport: add them with `rapport user add {s} --role \
                     executive` first"
                )));
            }
        }
    }
    state.store.set_sponsor(id, sponsor).await?;
    state.audit(Some(actor), "sponsor.assign", account_id, sponsor.unwrap_or("(none)")).await?;
    Ok(())
}
