#!/usr/bin/env bash
# Import benchmark: 1M contacts through `rapport import` (validation + upsert, one transaction)
# on SQLite and PostgreSQL, against yardsticks in the same run: the sqlite3 shell's .import into a
# bare table, and PostgreSQL's COPY into a bare table. Prints medians of RUNS runs and ratios.
# Beside them, each database's floor for this schema: the file staged, then one set-based
# upsert joined to the accounts (on SQLite with foreign keys unchecked, as Rapport's import
# runs: the join, like Rapport's lookups, has checked every reference; and with the rows'
# created_at and updated_at given once, as Rapport gives them, rather than SQLite's default
# evaluated for every row).
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

stamp=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
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
  rm -f "$work"/f.db*
  $bin --database-url "sqlite://$work/f.db" import accounts "$work/accounts.csv" >/dev/null
  read -r s m < <(timed sqlite3 "$work/f.db" "PRAGMA journal_mode=WAL;" "PRAGMA synchronous=NORMAL;" "PRAGMA cache_size=-65536;" \
    "PRAGMA temp_store=memory;" "PRAGMA foreign_keys=OFF;" \
    "CREATE TEMP TABLE stage(contact_id,account_id,name,title,role,email,phone);" ".mode csv" \
    ".import --skip 1 $work/contacts.csv stage" \
    "INSERT INTO contacts (external_id, account_id, name, title, role, email, phone, created_at, updated_at) SELECT s.contact_id, a.id, s.name, s.title, s.role, s.email, s.phone, '$stamp', '$stamp' FROM stage s JOIN accounts a ON a.external_id = s.account_id WHERE true ON CONFLICT (external_id) DO UPDATE SET name = excluded.name WHERE contacts.name IS DISTINCT FROM excluded.name;")
  results[sqlite_floor]+="$s "

  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS rapport_bench WITH (FORCE)" -c "CREATE DATABASE rapport_bench" >/dev/null
  $bin --database-url "$pg_url" import accounts "$work/accounts.csv" >/dev/null
  read -r s m < <(timed $bin --database-url "$pg_url" import contacts "$work/contacts.csv")
  results[rapport_pg]+="$s "; results[rapport_pg_rss]+="$m "
  psql -q -h 127.0.0.1 -U postgres -d rapport_bench -c "CREATE TABLE bare(contact_id text,account_id text,name text,title text,role text,email text,phone text)" >/dev/null
  read -r s m < <(timed psql -q -h 127.0.0.1 -U postgres -d rapport_bench -c "\\copy bare FROM '$work/contacts.csv' CSV HEADER")
  results[pg_copy]+="$s "
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS rapport_bench WITH (FORCE)" -c "CREATE DATABASE rapport_bench" >/dev/null
  $bin --database-url "$pg_url" import accounts "$work/accounts.csv" >/dev/null
  cat > "$work/floor.sql" <<SQL
BEGIN;
CREATE TEMP TABLE stage(contact_id text,account_id text,name text,title text,role text,email text,phone text) ON COMMIT DROP;
\\copy stage FROM '$work/contacts.csv' CSV HEADER
INSERT INTO contacts (external_id, account_id, name, title, role, email, phone)
  SELECT s.contact_id, a.id, s.name, s.title, s.role, s.email, s.phone FROM stage s JOIN accounts a ON a.external_id = s.account_id
  ON CONFLICT (external_id) DO UPDATE SET name = excluded.name WHERE contacts.name IS DISTINCT FROM excluded.name;
COMMIT;
SQL
  read -r s m < <(timed psql -q -h 127.0.0.1 -U postgres -d rapport_bench -f "$work/floor.sql")
  results[pg_floor]+="$s "
done
med() { echo "${results[$1]}" | tr ' ' '\n' | grep -v '^$' | median; }
rs=$(med rapport_sqlite); ys=$(med sqlite3_import); rp=$(med rapport_pg); yp=$(med pg_copy)
fs=$(med sqlite_floor); fp=$(med pg_floor)
printf "%-34s %8s %12s %10s\n" "import of $N contacts" "median s" "rows/s" "vs yard."
printf "%-34s %8.2f %12.0f %10s\n" "sqlite3 .import (yardstick)" "$ys" "$(echo "$N/$ys" | bc -l)" "1.00x"
printf "%-34s %8.2f %12.0f %9.2fx\n" "SQLite floor: staged upsert" "$fs" "$(echo "$N/$fs" | bc -l)" "$(echo "$fs/$ys" | bc -l)"
printf "%-34s %8.2f %12.0f %9.2fx   (%.2fx the floor)\n" "rapport import, SQLite" "$rs" "$(echo "$N/$rs" | bc -l)" "$(echo "$rs/$ys" | bc -l)" "$(echo "$rs/$fs" | bc -l)"
printf "%-34s %8.2f %12.0f %10s\n" "PostgreSQL COPY (yardstick)" "$yp" "$(echo "$N/$yp" | bc -l)" "1.00x"
printf "%-34s %8.2f %12.0f %9.2fx\n" "PostgreSQL floor: COPY + upsert" "$fp" "$(echo "$N/$fp" | bc -l)" "$(echo "$fp/$yp" | bc -l)"
printf "%-34s %8.2f %12.0f %9.2fx   (%.2fx the floor)\n" "rapport import, PostgreSQL" "$rp" "$(echo "$N/$rp" | bc -l)" "$(echo "$rp/$yp" | bc -l)" "$(echo "$rp/$fp" | bc -l)"
echo "runs (s): sqlite3 .import ${results[sqlite3_import]}| rapport SQLite ${results[rapport_sqlite]}| COPY ${results[pg_copy]}| rapport PostgreSQL ${results[rapport_pg]}"
echo "peak RSS of rapport import (KiB, median): SQLite $(med rapport_sqlite_rss), PostgreSQL $(med rapport_pg_rss)"
