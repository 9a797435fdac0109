#!/usr/bin/env python3
"""Yardstick for the analytics benchmark: DuckDB and Polars (2 threads each) compute the same
figures as `rapport report quadrants`, `nps --by vertical` and `drivers --by vertical` for one
wave, from the same data exported to Parquet and to CSV. Prints the median seconds of RUNS runs
per engine and source, and the figures, so they can be compared with Rapport's.

Then the yardstick for `rapport analytics rebuild`: the same engines compute what a rebuild
does, every cell from every answer of every wave (per wave, account and contact role level:
the latest answer of each contact; promoters, passives, detractors, the LTR sum and sum of
squares; per driver n, sum x, sum x squared, sum x times LTR), from Parquet.

    usage: yardstick.py DIR WAVE [RUNS]   (DIR holds accounts.csv, contacts.csv, responses.csv)
"""
import os, statistics, sys, time

os.environ["POLARS_MAX_THREADS"] = "2"
import duckdb
import polars as pl

from cells import DRIVERS, polars_cells as polars_every_cell  # bench/cells.py, shared with bench/rebuild.py

d, wave = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3

def to_parquet():
    for name in ["accounts", "contacts", "responses"]:
        pq = f"{d}/{name}.parquet"
        if not os.path.exists(pq):
            pl.read_csv(f"{d}/{name}.csv", infer_schema_length=100000).write_parquet(pq)

def polars_reports(src):
    read = (lambda n: pl.scan_parquet(f"{d}/{n}.parquet")) if src == "parquet" else \
           (lambda n: pl.scan_csv(f"{d}/{n}.csv", infer_schema_length=100000))
    r = read("responses").filter(pl.col("wave") == wave)
    latest = r.sort(["contact_id", "submitted_at"]).group_by("contact_id").last()
    j = (latest.join(read("contacts").select(["contact_id", "account_id"]), on="contact_id")
               .join(read("accounts").select(["account_id", "vertical", "billed_revenue"]), on="account_id")).collect()
    # Signed counts: promoters minus detractors is negative for unhappy accounts.
    counts = [pl.len().cast(pl.Int64).alias("n"), (pl.col("ltr") >= 9).sum().cast(pl.Int64).alias("p"),
              (pl.col("ltr") <= 6).sum().cast(pl.Int64).alias("d")]
    nps = j.group_by("vertical").agg(counts).with_columns(nps=100 * (pl.col("p") - pl.col("d")) / pl.col("n")).sort("vertical")
    acc = j.group_by("account_id").agg(counts + [pl.col("billed_revenue").first()])
    acc = acc.with_columns(nps=100 * (pl.col("p") - pl.col("d")) / pl.col("n"))
    median = acc["billed_revenue"].median()
    quad = acc.with_columns(q=pl.when(pl.col("nps") >= 30).then(pl.when(pl.col("billed_revenue") >= median).then(pl.lit("emulate")).otherwise(pl.lit("growth")))
                              .otherwise(pl.when(pl.col("billed_revenue") >= median).then(pl.lit("problem")).otherwise(pl.lit("decision"))))
    quads = quad.group_by("q").len().sort("q")
    drivers = j.group_by("vertical").agg([pl.corr(x, "ltr").alias(x) for x in DRIVERS]).sort("vertical")
    return nps, quads, drivers

def duckdb_reports(src):
    con = duckdb.connect()
    con.execute("SET threads = 2")
    rel = (lambda n: f"'{d}/{n}.parquet'") if src == "parquet" else (lambda n: f"read_csv_auto('{d}/{n}.csv')")
    con.execute(f"""CREATE TEMP TABLE j AS
        SELECT r.*, a.account_id, a.vertical, a.billed_revenue FROM (
          SELECT * FROM {rel('responses')} WHERE wave = '{wave}'
          QUALIFY row_number() OVER (PARTITION BY contact_id ORDER BY submitted_at DESC) = 1) r
        JOIN {rel('contacts')} c USING (contact_id) JOIN {rel('accounts')} a ON a.account_id = c.account_id""")
    nps = con.execute("""SELECT vertical, count(*) n, count(*) FILTER (ltr >= 9) p, count(*) FILTER (ltr <= 6) d,
        100.0 * (count(*) FILTER (ltr >= 9) - count(*) FILTER (ltr <= 6)) / count(*) nps FROM j GROUP BY 1 ORDER BY 1""").fetchall()
    quads = con.execute("""WITH acc AS (SELECT account_id, any_value(billed_revenue) billed,
          100.0 * (count(*) FILTER (ltr >= 9) - count(*) FILTER (ltr <= 6)) / count(*) nps FROM j GROUP BY 1),
        m AS (SELECT median(billed) med FROM acc)
        SELECT CASE WHEN nps >= 30 THEN CASE WHEN billed >= med THEN 'emulate' ELSE 'growth' END
                    ELSE CASE WHEN billed >= med THEN 'problem' ELSE 'decision' END END q, count(*)
        FROM acc, m GROUP BY 1 ORDER BY 1""").fetchall()
    drivers = con.execute("SELECT vertical, " + ", ".join(f"corr({x}, ltr)" for x in DRIVERS) + " FROM j GROUP BY 1 ORDER BY 1").fetchall()
    con.close()
    return nps, quads, drivers

def polars_cells():
    return polars_every_cell(d)

def duckdb_cells():
    con = duckdb.connect()
    con.execute("SET threads = 2")
    drivers = ", ".join(f"count({x}), sum({x}), sum({x} * {x}), sum({x} * ltr)" for x in DRIVERS)
    out = con.execute(f"""SELECT wave, account_id, role,
          count(*) FILTER (ltr >= 9), count(*) FILTER (ltr BETWEEN 7 AND 8), count(*) FILTER (ltr <= 6),
          sum(ltr), sum(ltr * ltr), {drivers}
        FROM (SELECT * FROM '{d}/responses.parquet'
              QUALIFY row_number() OVER (PARTITION BY wave, contact_id ORDER BY submitted_at DESC) = 1) r
        JOIN '{d}/contacts.parquet' c USING (contact_id)
        GROUP BY ALL""").fetchall()
    con.close()
    return out

to_parquet()
best = None
for engine, fn in [("polars", polars_reports), ("duckdb", duckdb_reports)]:
    for src in ["parquet", "csv"]:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            out = fn(src)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        print(f"{engine:<7} from {src:<8} median {med:6.2f} s over {runs} runs")
        if src == "parquet" and (best is None or med < best[1]):
            best = (engine, med, out)
print(f"yardstick (fastest from Parquet): {best[0]} {best[1]:.2f} s")
nps, quads, drivers = best[2]
print("figures from the yardstick:")
print(nps)
print(quads)  # quadrant counts, surveyed accounts only
print(drivers)

rebuild = []
for engine, fn in [("polars", polars_cells), ("duckdb", duckdb_cells)]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        cells = len(fn())
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(f"{engine:<7} every cell from Parquet (what a rebuild computes): median {med:6.2f} s over {runs} runs, {cells} cells")
    rebuild.append((med, engine))
print(f"rebuild yardstick (fastest from Parquet): {min(rebuild)[1]} {min(rebuild)[0]:.2f} s")
