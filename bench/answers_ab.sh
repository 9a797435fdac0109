#!/usr/bin/env bash
# Answer benchmark A/B (issue 4): two or more builds of rapport, run alternately on copies of
# one template database, so that a change is compared with the code before it in the same
# minutes of a noisy machine. Each run: `serve --bench-ceiling` on a fresh copy, the same wrk
# load as bench/answers.sh (SQLite), then the writer's busy seconds from /metrics.
#   usage: bench/answers_ab.sh PAIRS BINARY... [env: ACCOUNTS=2000 SECONDS_EACH=10 CONNECTIONS=64]
#   e.g.:  cargo build --release -p rapport-cli && cp target/release/rapport /tmp/after
#          (and the same at the commit before, into /tmp/before), then
#          bench/answers_ab.sh 4 /tmp/before /tmp/after
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=$1
shift
N=${ACCOUNTS:-2000}
SECS=${SECONDS_EACH:-10}
CONN=${CONNECTIONS:-64}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
port=8199
url="sqlite://$work/run.db"

# The template: the demo portfolio and a wave to every contact, made by the first binary.
rm -f "$work"/template.db*
source bench/answers_setup.sh
answer_links "$1 --database-url sqlite://$work/template.db" "$N" "$work"

for pair in $(seq 1 "$pairs"); do
  for bin in "$@"; do
    rm -f "$work"/run.db*
    # The template's WAL goes with it, so each copy starts from the same state.
    for f in "$work"/template.db*; do cp "$f" "$work/run.db${f#"$work"/template.db}"; done
    $bin --database-url "$url" serve --listen 127.0.0.1:$port --bench-ceiling >"$work/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    out=$(LINKS="$work/paths.txt" wrk -t2 -c"$CONN" -d"${SECS}s" --latency -s bench/answers.lua "http://127.0.0.1:$port")
    busy=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^rapport_answer_batch_seconds_sum/ {printf "%.2f", $2}')
    kill $server
    wait $server 2>/dev/null || true
    rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    echo "pair $pair  $bin  answers/s $rate  p50 $p50  p99 $p99  writer busy ${busy:-?} s of ${SECS}"
  done
done
