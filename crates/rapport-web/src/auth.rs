//! Signing in and out, the first administrator, and who is asking.
//!
//! A session is a random token in an HttpOnly, SameSite=Lax cookie (Secure with the `__Host-`
//! prefix unless served on loopback); the database keeps its hash, the user and the session's
//! CSRF token, which every form carries back. Forms shown before sign-in (sign-in, first-run
//! set-up) use a short-lived CSRF cookie of their own, compared with the form's copy.

use askama::Template;
use axum::extract::{Form, FromRef, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use rapport_core::user::Role;
use rapport_store::sessions::{NewSession, SessionUser};
use rapport_store::users::NewUser;
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use crate::error::WebError;
use crate::password::{decoy_hash, hash_password, verify_password};
use crate::state::AppState;
use crate::token::{hash_token, new_token, same_secret};

/// How long a session lasts after sign-in.
pub const SESSION_HOURS: i64 = 12;

const PRE_SESSION_COOKIE: &str = "rapport_form";

fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-rapport_session" } else { "rapport_session" }
}

fn cookie(name: &'static str, value: String, secure: bool, max_age: Duration) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .build()
}

/// The signed-in user of a request. Handlers take it as an argument; without a live session
/// the request goes to the sign-in page and comes back afterwards.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub SessionUser);

impl<S> FromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<CurrentUser, WebError> {
        let state = AppState::from_ref(state);
        let jar = CookieJar::from_headers(&parts.headers);
        let next = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        let Some(token) = jar.get(session_cookie_name(state.secure_cookies)) else {
            return Err(WebError::SignInRequired { next });
        };
        let now = OffsetDateTime::now_utc().unix_timestamp();
        match state.store.session_user(&hash_token(token.value()), now).await? {
            Some(user) => Ok(CurrentUser(user)),
            None => Err(WebError::SignInRequired { next }),
        }
    }
}

impl CurrentUser {
    /// Refuses a form that does not carry this session's CSRF token.
    pub fn check_csrf(&self, token: &str) -> Result<(), WebError> {
        if same_secret(token, &self.0.csrf_token) { Ok(()) } else { Err(WebError::Csrf) }
    }
}

/// Only local paths are followed after sign-in, so a crafted link cannot send a user who just
/// signed in to another site. Browsers drop tabs and line breaks from a URL and read `\\` as
/// `/`, so `/\t/evil.example` would become `//evil.example`: a path with any of them, or any
/// other control character or space, is not followed.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.chars().any(|c| c == '\\' || c.is_whitespace() || c.is_control()) =>
        {
            p.to_string()
        }
        _ => "/".to_string(),
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    csrf: String,
    email: String,
    name: String,
    error: Option<String>,
}

/// `?next=` of the sign-in page.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn pre_session_form(jar: CookieJar, secure: bool) -> (CookieJar, String) {
    let csrf = new_token();
    (jar.add(cookie(PRE_SESSION_COOKIE, csrf.clone(), secure, Duration::hours(1))), csrf)
}

fn check_pre_session(jar: &CookieJar, form_token: &str) -> Result<(), WebError> {
    match jar.get(PRE_SESSION_COOKIE) {
        Some(c) if same_secret(c.value(), form_token) => Ok(()),
        _ => Err(WebError::Csrf),
    }
}

