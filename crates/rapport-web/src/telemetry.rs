//! What operators watch: Prometheus metrics at `/metrics` (requests by route and status,
//! latencies, answers received), `/healthz` (the process serves) and `/readyz` (the database
//! answers too).

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock, PoisonError, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// Latency buckets, in seconds: pages answer in milliseconds; reports at scale take longer.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The process's metrics recorder, installed on first use (one per process, shared by every
/// server it runs).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
            .expect("valid latency buckets")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (an embedding program): keep ours local.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Counts and times every request, by its route pattern (never the raw path: ids would make
/// a series per account).
pub async fn record(req: Request, next: Next) -> Response {
    handle();
    let route = route_metrics(req.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str));
    let method = req.method().clone();
    let started = Instant::now();
    let res = next.run(req).await;
    route.requests(&method, res.status().as_u16()).increment(1);
    route.duration.record(started.elapsed().as_secs_f64());
    res
}

/// The request metrics of one route: its latency, and a count per method and status, each
/// registered with the recorder once. Building their labels and looking them up on every
/// request was about 2.5% of the server's time under the answer benchmark (BENCHMARKS.md, issue 4).
struct RouteMetrics {
    route: &'static str,
    duration: Histogram,
    requests: RwLock<Vec<(Method, u16, Counter)>>,
}

impl RouteMetrics {
    /// The count of this route's requests by `method` answered with `status`.
    fn requests(&self, method: &Method, status: u16) -> Counter {
        let find = |all: &[(Method, u16, Counter)]| {
            all.iter().find(|(m, s, _)| m == method && *s == status).map(|(.., c)| c.clone())
        };
        if let Some(counter) = find(&self.requests.read().unwrap_or_else(PoisonError::into_inner)) {
            return counter;
        }
        let mut all = self.requests.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(counter) = find(&all) {
            return counter;
        }
        let labels =
            [("method", method.to_string()), ("route", self.route.to_string()), ("status", status.to_string())];
        let counter = metrics::counter!("rapport_http_requests_total", &labels);
        all.push((method.clone(), status, counter.clone()));
        counter
    }
}

/// The metrics of `route`, a route pattern of the router (so there are only so many: each is
/// made once and kept for the life of the process).
fn route_metrics(route: &str) -> &'static RouteMetrics {
    static ROUTES: LazyLock<RwLock<HashMap<&'static str, &'static RouteMetrics>>> = LazyLock::new(Default::default);
    if let Some(metrics) = ROUTES.read().unwrap_or_else(PoisonError::into_inner).get(route) {
        return metrics;
    }
    let mut routes = ROUTES.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(metrics) = routes.get(route) {
        return metrics;
    }
    let route: &'static str = Box::leak(route.into());
    let metrics: &'static RouteMetrics = Box::leak(Box::new(RouteMetrics {
        route,
        duration: metrics::histogram!("rapport_http_request_duration_seconds", "route" => route),
        requests: RwLock::new(Vec::new()),
    }));
    routes.insert(route, metrics);
    metrics
}

/// Counts answers received (bulk uploads, the response pages and open links).
pub fn answers_received(n: u64) {
    handle();
    metrics::counter!("rapport_answers_received_total").increment(n);
}

/// GET /metrics: Prometheus text format, with the depth of both queues (invitations, and the
/// outbox of notifications and webhooks) read from the database as it is asked.
pub async fn metrics_page(State(state): State<AppState>) -> impl IntoResponse {
    for (queue, counts) in
        [("invitations", state.store.queue_counts(None).await), ("outbox", state.store.outbox_counts().await)]
    {
        match counts {
            Ok(c) => {
                for (status, n) in
                    [("queued", c.queued), ("running", c.running), ("done", c.done), ("failed", c.failed)]
                {
                    metrics::gauge!("rapport_queue_jobs", "queue" => queue, "status" => status).set(n as f64);
                }
            }
            Err(e) => tracing::warn!(error = format!("{e:#}"), queue, "reading the queue depth failed"),
        }
    }
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle().render())
}

/// GET /readyz: 200 once the database answers, 503 otherwise.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.data_version().await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "not ready: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "the database does not answer")
        }
    }
}
