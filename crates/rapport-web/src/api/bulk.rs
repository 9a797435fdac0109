//! Bulk upserts for CRM sync: thousands of rows of one kind per call, as a JSON array of
//! objects with the import's column names. A call is one transaction, validated exactly as
//! `rapport import` validates a CSV file (the rows go through the same parser and writer):
//! one bad row and nothing is stored, and every problem comes back with the row's index.
//! Upserts by id are idempotent: sending the same rows again changes nothing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rapport_core::user::Role;
use rapport_store::Kind;
use rapport_store::api_tokens::TokenScope;
use rapport_store::formula::guard;
use rapport_store::import::{ImportError, ImportOptions, import_reader};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiUser;
use super::idempotency::once;
use super::problem::{Problem, Refused};
use crate::state::AppState;

/// The most rows one call may carry.
pub const MAX_ROWS: usize = 50_000;
/// The largest body a bulk call may send.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// `?dry_run=true` validates everything and stores nothing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BulkParams {
    /// Validate every row (references included) but store nothing.
    pub dry_run: Option<bool>,
}

/// What a bulk call did.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    /// The kind written.
    pub kind: String,
    /// Rows received.
    pub rows: u64,
    /// Rows that did not exist before.
    pub inserted: u64,
    /// Existing rows whose values changed.
    pub updated: u64,
    /// Existing rows left as they were.
    pub unchanged: u64,
    /// True when nothing was stored on purpose.
    pub dry_run: bool,
}

/// One bad row.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowProblem {
    /// Its index in the array (0 is the first row).
    pub row: usize,
    /// The field, when the problem is in one.
    pub field: Option<String>,
    /// The offending value.
    pub value: Option<String>,
    /// What is wrong, and what to do.
    pub message: String,
}

/// The rows were refused: a problem detail listing every bad row.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkProblem {
    /// `about:blank`.
    #[serde(rename = "type")]
    pub kind: String,
    /// "Unprocessable Entity".
    pub title: String,
    /// 422.
    pub status: u16,
    /// A summary: how many rows are bad; nothing was stored.
    pub detail: String,
    /// The bad rows (up to 100); absent when the call itself was refused (an Idempotency-Key
    /// reused for another request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<RowProblem>>,
    /// How many problems there were in all; absent with `errors`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

impl IntoResponse for BulkProblem {
    fn into_response(self) -> Response {
        let mut res = (StatusCode::UNPROCESSABLE_ENTITY, Json(&self)).into_response();
        res.headers_mut()
            .insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/problem+json"));
        res
    }
}

/// The rows as CSV for the import parser, and the line each row starts on (a value with a
/// line break takes more than one).
fn to_csv(kind: Kind, rows: &[serde_json::Map<String, Value>]) -> Result<(Vec<u8>, Vec<u64>), Problem> {
    let mut columns: Vec<&str> = Vec::new();
    for row in rows {
        for key in row.keys() {
            if !columns.contains(&key.as_str()) {
                columns.push(key);
            }
        }
    }
    let bad = |detail: String| Problem::new(StatusCode::BAD_REQUEST, detail);
    // A column a row leaves out would be written empty, clearing what is stored: every row
    // that may update a record must name the same fields (null clears a value on purpose).
    // Answers are new rows, whose optional fields (a comment) may simply be absent.
    for (i, row) in rows.iter().enumerate().filter(|_| kind != Kind::Responses) {
        let missing: Vec<String> =
            columns.iter().filter(|c| !row.contains_key(**c)).map(|c| format!("'{c}'")).collect();
        if !missing.is_empty() {
            return Err(bad(format!(
                "row {i} has no {} that other rows have: send every row with the same fields \
                 (null clears a value), or send rows with different fields in separate calls",
                missing.join(", ")
            )));
        }
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(&columns).map_err(|e| bad(e.to_string()))?;
    let mut starts = Vec::with_capacity(rows.len());
    let mut line = 2;
    for (i, row) in rows.iter().enumerate() {
        let mut cells = Vec::with_capacity(columns.len());
        for c in &columns {
            cells.push(match row.get(*c) {
                None | Some(Value::Null) => String::new(),
                // Guarded as an export guards it, so that the import's unguarding gives back
                // exactly the text sent ("'=x" stays "'=x").
                Some(Value::String(s)) => guard(s).into_owned(),
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(_) => {
                    return Err(bad(format!(
                        "row {i}, field '{c}': send text, a number, true/false or null, not a list or object"
                    )));
                }
            });
        }
        starts.push(line);
        line += 1 + cells.iter().map(|c| c.matches('\n').count() as u64).sum::<u64>();
        out.write_record(&cells).map_err(|e| bad(e.to_string()))?;
    }
    let bytes = out.into_inner().map_err(|e| bad(e.to_string()))?;
    Ok((bytes, starts))
}

/// Upsert rows of one kind.
#[utoipa::path(
    post,
    path = "/api/v1/bulk/{kind}",
    params(
        ("kind" = String, Path, description = "accounts, contacts, revenue, opportunities, service-cases or responses"),
        ("Idempotency-Key" = Option<String>, Header, description = "Send the same key when retrying a call: the first call's response is replayed"),
        BulkParams
    ),
    request_body(content = Vec<Object>, description = "One object per row, keyed by the import's column names (README, Importing). A field left out is kept as stored, null clears it: every row names the same fields (answers excepted)"),
    responses(
        Refused,
        (status = 200, description = "Stored (or validated, with dry_run)", body = BulkResult),
        (status = 400, description = "The body is not an array of flat objects", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such kind", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Some rows are bad; nothing was stored", body = BulkProblem, content_type = "application/problem+json")
    )
)]
pub async fn bulk(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(kind): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    params: Result<Query<BulkParams>, QueryRejection>,
    body: Bytes,
) -> Result<Response, Problem> {
    once(&state, &caller, &headers, &uri, &body.clone(), write(&state, &caller, kind, params, body)).await
}

