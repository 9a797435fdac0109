#!/usr/bin/env bash
# Answer benchmark (issue 4): durable answers per second through the response page, with
# everything it does (token check, validation, answer history, the analytics cells, group
# commit; SQLite syncs every commit, PostgreSQL commits synchronously), p50 and p99, against
# the same server's parse-only handler (/bench/ceiling) in the same run; on SQLite and on
# PostgreSQL (127.0.0.1:5432, user postgres; skipped when it is not running).
#   usage: bench/answers.sh [ACCOUNTS=2000] [SECONDS=10] [CONNECTIONS=64]   (needs: wrk, curl, psql)
#   BACKENDS="sqlite" runs the SQLite half only (default: "sqlite postgres").
#   RAPPORT_BIN=path runs that binary instead of building this checkout (to compare two
#   commits in the same hour: build each, copy it aside, run both).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
SECS=${2:-10}
CONN=${3:-64}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
if [[ -z ${RAPPORT_BIN:-} ]]; then
  cargo build --release -q -p rapport-cli
fi
rapport=${RAPPORT_BIN:-target/release/rapport}
source bench/answers_setup.sh
port=8198

run() {
  local label=$1 url=$2
  local bin="$rapport --database-url $url"
  answer_links "$bin" "$N" "$work"
  $bin serve --listen 127.0.0.1:$port --bench-ceiling >/dev/null &
  local server=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
  echo "== $label: $N accounts, $(wc -l <"$work/paths.txt") personal links, $CONN connections, ${SECS} s each"
  echo "-- parse-only handler (the ceiling)"
  CEILING=1 LINKS="$work/paths.txt" wrk -t2 -c"$CONN" -d"${SECS}s" --latency -s bench/answers.lua "http://127.0.0.1:$port" \
    | grep -E '^\s+(50|99)%|Requests/sec|Non-2xx|Socket errors'
  echo "-- answers through the response page"
  LINKS="$work/paths.txt" wrk -t2 -c"$CONN" -d"${SECS}s" --latency -s bench/answers.lua "http://127.0.0.1:$port" \
    | grep -E '^\s+(50|99)%|Requests/sec|Non-2xx|Socket errors'
  kill $server
  wait $server 2>/dev/null || true
  echo "answers stored: $($bin export responses - | grep -c ',BENCH,' || true)"
}

BACKENDS=${BACKENDS:-sqlite postgres}
rm -f "$work"/answers.db*
[[ $BACKENDS == *sqlite* ]] && run "SQLite (synchronous=FULL)" "sqlite://$work/answers.db"
if [[ $BACKENDS != *postgres* ]]; then
  :
elif pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS rapport_bench_answers" -c "CREATE DATABASE rapport_bench_answers"
  run "PostgreSQL (synchronous_commit=on)" "postgres://postgres@127.0.0.1:5432/rapport_bench_answers"
  psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE rapport_bench_answers"
else
  echo "PostgreSQL is not running on 127.0.0.1:5432: its half was skipped"
fi
