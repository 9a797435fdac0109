//! Test support: every store case runs against a fresh SQLite file and a fresh PostgreSQL
//! database, through one harness.
//!
//! # Layout
//! - [`TestDb`]: a throwaway database on either backend, dropped afterwards.
//! - [`run_on_both`]: a `harness = false` test main (libtest-mimic) that turns a list of
//!   `async fn(Store)` cases into `case::sqlite` and `case::postgres` tests. When no
//!   PostgreSQL server answers, the PostgreSQL tests are reported as ignored and a line says
//!   so; with `CI=true` they fail instead, so CI can never skip them silently.
//! - [`smtp`]: a real SMTP server (aiosmtpd) that keeps what it receives.

pub mod smtp;

use std::future::Future;
use std::pin::Pin;

use libtest_mimic::{Arguments, Failed, Trial};
use rapport_store::Store;

/// The server the PostgreSQL half uses: `RAPPORT_TEST_POSTGRES_URL`, or the local server
/// with trust auth.
pub fn postgres_admin_url() -> String {
    std::env::var("RAPPORT_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// True when CI runs the tests (`CI=true`): then nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A database made for one test.
pub enum TestDb {
    /// A SQLite file in a temporary folder.
    Sqlite {
        /// Removed when dropped.
        dir: tempfile::TempDir,
        /// `sqlite://...`.
        url: String,
    },
    /// A database created on the server, dropped when the test ends.
    Postgres {
        /// The maintenance URL (to drop the database).
        admin_url: String,
        /// The database's name.
        name: String,
        /// `postgres://.../name`.
        url: String,
    },
}

impl TestDb {
    /// A fresh SQLite database.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("rapport.db").display());
        TestDb::Sqlite { dir, url }
    }

    /// A fresh PostgreSQL database on the test server.
    pub async fn postgres() -> Result<TestDb, String> {
        use sqlx::Connection;
        let admin_url = postgres_admin_url();
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .map_err(|e| format!("no PostgreSQL server at {admin_url}: {e}"))?;
        let name = format!("rapport_test_{}_{}", std::process::id(), unique_suffix());
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.map_err(|e| e.to_string())?;
        let _ = conn.close().await;
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        Ok(TestDb::Postgres { admin_url, name, url })
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }

    /// Opens it as a migrated [`Store`].
    pub async fn store(&self) -> Store {
        Store::connect(self.url()).await.expect("the test database opens and migrates")
    }

    /// Drops the database (PostgreSQL) or its folder (SQLite).
    pub async fn drop_db(self) {
        use sqlx::Connection;
        if let TestDb::Postgres { admin_url, name, .. } = self
            && let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
            let _ = conn.close().await;
        }
    }
}

/// Runs `test` with the URL of a fresh PostgreSQL database, dropped afterwards even when the
/// test panics. Without a server it prints that it skipped `what` and returns; with
/// `CI=true` it fails instead. For tests that drive the `rapport` binary rather than a Store.
pub fn with_postgres(what: &str, test: impl FnOnce(&str) + std::panic::UnwindSafe) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let db = match rt.block_on(TestDb::postgres()) {
        Ok(db) => db,
        Err(why) if !in_ci() => {
            println!("PostgreSQL half of {what} skipped: {why}");
            return;
        }
        Err(why) => panic!("PostgreSQL is required when CI=true: {why}"),
    };
    let url = db.url().to_string();
    let result = std::panic::catch_unwind(|| test(&url));
    rt.block_on(db.drop_db());
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{nanos}_{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A store case: gets a fresh, migrated store; panics to fail.
pub type Case = fn(Store) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Wraps `async fn name(store: Store)` items into a `(&str, Case)` list for [`run_on_both`].
#[macro_export]
macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        vec![$((stringify!($name), (|s| Box::pin($name(s))) as $crate::Case)),*]
    };
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a tokio runtime")
}

fn run_case(case: Case, db: TestDb) -> Result<(), Failed> {
    let rt = runtime();
    let outcome = rt.block_on(async {
        let store = db.store().await;
        let handle = tokio::spawn(case(store.clone()));
        let result = handle.await;
        store.close().await;
        result
    });
    rt.block_on(db.drop_db());
    outcome.map_err(|e| {
        let msg = match e.try_into_panic() {
            Ok(p) => p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the case panicked".into()),
            Err(e) => e.to_string(),
        };
        Failed::from(msg)
    })
}

/// The test main: runs every case on SQLite and on PostgreSQL.
pub fn run_on_both(cases: Vec<(&'static str, Case)>) -> ! {
    let args = Arguments::from_args();
    let postgres = runtime().block_on(async {
        match TestDb::postgres().await {
            Ok(db) => {
                db.drop_db().await;
                Ok(())
            }
            Err(e) => Err(e),
        }
    });
    if let Err(why) = &postgres {
        if in_ci() {
            println!("PostgreSQL is required when CI=true and cannot be reached: {why}");
        } else {
            println!("PostgreSQL half skipped (its tests show as ignored): {why}");
            println!("Start a server or set RAPPORT_TEST_POSTGRES_URL to run it.");
        }
    }
    let mut trials = Vec::new();
    for (name, case) in cases {
        trials.push(Trial::test(format!("{name}::sqlite"), move || run_case(case, TestDb::sqlite())));
        let pg_down = postgres.is_err();
        let why = postgres.clone().err().unwrap_or_default();
        let trial = Trial::test(format!("{name}::postgres"), move || {
            if pg_down {
                return Err(Failed::from(format!("PostgreSQL unreachable with CI=true: {why}")));
            }
            let db = runtime().block_on(TestDb::postgres()).map_err(Failed::from)?;
            run_case(case, db)
        });
        trials.push(trial.with_ignored_flag(pg_down && !in_ci()));
    }
    libtest_mimic::run(&args, trials).exit()
}
