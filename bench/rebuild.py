#!/usr/bin/env python3
"""`rapport analytics rebuild` against its yardstick, run alternately in the same minutes: this
machine's speed moves by a quarter within an hour, so a yardstick timed once, before or after,
says little about the runs beside it. Each round times Polars (2 threads) computing every cell
from Parquet (as bench/yardstick.py does), then a rebuild with each binary given.

    usage: rebuild.py DIR BACKEND BINARY[@URL-SUFFIX]...   (RUNS=5 by default)
    e.g.:  rebuild.py /tmp/ab100k postgres /tmp/rapport-before /tmp/rapport-after
           rebuild.py /tmp/ab100k sqlite target/release/rapport

DIR holds demo.db and the Parquet files bench/yardstick.py writes; BACKEND is sqlite (DIR/demo.db)
or postgres (the database rapport_analytics_bench that bench/analytics.sh loads). A suffix after
@ is appended to the database URL (e.g. @?sslmode=disable).
"""
import os, statistics, subprocess, sys, time

os.environ["POLARS_MAX_THREADS"] = "2"
import polars as pl

DRIVERS = ["brand", "promise", "product", "delivery", "support", "value"]
d, backend, bins = sys.argv[1], sys.argv[2], sys.argv[3:]
url = {"sqlite": f"sqlite://{d}/demo.db",
       "postgres": "postgres://postgres@127.0.0.1:5432/rapport_analytics_bench"}[backend]
runs = int(os.environ.get("RUNS", "5"))

def polars_cells():
    r = pl.scan_parquet(f"{d}/responses.parquet")
    latest = r.sort(["wave", "contact_id", "submitted_at"]).group_by(["wave", "contact_id"]).last()
    j = latest.join(pl.scan_parquet(f"{d}/contacts.parquet").select(["contact_id", "account_id", "role"]), on="contact_id")
    ltr = pl.col("ltr").cast(pl.Int64)
    sums = [(ltr >= 9).sum().alias("promoters"), ((ltr >= 7) & (ltr <= 8)).sum().alias("passives"),
            (ltr <= 6).sum().alias("detractors"), ltr.sum().alias("ltr_sum"), (ltr * ltr).sum().alias("ltr_sumsq")]
    for x in DRIVERS:
        v = pl.col(x).cast(pl.Int64)
        sums += [v.count().alias(f"{x}_n"), v.sum().alias(f"{x}_sx"), (v * v).sum().alias(f"{x}_sxx"),
                 (v * ltr).sum().alias(f"{x}_sxy")]
    return j.group_by(["wave", "account_id", "role"]).agg(sums).collect()

times = {name: [] for name in ["yardstick"] + bins}
for _ in range(runs):
    start = time.perf_counter(); polars_cells(); times["yardstick"].append(time.perf_counter() - start)
    for b in bins:
        binary, _, suffix = b.partition("@")
        start = time.perf_counter()
        subprocess.run([binary, "--database-url", url + suffix, "analytics", "rebuild"], check=True, stdout=subprocess.DEVNULL)
        times[b].append(time.perf_counter() - start)
yardstick = statistics.median(times["yardstick"])
for name, ts in times.items():
    med = statistics.median(ts)
    print(f"{backend:8} {name:40} median {med:5.2f} s ({', '.join(f'{t:.2f}' for t in ts)})  {med / yardstick:4.2f}x")
