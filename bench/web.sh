#!/usr/bin/env bash
# Web benchmark (issue 5): server time of the dashboard and an account page on the demo
# portfolio (ACCOUNTS accounts, SQLite), p50 and p99 under load from wrk on loopback, against
# the same server's /healthz (the HTTP, session-less floor of the same stack) in the same run;
# and the dashboard's weight on the wire (gzip) and uncompressed.
#   usage: bench/web.sh [ACCOUNTS=100000] [SECONDS=20] [CONNECTIONS=8]   (needs: wrk, curl)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
SECS=${2:-20}
CONN=${3:-8}
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
cargo build --release -q -p rapport-cli
bin="target/release/rapport --database-url sqlite://$work/demo.db"
[ -f "$work/demo.db" ] || $bin demo --accounts "$N" | tail -1
printf '%s\n' "bench password 1234" | $bin user add bench@rapport.example --role admin >/dev/null
port=8197
$bin serve --listen 127.0.0.1:$port >/dev/null &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
jar="$work/jar"
csrf=$(curl -s -c "$jar" -b "$jar" "http://127.0.0.1:$port/sign-in" | grep -o 'name="csrf" value="[0-9a-f]*"' | grep -o '[0-9a-f]\{64\}')
curl -s -c "$jar" -b "$jar" -o /dev/null --data-urlencode "email=bench@rapport.example" \
  --data-urlencode "password=bench password 1234" --data-urlencode "csrf=$csrf" "http://127.0.0.1:$port/sign-in"
cookie="rapport_session=$(awk '$6 == "rapport_session" {print $7}' "$jar")"
account=$($bin report quadrants --format csv | sed -n 2p | cut -d, -f1)
cold=$(curl -s -o /dev/null -w '%{time_total}' -H "Cookie: $cookie" "http://127.0.0.1:$port/")
echo "== rapport serve, SQLite, $N accounts; first dashboard after start (cold cache): ${cold} s"
gz=$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip' -H "Cookie: $cookie" "http://127.0.0.1:$port/")
raw=$(curl -s -o /dev/null -w '%{size_download}' -H "Cookie: $cookie" "http://127.0.0.1:$port/")
echo "dashboard weight: $gz bytes gzip, $raw bytes uncompressed"
for path in /healthz / "/accounts/$account"; do
  echo "-- GET $path ($CONN connections, ${SECS} s)"
  wrk -t2 -c"$CONN" -d"${SECS}s" --latency -H "Cookie: $cookie" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port$path" \
    | grep -E '^\s+(50|99)%|Requests/sec|Non-2xx'
done
