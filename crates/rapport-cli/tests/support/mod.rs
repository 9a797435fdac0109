//! Running the `rapport` binary against a database URL, for the tests that drive it whole.

use std::process::Command;

/// `rapport --database-url URL`, ready for its arguments.
pub fn rapport(url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rapport"));
    c.args(["--database-url", url]);
    c
}

/// Runs `rapport ARGS` and returns its output; fails the test with its stderr if it fails.
pub fn ok(url: &str, args: &[&str]) -> String {
    let out = rapport(url).args(args).output().expect("rapport runs");
    assert!(out.status.success(), "rapport {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}
