//! A real SMTP server for tests: aiosmtpd (PyPI or Debian's python3-aiosmtpd) on a free
//! loopback port, storing every message it accepts in a Maildir the test reads.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running SMTP server; stopped when dropped.
pub struct SmtpServer {
    child: Child,
    dir: tempfile::TempDir,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
}

impl SmtpServer {
    /// Starts one, or None (with a line saying why) when aiosmtpd is not installed. With
    /// `CI=true` a missing aiosmtpd panics instead: CI never skips the mail tests.
    pub fn start() -> Option<SmtpServer> {
        let installed = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            assert!(!crate::in_ci(), "aiosmtpd is not installed (pip install aiosmtpd): the mail tests cannot run");
            eprintln!("aiosmtpd is not installed (pip install aiosmtpd): mail tests skipped");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let maildir = dir.path().join("mail");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "aiosmtpd did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(SmtpServer { child, dir, port })
    }

    /// The URL to send through.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, raw, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let new: PathBuf = self.dir.path().join("mail").join("new");
        let mut files: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(&new)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| {
                        let modified = e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
                        (modified, std::fs::read_to_string(e.path()).unwrap_or_default())
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort_by_key(|(t, _)| *t);
        files.into_iter().map(|(_, m)| m).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A header's value in a raw message (first occurrence, unfolded).
pub fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("{name}: ");
    message.lines().take_while(|l| !l.is_empty()).find_map(|l| l.strip_prefix(prefix.as_str()))
}

/// The message's text with its quoted-printable encoding undone (enough to find links and
/// words in any part).
pub fn decoded(message: &str) -> String {
    let bytes = quoted_printable::decode(message.replace("\r\n", "\n"), quoted_printable::ParseMode::Robust)
        .unwrap_or_else(|_| message.as_bytes().to_vec());
    String::from_utf8_lossy(&bytes).into_owned()
}