/// GET /sign-in.
pub async fn sign_in_page(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    if state.store.users_with_password().await? == 0 {
        return Ok(Redirect::to("/setup").into_response());
    }
    let (jar, csrf) = pre_session_form(jar, state.secure_cookies);
    let page = SignInPage { csrf, next: local_path(q.next.as_deref()), email: String::new(), error: None };
    Ok((jar, Html(page.render().map_err(anyhow::Error::from)?)).into_response())
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

/// POST /sign-in.
pub async fn sign_in(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Result<Response, WebError> {
    check_pre_session(&jar, &form.csrf)?;
    if state.sign_in_limits.check_key(&form.email.trim().to_lowercase()).is_err() {
        tracing::warn!(email = form.email.trim(), "sign-in attempts throttled");
        state.audit(Some(form.email.trim()), "sign_in.throttled", "", "too many attempts").await?;
        return Err(WebError::TooManyRequests(
            "Too many sign-in attempts for this email. Wait a minute and try again, or ask an administrator to \
             reset your password."
                .into(),
        ));
    }
    let login = state.store.user_login(&form.email).await?;
    // Verify against a decoy when there is no such user, so timing does not tell who exists.
    let hash = login.as_ref().and_then(|l| l.password_hash.as_deref()).unwrap_or(decoy_hash());
    let valid = verify_password(&form.password, hash) && login.as_ref().is_some_and(|l| l.password_hash.is_some());
    let Some(login) = login.filter(|_| valid) else {
        tracing::info!(email = form.email.trim(), "sign-in refused");
        state.audit(Some(form.email.trim()), "sign_in.refused", "", "wrong email or password").await?;
        let (jar, csrf) = pre_session_form(jar, state.secure_cookies);
        let page = SignInPage {
            csrf,
            next: local_path(form.next.as_deref()),
            email: form.email,
            error: Some("That email and password do not match. Check both and try again.".into()),
        };
        let html = page.render().map_err(anyhow::Error::from)?;
        return Ok((axum::http::StatusCode::UNAUTHORIZED, jar, Html(html)).into_response());
    };
    let jar = start_session(&state, jar, login.id).await?;
    tracing::info!(user = login.id, "signed in");
    state.audit(Some(form.email.trim()), "sign_in", "", "").await?;
    Ok((jar, Redirect::to(&local_path(form.next.as_deref()))).into_response())
}

/// Opens a new session (a new token each time: signing in never reuses one).
async fn start_session(state: &AppState, jar: CookieJar, user_id: i64) -> Result<CookieJar, WebError> {
    let token = new_token();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let csrf = new_token();
    let token_hash = hash_token(&token);
    state
        .store
        .create_session(&NewSession {
            token_hash: &token_hash,
            user_id,
            csrf_token: &csrf,
            now,
            expires_at: now + SESSION_HOURS * 3600,
        })
        .await?;
    let name = session_cookie_name(state.secure_cookies);
    Ok(jar.remove(Cookie::build(PRE_SESSION_COOKIE).path("/")).add(cookie(
        name,
        token,
        state.secure_cookies,
        Duration::hours(SESSION_HOURS),
    )))
}

/// A form that only carries its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    /// The session's CSRF token.
    pub csrf: String,
}

/// POST /sign-out.
pub async fn sign_out(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    let name = session_cookie_name(state.secure_cookies);
    if let Some(token) = jar.get(name) {
        state.store.delete_session(&hash_token(token.value())).await?;
    }
    state.audit(Some(&user.0.email), "sign_out", "", "").await?;
    Ok((jar.remove(Cookie::build(name).path("/")), Redirect::to("/sign-in")).into_response())
}

/// GET /setup: the first administrator, while no one can sign in.
pub async fn setup_page(State(state): State<AppState>, jar: CookieJar) -> Result<Response, WebError> {
    if state.store.users_with_password().await? > 0 {
        return Ok(Redirect::to("/sign-in").into_response());
    }
    let (jar, csrf) = pre_session_form(jar, state.secure_cookies);
    let page = SetupPage { csrf, email: String::new(), name: String::new(), error: None };
    Ok((jar, Html(page.render().map_err(anyhow::Error::from)?)).into_response())
}

/// The first-run form.
#[derive(Debug, Deserialize)]
pub struct SetupForm {
    email: String,
    name: String,
    password: String,
    confirm: String,
    csrf: String,
}

/// POST /setup.
pub async fn setup(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<SetupForm>,
) -> Result<Response, WebError> {
    check_pre_session(&jar, &form.csrf)?;
    // Only while no one can sign in: afterwards administrators add users.
    if state.store.users_with_password().await? > 0 {
        return Err(WebError::Forbidden);
    }
    let problem = match rapport_core::contact::Email::parse(&form.email) {
        Err(e) => Some(e.to_string()),
        Ok(_) if form.name.trim().is_empty() => Some("Give your name: it is shown to your colleagues.".into()),
        Ok(_) if form.password != form.confirm => Some("The two passwords differ: type the same one twice.".into()),
        Ok(_) => None,
    };
    let hash = match problem {
        Some(p) => Err(p),
        None => hash_password(&form.password).map_err(|e| e.to_string()),
    };
    let hash = match hash {
        Ok(h) => h,
        Err(message) => {
            let (jar, csrf) = pre_session_form(jar, state.secure_cookies);
            let page = SetupPage { csrf, email: form.email, name: form.name, error: Some(message) };
            let html = page.render().map_err(anyhow::Error::from)?;
            return Ok((axum::http::StatusCode::BAD_REQUEST, jar, Html(html)).into_response());
        }
    };
    let email = form.email.trim().to_string();
    let user =
        NewUser { email: email.clone(), name: form.name.trim().to_string(), role: Role::Admin, manager_email: None };
    let id = state.store.upsert_user(&user).await?;
    state.store.set_password_hash(&email, &hash).await?;
    state.audit(Some(&email), "user.create_admin", &email, "first run").await?;
    let jar = start_session(&state, jar, id).await?;
    Ok((jar, Redirect::to("/")).into_response())
}

/// The page where signed-in users change their own password.
#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    layout: crate::pages::view::Layout,
    changed: bool,
    error: Option<String>,
}

