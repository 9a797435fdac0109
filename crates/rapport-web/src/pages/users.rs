//! The people who sign in (administrators): who they are, their roles and managers, adding
//! someone with a password shown once, a new password for someone who lost theirs, and taking
//! away the sign-in of someone who left.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use rapport_core::contact::Email;
use rapport_core::user::Role;
use rapport_store::sessions::SessionUser;
use rapport_store::users::{NewUser, UserError, UserSummary};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::auth::{CsrfForm, CurrentUser};
use crate::authz::Need;
use crate::error::{WebError, after_form, or_again};
use crate::pages::view::Layout;
use crate::password::{generate, hash_password};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserSummary>,
    roles: Vec<(&'static str, &'static str)>,
    /// A password just made: for whom, and the password (shown this once).
    created: Option<(String, String)>,
    /// The add form as typed, and why it or another change was refused.
    draft: AddForm,
    error: Option<String>,
}

impl UsersPage {
    fn manager_is(u: &UserSummary, email: &str) -> bool {
        u.manager_email.as_deref().is_some_and(|m| Self::same(m, email))
    }

    /// When they last signed in: "2026-12-06 14:05 UTC", or "never".
    fn last_sign_in(u: &UserSummary) -> String {
        u.last_sign_in_at
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .map_or_else(|| "never".to_string(), |t| format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute()))
    }

    /// Emails are the same in any case.
    fn same(a: &str, b: &str) -> bool {
        a.trim().eq_ignore_ascii_case(b)
    }
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    created: Option<(String, String)>,
    draft: AddForm,
    error: Option<String>,
) -> Result<Html<String>, WebError> {
    let page = UsersPage {
        layout: Layout::new(user, "Users", "users"),
        users: state.store.list_users().await?,
        roles: Role::ALL.map(|r| (r.as_str(), r.label())).to_vec(),
        created,
        draft,
        error,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

/// GET /users.
pub async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Html<String>, WebError> {
    user.require(Need::Admin)?;
    page(&state, &user, None, AddForm::fresh(), None).await
}

/// The form that adds a person, and (without email) the one that changes one.
#[derive(Debug, Default, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    /// The manager's email; empty for none.
    #[serde(default)]
    manager: String,
}

impl AddForm {
    /// The add form on a fresh page: most people added are account managers.
    fn fresh() -> AddForm {
        AddForm { role: Role::AccountManager.as_str().to_string(), ..AddForm::default() }
    }

    fn person(&self) -> Person<'_> {
        Person { name: &self.name, role: &self.role, manager: &self.manager }
    }
}

/// A person's name, role and manager as given (a form or an API body), to check.
pub(crate) struct Person<'a> {
    pub name: &'a str,
    pub role: &'a str,
    /// The manager's email; empty for none.
    pub manager: &'a str,
}

impl Person<'_> {
    fn role(&self) -> Result<Role, WebError> {
        Role::parse(self.role).ok_or_else(|| {
            WebError::BadRequest(format!("'{}' is not a role: admin, analyst, account_manager or executive", self.role))
        })
    }

    fn manager(&self) -> Option<&str> {
        Some(self.manager.trim()).filter(|m| !m.is_empty())
    }

    fn name(&self) -> Result<&str, WebError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(WebError::BadRequest(
                "Give the person's name (up to 200 characters): colleagues see it".into(),
            ));
        }
        Ok(name)
    }
}

/// An administrator's change that the store refused, as the page (or the API) says it.
pub(crate) fn user_error(e: UserError) -> WebError {
    match e {
        UserError::NoUser => WebError::NotFound("There is no such user".into()),
        UserError::Store(e) => e.into(),
        other => WebError::BadRequest(other.to_string()),
    }
}

/// POST /users: adds a person and shows the password they sign in with, once. A refused
/// person comes back as typed, with what to fix (400).
pub async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<AddForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Admin)?;
    let added = async {
        let (_, email, password) = add_user_for(&state, &user.0.email, &form.email, &form.person()).await?;
        let draft = AddForm { role: form.role.clone(), ..AddForm::default() };
        Ok((StatusCode::CREATED, page(&state, &user, Some((email, password)), draft, None).await?).into_response())
    }
    .await;
    or_again(added, |why| page(&state, &user, None, form, Some(why))).await
}

