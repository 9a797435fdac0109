#!/usr/bin/env bash
# Analytics benchmark (issue 3): the quadrant, NPS-by-vertical and drivers-by-vertical reports for
# one wave of the demo portfolio (ACCOUNTS accounts), cold and warm in one process, and
# `rapport analytics rebuild`, against DuckDB and Polars (2 threads) computing the same figures
# from the same data exported to Parquet and CSV, in the same run.
#   usage: [BACKENDS="sqlite postgres"] bench/analytics.sh [ACCOUNTS=100000] [RUNS=3]
#   (needs: pip install duckdb polars pyarrow)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
RUNS=${2:-3}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
cargo build --release -q -p rapport-cli
# BACKENDS="sqlite postgres" also loads the demo into PostgreSQL (database rapport_analytics_bench
# on 127.0.0.1:5432, kept between runs like the SQLite file; DROP it to load again).
BACKENDS=${BACKENDS:-sqlite}
rapport=target/release/rapport
sqlite="$rapport --database-url sqlite://$work/demo.db"
[ -f "$work/demo.db" ] || /usr/bin/time -f "demo on SQLite: %e s, peak RSS %M KiB" $sqlite demo --accounts "$N" | tail -1
wave=$($sqlite report nps --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["title"].split()[-1])')
for k in accounts contacts responses; do [ -f "$work/$k.csv" ] || $sqlite export $k "$work/$k.csv" >/dev/null; done
answers=$(($(wc -l < "$work/responses.csv") - 1))
for backend in $BACKENDS; do
  case $backend in
    sqlite) bin=$sqlite ;;
    postgres)
      bin="$rapport --database-url postgres://postgres@127.0.0.1:5432/rapport_analytics_bench"
      if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'rapport_analytics_bench'" | grep -q 1; then
        psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE rapport_analytics_bench" >/dev/null
        /usr/bin/time -f "demo on PostgreSQL: %e s, peak RSS %M KiB" $bin demo --accounts "$N" | tail -1
        psql -q -h 127.0.0.1 -U postgres -d rapport_analytics_bench -c "VACUUM ANALYZE" >/dev/null
      fi ;;
    *) echo "unknown backend $backend (sqlite or postgres)" >&2; exit 2 ;;
  esac
  echo "== rapport, $backend, wave $wave ($N accounts, $answers answers)"
  $bin bench reports --runs 5
  for _ in $(seq 1 "$RUNS"); do /usr/bin/time -f "%e %M" -o "$work/t" $bin analytics rebuild >/dev/null; cat "$work/t"; done \
    | sort -n | awk '{a[NR]=$1; m[NR]=$2} END {i=int((NR+1)/2); printf "analytics rebuild: median %.2f s, peak RSS %d KiB\n", a[i], m[i]}'
done
echo "== yardstick"
python3 bench/yardstick.py "$work" "$wave" "$RUNS"
