//! Crash safety, on SQLite and on PostgreSQL: an import killed with SIGKILL half-way leaves
//! nothing of its file in the database, and the next import runs normally; a server killed
//! while answers pour in keeps every answer whose thank-you page was sent, exactly once; a
//! server killed while it sends invitations sends none twice and leaves none waiting.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use rapport_test_utils::smtp::{SmtpServer, decoded, header};
use rapport_test_utils::with_postgres;

mod support;

use support::{ok, rapport, serve};

/// 100 accounts and a contacts file big enough to take seconds to import.
fn files(dir: &Path) -> (String, String) {
    let mut accounts = String::from("account_id,name\n");
    for a in 0..100 {
        accounts.push_str(&format!("A{a},Account {a}\n"));
    }
    let mut contacts = String::from("contact_id,account_id,name,title,role,email\n");
    for c in 0..300_000 {
        contacts.push_str(&format!("C{c},A{},Person {c},Buyer,user,p{c}@example.com\n", c % 100));
    }
    let (a, c) = (dir.join("accounts.csv"), dir.join("contacts.csv"));
    std::fs::write(&a, accounts).unwrap();
    std::fs::write(&c, contacts).unwrap();
    (a.to_str().unwrap().to_string(), c.to_str().unwrap().to_string())
}

fn killed_import_stores_nothing(url: &str, dir: &Path) {
    let (accounts, contacts) = files(dir);
    ok(url, &["import", "accounts", &accounts]);
    let mut child = rapport(url)
        .args(["import", "contacts", &contacts])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Let it parse and write batches for a while, then kill it without warning.
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    let finished_early = child.try_wait().unwrap().is_some();
    assert!(!finished_early, "the import finished in {:?}: make the file bigger", started.elapsed());
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed");
    let exported = ok(url, &["export", "contacts", "-"]);
    assert_eq!(exported.lines().count(), 1, "only the header: nothing of the killed import is stored");
    // The database is whole and the same import now runs to the end.
    ok(url, &["import", "contacts", &contacts]);
    assert_eq!(ok(url, &["export", "contacts", "-"]).lines().count(), 300_001);
}

#[test]
fn an_import_killed_half_way_leaves_nothing_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crash.db").display());
    killed_import_stores_nothing(&url, dir.path());
}

#[test]
fn an_import_killed_half_way_leaves_nothing_on_postgres() {
    with_postgres("the import crash test", |url| {
        let dir = tempfile::tempdir().unwrap();
        killed_import_stores_nothing(url, dir.path());
    });
}

/// Answers posted by many clients at once into `rapport serve`, which is killed (SIGKILL)
/// mid-stream: every answer acknowledged with a thank-you page is stored exactly once, none
/// is stored twice, and the restarted server takes answers again.
fn killed_server_keeps_every_acknowledged_answer(url: &str, dir: &Path) {
    ok(url, &["demo", "--accounts", "30"]);
    ok(url, &["wave", "create", "CRASH", "--exclude-days", "0"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let links_file = dir.join("links.csv");
    ok(url, &["wave", "links", "CRASH", links_file.to_str().unwrap(), "--public-url", &base]);
    let links: Vec<String> = csv::Reader::from_path(&links_file)
        .unwrap()
        .records()
        .map(|r| r.unwrap().get(6).unwrap().to_string())
        .collect();
    let mut server = serve(url, port, &[]);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let acknowledged: Vec<String> = rt.block_on(async {
        let client = reqwest::Client::new();
        let mut tasks = Vec::new();
        for worker in 0..32 {
            let (client, links, sent) = (client.clone(), links.clone(), sent.clone());
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                for n in 0.. {
                    let link = &links[(worker * 7 + n) % links.len()];
                    let tag = format!("post-{worker}-{n}");
                    sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let res = client.post(link).form(&[("ltr", "7"), ("comment", tag.as_str())]).send().await;
                    let Ok(response) = res else { return acked };
                    let status = response.status();
                    let Ok(page) = response.text().await else { return acked };
                    // A link that posts faster than a person could is told to wait (429): that
                    // answer was not acknowledged, and is not expected in the database.
                    assert!(status == 200 || status == 429, "{link}: {status} {page}");
                    if status == 200 && (page.contains("Thank you") || page.contains("Vielen Dank")) {
                        acked.push(tag);
                    }
                }
                acked
            }));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        server.0.kill().unwrap();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let _ = server.0.wait();
    assert!(acknowledged.len() > 50, "only {} answers before the kill: give it longer", acknowledged.len());
    let exported = ok(url, &["export", "responses", "-"]);
    let mut reader = csv::Reader::from_reader(exported.as_bytes());
    let column = reader.headers().unwrap().iter().position(|h| h == "comment").unwrap();
    let mut stored: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for record in reader.records() {
        let record = record.unwrap();
        if let Some(tag) = record.get(column).filter(|c| c.starts_with("post-")) {
            *stored.entry(tag.to_string()).or_default() += 1;
        }
    }
    for tag in &acknowledged {
        assert_eq!(stored.get(tag), Some(&1), "{tag} got its thank-you page: it must be stored exactly once");
    }
    assert!(stored.values().all(|n| *n == 1), "no answer is stored twice");
    let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(stored.len() <= sent, "nothing stored that was not sent");
    println!("{} answers acknowledged before the kill, {} stored, {} sent", acknowledged.len(), stored.len(), sent);
    // The restarted server takes answers again.
    let mut server = serve(url, port, &[]);
    let res = rt.block_on(reqwest::Client::new().post(&links[0]).form(&[("ltr", "9")]).send()).unwrap();
    assert_eq!(res.status(), 200);
    server.0.kill().unwrap();
    let _ = server.0.wait();
}

#[test]
fn a_server_killed_while_answers_arrive_keeps_every_acknowledged_one_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("answers.db").display());
    killed_server_keeps_every_acknowledged_answer(&url, dir.path());
}