/// POST /users/{id}: a new name, role or manager.
pub async fn change(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<AddForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Admin)?;
    let changed = change_user_for(&state, &user.0.email, id, &form.person()).await;
    after_form(changed, "/users", |why| page(&state, &user, None, AddForm::fresh(), Some(why))).await
}

/// POST /users/{id}/password: a new password, shown once; their sessions end.
pub async fn new_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Admin)?;
    let made = async {
        if id == user.0.user_id {
            // A password made here would end this session before the page showing it came back.
            return Err(WebError::BadRequest(
                "Change your own password under Your password (click your name at the top right)".into(),
            ));
        }
        let (email, password) = new_password_for(&state, &user.0.email, id).await?;
        Ok(page(&state, &user, Some((email, password)), AddForm::fresh(), None).await?.into_response())
    }
    .await;
    or_again(made, |why| page(&state, &user, None, AddForm::fresh(), Some(why))).await
}

/// POST /users/{id}/remove: no more sign-in (password, sessions, API tokens); their tasks,
/// accounts and history stay.
pub async fn remove_sign_in(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Admin)?;
    let removed = remove_sign_in_for(&state, &user.0, id).await;
    after_form(removed, "/users", |why| page(&state, &user, None, AddForm::fresh(), Some(why))).await
}

/// Adds a person for `actor` (the web app and the API alike) with a new password: their id,
/// email and the password, which is shown this once.
pub(crate) async fn add_user_for(
    state: &AppState,
    actor: &str,
    email: &str,
    person: &Person<'_>,
) -> Result<(i64, String, String), WebError> {
    let email = Email::parse(email).map_err(|e| WebError::BadRequest(e.to_string()))?.as_str().to_string();
    let role = person.role()?;
    let new = NewUser {
        email: email.clone(),
        name: person.name()?.to_string(),
        role,
        manager_email: person.manager().map(String::from),
    };
    let password = generate();
    let hash = hash_password(&password).map_err(anyhow::Error::from)?;
    let id = state.store.add_user(&new, &hash).await.map_err(user_error)?;
    state.audit(Some(actor), "user.create", &email, role.as_str()).await?;
    Ok((id, email, password))
}

/// Changes a person's name, role and manager for `actor`, with an audit entry.
pub(crate) async fn change_user_for(
    state: &AppState,
    actor: &str,
    id: i64,
    person: &Person<'_>,
) -> Result<(), WebError> {
    let role = person.role()?;
    let email = state.store.change_user(id, person.name()?, role, person.manager()).await.map_err(user_error)?;
    let detail = format!("{}; manager {}", role.as_str(), person.manager().unwrap_or("none"));
    state.audit(Some(actor), "user.change", &email, &detail).await?;
    Ok(())
}

/// Gives the person `id` a new password for `actor` and ends their sessions: their email and
/// the password, shown this once.
pub(crate) async fn new_password_for(state: &AppState, actor: &str, id: i64) -> Result<(String, String), WebError> {
    let password = generate();
    let hash = hash_password(&password).map_err(anyhow::Error::from)?;
    let email = state.store.reset_password(id, &hash).await.map_err(user_error)?;
    state.audit(Some(actor), "user.password_reset", &email, "").await?;
    Ok((email, password))
}

/// Takes away the sign-in of the person `id` for `actor`, who cannot take their own.
pub(crate) async fn remove_sign_in_for(state: &AppState, actor: &SessionUser, id: i64) -> Result<(), WebError> {
    if id == actor.user_id {
        return Err(WebError::BadRequest("You cannot take away your own sign-in: another administrator can".into()));
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let email = state.store.remove_sign_in(id, now).await.map_err(user_error)?;
    state.audit(Some(&actor.email), "user.remove_sign_in", &email, "").await?;
    Ok(())
}
