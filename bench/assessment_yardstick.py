#!/usr/bin/env python3
"""Yardstick for the assessment benchmark: DuckDB (2 threads) computes the figures of
`rapport report portfolio` for 2026 (revenue, cost of sales as the account's share applied to the
window's revenue, service hours at 85.00, margin, opportunities, won, lost, active quarters), from
the same data exported to CSV and to Parquet. Prints the median seconds of RUNS runs per source,
then checks every account's margin against Rapport's portfolio.csv (to the cent).

    usage: assessment_yardstick.py DIR [RUNS]   (DIR holds the exported CSVs and portfolio.csv)
"""
import csv, os, statistics, sys, time

import duckdb

d = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
KINDS = ["accounts", "revenue", "opportunities", "service-cases"]

def rel(src, name):
    return f"'{d}/{name}.parquet'" if src == "parquet" else f"read_csv_auto('{d}/{name}.csv')"

def portfolio(src):
    con = duckdb.connect()
    con.execute("SET threads = 2")
    r = lambda n: rel(src, n)
    return con.execute(f"""
      WITH rev AS (SELECT account_id, sum(billed) revenue FROM {r('revenue')}
                   WHERE period BETWEEN '2026-Q1' AND '2026-Q4' GROUP BY 1),
           eff AS (SELECT account_id, sum(effort_hours) effort FROM {r('service-cases')}
                   WHERE opened_on BETWEEN DATE '2026-01-01' AND DATE '2026-12-31' GROUP BY 1),
           opp AS (SELECT account_id, count(*) n, count(*) FILTER (outcome = 'won') won,
                          count(*) FILTER (outcome = 'lost') lost, count(DISTINCT quarter(opened_on)) active
                   FROM {r('opportunities')} WHERE opened_on BETWEEN DATE '2026-01-01' AND DATE '2026-12-31' GROUP BY 1),
           m AS (SELECT a.account_id, coalesce(rev.revenue, 0) revenue,
                        CASE WHEN a.billed_revenue > 0 THEN a.cost_of_sales * coalesce(rev.revenue, 0) / a.billed_revenue
                             ELSE coalesce(a.cost_of_sales, 0) END cos,
                        coalesce(eff.effort, 0) * 85 cts, opp.n, opp.won, opp.lost, opp.active
                 FROM {r('accounts')} a LEFT JOIN rev USING (account_id) LEFT JOIN eff USING (account_id)
                 LEFT JOIN opp USING (account_id))
      SELECT account_id, revenue - cos - cts margin, n, won, lost, active FROM m ORDER BY margin DESC""").fetchall()

for name in KINDS:
    pq = f"{d}/{name}.parquet"
    if not os.path.exists(pq):
        duckdb.execute(f"COPY (SELECT * FROM read_csv_auto('{d}/{name}.csv')) TO '{pq}' (FORMAT parquet)")

rows = None
for src in ["parquet", "csv"]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        rows = portfolio(src)
        times.append(time.perf_counter() - started)
    print(f"duckdb from {src}: median {statistics.median(times):.3f} s over {runs} runs ({len(rows)} accounts)")

ours = {}
with open(f"{d}/portfolio.csv", newline="") as f:
    for row in csv.DictReader(f):
        ours[row["account_id"]] = row
off = [a for a, margin, *_ in rows if abs(float(ours[a]["margin"]) - float(margin)) > 0.01]
flows = [a for a, _, n, won, lost, _ in rows if int(ours[a]["opportunities"]) != (n or 0)]
print(f"margins that differ by more than a cent: {len(off)} of {len(rows)}; opportunity counts that differ: {len(flows)}")
print(f"total margin: rapport {sum(float(r['margin']) for r in ours.values()):.2f}, duckdb {sum(float(m) for _, m, *_ in rows):.2f}")
