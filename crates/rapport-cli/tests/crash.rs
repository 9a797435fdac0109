//! Crash safety of imports: an import killed with SIGKILL half-way leaves nothing of its file
//! in the database, on SQLite and on PostgreSQL, and the next import runs normally.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rapport_test_utils::{TestDb, in_ci};

fn rapport(url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rapport"));
    c.args(["--database-url", url]);
    c
}

fn ok(url: &str, args: &[&str]) -> String {
    let out = rapport(url).args(args).output().expect("rapport runs");
    assert!(out.status.success(), "rapport {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

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
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let db = match rt.block_on(TestDb::postgres()) {
        Ok(db) => db,
        Err(why) if !in_ci() => {
            println!("PostgreSQL half skipped: {why}");
            return;
        }
        Err(why) => panic!("PostgreSQL is required when CI=true: {why}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let url = db.url().to_string();
    let result = std::panic::catch_unwind(|| killed_import_stores_nothing(&url, dir.path()));
    rt.block_on(db.drop_db());
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
