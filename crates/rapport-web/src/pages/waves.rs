//! Surveys in the web app: every wave with its live response rate; one wave with its rates
//! per account and owner, a preview of its message, and (for administrators and analysts)
//! creating, sending, opening and closing waves and downloading their personal links.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use percent_encoding::utf8_percent_encode;
use rapport_core::contact::RoleLevel;
use rapport_reports::AccountFilter;
use rapport_store::analytics::WaveInfo;
use rapport_store::invitations::{Channel, RateBy, ResponseRate, WaveProgress};
use rapport_store::jobs::QueueCounts;
use rapport_store::open_links::UnmatchedAnswer;
use rapport_store::waves::WaveStatus;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::URL_SAFE;
use crate::auth::CurrentUser;
use crate::authz::Need;
use crate::error::WebError;
use crate::invite;
use crate::pages::view::Layout;
use crate::respond::open_path;
use crate::state::AppState;
use crate::waves::{self, DEFAULT_EXCLUDE_DAYS, DEFAULT_SURVEY, NewWave};

/// Rows of per-account rates a wave page shows (lowest rate first).
const ACCOUNT_ROWS: i64 = 200;

/// One wave in the list.
struct WaveRow {
    wave: WaveInfo,
    progress: WaveProgress,
    queue: QueueCounts,
}

impl WaveRow {
    fn rate(&self) -> String {
        percent(self.progress.answered, self.progress.invited)
    }

    fn href(&self) -> String {
        wave_path(&self.wave.name)
    }
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { "–".into() } else { format!("{:.0}%", 100.0 * part as f64 / whole as f64) }
}

fn wave_path(name: &str) -> String {
    format!("/waves/{}", utf8_percent_encode(name, URL_SAFE))
}

#[derive(Template)]
#[template(path = "waves.html")]
struct WavesPage {
    layout: Layout,
    waves: Vec<WaveRow>,
    manage: bool,
    surveys: Vec<String>,
    error: Option<String>,
}

/// GET /waves.
pub async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Html<String>, WebError> {
    render_list(&state, &user, None).await
}

async fn render_list(state: &AppState, user: &CurrentUser, error: Option<String>) -> Result<Html<String>, WebError> {
    user.require(Need::Portfolio)?;
    let mut rows = Vec::new();
    for wave in state.store.list_waves().await?.into_iter().rev() {
        let progress = state.store.wave_progress(wave.id).await?;
        // Waves whose answers were imported (no invitations) are not run from here; a draft is
        // listed even if it invited nobody, to be seen and closed.
        if progress.invited == 0 && wave.status != WaveStatus::Draft.as_str() {
            continue;
        }
        let queue = state.store.queue_counts(Some(wave.id)).await?;
        rows.push(WaveRow { wave, progress, queue });
    }
    let page = WavesPage {
        layout: Layout::new(user, "Surveys", "waves"),
        waves: rows,
        manage: user.require(Need::Surveys).is_ok(),
        surveys: state.store.list_surveys().await?.into_iter().map(|s| s.survey.name).collect(),
        error,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

/// The form that creates a wave.
#[derive(Debug, Deserialize)]
pub struct CreateForm {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    survey: String,
    #[serde(default)]
    closes: String,
    #[serde(default)]
    vertical: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    executives_only: Option<String>,
    #[serde(default)]
    exclude_days: String,
}

/// POST /waves: creates a wave, then shows it (or the list again with what was wrong).
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CreateForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Surveys)?;
    let optional = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let closes = match optional(&form.closes) {
        Some(d) => match rapport_core::date::parse_date(&d) {
            Ok(d) => Some(d),
            Err(e) => return Ok(render_list(&state, &user, Some(format!("Closing date: {e}"))).await?.into_response()),
        },
        None => None,
    };
    let exclude_days = match optional(&form.exclude_days) {
        Some(n) => match n.parse::<u32>() {
            Ok(n) if n <= 3650 => n,
            _ => {
                let msg = format!("'{n}' is not a number of days: give a whole number from 0 to 3650");
                return Ok(render_list(&state, &user, Some(msg)).await?.into_response());
            }
        },
        None => DEFAULT_EXCLUDE_DAYS,
    };
    let req = NewWave {
        name: form.name.trim().to_string(),
        survey: optional(&form.survey).unwrap_or_else(|| DEFAULT_SURVEY.to_string()),
        opens: None,
        closes,
        roles: if form.executives_only.is_some() { vec![RoleLevel::Executive] } else { Vec::new() },
        exclude_days,
        filter: AccountFilter {
            vertical: optional(&form.vertical),
            region: optional(&form.region),
            owner: optional(&form.owner),
            ..AccountFilter::default()
        },
    };
    match create_wave(&state, &user.0.email, &req).await {
        Ok(_) => Ok(Redirect::to(&wave_path(&req.name)).into_response()),
        Err(WebError::BadRequest(why)) => Ok(render_list(&state, &user, Some(why)).await?.into_response()),
        Err(e) => Err(e),
    }
}

