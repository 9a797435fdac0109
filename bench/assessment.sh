#!/usr/bin/env bash
# Assessment benchmark (issue 7): the five portfolio assessment reports (portfolio, ideal,
# squeaky-wheel, risk, relationships) over 2026 for the demo portfolio (ACCOUNTS accounts), cold
# and warm in one process, against DuckDB (2 threads) computing the profitability and
# opportunity-flow figures of the portfolio report from the same data exported to CSV and
# Parquet, in the same run; the two agree on every account's margin.
#   usage: bench/assessment.sh [ACCOUNTS=100000] [RUNS=3]   (needs: pip install duckdb)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
RUNS=${2:-3}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
cargo build --release -q -p rapport-cli
bin="target/release/rapport --database-url sqlite://$work/demo.db"
[ -f "$work/demo.db" ] || /usr/bin/time -f "demo: %e s, peak RSS %M KiB" $bin demo --accounts "$N" | tail -1
for k in accounts revenue opportunities service-cases; do [ -f "$work/$k.csv" ] || $bin export $k "$work/$k.csv" >/dev/null; done
echo "== rapport, SQLite, window 2026-Q1 to 2026-Q4 ($N accounts, $(($(wc -l < "$work/opportunities.csv") - 1)) opportunities, $(($(wc -l < "$work/service-cases.csv") - 1)) service cases)"
$bin bench reports --runs 5 --assessment-until 2026-Q4
/usr/bin/time -f "rapport report portfolio (a fresh process, CSV of every account): %e s, peak RSS %M KiB" \
  $bin report portfolio --since 2026-Q1 --until 2026-Q4 --format csv --output "$work/portfolio.csv" 2>&1 | grep -v "^Report written"
echo "== yardstick"
python3 bench/assessment_yardstick.py "$work" "$RUNS"
