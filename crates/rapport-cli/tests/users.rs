//! `rapport user add|list` from the command line.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn rapport(db: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .arg("--database-url")
        .arg(format!("sqlite://{}", db.display()))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rapport runs");
    // A command that fails on its arguments never reads its input.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

#[test]
fn a_user_added_with_a_password_from_standard_input_is_listed_with_their_role() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    let out = rapport(
        &db,
        &["user", "add", "Ada@Example.com", "--role", "account-manager", "--name", "Ada"],
        "a long enough secret\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Ada@Example.com can now sign in as account_manager.\n");
    let list = rapport(&db, &["user", "list"], "");
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.contains("Ada@Example.com") && list.contains("account_manager") && list.contains("Ada"), "{list}");
}

#[test]
fn adding_an_email_again_in_another_case_changes_that_user() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    let add = |email: &str, role: &str, extra: &[&str]| {
        let mut args = vec!["user", "add", email, "--role", role];
        args.extend_from_slice(extra);
        rapport(&db, &args, "a long enough secret\n")
    };
    assert!(add("Ada@Example.com", "analyst", &[]).status.success());
    assert!(add("ada@example.com", "admin", &["--name", "Ada L."]).status.success());
    let list = String::from_utf8_lossy(&rapport(&db, &["user", "list"], "").stdout).to_string();
    assert_eq!(list.lines().count(), 1, "one person: {list}");
    assert!(list.contains("Ada@Example.com") && list.contains("admin") && list.contains("Ada L."), "{list}");
    let out = add("bob@example.com", "analyst", &["--manager", "nobody@example.com"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("there is no user nobody@example.com to be the manager"), "{err}");
    assert!(add("bob@example.com", "analyst", &["--manager", "ADA@example.com"]).status.success());
}

#[test]
fn a_short_password_or_unknown_role_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    let out = rapport(&db, &["user", "add", "ada@example.com", "--role", "admin"], "short\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));
    let out = rapport(&db, &["user", "add", "ada@example.com", "--role", "boss"], "a long enough secret\n");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'boss' is not a role: use admin, analyst, account_manager or executive"), "{err}");
    let out = rapport(&db, &["user", "add", "not-an-email", "--role", "admin"], "a long enough secret\n");
    assert!(!out.status.success());
    let list = rapport(&db, &["user", "list"], "");
    assert!(list.stdout.is_empty(), "nothing was stored");
}

#[test]
fn a_token_is_printed_once_for_an_existing_user() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    assert!(
        rapport(&db, &["user", "add", "ada@example.com", "--role", "analyst"], "a long enough secret\n")
            .status
            .success()
    );
    let out = rapport(&db, &["user", "token", "ada@example.com", "--name", "CRM sync"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(token.len(), 64, "{token}");
    let out = rapport(&db, &["user", "token", "ada@example.com", "--name", "x", "--scope", "admin"], "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("only administrators' tokens can have the admin scope"));
    let out = rapport(&db, &["user", "token", "bob@example.com", "--name", "x"], "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no user bob@example.com"));
}
