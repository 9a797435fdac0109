//! The audit log, for administrators: who signed in (or failed to), exported, shared, made
//! tokens or wrote in bulk, newest first.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use rapport_store::audit::AuditEvent;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::auth::CurrentUser;
use crate::authz::Need;
use crate::error::WebError;
use crate::pages::view::Layout;
use crate::state::AppState;

/// Lines per page.
const PAGE: i64 = 200;

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    events: Vec<AuditEvent>,
    older: Option<i64>,
}

impl AuditPage {
    fn when(at: &i64) -> String {
        OffsetDateTime::from_unix_timestamp(*at).map_or_else(
            |_| at.to_string(),
            |t| format!("{} {:02}:{:02}:{:02} UTC", t.date(), t.hour(), t.minute(), t.second()),
        )
    }
}

/// `?before=` an event id, for older pages.
#[derive(Debug, Deserialize)]
pub struct Before {
    before: Option<i64>,
}

/// GET /audit.
pub async fn audit(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<Before>,
) -> Result<Html<String>, WebError> {
    user.require(Need::Admin)?;
    let events = state.store.audit_log(PAGE, q.before).await?;
    let older = (events.len() as i64 == PAGE).then(|| events.last().map(|e| e.id)).flatten();
    let page = AuditPage { layout: Layout::new(&user, "Audit log", "audit"), events, older };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}
