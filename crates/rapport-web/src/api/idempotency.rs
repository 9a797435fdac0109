//! `Idempotency-Key` on POST: a client that retries a call with the same key gets the first
//! call's response (marked `Idempotent-Replayed: true`) instead of running it again; the same
//! key with a different request is refused, and a retry that arrives while the first call
//! still runs is answered 409 with `Retry-After` rather than run twice. Keys are remembered
//! per user for a day.

use std::future::Future;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use rapport_store::Store;
use rapport_store::idempotency::KeyState;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::auth::ApiUser;
use super::problem::Problem;
use crate::state::AppState;

/// The header.
pub const HEADER: &str = "idempotency-key";

/// Runs `call` once per key: replays the remembered response of an earlier call with the same
/// key and request; without the header, just runs it. Server errors are not remembered, so a
/// retry after one runs again.
/// The request is its URI (path and query) and its body.
pub async fn once(
    state: &AppState,
    caller: &ApiUser,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
    call: impl Future<Output = Result<Response, Problem>>,
) -> Result<Response, Problem> {
    let Some(key) = headers.get(HEADER) else { return call.await };
    let key = key.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= 255).ok_or_else(|| {
        Problem::new(StatusCode::BAD_REQUEST, "an Idempotency-Key is 1 to 255 visible ASCII characters")
    })?;
    let mut hash = Sha256::new();
    for part in [uri.to_string().as_bytes(), body] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    let request_hash: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let user = caller.user.0.user_id;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let different = || {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "this Idempotency-Key was sent before with a different request: use a new key for a new request",
        )
    };
    match state.store.reserve_idempotency_key(user, key, &request_hash, now).await? {
        KeyState::Reserved => {}
        KeyState::InProgress { request_hash: held } if held != request_hash => return Err(different()),
        KeyState::InProgress { .. } => {
            let mut res = axum::response::IntoResponse::into_response(Problem::new(
                StatusCode::CONFLICT,
                "a call with this Idempotency-Key is still running: send it again in a moment to get its response",
            ));
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return Ok(res);
        }
        KeyState::Done(r) if r.request_hash != request_hash => return Err(different()),
        KeyState::Done(r) => {
            let mut res = Response::new(Body::from(r.body));
            *res.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
            let media = if res.status().is_success() { "application/json" } else { "application/problem+json" };
            res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
            res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            return Ok(res);
        }
    }
    let mut reservation = Reservation { store: state.store.clone(), user, key: key.to_string(), settled: false };
    let res = match call.await {
        Ok(res) => res,
        Err(problem) => axum::response::IntoResponse::into_response(problem),
    };
    if res.status().is_server_error() {
        reservation.settled = true;
        state.store.release_idempotency_key(user, key).await?;
        return Ok(res);
    }
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.map_err(|e| crate::error::WebError::Internal(e.into()))?;
    state.store.complete_idempotency_key(user, key, parts.status.as_u16(), &String::from_utf8_lossy(&bytes)).await?;
    reservation.settled = true;
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

/// A key reserved for a call that is running. If the call ends without settling it (the
/// client went away and the request was dropped, or storing the response failed), the key is
/// freed, so that a retry runs the call rather than waiting for the reservation to lapse.
struct Reservation {
    store: Store,
    user: i64,
    key: String,
    settled: bool,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let (store, user, key) = (self.store.clone(), self.user, std::mem::take(&mut self.key));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = store.release_idempotency_key(user, &key).await {
                    tracing::warn!(error = %e, "an unfinished call's Idempotency-Key could not be freed; it lapses by itself");
                }
            });
        }
    }
}
