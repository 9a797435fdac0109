//! The response page: where a contact answers the survey from their personal link
//! (`/r/{token}`), on any phone, without JavaScript, in one small request.
//!
//! The personal link is `{invitation id}-{secret}`: the row is found by id and the 160-bit
//! secret compared in constant time, so a guessed or altered link finds nothing. Every
//! outcome (unknown link, closed wave, a form with problems, an oversized or garbled body)
//! gets a page in the respondent's language that says what happened and what to do; an
//! answer is committed before its thank-you page is sent.

mod group_commit;
mod group_read;
mod texts;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use percent_encoding::{percent_decode, utf8_percent_encode};
use rapport_core::answer::{Answers, FieldError, Intent, Value};
use rapport_core::contact::Email;
use rapport_core::survey::{QuestionKind, Survey, text_in};
use rapport_store::Store;
use rapport_store::invitations::{Invitation, NewAnswer};
use rapport_store::open_links::{OpenLink, Respondent};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::error::WebError;
use crate::state::AppState;
use crate::token::same_secret;
pub use group_commit::AnswerWriter;
pub use group_read::InvitationReader;
pub use texts::{Ui, ui};

/// The largest response form accepted: the longest comment allowed, several times over.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// The response pages' stylesheet, sent inside each page so that a page is one request.
const CSS: &str = include_str!("../static/respond.css");

/// The Content-Security-Policy of the response pages: the app's, with the inline stylesheet
/// allowed by its hash (never `unsafe-inline`).
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
    HeaderValue::from_str(&format!(
        "default-src 'none'; img-src data:; style-src 'sha256-{hash}'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    ))
    .expect("a valid header value")
});

/// Survey versions never change once stored, so every process may keep them for good.
#[derive(Clone, Default)]
pub struct SurveyCache(Arc<RwLock<HashMap<i64, Arc<CachedSurvey>>>>);

/// A survey version as the response pages use it: the survey, and who is asking as every
/// page's header shows it, worked out once. Worked out for each page, the logo's
/// percent-encoding alone was 2.8% of the async workers' time under the answer benchmark
/// (BENCHMARKS.md, issue 4).
struct CachedSurvey {
    survey: Arc<Survey>,
    header: Header,
}

/// The pages read the survey's questions and texts straight through the cached version.
impl std::ops::Deref for CachedSurvey {
    type Target = Survey;
    fn deref(&self) -> &Survey {
        &self.survey
    }
}

impl SurveyCache {
    /// The survey version `version_id`, read from `store` the first time only.
    pub async fn get(&self, store: &Store, version_id: i64) -> Result<Arc<Survey>, rapport_store::StoreError> {
        Ok(self.shown(store, version_id).await?.survey.clone())
    }

    /// The survey version `version_id` with its header, read from `store` the first time only.
    async fn shown(&self, store: &Store, version_id: i64) -> Result<Arc<CachedSurvey>, rapport_store::StoreError> {
        if let Some(s) = self.0.read().expect("survey cache lock").get(&version_id) {
            return Ok(s.clone());
        }
        let survey = store.survey_version(version_id).await?.survey;
        let cached = Arc::new(CachedSurvey { header: Header::of(&survey), survey: Arc::new(survey) });
        self.0.write().expect("survey cache lock").insert(version_id, cached.clone());
        Ok(cached)
    }
}

/// The personal link's path for an invitation.
pub fn personal_path(invitation_id: i64, secret: &str) -> String {
    format!("/r/{invitation_id}-{secret}")
}

/// A link token, `{id}-{secret}`, split into its parts.
fn split_token(token: &str) -> Option<(i64, &str)> {
    let (id, secret) = token.split_once('-')?;
    Some((id.parse().ok()?, secret))
}

/// The invitation a personal link names, when its secret matches.
async fn find(state: &AppState, token: &str) -> Result<Option<Invitation>, WebError> {
    let Some((id, secret)) = split_token(token) else { return Ok(None) };
    let found = state.invitation_reader().find(id).await?;
    Ok(found.filter(|inv| same_secret(&inv.secret, secret)))
}

/// An invitation with its survey, ready to show.
struct Open {
    invitation: Invitation,
    survey: Arc<CachedSurvey>,
}

