//! Background work survives a killed process: two `rapport serve` processes on one
//! PostgreSQL post webhook events (each answer, each alert) to a receiver started here; one is
//! killed (SIGKILL) mid-run. Every event still arrives, and none twice except the one the
//! killed process may have had in flight, which carries the same delivery id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rapport_test_utils::with_postgres;

mod support;

use support::{Server, free_port, ok, serve};

fn serve_here(url: &str) -> Server {
    serve(url, free_port(), &["--job-lease-secs", "3", "--retry-base-secs", "1"])
}

/// Delivery ids as they arrive.
type Received = Arc<Mutex<Vec<String>>>;

/// A webhook receiver that takes 20 ms per event, so that the run lasts long enough to be
/// interrupted.
async fn receiver() -> (u16, Received) {
    let got: Received = Default::default();
    let kept = got.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let kept = kept.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let id = headers.get("x-rapport-delivery").and_then(|v| v.to_str().ok()).unwrap_or_default();
                kept.lock().unwrap().push(id.to_string());
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, got)
}

/// Webhook deliveries by status, from `rapport webhook log`.
fn log_statuses(url: &str) -> HashMap<String, usize> {
    let mut by = HashMap::new();
    for line in ok(url, &["webhook", "log", "--limit", "100000"]).lines() {
        if let Some(status) = line.split_whitespace().nth(2) {
            *by.entry(status.to_string()).or_default() += 1;
        }
    }
    by
}

#[test]
fn webhook_events_survive_a_killed_server_and_arrive_once_each() {
    with_postgres("the follow-up kill test", |url| {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (port, got) = rt.block_on(receiver());
        ok(url, &["demo", "--accounts", "20"]);
        ok(
            url,
            &[
                "webhook",
                "add",
                &format!("http://127.0.0.1:{port}/hooks"),
                "--events",
                "response.submitted,alert.raised",
            ],
        );
        let (mut a, _b) = (serve_here(url), serve_here(url));

        // Two answers from every contact, an hour ago: one event each, and an alert (another
        // event) for each contact who was a detractor in either (one follow-up per contact and
        // wave).
        let contacts = ok(url, &["export", "contacts", "-"]);
        let mut reader = csv::Reader::from_reader(contacts.as_bytes());
        let column = reader.headers().unwrap().iter().position(|h| h == "contact_id").unwrap();
        let ids: Vec<String> = reader.records().map(|r| r.unwrap().get(column).unwrap().to_string()).collect();
        let now = time::OffsetDateTime::now_utc();
        let mut csv = String::from("contact_id,wave,submitted_at,ltr\n");
        let mut detractors = 0;
        for (i, id) in ids.iter().enumerate() {
            let mut detractor = false;
            for minutes in [60, 61] {
                let at =
                    (now - time::Duration::minutes(minutes)).format(&time::format_description::well_known::Rfc3339);
                let ltr = (i + minutes as usize) % 11;
                detractor |= ltr <= 6;
                csv.push_str(&format!("{id},KILL-TEST,{},{ltr}\n", at.unwrap()));
            }
            detractors += usize::from(detractor);
        }
        // At least: an event per answer and an alert per detractor (account alerts may add more).
        let at_least = 2 * ids.len() + detractors;
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), csv).unwrap();
        ok(url, &["import", "responses", file.path().to_str().unwrap()]);

        // Kill A once deliveries are under way.
        let started = Instant::now();
        while got.lock().unwrap().len() < 40 {
            assert!(started.elapsed() < Duration::from_secs(60), "deliveries did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        a.0.kill().unwrap();
        a.0.wait().unwrap();
        let at_kill = got.lock().unwrap().len();

        // B finishes, taking over what A held once its lease runs out; then nothing more comes.
        let started = Instant::now();
        let settled = || {
            let s = log_statuses(url);
            let pending = s.get("queued").copied().unwrap_or(0) + s.get("running").copied().unwrap_or(0);
            (pending == 0 && s.get("done").copied().unwrap_or(0) >= at_least).then_some(s)
        };
        let statuses = loop {
            if let Some(s) = settled() {
                std::thread::sleep(Duration::from_secs(5));
                match settled() {
                    Some(again) if again == s => break s,
                    _ => continue,
                }
            }
            assert!(started.elapsed() < Duration::from_secs(120), "not all delivered: {:?}", log_statuses(url));
            std::thread::sleep(Duration::from_millis(500));
        };
        let events = statuses["done"];
        assert_eq!(statuses.get("failed"), None, "{statuses:?}");
        assert!(at_kill < events, "A was killed mid-run ({at_kill} of {events} delivered)");
        let got = got.lock().unwrap().clone();
        let mut per_id: HashMap<&str, usize> = HashMap::new();
        for id in &got {
            *per_id.entry(id.as_str()).or_default() += 1;
        }
        assert_eq!(per_id.len(), events, "every event arrived");
        let repeats: usize = per_id.values().map(|n| n - 1).sum();
        assert!(repeats <= 1, "only the delivery in flight at the kill may repeat; {repeats} did");
        println!(
            "killed one of two servers after {at_kill} of {events} webhook deliveries: all {events} arrived, {repeats} repeated (same delivery id)"
        );
    });
}
