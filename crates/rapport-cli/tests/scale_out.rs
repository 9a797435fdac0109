//! Scale-out: two `rapport serve` processes on one PostgreSQL database, as behind a load
//! balancer. A session made on one works on the other; answers posted to either are each
//! stored once; invitations queued through one are delivered once, whichever process's worker
//! takes them.

use std::collections::HashMap;
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use rapport_test_utils::smtp::{SmtpServer, header};
use rapport_test_utils::with_postgres;

mod support;

use support::{Server, free_port, ok, rapport, serve};

/// A server sending through `smtp`, and its address.
fn serve_here(url: &str, smtp: &str) -> (Server, String) {
    let port = free_port();
    (serve(url, port, &["--smtp-url", smtp, "--send-rate", "1000"]), format!("http://127.0.0.1:{port}"))
}

/// The value of `<input ... name="csrf" value="...">` in a page.
fn csrf(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a CSRF field") + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

#[test]
fn two_servers_on_one_postgres_share_sessions_answers_and_deliveries() {
    let Some(smtp) = SmtpServer::start() else { return };
    with_postgres("the scale-out test", |url| {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        scale_out(&rt, url, &smtp);
    });
}

fn scale_out(rt: &tokio::runtime::Runtime, url: &str, smtp: &SmtpServer) {
    ok(url, &["demo", "--accounts", "20"]);
    ok(url, &["wave", "create", "SCALE", "--exclude-days", "0"]);
    let mut add = rapport(url)
        .args(["user", "add", "ops@rapport.example", "--role", "admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"scale-out password 1\n").unwrap();
    assert!(add.wait().unwrap().success());
    let ((_a, a), (_b, b)) = (serve_here(url, &smtp.url()), serve_here(url, &smtp.url()));
    let links_file = tempfile::NamedTempFile::new().unwrap();
    ok(url, &["wave", "links", "SCALE", links_file.path().to_str().unwrap(), "--public-url", "http://x"]);
    let paths: Vec<String> = csv::Reader::from_path(links_file.path())
        .unwrap()
        .records()
        .map(|r| r.unwrap().get(6).unwrap().trim_start_matches("http://x").to_string())
        .collect();

    let answering = paths.len() / 2;

    rt.block_on(async {
        // A session made on A works on B.
        let browser =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let page = browser.get(format!("{a}/sign-in")).send().await.unwrap().text().await.unwrap();
        let res = browser
            .post(format!("{a}/sign-in"))
            .form(&[
                ("email", "ops@rapport.example"),
                ("password", "scale-out password 1"),
                ("csrf", &csrf(&page)),
                ("next", "/waves/SCALE"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "signed in on A");
        let res = browser.get(format!("{b}/waves/SCALE")).send().await.unwrap();
        assert_eq!(res.status(), 200, "the session made on A works on B");
        let wave_page = res.text().await.unwrap();

        // Answers from half the contacts, posted to both servers at once: each stored once.
        let client = reqwest::Client::new();
        let mut tasks = Vec::new();
        for (i, path) in paths.iter().enumerate().take(answering) {
            let base = if i % 2 == 0 { a.clone() } else { b.clone() };
            let (client, path) = (client.clone(), path.clone());
            tasks.push(tokio::spawn(async move {
                let tag = format!("scale-{i}");
                let res =
                    client.post(format!("{base}{path}")).form(&[("ltr", "8"), ("comment", tag.as_str())]).send().await;
                assert_eq!(res.unwrap().status(), 200);
                tag
            }));
        }
        let mut sent = Vec::new();
        for t in tasks {
            sent.push(t.await.unwrap());
        }

        // Invitations queued through B are delivered once, by whichever worker takes each, and
        // only to those who have not answered yet.
        let res =
            browser.post(format!("{b}/waves/SCALE/send")).form(&[("csrf", csrf(&wave_page))]).send().await.unwrap();
        assert_eq!(res.status(), 303);
        let links = std::fs::read_to_string(links_file.path()).unwrap();
        let email_rows: Vec<(usize, String)> = csv::Reader::from_reader(links.as_bytes())
            .records()
            .map(|r| r.unwrap())
            .enumerate()
            .filter(|(_, r)| &r[5] == "email")
            .map(|(i, r)| (i, r[2].to_lowercase()))
            .collect();
        let emails = email_rows.iter().filter(|(i, _)| *i >= answering).count();
        // Invitations carry an unsubscribe link; the servers also email alert notifications
        // to account owners, which are not counted here.
        let invitations =
            || smtp.messages().into_iter().filter(|m| header(m, "List-Unsubscribe").is_some()).collect::<Vec<_>>();
        let started = Instant::now();
        while invitations().len() < emails {
            assert!(started.elapsed() < Duration::from_secs(60), "{} of {emails} delivered", invitations().len());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Give a duplicate, if there were one, time to arrive.
        tokio::time::sleep(Duration::from_secs(6)).await;
        let mut per_address: HashMap<String, usize> = HashMap::new();
        for m in invitations() {
            *per_address.entry(header(&m, "X-RcptTo").unwrap_or_default().to_string()).or_default() += 1;
        }
        assert_eq!(per_address.len(), emails, "every email invitation delivered");
        for (i, address) in &email_rows {
            let invited = per_address.keys().any(|k| k.to_lowercase() == *address);
            assert_eq!(invited, *i >= answering, "{address}: invited unless they had answered already");
        }
        assert!(per_address.values().all(|n| *n == 1), "none twice: {per_address:?}");

        let exported = ok(url, &["export", "responses", "-"]);
        let mut reader = csv::Reader::from_reader(exported.as_bytes());
        let column = reader.headers().unwrap().iter().position(|h| h == "comment").unwrap();
        let mut stored: HashMap<String, usize> = HashMap::new();
        for r in reader.records() {
            let r = r.unwrap();
            if let Some(tag) = r.get(column).filter(|c| c.starts_with("scale-")) {
                *stored.entry(tag.to_string()).or_default() += 1;
            }
        }
        for tag in &sent {
            assert_eq!(stored.get(tag), Some(&1), "{tag} stored exactly once");
        }
        println!("two servers: {} answers and {emails} invitations, each once", sent.len());
    });
}