/// Finds the invitation and its survey, or the page to show instead.
async fn open(state: &AppState, token: &str, now: OffsetDateTime) -> Result<Result<Open, Response>, WebError> {
    let Some(invitation) = find(state, token).await? else {
        return Ok(Err(message(StatusCode::NOT_FOUND, "en", None, Page::Unknown)));
    };
    let Some(version) = invitation.survey_version_id else {
        return Ok(Err(message(StatusCode::NOT_FOUND, "en", None, Page::Unknown)));
    };
    let survey = state.surveys.shown(&state.store, version).await?;
    let lang = invitation.language.clone();
    if !invitation.accepts_answers(now) {
        let page = match invitation.wave_status() {
            rapport_store::waves::WaveStatus::Draft => Page::NotOpen,
            _ => Page::Closed { last_day: invitation.closes_on.map(format_date).unwrap_or_default() },
        };
        return Ok(Err(message(StatusCode::GONE, &lang, Some(&survey), page)));
    }
    Ok(Ok(Open { invitation, survey }))
}

/// `GET /r/{token}`: the survey, filled in with what was saved or last sent.
pub async fn form(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, WebError> {
    let now = OffsetDateTime::now_utc();
    let o = match open(&state, &token, now).await? {
        Ok(o) => o,
        Err(page) => return Ok(page),
    };
    state.store.mark_opened(o.invitation.id, now).await?;
    let draft: Option<Answers> = o.invitation.draft.as_deref().and_then(|d| serde_json::from_str(d).ok());
    let answers = match draft {
        Some(d) => d,
        None => state.store.latest_answer(o.invitation.id).await?.unwrap_or_default(),
    };
    Ok(render_form(StatusCode::OK, FormContext::personal(&o, &token), &answers, &[]))
}

/// `POST /r/{token}`: saves the answers for later, or sends them.
pub async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, WebError> {
    let now = OffsetDateTime::now_utc();
    let o = match open(&state, &token, now).await? {
        Ok(o) => o,
        Err(page) => return Ok(page),
    };
    let lang = o.invitation.language.as_str();
    let back = personal_path(o.invitation.id, &o.invitation.secret);
    if !state.answer_limits.personal(o.invitation.id) {
        return Ok(message(StatusCode::TOO_MANY_REQUESTS, lang, Some(&o.survey), Page::TooMany { back }));
    }
    let Ok(body) = body else {
        let why = ui(lang).too_large;
        return Ok(message(StatusCode::PAYLOAD_TOO_LARGE, lang, Some(&o.survey), Page::BadForm { why, back }));
    };
    let Some(fields) = parse_form(&body) else {
        return Ok(message(
            StatusCode::BAD_REQUEST,
            lang,
            Some(&o.survey),
            Page::BadForm { why: ui(lang).not_utf8, back },
        ));
    };
    let intent = if fields.iter().any(|(k, v)| k == "action" && v == "save") { Intent::Save } else { Intent::Submit };
    let (answers, errors) = o.survey.read_form(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())), intent);
    if !errors.is_empty() {
        return Ok(render_form(StatusCode::UNPROCESSABLE_ENTITY, FormContext::personal(&o, &token), &answers, &errors));
    }
    let last_day = o.invitation.closes_on.map(format_date).unwrap_or_default();
    match intent {
        Intent::Save => {
            state.store.save_draft(o.invitation.id, &answers).await?;
            Ok(message(StatusCode::OK, lang, Some(&o.survey), Page::Saved { last_day, back }))
        }
        Intent::Submit => {
            state.answer_writer().write(NewAnswer::new(&o.invitation, &o.survey, &answers, now)?).await?;
            crate::telemetry::answers_received(1);
            Ok(message(StatusCode::OK, lang, Some(&o.survey), Page::Thanks { last_day }))
        }
    }
}

/// `GET /r/{token}/unsubscribe`: asks to confirm (a link scanner that follows it changes nothing).
pub async fn unsubscribe_page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, WebError> {
    let Some(inv) = find(&state, &token).await? else {
        return Ok(message(StatusCode::NOT_FOUND, "en", None, Page::Unknown));
    };
    let survey = match inv.survey_version_id {
        Some(v) => Some(state.surveys.shown(&state.store, v).await?),
        None => None,
    };
    Ok(message(StatusCode::OK, &inv.language, survey.as_deref(), Page::Unsubscribe))
}

