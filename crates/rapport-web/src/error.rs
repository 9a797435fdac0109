//! What a request can fail with, and the page each failure shows.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use rapport_store::StoreError;

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// No live session: go sign in, then come back to `next`.
    #[error("sign in first")]
    SignInRequired {
        /// Where to return after signing in (a local path).
        next: String,
    },
    /// Signed in, but the role does not allow it.
    #[error("your role does not allow this")]
    Forbidden,
    /// Nothing there (or nothing this user may see: the two look the same, so ids cannot be
    /// probed).
    #[error("{0}")]
    NotFound(String),
    /// The request asked for something that cannot be: the message says what and how to fix it.
    #[error("{0}")]
    BadRequest(String),
    /// Someone else changed the thing since the user read it: the message says what to reload.
    #[error("{0}")]
    Conflict(String),
    /// A form without the token of the session that showed it.
    #[error("this form has expired or did not come from Rapport: reload the page and try again")]
    Csrf,
    /// Too many attempts in a short time; the message says when to try again.
    #[error("{0}")]
    TooManyRequests(String),
    /// Anything else; logged, and shown without details.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for WebError {
    fn from(err: StoreError) -> WebError {
        match err {
            StoreError::NotFound => WebError::NotFound("not found".into()),
            other => WebError::Internal(other.into()),
        }
    }
}

impl WebError {
    /// A report that could not be built: a user's mistake (an unknown wave, a wrong segment)
    /// unless the database failed underneath.
    pub fn from_report(err: anyhow::Error) -> WebError {
        if err.downcast_ref::<StoreError>().is_some() {
            WebError::Internal(err)
        } else {
            WebError::BadRequest(format!("{err:#}"))
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            WebError::SignInRequired { .. } => StatusCode::SEE_OTHER,
            WebError::Forbidden | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// What a form's POST answers: on to `next` when it was taken; when it was refused as bad
/// input, its page again (400) from `again`, given why, so that nothing typed is lost.
pub async fn after_form<T, Page>(
    outcome: Result<T, WebError>,
    next: &str,
    again: impl FnOnce(String) -> Page,
) -> Result<Response, WebError>
where
    Page: std::future::Future<Output = Result<Html<String>, WebError>>,
{
    or_again(outcome.map(|_| Redirect::to(next).into_response()), again).await
}

/// `answer` as it is, unless it is a refusal of bad input: then the form's page again (400)
/// from `again`, given why. For forms whose answer is a page of its own (a secret shown once).
pub async fn or_again<Page>(
    answer: Result<Response, WebError>,
    again: impl FnOnce(String) -> Page,
) -> Result<Response, WebError>
where
    Page: std::future::Future<Output = Result<Html<String>, WebError>>,
{
    match answer {
        Err(WebError::BadRequest(why)) => Ok((StatusCode::BAD_REQUEST, again(why).await?).into_response()),
        other => other,
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: &'static str,
    message: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (title, message) = match &self {
            WebError::SignInRequired { next } => {
                let target = format!("/sign-in?next={}", percent_encoding::utf8_percent_encode(next, crate::URL_SAFE));
                return Redirect::to(&target).into_response();
            }
            WebError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "request failed");
                (
                    "Something went wrong",
                    "Rapport could not finish this request. It has been logged; try again in a moment, and tell your \
                     administrator if it keeps happening."
                        .to_string(),
                )
            }
            WebError::Forbidden => {
                ("Not allowed", "Your role does not allow this. Ask an administrator if you need it.".into())
            }
            WebError::NotFound(what) => {
                ("Not found", format!("{what}. Check the address, or start again from the dashboard."))
            }
            WebError::BadRequest(why) => ("That did not work", why.clone()),
            WebError::Conflict(why) => ("Changed meanwhile", why.clone()),
            WebError::Csrf => ("Form expired", self.to_string()),
            WebError::TooManyRequests(why) => ("Slow down", why.clone()),
        };
        let page = ErrorPage { status: status.as_u16(), title, message };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, title).into_response(),
        }
    }
}
