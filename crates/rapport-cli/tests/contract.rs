//! Contract tests of the API: `rapport serve --demo` on a fresh database, then schemathesis
//! (PyPI) generates requests from the OpenAPI document for every endpoint, with an
//! administrator's token and with an account manager's, and checks every response: no server
//! error, every status and body as documented.
//!
//! Needs `schemathesis` on the PATH (`pip install schemathesis`; `.ci/run` installs it).
//! Without it the test says so and passes on a laptop; with `CI=true` it fails.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rapport(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rapport"));
    c.args(["--database-url", &format!("sqlite://{}", db.display())]);
    c
}

fn has_schemathesis() -> bool {
    Command::new("schemathesis").arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn every_endpoint_keeps_its_documented_contract_for_every_role() {
    if !has_schemathesis() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true needs schemathesis (pip install schemathesis)");
        println!("API contract test skipped: install schemathesis (pip install schemathesis) to run it");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = rapport(&db)
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("rapport starts");
    let mut manager = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(email) = line.trim().strip_prefix("account_manager") {
            manager = Some(email.trim().to_string());
        }
        if line.contains("is listening on") {
            break;
        }
    }
    let _server = Running(child);
    let manager = manager.expect("the demo lists an account manager");
    // The administrator's token may do everything (bulk rows, settings, waves, the definition
    // all get random bodies too); the account manager's may write within their accounts.
    for (email, scope) in [("admin@rapport.example", "admin"), (manager.as_str(), "write")] {
        let out =
            rapport(&db).args(["user", "token", email, "--name", "contract test", "--scope", scope]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let run = Command::new("schemathesis")
            .args(["run", &format!("http://127.0.0.1:{port}/api/v1/openapi.json")])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            // A wave or account that does not exist is a documented 400/404, not a failure.
            .args(["--checks", "all", "--exclude-checks", "positive_data_acceptance"])
            .args(["--max-examples", "25", "--seed", "7", "--no-color"])
            .output()
            .expect("schemathesis runs");
        let report = String::from_utf8_lossy(&run.stdout);
        assert!(run.status.success(), "schemathesis found problems as {email}:\n{report}");
    }
}