/// `POST /r/{token}/unsubscribe`: leaves the contact out of every later wave.
pub async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, WebError> {
    let Some(inv) = find(&state, &token).await? else {
        return Ok(message(StatusCode::NOT_FOUND, "en", None, Page::Unknown));
    };
    state.store.unsubscribe(inv.contact_id, OffsetDateTime::now_utc()).await?;
    let survey = match inv.survey_version_id {
        Some(v) => Some(state.surveys.shown(&state.store, v).await?),
        None => None,
    };
    Ok(message(StatusCode::OK, &inv.language, survey.as_deref(), Page::Unsubscribed))
}

/// The open link's path.
pub fn open_path(link_id: i64, secret: &str) -> String {
    format!("/o/{link_id}-{secret}")
}

/// The open link a token names, when its secret matches.
async fn find_open(state: &AppState, token: &str) -> Result<Option<OpenLink>, WebError> {
    let Some((id, secret)) = split_token(token) else { return Ok(None) };
    let found = state.store.open_link_by_id(id).await?;
    Ok(found.filter(|l| same_secret(&l.secret, secret)))
}

/// The first of the browser's languages that the survey speaks, else the survey's first.
fn browser_language(survey: &Survey, headers: &HeaderMap) -> String {
    let accepted = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    accepted
        .split(',')
        .filter_map(|tag| tag.split(';').next().map(str::trim))
        .find_map(|tag| {
            let lang = survey.language_for(Some(tag));
            (tag.to_ascii_lowercase().starts_with(lang)).then(|| lang.to_string())
        })
        .unwrap_or_else(|| survey.languages[0].clone())
}

/// An open link with its survey and the visitor's language, or the page to show instead.
async fn open_link(
    state: &AppState,
    token: &str,
    headers: &HeaderMap,
    now: OffsetDateTime,
) -> Result<Result<(OpenLink, Arc<CachedSurvey>, String), Response>, WebError> {
    let Some(link) = find_open(state, token).await? else {
        return Ok(Err(message(StatusCode::NOT_FOUND, "en", None, Page::Unknown)));
    };
    let Some(version) = link.survey_version_id else {
        return Ok(Err(message(StatusCode::NOT_FOUND, "en", None, Page::Unknown)));
    };
    let survey = state.surveys.shown(&state.store, version).await?;
    let lang = browser_language(&survey, headers);
    if !link.accepts_answers(now) {
        let page = if link.wave_status == "draft" {
            Page::NotOpen
        } else {
            Page::Closed { last_day: link.closes_on.map(format_date).unwrap_or_default() }
        };
        return Ok(Err(message(StatusCode::GONE, &lang, Some(&survey), page)));
    }
    Ok(Ok((link, survey, lang)))
}

impl<'a> FormContext<'a> {
    fn open(survey: &'a CachedSurvey, lang: &'a str, token: &str, identity: Identity) -> FormContext<'a> {
        FormContext {
            survey,
            lang,
            action: format!("/o/{token}"),
            hello: None,
            note: None,
            unsubscribe: None,
            identity: Some(identity),
        }
    }
}

/// `GET /o/{token}`: the survey for anyone at the wave's accounts (a QR code's link).
pub async fn open_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let (link, survey, lang) = match open_link(&state, &token, &headers, OffsetDateTime::now_utc()).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let identity = Identity { company_fixed: link.account_name.clone(), ..Identity::default() };
    Ok(render_form(StatusCode::OK, FormContext::open(&survey, &lang, &token, identity), &Answers::default(), &[]))
}

