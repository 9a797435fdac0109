//! Any bytes as a CSV file of any kind, imported with --dry-run into a small portfolio: a
//! summary or a clear error, never a panic, whatever the encoding, quoting, delimiters,
//! numbers or dates. The first byte picks the kind.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rapport_store::import::{ImportOptions, import_reader};
use rapport_store::{Kind, Store};

struct Fixture {
    runtime: tokio::runtime::Runtime,
    store: Store,
    _dir: tempfile::TempDir,
}

const KINDS: [Kind; 6] =
    [Kind::Accounts, Kind::Contacts, Kind::Revenue, Kind::Opportunities, Kind::ServiceCases, Kind::Responses];

/// Accounts and contacts the fuzzed rows can refer to (so that references resolve, and the
/// checks behind them run).
const SEED: [(Kind, &str); 2] = [
    (Kind::Accounts, "account_id,name,billed_revenue\nA1,Alpha,1000\nA2,Beta,2000\n"),
    (Kind::Contacts, "contact_id,account_id,name,role\nC1,A1,Ana,executive\nC2,A2,Bo,user\n"),
];

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("fuzz.db").display());
        let store = runtime.block_on(async {
            let store = Store::connect(&url).await.expect("the fuzz database");
            for (kind, csv) in SEED {
                import_reader(&store, kind, csv.as_bytes(), ImportOptions::default(), &mut |_| {})
                    .await
                    .expect("the seed portfolio");
            }
            store
        });
        Fixture { runtime, store, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, csv)) = data.split_first() else { return };
    let kind = KINDS[usize::from(selector) % KINDS.len()];
    let f = fixture();
    let options = ImportOptions { dry_run: true, max_errors: 20, delimiter: None };
    // Ok or a described error are both fine; only a panic (or a hang) is a finding.
    let _ = f.runtime.block_on(import_reader(&f.store, kind, csv, options, &mut |_| {}));
});
