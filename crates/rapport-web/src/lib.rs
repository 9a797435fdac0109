//! Rapport's web app: sign-in and roles, the portfolio dashboard with the loyalty x revenue
//! bubble chart, account pages, every report as a page and as CSV or XLSX.
//!
//! Pages are server-rendered from compiled templates (askama, `templates/`); charts are SVG
//! laid out in [`chart`] and drawn by templates. There is no JavaScript build: one small
//! script of our own sorts tables.
//!
//! # Layout
//! - [`router`] wires every route; [`serve`] runs it until Ctrl-C or SIGTERM.
//! - [`auth`]: sessions, sign-in and sign-out, the first administrator; [`authz`]: who may see
//!   what, one check for every handler; [`password`] and [`token`]: the secrets.
//! - [`pages`]: the pages; [`error`]: what failures show.
//! - [`respond`]: the public response page respondents reach from their personal link;
//!   [`invite`]: the invitation email and text message that carry the link; [`delivery`]:
//!   the worker that sends them from the job queue; [`waves`]: starting a wave and handing
//!   out its links, as the CLI and the pages do it; [`qr`]: QR codes of open links.
//! - [`follow_up`]: the alert rules applied in the background, escalation of overdue tasks,
//!   and the outbox of notifications and webhook events.
//! - [`api`]: the JSON API under `/api/v1`, with its OpenAPI document.
//! - [`telemetry`]: `/metrics`, `/healthz`, `/readyz`.

pub mod api;
pub mod auth;
pub mod authz;
pub mod chart;
pub mod delivery;
pub mod error;
pub mod follow_up;
pub mod invite;
pub mod pages;
pub mod password;
pub mod plan;
pub mod qr;
pub mod respond;
pub mod state;
pub mod telemetry;
pub mod token;
pub mod waves;

use std::net::SocketAddr;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use state::AppState;