/// `POST /o/{token}`: an answer from someone who says who they are. It goes to the contact
/// with that email (at the link's account, when it has one), or is kept for review; the
/// thank-you page is the same either way, so the form tells no one who is on file.
pub async fn open_submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, WebError> {
    let now = OffsetDateTime::now_utc();
    let (link, survey, lang) = match open_link(&state, &token, &headers, now).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let back = open_path(link.id, &link.secret);
    if !state.answer_limits.open(link.id) {
        return Ok(message(StatusCode::TOO_MANY_REQUESTS, &lang, Some(&survey), Page::TooMany { back }));
    }
    let Ok(body) = body else {
        let why = ui(&lang).too_large;
        return Ok(message(StatusCode::PAYLOAD_TOO_LARGE, &lang, Some(&survey), Page::BadForm { why, back }));
    };
    let Some(fields) = parse_form(&body) else {
        let why = ui(&lang).not_utf8;
        return Ok(message(StatusCode::BAD_REQUEST, &lang, Some(&survey), Page::BadForm { why, back }));
    };
    let field = |name: &str| -> String {
        let v = fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
        v.chars().filter(|c| !c.is_control()).take(200).collect::<String>().trim().to_string()
    };
    let ui = ui(&lang);
    let mut identity = Identity {
        company_fixed: link.account_name.clone(),
        company: field("_company"),
        email: field("_email"),
        name: field("_name"),
        ..Identity::default()
    };
    if identity.company_fixed.is_none() && identity.company.is_empty() {
        identity.company_error = Some(ui.company_missing.to_string());
    }
    let email = Email::parse(&identity.email).ok();
    if email.is_none() {
        identity.email_error = Some(ui.email_invalid.to_string());
    }
    let (answers, errors) = survey.read_form(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())), Intent::Submit);
    let Some(email) = email.filter(|_| errors.is_empty() && identity.company_error.is_none()) else {
        let form = FormContext::open(&survey, &lang, &token, identity);
        return Ok(render_form(StatusCode::UNPROCESSABLE_ENTITY, form, &answers, &errors));
    };
    match state.store.contact_by_email(email.as_str(), link.account_id).await? {
        Some(contact) => {
            let inv = state.store.invitation_for(link.wave_id, contact.contact_id, &lang, now).await?;
            state.answer_writer().write(NewAnswer::new(&inv, &survey, &answers, now)?).await?;
        }
        None => {
            let company = identity.company_fixed.as_deref().unwrap_or(&identity.company);
            let who = Respondent {
                company,
                email: email.as_str(),
                name: Some(identity.name.as_str()).filter(|n| !n.is_empty()),
                language: &lang,
            };
            state.store.record_unmatched(&link, &who, &answers, now).await?;
        }
    }
    crate::telemetry::answers_received(1);
    // No "change your answers with the same link": an open link starts a new answer each time.
    Ok(message(StatusCode::OK, &lang, Some(&survey), Page::Thanks { last_day: String::new() }))
}

/// `POST /bench/ceiling` (only with `rapport serve --bench-ceiling`): reads the form as the
/// response page does and stores nothing; the yardstick the answer benchmark compares with.
pub async fn ceiling(body: Bytes) -> Response {
    match parse_form(&body) {
        Some(fields) => {
            (StatusCode::OK, Html(format!("<!doctype html><p>Thank you ({} fields)</p>", fields.len()))).into_response()
        }
        None => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// Reads `application/x-www-form-urlencoded` strictly: None when a value is not UTF-8 (a
/// lenient reader would store replacement characters in place of what was written).
fn parse_form(body: &[u8]) -> Option<Vec<(String, String)>> {
    let decode = |part: &[u8]| -> Option<String> {
        let spaced: Vec<u8> = part.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
        percent_decode(&spaced).decode_utf8().ok().map(|s| s.into_owned())
    };
    body.split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |&b| b == b'=');
            let key = decode(it.next().unwrap_or_default())?;
            let value = decode(it.next().unwrap_or_default())?;
            Some((key, value))
        })
        .collect()
}

/// A date as the pages show it (ISO, unambiguous in every language).
fn format_date(d: time::Date) -> String {
    d.to_string()
}

/// Who is asking, as every page shows it.
struct Header {
    company: String,
    logo: Option<String>,
    contact_name: String,
    email: String,
    phone: String,
}

impl Header {
    fn of(survey: &Survey) -> Header {
        let s = &survey.sender;
        Header {
            company: s.company.clone(),
            logo: s.logo_svg.as_deref().map(|svg| {
                format!("data:image/svg+xml,{}", utf8_percent_encode(svg, percent_encoding::NON_ALPHANUMERIC))
            }),
            contact_name: s.contact_name.clone(),
            email: s.email.clone(),
            phone: s.phone.clone(),
        }
    }

    fn tel(&self) -> String {
        self.phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()
    }
}

/// One option of a question as the form shows it.
struct OptionView {
    value: String,
    label: String,
    checked: bool,
}

/// One question as the form shows it.
struct QuestionView {
    key: String,
    number: usize,
    text: String,
    required: bool,
    /// nps, rating, single, multiple or text.
    kind: &'static str,
    options: Vec<OptionView>,
    low: String,
    high: String,
    text_value: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "respond/form.html")]
