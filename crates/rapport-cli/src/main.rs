//! The `rapport` binary: a thin shim over the library crates.

use std::process::ExitCode;

use clap::Parser;

// glibc's allocator spent a third of a warm 100,000-row report in malloc and free
// (BENCHMARKS.md); mimalloc serves the many small, short-lived allocations of reports,
// imports and request handling faster. With `override` it is also the C `malloc`, which
// SQLite allocates through: glibc's malloc and free were a sixth of a large import's samples.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = rapport_cli::Cli::parse();
    rapport_cli::telemetry::init(&cli.log, cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(rapport_cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stops early (`rapport report ... | head`) is not an error.
        Err(err) if rapport_cli::reader_went_away(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // What went wrong, then why, one cause per line; never a backtrace.
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