/// Characters escaped in a URL path segment or query value.
pub const URL_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Every route of the app.
pub fn router(state: AppState) -> Router {
    let secure = state.secure_cookies;
    let ceiling = state.bench_ceiling;
    let mut app = Router::new()
        .route("/", get(pages::dashboard::dashboard))
        .route("/charts/matrix.svg", get(pages::dashboard::matrix_svg))
        .route("/charts/trend.svg", get(pages::dashboard::trend_svg))
        .route("/accounts/{account_id}/chart.svg", get(pages::account::chart_svg))
        .route("/accounts/{account_id}", get(pages::account::account))
        .route("/accounts/{account_id}/respondents", get(pages::account::respondents_download))
        .route("/reports", get(pages::reports::index))
        .route("/reports/{name}", get(pages::reports::report))
        .route("/shares", get(pages::share::list).post(pages::share::create))
        .route("/shares/{id}/revoke", post(pages::share::revoke))
        .route("/s/{token}", get(pages::share::open))
        .route(
            "/r/{token}",
            get(respond::form)
                .post(respond::submit)
                .layer(axum::extract::DefaultBodyLimit::max(respond::MAX_FORM_BYTES)),
        )
        .route(
            "/o/{token}",
            get(respond::open_form)
                .post(respond::open_submit)
                .layer(axum::extract::DefaultBodyLimit::max(respond::MAX_FORM_BYTES)),
        )
        .route("/r/{token}/unsubscribe", get(respond::unsubscribe_page).post(respond::unsubscribe))
        .route("/waves", get(pages::waves::list).post(pages::waves::create))
        .route("/surveys", get(pages::surveys::list).post(pages::surveys::from_template))
        .route("/surveys/{name}", get(pages::surveys::show).post(pages::surveys::save))
        .route("/waves/{name}", get(pages::waves::show))
        .route("/waves/{name}/send", post(pages::waves::send))
        .route("/waves/{name}/open", post(pages::waves::open))
        .route("/waves/{name}/close", post(pages::waves::close))
        .route("/waves/{name}/unmatched/{id}/assign", post(pages::waves::assign))
        .route("/waves/{name}/links.csv", get(pages::waves::links))
        .route("/waves/{name}/qr.svg", get(pages::waves::qr_svg))
        .route("/waves/{name}/qr.png", get(pages::waves::qr_png))
        .route("/tasks", get(pages::tasks::list))
        .route("/sponsors", get(pages::sponsors::show).post(pages::sponsors::assign))
        .route("/ideal", get(pages::assessment::show).post(pages::assessment::change))
        .route("/settings", get(pages::settings::show))
        .route("/settings/alerts", post(pages::settings::save_rules))
        .route("/settings/cadence", post(pages::settings::save_cadence))
        .route("/settings/webhooks", post(pages::settings::add_webhook))
        .route("/settings/webhooks/{id}/remove", post(pages::settings::remove_webhook))
        .route("/tasks/{id}", get(pages::tasks::show).post(pages::tasks::update))
        .route("/accounts/{account_id}/tasks", post(pages::tasks::add))
        .route("/accounts/{account_id}/briefing", get(pages::briefing::show).post(pages::briefing::record))
        .route("/tokens", get(pages::tokens::list).post(pages::tokens::create))
        .route("/audit", get(pages::audit::audit))
        .route("/users", get(pages::users::list).post(pages::users::add))
        .route("/users/{id}", post(pages::users::change))
        .route("/users/{id}/password", post(pages::users::new_password))
        .route("/users/{id}/remove", post(pages::users::remove_sign_in))
        .route("/password", get(auth::password_page).post(auth::change_password))
        .route("/tokens/{id}/revoke", post(pages::tokens::revoke))
        .route("/sign-in", get(auth::sign_in_page).post(auth::sign_in))
        .route("/sign-out", post(auth::sign_out))
        .route("/setup", get(auth::setup_page).post(auth::setup))
        .route("/static/app.css", get(|| static_file("text/css; charset=utf-8", include_str!("../static/app.css"))))
        .route(
            "/static/table.js",
            get(|| static_file("text/javascript; charset=utf-8", include_str!("../static/table.js"))),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(telemetry::ready))
        .route("/metrics", get(telemetry::metrics_page))
        .nest("/api/v1", api::router());
    if ceiling {
        app = app.route("/bench/ceiling", post(respond::ceiling));
    }
    let mut app = app
        .fallback(|| async { error::WebError::NotFound("There is no such page".into()) })
        .layer(axum::middleware::from_fn(telemetry::record))
        .with_state(state);
    for (name, value) in security_headers(secure) {
        // A page with a policy of its own (the response pages) keeps it.
        app = app.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    // Pages are mostly repeated markup (table rows, chart elements): gzip makes them a
    // fifth of their size on the wire.
    app.layer(CompressionLayer::new())
}

async fn static_file(media: &'static str, body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, media), (header::CACHE_CONTROL, "public, max-age=3600")], body)
}

/// Headers on every response: no inline script or style may run, no other site may frame
/// Rapport, and addresses do not leak to other sites.
fn security_headers(tls: bool) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            ),
        ),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("same-origin")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ];
    if tls {
        headers.push((header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000")));
    }
    headers
}

/// Serves the app on `addr` until Ctrl-C or SIGTERM, finishing requests in flight, with the
/// delivery worker (when email is configured) running beside it and finishing its batch.
pub async fn serve(
    state: AppState,
    addr: SocketAddr,
    worker: Option<delivery::Worker>,
    follow_up: follow_up::FollowUp,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!("cannot listen on {addr}: {e} (is another server using it? pick another with --listen)")
    })?;
    tokio::spawn(warm(state.clone()));
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let mut stopped_too = stopped.clone();
    let worker = worker.map(|w| {
        tokio::spawn(w.run(async move {
            let _ = stopped.wait_for(|s| *s).await;
        }))
    });
    let follow_up = tokio::spawn(follow_up.run(async move {
        let _ = stopped_too.wait_for(|s| *s).await;
    }));
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    };
    let answers = state.answers.clone();
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await?;
    if let Some(writer) = answers.get() {
        writer.drain(std::time::Duration::from_secs(10)).await;
    }
    if let Some(w) = worker {
        let _ = w.await;
    }
    let _ = follow_up.await;
    Ok(())
}

/// Places every wave on the matrix in the background after start, so that the first person
/// to open the dashboard does not wait for it.
async fn warm(state: AppState) {
    let query = rapport_reports::ReportQuery::new(rapport_reports::ReportKind::Quadrants);
    let started = std::time::Instant::now();
    let result = async {
        let p = rapport_reports::Portfolio::load(&state.store, &state.cache, true, &Default::default()).await?;
        for wave in p.waves.iter() {
            p.placed(&state.store, &state.cache, wave.id, &query).await?;
        }
        anyhow::Ok(p.waves.len())
    }
    .await;
    match result {
        Ok(waves) => tracing::info!(waves, ms = started.elapsed().as_millis() as u64, "report caches warmed"),
        Err(e) => tracing::warn!(error = format!("{e:#}"), "warming the report caches failed"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
