//! API errors as RFC 9457 problem details (`application/problem+json`): a status, a title
//! and a detail that says what was wrong and what to do.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

use crate::error::WebError;

/// A problem detail (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What was wrong with this request, and how to fix it.
    pub detail: String,
}

/// The refusals every endpoint that needs a token documents (the OpenAPI document only: the
/// handlers answer with [`Problem`]).
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum Refused {
    /// No valid token
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The token's scope or its user's role does not allow it
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
}

impl Problem {
    /// A problem with a status and a detail.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into(),
        }
    }

    /// No valid token.
    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, detail)
    }
}

impl From<WebError> for Problem {
    fn from(err: WebError) -> Problem {
        match err {
            WebError::SignInRequired { .. } => Problem::unauthorized(
                "send a personal API token: `Authorization: Bearer TOKEN` (make one under API tokens)",
            ),
            WebError::Forbidden => {
                Problem::new(StatusCode::FORBIDDEN, "your role or this token's scope does not allow this")
            }
            WebError::NotFound(what) => Problem::new(StatusCode::NOT_FOUND, what),
            WebError::BadRequest(why) => Problem::new(StatusCode::BAD_REQUEST, why),
            WebError::Conflict(why) => Problem::new(StatusCode::CONFLICT, why),
            WebError::Csrf => Problem::new(StatusCode::FORBIDDEN, "forms need their CSRF token"),
            WebError::TooManyRequests(why) => Problem::new(StatusCode::TOO_MANY_REQUESTS, why),
            WebError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "API request failed");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Rapport could not finish this request; it has been logged",
                )
            }
        }
    }
}

impl From<rapport_store::StoreError> for Problem {
    fn from(err: rapport_store::StoreError) -> Problem {
        WebError::from(err).into()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, axum::Json(&self)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"rapport\""));
        }
        res
    }
}