struct FormPage<'a> {
    lang: &'a str,
    ui: &'static Ui,
    css: &'static str,
    header: Option<&'a Header>,
    title: String,
    hello: Option<String>,
    intro: String,
    note: Option<String>,
    action: String,
    unsubscribe: Option<String>,
    identity: Option<Identity>,
    questions: Vec<QuestionView>,
    errors: Vec<(String, String)>,
}

/// The "about you" fields of an open link's form, as given so far.
#[derive(Debug, Clone, Default)]
struct Identity {
    /// The account the link is for, shown instead of asking.
    company_fixed: Option<String>,
    company: String,
    email: String,
    name: String,
    company_error: Option<String>,
    email_error: Option<String>,
}

/// Who a form is for and where it goes.
struct FormContext<'a> {
    survey: &'a CachedSurvey,
    lang: &'a str,
    action: String,
    /// The greeting, for a personal link.
    hello: Option<String>,
    note: Option<String>,
    /// The unsubscribe page, for a personal link.
    unsubscribe: Option<String>,
    /// The "about you" fields, for an open link.
    identity: Option<Identity>,
}

impl<'a> FormContext<'a> {
    fn personal(o: &'a Open, token: &str) -> FormContext<'a> {
        let lang = o.invitation.language.as_str();
        let ui = ui(lang);
        FormContext {
            survey: &o.survey,
            lang,
            action: format!("/r/{token}"),
            hello: Some(ui.hello.replace("{name}", &o.invitation.contact_name)),
            note: o.invitation.answered_at.map(|at| ui.answered_before.replace("{date}", &format_date(at.date()))),
            unsubscribe: Some(format!("/r/{token}/unsubscribe")),
            identity: None,
        }
    }
}

fn render_form(status: StatusCode, form: FormContext<'_>, answers: &Answers, errors: &[FieldError]) -> Response {
    let lang = form.lang;
    let ui = ui(lang);
    let survey = form.survey;
    let error_of = |key: &str| errors.iter().find(|e| e.key == key).map(|e| ui.problem(e.problem));
    let questions = survey
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let score_options = |range: std::ops::RangeInclusive<u8>,
                                 labels: Option<&[rapport_core::survey::Texts; 5]>| {
                range
                    .map(|n| OptionView {
                        value: n.to_string(),
                        label: labels
                            .map_or_else(|| n.to_string(), |l| text_in(&l[usize::from(n) - 1], lang).to_string()),
                        checked: answers.score(&q.key) == Some(n),
                    })
                    .collect()
            };
            let (kind, options, low, high) = match &q.kind {
                QuestionKind::Nps { low, high } => (
                    "nps",
                    score_options(0..=10, None),
                    text_in(low, lang).to_string(),
                    text_in(high, lang).to_string(),
                ),
                QuestionKind::Rating { labels, .. } => {
                    ("rating", score_options(1..=5, Some(labels)), String::new(), String::new())
                }
                QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options } => {
                    let kind = if matches!(q.kind, QuestionKind::SingleChoice { .. }) { "single" } else { "multiple" };
                    let opts = options
                        .iter()
                        .map(|c| OptionView {
                            value: c.key.clone(),
                            label: text_in(&c.text, lang).to_string(),
                            checked: answers.chose(&q.key, &c.key),
                        })
                        .collect();
                    (kind, opts, String::new(), String::new())
                }
                QuestionKind::Text => ("text", Vec::new(), String::new(), String::new()),
            };
            QuestionView {
                key: q.key.clone(),
                number: i + 1,
                text: text_in(&q.text, lang).to_string(),
                required: q.required,
                kind,
                options,
                low,
                high,
                text_value: match answers.0.get(&q.key) {
                    Some(Value::Text(t)) => t.clone(),
                    _ => String::new(),
                },
                error: error_of(&q.key),
            }
        })
        .collect::<Vec<_>>();
    let mut errors: Vec<(String, String)> = Vec::new();
    if let Some(id) = &form.identity {
        if let Some(e) = &id.company_error {
            errors.push(("company".into(), format!("{}: {e}", ui.your_company)));
        }
        if let Some(e) = &id.email_error {
            errors.push(("email".into(), format!("{}: {e}", ui.your_email)));
        }
    }
    errors
        .extend(questions.iter().filter_map(|q| q.error.clone().map(|e| (q.key.clone(), format!("{}: {e}", q.text)))));
    let page = FormPage {
        lang,
        ui,
        css: CSS,
        header: Some(&survey.header),
        title: survey.sender.company.clone(),
        hello: form.hello,
        intro: text_in(&survey.intro, lang).to_string(),
        note: form.note,
        action: form.action,
        unsubscribe: form.unsubscribe,
        identity: form.identity,
        questions,
        errors,
    };
    html(status, page.render())
}

