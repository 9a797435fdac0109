#!/usr/bin/env bash
# Import benchmark: 1M contacts through `rapport import` (validation + upsert, one transaction)
# on SQLite and PostgreSQL, against yardsticks in the same run: the sqlite3 shell's .import into a
# bare table, and PostgreSQL's COPY into a bare table. Prints medians of RUNS runs and ratios.
#   usage: bench/import.sh [CONTACTS=1000000] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
RUNS=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"; psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS rapport_bench WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
cargo build --release -q -p rapport-cli
bin=target/release/rapport
python3 bench/gen_contacts.py "$N" "$work"
echo "data: $N contacts, $(wc -l < "$work/accounts.csv") account lines, $(du -h "$work/contacts.csv" | cut -f1)"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# secs and peak RSS (KiB) of a command
timed() { /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null; cat "$work/t"; }

pg_admin="postgres://postgres@127.0.0.1:5432/postgres"
pg_url="postgres://postgres@127.0.0.1:5432/rapport_bench"
declare -A results
for run in $(seq 1 "$RUNS"); do
  rm -f "$work"/*.db*
  $bin --database-url "sqlite://$work/r.db" import accounts "$work/accounts.csv" >/dev/null
  read -r s m < <(timed $bin --database-url "sqlite://$work/r.db" import contacts "$work/contacts.csv")
  results[rapport_sqlite]+="$s "; results[rapport_sqlite_rss]+="$m "
  read -r s m < <(timed sqlite3 "$work/y.db" "CREATE TABLE contacts(contact_id,account_id,name,title,role,email,phone);" ".mode csv" ".import --skip 1 $work/contacts.csv contacts")
  results[sqlite3_import]+="$s "

  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS rapport_bench WITH (FORCE)" -c "CREATE DATABASE rapport_bench" >/dev/null
  $bin --database-url "$pg_url" import accounts "$work/accounts.csv" >/dev/null
  read -r s m < <(timed $bin --database-url "$pg_url" import contacts "$work/contacts.csv")
  results[rapport_pg]+="$s "; results[rapport_pg_rss]+="$m "
  psql -q -h 127.0.0.1 -U postgres -d rapport_bench -c "CREATE TABLE bare(contact_id text,account_id text,name text,title text,role text,email text,phone text)" >/dev/null
  read -r s m < <(timed psql -q -h 127.0.0.1 -U postgres -d rapport_bench -c "\\copy bare FROM '$work/contacts.csv' CSV HEADER")
  results[pg_copy]+="$s "
done
med() { echo "${results[$1]}" | tr ' ' '\n' | grep -v '^$' | median; }
rs=$(med rapport_sqlite); ys=$(med sqlite3_import); rp=$(med rapport_pg); yp=$(med pg_copy)
printf "%-34s %8s %12s %10s\n" "import of $N contacts" "median s" "rows/s" "vs yard."
printf "%-34s %8.2f %12.0f %10s\n" "sqlite3 .import (yardstick)" "$ys" "$(echo "$N/$ys" | bc -l)" "1.00x"
printf "%-34s %8.2f %12.0f %9.2fx\n" "rapport import, SQLite" "$rs" "$(echo "$N/$rs" | bc -l)" "$(echo "$rs/$ys" | bc -l)"
printf "%-34s %8.2f %12.0f %10s\n" "PostgreSQL COPY (yardstick)" "$yp" "$(echo "$N/$yp" | bc -l)" "1.00x"
printf "%-34s %8.2f %12.0f %9.2fx\n" "rapport import, PostgreSQL" "$rp" "$(echo "$N/$rp" | bc -l)" "$(echo "$rp/$yp" | bc -l)"
echo "peak RSS of rapport import (KiB, median): SQLite $(med rapport_sqlite_rss), PostgreSQL $(med rapport_pg_rss)"
