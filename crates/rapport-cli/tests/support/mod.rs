//! Running the `rapport` binary against a database URL, for the tests that drive it whole.

// Each test file uses the part it needs.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// A running `rapport serve`, killed (SIGKILL) when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `rapport serve --listen 127.0.0.1:PORT ARGS` on `url`, once it accepts connections.
pub fn serve(url: &str, port: u16, args: &[&str]) -> Server {
    let child = rapport(url)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "rapport serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}