async fn write(
    state: &AppState,
    caller: &ApiUser,
    kind: String,
    params: Result<Query<BulkParams>, QueryRejection>,
    body: Bytes,
) -> Result<Response, Problem> {
    caller.require_scope(TokenScope::Write)?;
    if caller.user.0.role != Role::Admin {
        return Err(Problem::new(StatusCode::FORBIDDEN, "bulk writes need an administrator's token"));
    }
    let Query(params) = params.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let kind = Kind::parse(&kind).ok_or_else(|| {
        let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        Problem::new(StatusCode::NOT_FOUND, format!("there is no kind '{kind}'; the kinds are {}", kinds.join(", ")))
    })?;
    let rows: Vec<serde_json::Map<String, Value>> = serde_json::from_slice(&body).map_err(|e| {
        Problem::new(StatusCode::BAD_REQUEST, format!("the body must be a JSON array of objects, one per row: {e}"))
    })?;
    if rows.is_empty() || rows.len() > MAX_ROWS {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            format!("send 1 to {MAX_ROWS} rows per call, not {}", rows.len()),
        ));
    }
    let (csv, starts) = to_csv(kind, &rows)?;
    // The CSV is this call's own, written with commas: nothing to detect.
    let options =
        ImportOptions { dry_run: params.dry_run.unwrap_or(false), delimiter: Some(b','), ..ImportOptions::default() };
    match import_reader(&state.store, kind, csv.as_slice(), options, &mut |_| {}).await {
        Ok(summary) => {
            let c = &summary.counts;
            let detail = format!(
                "{} rows: {} new, {} updated, {} unchanged{}",
                c.rows,
                c.inserted,
                c.updated,
                c.unchanged,
                if summary.dry_run { " (dry run)" } else { "" }
            );
            state.audit(Some(&caller.user.0.email), "bulk_upsert", kind.as_str(), &detail).await?;
            if kind == Kind::Responses && !summary.dry_run {
                crate::telemetry::answers_received(c.inserted + c.updated);
            }
            Ok(Json(BulkResult {
                kind: kind.as_str().to_string(),
                rows: summary.counts.rows,
                inserted: summary.counts.inserted,
                updated: summary.counts.updated,
                unchanged: summary.counts.unchanged,
                dry_run: summary.dry_run,
            })
            .into_response())
        }
        Err(ImportError::Rows { errors, total }) => {
            let mut errors: Vec<RowProblem> = errors
                .into_iter()
                .map(|e| RowProblem {
                    row: starts.partition_point(|&s| s <= e.line).saturating_sub(1),
                    field: e.column,
                    value: e.value,
                    message: e.message,
                })
                .collect();
            // In row order, whichever check found them.
            errors.sort_by_key(|e| e.row);
            Ok(BulkProblem {
                kind: "about:blank".into(),
                title: StatusCode::UNPROCESSABLE_ENTITY.canonical_reason().unwrap_or_default().into(),
                status: 422,
                detail: format!("{total} problem(s) in the rows; nothing was stored"),
                errors: Some(errors),
                total: Some(total),
            }
            .into_response())
        }
        Err(ImportError::Header { problems }) => Err(Problem::new(StatusCode::BAD_REQUEST, problems.join("; "))),
        Err(ImportError::Store(e)) => Err(e.into()),
        Err(e @ ImportError::Open { .. }) => Err(crate::error::WebError::Internal(e.into()).into()),
    }
}