/// The pages that are not the form.
enum Page {
    Unknown,
    NotOpen,
    Closed { last_day: String },
    Saved { last_day: String, back: String },
    Thanks { last_day: String },
    BadForm { why: &'static str, back: String },
    TooMany { back: String },
    Unsubscribe,
    Unsubscribed,
}

#[derive(Template)]
#[template(path = "respond/message.html")]
struct MessagePage<'a> {
    lang: &'a str,
    ui: &'static Ui,
    css: &'static str,
    header: Option<&'a Header>,
    title: String,
    paragraphs: Vec<String>,
    /// A link back to the survey.
    back: Option<String>,
    /// Show the unsubscribe confirmation button.
    confirm_unsubscribe: bool,
}

fn message(status: StatusCode, lang: &str, survey: Option<&CachedSurvey>, page: Page) -> Response {
    let ui = ui(lang);
    let date = |t: &str, d: &str| t.replace("{date}", d);
    let (title, paragraphs, back, confirm) = match page {
        Page::Unknown => (ui.unknown_title, vec![ui.unknown_body.to_string()], None, false),
        Page::NotOpen => (ui.not_open_title, vec![ui.not_open_body.to_string()], None, false),
        Page::Closed { last_day } => (ui.closed_title, vec![date(ui.closed_body, &last_day)], None, false),
        Page::Saved { last_day, back } => (ui.saved_title, vec![date(ui.saved_body, &last_day)], Some(back), false),
        Page::Thanks { last_day } => {
            let mut p: Vec<String> = survey.map(|s| text_in(&s.thanks, lang).to_string()).into_iter().collect();
            if !last_day.is_empty() {
                p.push(date(ui.change_until, &last_day));
            }
            (ui.thanks_title, p, None, false)
        }
        Page::BadForm { why, back } => (ui.bad_form_title, vec![why.to_string()], Some(back), false),
        Page::TooMany { back } => (ui.too_many_title, vec![ui.too_many.to_string()], Some(back), false),
        Page::Unsubscribe => (ui.unsubscribe_title, vec![ui.unsubscribe_body.to_string()], None, true),
        Page::Unsubscribed => (ui.unsubscribed_title, vec![ui.unsubscribed_body.to_string()], None, false),
    };
    let page = MessagePage {
        lang,
        ui,
        css: CSS,
        header: survey.map(|s| &s.header),
        title: title.to_string(),
        paragraphs,
        back,
        confirm_unsubscribe: confirm,
    };
    html(status, page.render())
}

fn html(status: StatusCode, rendered: askama::Result<String>) -> Response {
    match rendered {
        Ok(body) => {
            let mut response = (status, Html(body)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
            // A personal link must not be stored by shared caches or leak through Referer.
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            response
        }
        Err(e) => WebError::Internal(anyhow::Error::new(e).context("rendering a response page")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_read_strictly_as_utf8() {
        let got = parse_form(b"ltr=9&comment=Sch%C3%B6n+so&contact_channels=a&contact_channels=b&x").unwrap();
        assert_eq!(
            got,
            [
                ("ltr".into(), "9".into()),
                ("comment".into(), "Schön so".into()),
                ("contact_channels".into(), "a".into()),
                ("contact_channels".into(), "b".into()),
                ("x".into(), String::new()),
            ]
        );
        assert_eq!(parse_form(b"comment=%FF%FE"), None);
        assert_eq!(parse_form(b"comment=\xff"), None);
        assert_eq!(parse_form(b""), Some(vec![]));
    }

    #[test]
    fn the_inline_stylesheet_is_allowed_by_its_hash_only() {
        let csp = CSP.to_str().unwrap();
        assert!(csp.contains("style-src 'sha256-"));
        assert!(!csp.contains("unsafe-inline"));
    }
}
