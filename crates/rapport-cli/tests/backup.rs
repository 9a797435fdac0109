//! `rapport backup` and `rapport restore`: a backup restores to exactly what was backed up.

use std::path::Path;
use std::process::Command;

fn rapport(db: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rapport"))
        .arg("--database-url")
        .arg(format!("sqlite://{}", db.display()))
        .args(args)
        .output()
        .expect("rapport runs")
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = rapport(db, args);
    assert!(out.status.success(), "rapport {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_restored_backup_holds_exactly_what_was_backed_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let backup = dir.path().join("monday.db");
    ok(&db, &["demo", "--accounts", "30"]);
    let before: Vec<String> =
        ["accounts", "contacts", "responses"].iter().map(|k| ok(&db, &["export", k, "-"])).collect();
    let quadrants = ok(&db, &["report", "quadrants", "--format", "csv"]);
    ok(&db, &["backup", backup.to_str().unwrap()]);
    // Changes after the backup...
    let extra = dir.path().join("extra.csv");
    std::fs::write(&extra, "account_id,name\nNEW-1,Added after the backup\n").unwrap();
    ok(&db, &["import", "accounts", extra.to_str().unwrap()]);
    assert!(ok(&db, &["export", "accounts", "-"]).contains("NEW-1"));
    // ...are gone once it is restored; everything else is as it was, analytics included.
    ok(&db, &["restore", backup.to_str().unwrap()]);
    let after: Vec<String> =
        ["accounts", "contacts", "responses"].iter().map(|k| ok(&db, &["export", k, "-"])).collect();
    assert_eq!(before, after);
    assert_eq!(ok(&db, &["report", "quadrants", "--format", "csv"]), quadrants);
    assert!(backup.exists(), "the backup itself is kept");
}

#[test]
fn a_backup_never_overwrites_and_a_restore_refuses_what_is_not_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    ok(&db, &["migrate"]);
    let existing = dir.path().join("existing.db");
    std::fs::write(&existing, "keep me").unwrap();
    let out = rapport(&db, &["backup", existing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    let out = rapport(&db, &["restore", existing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a Rapport backup")
            || String::from_utf8_lossy(&out.stderr).contains("cannot be opened")
    );
    let out = rapport(&db, &["restore", dir.path().join("missing.db").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no backup file"));
    // The live database is untouched by the refused restores.
    ok(&db, &["migrate"]);
}
