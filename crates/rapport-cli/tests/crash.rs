//! Crash safety, on SQLite and on PostgreSQL: an import killed with SIGKILL half-way leaves
//! nothing of its file in the database, and the next import runs normally; a server killed
//! while answers pour in keeps every answer whose thank-you page was sent, exactly once.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

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
                    assert_eq!(status, 200, "{link}: {page}");
                    if page.contains("Thank you") || page.contains("Vielen Dank") {
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
