//! Surveys in the web app: every survey with its latest version, one survey's questions in
//! each language, and (administrators and analysts) a new version from the edited definition,
//! or the built-in B2B relationship survey made for the company, so that a team that only
//! uses the browser can run its first wave.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use rapport_core::survey::{Sender, Survey, relationship_template};
use rapport_store::surveys::SurveyVersion;
use serde::Deserialize;

use crate::URL_SAFE;
use crate::auth::CurrentUser;
use crate::authz::Need;
use crate::error::WebError;
use crate::pages::view::Layout;
use crate::state::AppState;

/// A question as the page lists it.
struct QuestionRow {
    key: String,
    kind: &'static str,
    required: bool,
    /// (language, text) in the survey's languages.
    texts: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "surveys.html")]
struct SurveysPage {
    layout: Layout,
    surveys: Vec<(String, String, i64, usize, String)>,
    shown: Option<Shown>,
    manage: bool,
    error: Option<String>,
    saved: Option<i64>,
}

/// The survey shown, with its editor.
struct Shown {
    name: String,
    version: i64,
    languages: String,
    /// The languages, one column each.
    language_list: Vec<String>,
    company: String,
    questions: Vec<QuestionRow>,
    /// The definition in the editor: the latest version, or what was sent back with an error.
    json: String,
}

fn href(name: &str) -> String {
    format!("/surveys/{}", percent_encoding::utf8_percent_encode(name, URL_SAFE))
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    name: Option<&str>,
    edited: Option<String>,
    error: Option<String>,
    saved: Option<i64>,
) -> Result<Html<String>, WebError> {
    let all = state.store.list_surveys().await?;
    let shown = match name {
        Some(n) => {
            let v = all
                .iter()
                .find(|s| s.survey.name == n)
                .ok_or_else(|| WebError::NotFound(format!("There is no survey named '{n}'")))?;
            Some(shown(v, edited)?)
        }
        None => None,
    };
    let page = SurveysPage {
        layout: Layout::new(user, "Surveys", "waves"),
        surveys: all
            .iter()
            .map(|s| {
                let name = s.survey.name.clone();
                (href(&name), name, s.version, s.survey.questions.len(), s.survey.languages.join(", "))
            })
            .collect(),
        shown,
        manage: user.require(Need::Surveys).is_ok(),
        error,
        saved,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

fn shown(v: &SurveyVersion, edited: Option<String>) -> Result<Shown, WebError> {
    let s = &v.survey;
    let json = match edited {
        Some(j) => j,
        None => serde_json::to_string_pretty(s).map_err(anyhow::Error::from)?,
    };
    Ok(Shown {
        name: s.name.clone(),
        version: v.version,
        languages: s.languages.join(", "),
        language_list: s.languages.clone(),
        company: s.sender.company.clone(),
        questions: s
            .questions
            .iter()
            .map(|q| QuestionRow {
                key: q.key.clone(),
                kind: q.kind.name(),
                required: q.required,
                texts: s.languages.iter().map(|l| (l.clone(), q.text.get(l).cloned().unwrap_or_default())).collect(),
            })
            .collect(),
        json,
    })
}

/// GET /surveys.
pub async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Html<String>, WebError> {
    user.require(Need::Portfolio)?;
    render(&state, &user, None, None, None, None).await
}

/// The page's options.
#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    /// The version just saved.
    saved: Option<i64>,
}

/// GET /surveys/{name}.
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Html<String>, WebError> {
    user.require(Need::Portfolio)?;
    render(&state, &user, Some(&name), None, None, q.saved).await
}

/// Saves a survey definition for `actor` (the web app and the API alike): a new version
/// when it differs from the latest under its name, with an audit entry. Returns the version
/// and whether it is new.
pub(crate) async fn save_survey_for(
    state: &AppState,
    actor: &str,
    survey: &Survey,
) -> Result<(SurveyVersion, bool), WebError> {
    survey.validate().map_err(|e| WebError::BadRequest(format!("The survey was not saved: {e}")))?;
    let before = state.store.latest_survey(&survey.name).await?.map(|v| v.version);
    let saved = state.store.save_survey(survey).await?;
    let new = before != Some(saved.version);
    if new {
        let detail = format!("version {}", saved.version);
        state.audit(Some(actor), "survey.save", &saved.survey.name, &detail).await?;
    }
    Ok((saved, new))
}

/// The form that saves a definition edited on the page.
#[derive(Debug, Deserialize)]
pub struct EditForm {
    csrf: String,
    #[serde(default)]
    definition: String,
}

/// POST /surveys/{name}: a new version from the edited definition (or the page again, with
/// the definition as sent and what is wrong with it).
pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Form(form): Form<EditForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Surveys)?;
    let survey: Survey = match serde_json::from_str(&form.definition) {
        Ok(s) => s,
        Err(e) => {
            let why = format!("Line {}, column {}: {e}. Nothing was saved.", e.line(), e.column());
            let page = render(&state, &user, Some(&name), Some(form.definition), Some(why), None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    if survey.name != name {
        let why = format!(
            "The definition is named '{}', not '{name}': to start another survey, keep its name here and change it \
             after saving, or save it through the API. Nothing was saved.",
            survey.name
        );
        let page = render(&state, &user, Some(&name), Some(form.definition), Some(why), None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    match save_survey_for(&state, &user.0.email, &survey).await {
        Ok((saved, _)) => Ok(Redirect::to(&format!("{}?saved={}", href(&name), saved.version)).into_response()),
        Err(WebError::BadRequest(why)) => {
            let page = render(&state, &user, Some(&name), Some(form.definition), Some(why), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

/// The form that makes the built-in survey for the company.
#[derive(Debug, Deserialize)]
pub struct TemplateForm {
    csrf: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
}

/// POST /surveys: the built-in B2B relationship survey, saying who is asking.
pub async fn from_template(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<TemplateForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Surveys)?;
    let field = |v: &str| v.trim().to_string();
    let sender = Sender {
        company: field(&form.company),
        contact_name: Some(field(&form.contact_name))
            .filter(|n| !n.is_empty())
            .unwrap_or("Customer Experience team".into()),
        email: field(&form.email),
        phone: field(&form.phone),
        logo_svg: None,
    };
    let survey = relationship_template(sender);
    match save_survey_for(&state, &user.0.email, &survey).await {
        Ok((saved, _)) => Ok(Redirect::to(&format!("{}?saved={}", href(&survey.name), saved.version)).into_response()),
        Err(WebError::BadRequest(why)) => {
            let page = render(&state, &user, None, None, Some(why), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}