#[test]
fn a_server_killed_while_answers_arrive_keeps_every_acknowledged_one_on_postgres() {
    with_postgres("the answer crash test", |url| {
        let dir = tempfile::tempdir().unwrap();
        killed_server_keeps_every_acknowledged_answer(url, dir.path());
    });
}

/// The counts `rapport wave status NAME` prints, by label ("queued", "sent", "failed", ...).
fn wave_counts(url: &str, name: &str) -> std::collections::HashMap<String, u64> {
    let line = ok(url, &["wave", "status", name]);
    let words: Vec<&str> = line.lines().next().unwrap_or_default().split_whitespace().collect();
    words.windows(2).filter_map(|w| Some((w[0].to_string(), w[1].parse().ok()?))).collect()
}

/// Invitations sent by `rapport serve`, which is killed (SIGKILL) mid-run and started again:
/// at the end none is left waiting, none went out twice, every one marked sent arrived, and
/// only the one in flight at the kill can be marked failed (it may have gone out, so it is
/// not sent again unless asked).
fn killed_server_sends_each_invitation_at_most_once(url: &str) {
    let Some(smtp) = SmtpServer::start() else { return };
    let delivery = ["--smtp-url", &smtp.url(), "--send-rate", "25"].map(String::from);
    ok(url, &["demo", "--accounts", "30"]);
    ok(url, &["wave", "create", "KILL-SEND", "--exclude-days", "0"]);
    let send: Vec<&str> =
        ["wave", "send", "KILL-SEND", "--no-wait"].into_iter().chain(delivery.iter().map(String::as_str)).collect();
    let queued = ok(url, &send);
    let queued: u64 = queued.lines().find_map(|l| l.split(" invitations queued").next()?.trim().parse().ok()).unwrap();
    assert!(queued > 100, "{queued} invitations: too few to interrupt");

    let args: Vec<&str> = delivery.iter().map(String::as_str).chain(["--job-lease-secs", "2"]).collect();
    let port = support::free_port();
    let mut server = serve(url, port, &args);
    // Invitations carry an unsubscribe link; the server's notifications to owners do not.
    let invitations =
        || -> Vec<String> { smtp.messages().into_iter().filter(|m| header(m, "List-Unsubscribe").is_some()).collect() };
    let started = Instant::now();
    while invitations().len() < 40 {
        assert!(started.elapsed() < Duration::from_secs(60), "sending did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.0.kill().unwrap();
    let _ = server.0.wait();
    let at_kill = invitations().len();

    // The restarted server sends the rest and marks the one it finds abandoned as failed.
    let _server = serve(url, port, &args);
    let started = Instant::now();
    let counts = loop {
        let c = wave_counts(url, "KILL-SEND");
        if c["queued"] == 0 && c["sent"] + c["failed"] == queued {
            break c;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "not all sent: {c:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    std::thread::sleep(Duration::from_millis(500));
    let messages = invitations();
    let mut per_address: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for m in &messages {
        *per_address.entry(header(m, "To").unwrap_or_default().to_string()).or_default() += 1;
    }
    let link = format!("http://127.0.0.1:{port}/r/");
    assert!(decoded(&messages[0]).contains(&link), "links point where the server listens: {}", decoded(&messages[0]));
    let twice: Vec<_> = per_address.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent twice: {twice:?}");
    assert!(at_kill < messages.len(), "the server was killed mid-run ({at_kill} of {} sent)", messages.len());
    assert!(counts["failed"] <= 1, "only the message in flight can be left failed: {counts:?}");
    assert!(messages.len() as u64 >= counts["sent"], "every invitation marked sent arrived");
    assert!(messages.len() as u64 <= counts["sent"] + counts["failed"], "nothing arrived that was not sent");
    println!(
        "killed the server after {at_kill} of {queued} invitations: {} arrived, once each; {} marked failed",
        messages.len(),
        counts["failed"]
    );
}

#[test]
fn a_server_killed_while_sending_invitations_sends_none_twice_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    killed_server_sends_each_invitation_at_most_once(&format!("sqlite://{}", dir.path().join("send.db").display()));
}

#[test]
fn a_server_killed_while_sending_invitations_sends_none_twice_on_postgres() {
    with_postgres("the sending crash test", killed_server_sends_each_invitation_at_most_once);
}