/// `?changed` after a change.
#[derive(Debug, Deserialize)]
pub struct PasswordQuery {
    changed: Option<String>,
}

/// GET /password.
pub async fn password_page(user: CurrentUser, Query(q): Query<PasswordQuery>) -> Result<Html<String>, WebError> {
    let layout = crate::pages::view::Layout::new(&user, "Your password", "password");
    let page = PasswordPage { layout, changed: q.changed.is_some(), error: None };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

/// The form that changes one's own password.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// POST /password: checks the current password, sets the new one, signs out every other
/// session of the user and gives this browser a new one.
pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    let email = user.0.email.clone();
    let login = state.store.user_login(&email).await?;
    let current = login.as_ref().and_then(|l| l.password_hash.as_deref()).unwrap_or(decoy_hash());
    let problem = if !verify_password(&form.current, current) {
        // Guessing the current password here is guessing a sign-in: wrong guesses count
        // against the same limit.
        if state.sign_in_limits.check_key(&email.to_lowercase()).is_err() {
            return Err(WebError::TooManyRequests("Too many wrong passwords. Wait a minute and try again.".into()));
        }
        Some("That is not your current password: type it again.".to_string())
    } else if form.password != form.confirm {
        Some("The two new passwords differ: type the same one twice.".to_string())
    } else {
        None
    };
    let hash = match problem {
        Some(p) => Err(p),
        None => hash_password(&form.password).map_err(|e| format!("The new password was not set: {e}.")),
    };
    let hash = match hash {
        Ok(h) => h,
        Err(why) => {
            state.audit(Some(&email), "user.password_change_refused", &email, &why).await?;
            let layout = crate::pages::view::Layout::new(&user, "Your password", "password");
            let page = PasswordPage { layout, changed: false, error: Some(why) };
            let html = page.render().map_err(anyhow::Error::from)?;
            return Ok((axum::http::StatusCode::BAD_REQUEST, Html(html)).into_response());
        }
    };
    // The new password and the end of every session in one transaction.
    state.store.reset_password(user.0.user_id, &hash).await.map_err(crate::pages::users::user_error)?;
    state.audit(Some(&email), "user.password_change", &email, "").await?;
    let jar = start_session(&state, jar, user.0.user_id).await?;
    Ok((jar, Redirect::to("/password?changed")).into_response())
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_a_local_path_is_followed_after_sign_in() {
        for local in ["/", "/accounts/A1", "/reports/quadrants?vertical=Logistics%20%26%20Rail"] {
            assert_eq!(local_path(Some(local)), local);
        }
        for elsewhere in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/ /evil.example",
            "/a\\b",
            "evil.example",
            "",
        ] {
            assert_eq!(local_path(Some(elsewhere)), "/", "{elsewhere:?}");
        }
        assert_eq!(local_path(None), "/");
    }
}
