#!/usr/bin/env bash
# Analytics benchmark (issue 3): the quadrant, NPS-by-vertical and drivers-by-vertical reports for
# one wave of the demo portfolio (ACCOUNTS accounts), cold and warm in one process, and
# `rapport analytics rebuild`, against DuckDB and Polars (2 threads) computing the same figures
# from the same data exported to Parquet and CSV, in the same run.
#   usage: bench/analytics.sh [ACCOUNTS=100000] [RUNS=3]   (needs: pip install duckdb polars pyarrow)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
RUNS=${2:-3}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
cargo build --release -q -p rapport-cli
bin="target/release/rapport --database-url sqlite://$work/demo.db"
[ -f "$work/demo.db" ] || /usr/bin/time -f "demo: %e s, peak RSS %M KiB" $bin demo --accounts "$N" | tail -1
wave=$($bin report nps --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["title"].split()[-1])')
for k in accounts contacts responses; do [ -f "$work/$k.csv" ] || $bin export $k "$work/$k.csv" >/dev/null; done
echo "== rapport, SQLite, wave $wave ($N accounts, $(($(wc -l < "$work/responses.csv") - 1)) answers)"
$bin bench reports --runs 5
for _ in $(seq 1 "$RUNS"); do /usr/bin/time -f "%e %M" -o "$work/t" $bin analytics rebuild >/dev/null; cat "$work/t"; done \
  | sort -n | awk '{a[NR]=$1; m[NR]=$2} END {i=int((NR+1)/2); printf "analytics rebuild: median %.2f s, peak RSS %d KiB\n", a[i], m[i]}'
echo "== yardstick"
python3 bench/yardstick.py "$work" "$wave" "$RUNS"