/// Creates a wave for `actor` (the web app and the API alike) and records it in the audit
/// log. What the user can fix (a name taken, an unknown survey, dates the wrong way round)
/// comes back as a bad request that says so.
pub(crate) async fn create_wave(state: &AppState, actor: &str, req: &NewWave) -> Result<waves::Created, WebError> {
    match waves::create(&state.store, req, OffsetDateTime::now_utc()).await {
        Ok(done) => {
            let detail = format!("{} invitations for {}", done.created.total(), done.selection);
            state.audit(Some(actor), "wave.create", &req.name, &detail).await?;
            Ok(done)
        }
        Err(e) if e.downcast_ref::<rapport_store::StoreError>().is_some_and(|s| !is_user_error(s)) => {
            Err(WebError::Internal(e))
        }
        Err(e) => Err(WebError::BadRequest(format!("{e:#}"))),
    }
}

/// Whether a store error is the user's to fix (a duplicate name) rather than a failure.
fn is_user_error(e: &rapport_store::StoreError) -> bool {
    e.to_string().contains("already exists")
}

#[derive(Template)]
#[template(path = "wave.html")]
struct WavePage {
    layout: Layout,
    wave: WaveInfo,
    path: String,
    progress: WaveProgress,
    queue: QueueCounts,
    accounts: Vec<ResponseRate>,
    owners: Vec<ResponseRate>,
    manage: bool,
    sends: String,
    preview: Option<Preview>,
    failed: Vec<(String, String, String)>,
    /// The wave's open link (for QR codes), shown to those who run surveys.
    open_link: Option<String>,
    unmatched: Vec<UnmatchedAnswer>,
    /// Messages waiting for a channel this server does not send by: (channel, how many).
    stranded: Vec<(String, u64)>,
    /// Whether the viewer sees only their own accounts (an account manager).
    scoped: bool,
}

/// The first email invitation, as it will be sent.
struct Preview {
    to: String,
    subject: String,
    text: String,
}

impl WavePage {
    fn rate(r: &ResponseRate) -> String {
        percent(u64::try_from(r.answered).unwrap_or(0), u64::try_from(r.invited).unwrap_or(0))
    }

    fn total_rate(&self) -> String {
        percent(self.progress.answered, self.progress.invited)
    }
}

