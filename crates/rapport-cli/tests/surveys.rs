//! `rapport survey` and `rapport wave` from the command line: a wave created, previewed,
//! handed out as links, followed and closed, with clear refusals and an audit trail.

use std::path::Path;
use std::process::{Command, Output};

fn rapport(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rapport"))
        .arg("--database-url")
        .arg(format!("sqlite://{}", db.display()))
        .args(args)
        .env_remove("RAPPORT_SMTP_URL")
        .env_remove("RAPPORT_SMS_URL")
        .env_remove("RAPPORT_COMPANY")
        .env_remove("RAPPORT_SURVEY_EMAIL")
        .output()
        .expect("rapport runs")
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = rapport(db, args);
    assert!(out.status.success(), "rapport {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn refused(db: &Path, args: &[&str]) -> String {
    let out = rapport(db, args);
    assert!(!out.status.success(), "rapport {args:?} should have been refused");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn a_wave_is_created_previewed_handed_out_closed_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    ok(&db, &["demo", "--accounts", "5"]);
    assert!(ok(&db, &["survey", "list"]).contains("B2B relationship survey  version 1"));
    assert!(refused(&db, &["survey", "template"]).contains("give --company"));
    let saved = ok(&db, &["survey", "add", "--template", "--company", "Acme", "--email", "cx@acme.example"]);
    assert!(saved.contains("version 2"), "{saved}");
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"name\": \"x\",\n \"languages\": [\"en\"] oops}").unwrap();
    let err = refused(&db, &["survey", "add", broken.to_str().unwrap()]);
    assert!(err.contains("line 2, column") && err.contains("rapport survey template"), "{err}");

    let created = ok(&db, &["wave", "create", "2027-Q1", "--exclude-days", "0", "--role", "executive,manager"]);
    assert!(created.contains("version 2") && created.contains("for role executive/manager"), "{created}");
    assert!(refused(&db, &["wave", "create", "2027-Q1"]).contains("already exists"));
    assert!(
        refused(&db, &["wave", "create", "2027-Q2", "--opens", "2027-03-01", "--closes", "2027-02-01"])
            .contains("before")
    );
    let preview = ok(&db, &["wave", "preview", "2027-Q1", "--count", "1"]);
    assert!(
        preview.contains("Subject: Acme would like your view") || preview.contains("Subject: Acme bittet"),
        "{preview}"
    );
    assert!(preview.contains("http://127.0.0.1:8080/r/"), "{preview}");
    let send = refused(&db, &["wave", "send", "2027-Q1"]);
    assert!(send.contains("RAPPORT_SMTP_URL") && send.contains("wave links"), "{send}");

    let links = dir.path().join("links.csv");
    let out = ok(&db, &["wave", "links", "2027-Q1", links.to_str().unwrap(), "--public-url", "https://s.example/"]);
    assert!(out.contains("is open for answers"), "{out}");
    let csv = std::fs::read_to_string(&links).unwrap();
    assert!(csv.starts_with("account_name,contact_name,email,phone,language,channel,link\n"));
    assert!(csv.lines().skip(1).all(|l| l.contains(",https://s.example/r/")), "{csv}");
    assert!(ok(&db, &["wave", "status", "2027-Q1"]).contains("2027-Q1  open"));
    let bounces = dir.path().join("bounces.txt");
    std::fs::write(&bounces, "nobody@nowhere.example\n").unwrap();
    assert!(ok(&db, &["wave", "bounces", "2027-Q1", bounces.to_str().unwrap()]).contains("match no email invitation"));
    ok(&db, &["wave", "close", "2027-Q1"]);
    assert!(ok(&db, &["wave", "status", "2027-Q1"]).contains("2027-Q1  closed"));
    assert!(refused(&db, &["wave", "links", "2027-Q1", links.to_str().unwrap()]).contains("closed"));
    assert!(refused(&db, &["wave", "status", "2026-Q1"]).contains("imported answers"));
    assert!(refused(&db, &["wave", "status", "2099-Q1"]).contains("no wave named 2099-Q1"));

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let events = rt.block_on(async {
        let store = rapport_store::Store::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        store.audit_log(50, None).await.unwrap()
    });
    let actions: Vec<&str> = events.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["survey.save", "wave.create", "wave.links", "wave.bounces", "wave.closed"]);
    assert!(events.iter().all(|e| e.actor.as_deref() == Some("command line")));
}

#[test]
fn a_plan_item_from_the_command_line_is_checked_as_in_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    ok(&db, &["demo", "--accounts", "5"]);
    let add = |extra: &[&str]| {
        let mut args = vec!["tasks", "add", "ACC-000001", "Review delivery slots", "--function", "service"];
        args.extend_from_slice(extra);
        rapport(&db, &args)
    };
    let added = add(&["--due", "2099-01-15"]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(String::from_utf8_lossy(&added.stdout).contains("to the action plan of ACC-000001"));
    for (extra, says) in [
        (&["--due", "2025-01-15"][..], "the due date 2025-01-15 is past"),
        (&["--due", "2099-01-15", "--owner", "nobody@x.example"][..], "no user has the email 'nobody@x.example'"),
    ] {
        let out = add(extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{extra:?}: {err}");
    }
}