/// GET /waves/{name}.
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> Result<Html<String>, WebError> {
    user.require(Need::Portfolio)?;
    let wave = find(&state, &name).await?;
    let scope = user.scoped(AccountFilter::default()).owned_by;
    let manage = user.require(Need::Surveys).is_ok();
    let preview = if manage { preview(&state, wave.id).await? } else { None };
    let page = WavePage {
        layout: Layout::new(&user, format!("Wave {}", wave.name), "waves"),
        path: wave_path(&wave.name),
        progress: state.store.wave_progress(wave.id).await?,
        queue: state.store.queue_counts(Some(wave.id)).await?,
        accounts: state.store.response_rates(wave.id, RateBy::Account, scope.as_deref(), ACCOUNT_ROWS).await?,
        owners: if scope.is_some() {
            Vec::new()
        } else {
            state.store.response_rates(wave.id, RateBy::Owner, None, ACCOUNT_ROWS).await?
        },
        failed: if manage { state.store.failed_invitations(wave.id, 50).await? } else { Vec::new() },
        open_link: if manage {
            let link = state.store.open_link(wave.id, None).await?;
            Some(format!("{}{}", state.public_url, open_path(link.id, &link.secret)))
        } else {
            None
        },
        unmatched: if manage { state.store.unmatched_answers(wave.id, 100).await? } else { Vec::new() },
        stranded: if manage {
            let sends = &state.delivery_channels;
            let queued = state.store.queued_by_channel(wave.id).await?;
            queued.into_iter().filter(|(channel, _)| !sends.contains(&channel.as_str())).collect()
        } else {
            Vec::new()
        },
        manage,
        scoped: scope.is_some(),
        sends: state.delivery_channels.join(" and "),
        preview,
        wave,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

/// A wave created in Rapport (not one whose answers were imported), by name; one that
/// selected nobody is still found, to be seen and closed.
pub(crate) async fn find(state: &AppState, name: &str) -> Result<WaveInfo, WebError> {
    let missing = || WebError::NotFound(format!("There is no wave '{name}' sent from Rapport"));
    let Some((_, _, Some(_))) = state.store.wave_by_name(name).await? else { return Err(missing()) };
    let waves = state.store.list_waves().await?;
    waves.into_iter().find(|w| w.name == name).ok_or_else(missing)
}

async fn preview(state: &AppState, wave_id: i64) -> Result<Option<Preview>, WebError> {
    let mut after = 0;
    loop {
        let page = state.store.wave_invitations(wave_id, after, 200).await?;
        let Some(last) = page.last() else { return Ok(None) };
        after = last.id;
        if let Some(inv) = page.into_iter().find(|i| i.channel() == Channel::Email) {
            let Some(version) = inv.survey_version_id else { return Ok(None) };
            let survey = state.surveys.get(&state.store, version).await?;
            let mail = invite::email(&survey, &inv, &state.public_url, false)?;
            return Ok(Some(Preview {
                to: inv.email.clone().unwrap_or_default(),
                subject: mail.subject,
                text: mail.text,
            }));
        }
    }
}

/// A form that carries only its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// POST /waves/{name}/send: opens the wave and queues its invitations by every channel this
/// server delivers (email, SMS) for its delivery worker.
pub async fn send(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Redirect, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Surveys)?;
    send_wave(&state, &user.0.email, &name).await?;
    Ok(Redirect::to(&wave_path(&name)))
}

/// Opens the wave and queues its invitations by every channel this server delivers, for
/// `actor` (the web app and the API alike). Returns the wave as it is now, and how many were
/// queued.
pub(crate) async fn send_wave(state: &AppState, actor: &str, name: &str) -> Result<(WaveInfo, u64), WebError> {
    let wave = find(state, name).await?;
    if state.delivery_channels.is_empty() {
        return Err(WebError::BadRequest(
            "This server does not send invitations: start it with RAPPORT_SMTP_URL (or RAPPORT_SMS_URL) set, or \
             download the personal links"
                .into(),
        ));
    }
    if wave.status == WaveStatus::Closed.as_str() {
        return Err(WebError::BadRequest(format!("Wave {name} is closed: its invitations would find a closed survey")));
    }
    let now = OffsetDateTime::now_utc();
    state.store.set_wave_status(wave.id, WaveStatus::Open, now).await?;
    let queued = state.store.queue_invitations(wave.id, &state.delivery_channels, now).await?;
    let detail = format!("{queued} invitations queued by {}", state.delivery_channels.join(" and "));
    state.audit(Some(actor), "wave.send", name, &detail).await?;
    Ok((WaveInfo { status: WaveStatus::Open.as_str().to_string(), ..wave }, queued))
}

/// POST /waves/{name}/open: takes answers (for links handed out another way).
pub async fn open(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Redirect, WebError> {
    set_status(&state, &user, &name, &form.csrf, WaveStatus::Open).await
}

/// POST /waves/{name}/close: stops taking answers.
pub async fn close(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Redirect, WebError> {
    set_status(&state, &user, &name, &form.csrf, WaveStatus::Closed).await
}

async fn set_status(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    csrf: &str,
    status: WaveStatus,
) -> Result<Redirect, WebError> {
    user.check_csrf(csrf)?;
    user.require(Need::Surveys)?;
    change_status(state, &user.0.email, name, status).await?;
    Ok(Redirect::to(&wave_path(name)))
}

/// Opens or closes a wave for `actor` (the web app and the API alike): the wave as it is now.
pub(crate) async fn change_status(
    state: &AppState,
    actor: &str,
    name: &str,
    status: WaveStatus,
) -> Result<WaveInfo, WebError> {
    let wave = find(state, name).await?;
    state.store.set_wave_status(wave.id, status, OffsetDateTime::now_utc()).await?;
    state.audit(Some(actor), &format!("wave.{}", status.as_str()), name, "").await?;
    Ok(WaveInfo { status: status.as_str().to_string(), ..wave })
}

/// The form that files an unmatched answer under a contact.
#[derive(Debug, Deserialize)]
pub struct AssignForm {
    csrf: String,
    /// The contact's email on file.
    #[serde(default)]
    contact: String,
}

/// POST /waves/{name}/unmatched/{id}/assign.
pub async fn assign(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((name, id)): Path<(String, i64)>,
    Form(form): Form<AssignForm>,
) -> Result<Redirect, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Surveys)?;
    assign_unmatched(&state, &user.0.email, &name, id, &form.contact).await?;
    Ok(Redirect::to(&wave_path(&name)))
}

/// Files an open-link answer that matched no contact under the contact whose email on file
/// is `contact`, for `actor` (the web app and the API alike): it becomes that contact's
/// answer in the wave, given when it was given, and counts like any other; the unmatched
/// entry goes. Returns the contact's account (its CRM id).
pub(crate) async fn assign_unmatched(
    state: &AppState,
    actor: &str,
    wave_name: &str,
    unmatched_id: i64,
    contact: &str,
) -> Result<String, WebError> {
    let wave = find(state, wave_name).await?;
    let missing = || WebError::NotFound(format!("There is no unmatched answer {unmatched_id} in wave {wave_name}"));
    let stored =
        state.store.unmatched_answer(unmatched_id).await?.filter(|u| u.wave_id == wave.id).ok_or_else(missing)?;
    let contact = contact.trim();
    let Some(matched) = state.store.contact_by_email(contact, None).await? else {
        return Err(WebError::BadRequest(format!(
            "No contact has the email '{contact}': import them as a contact of their account first"
        )));
    };
    let answers: rapport_core::answer::Answers =
        serde_json::from_str(&stored.answers).map_err(|e| WebError::Internal(e.into()))?;
    let now = OffsetDateTime::now_utc();
    let inv = state.store.invitation_for(wave.id, matched.contact_id, &stored.language, now).await?;
    let version = inv.survey_version_id.ok_or_else(missing)?;
    let survey = state.surveys.get(&state.store, version).await?;
    // Filed, then forgotten: a failure between the two leaves the entry to file again, which
    // adds a later answer of the same contact (reports count only the latest), never a second.
    state.store.record_answer(&inv, &survey, &answers, stored.submitted_at).await?;
    state.store.forget_unmatched(unmatched_id).await?;
    let account = inv.account_external_id;
    state
        .audit(
            Some(actor),
            "unmatched.assign",
            wave_name,
            &format!("answer {unmatched_id} filed under {contact} ({account})"),
        )
        .await?;
    Ok(account)
}

/// GET /waves/{name}/links.csv: every personal link, for sending from another tool.
pub async fn links(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    user.require(Need::Surveys)?;
    let wave = find(&state, &name).await?;
    let mut out = Vec::new();
    let n = waves::write_links(&state.store, wave.id, &state.public_url, &mut out).await?;
    state.audit(Some(&user.0.email), "wave.links", &name, &format!("{n} links")).await?;
    let file: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"rapport-links-{file}.csv\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        out,
    )
        .into_response())
}

/// `?account=` an account's CRM id, for an account's own open link.
#[derive(Debug, Deserialize)]
pub struct QrQuery {
    account: Option<String>,
}

/// The open link a QR code stands for: the wave's (for those who run surveys), or one
/// account's (for anyone who may see that account, e.g. its manager before a meeting).
async fn open_link_url(state: &AppState, user: &CurrentUser, name: &str, q: &QrQuery) -> Result<String, WebError> {
    let wave = find(state, name).await?;
    let account = match q.account.as_deref().filter(|a| !a.is_empty()) {
        Some(external_id) => {
            let viewer = crate::pages::view::Viewer::of(user);
            let (p, i) = crate::pages::account::portfolio_with(state, &viewer, external_id).await?;
            Some(p.accounts[i].id)
        }
        None => {
            user.require(Need::Surveys)?;
            None
        }
    };
    let link = state.store.open_link(wave.id, account).await?;
    Ok(format!("{}{}", state.public_url, open_path(link.id, &link.secret)))
}

/// GET /waves/{name}/qr.svg[?account=ID]: the open link as a QR code (SVG).
pub async fn qr_svg(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Query(q): Query<QrQuery>,
) -> Result<Response, WebError> {
    qr(&state, &user, &name, &q, "image/svg+xml", |url| Ok(crate::qr::svg(url)?.into_bytes())).await
}

/// GET /waves/{name}/qr.png[?account=ID]: the open link as a QR code (PNG).
pub async fn qr_png(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Query(q): Query<QrQuery>,
) -> Result<Response, WebError> {
    qr(&state, &user, &name, &q, "image/png", crate::qr::png).await
}

async fn qr(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    q: &QrQuery,
    media: &'static str,
    draw: impl Fn(&str) -> anyhow::Result<Vec<u8>>,
) -> Result<Response, WebError> {
    let url = open_link_url(state, user, name, q).await?;
    let image = draw(&url)?;
    Ok(([(header::CONTENT_TYPE, media), (header::CACHE_CONTROL, "private, no-store")], image).into_response())
}
