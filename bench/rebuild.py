#!/usr/bin/env python3
"""`rapport analytics rebuild` against its yardstick, run alternately in the same minutes: this
machine's speed moves by a quarter within an hour, so a yardstick timed once, before or after,
says little about the runs beside it. Each round times Polars (2 threads) computing every cell
from Parquet (as bench/yardstick.py does), then a rebuild with each binary given.

    usage: rebuild.py DIR BACKEND BINARY[@URL-SUFFIX]...   (RUNS=5 by default)
    e.g.:  rebuild.py /tmp/ab100k postgres /tmp/rapport-before /tmp/rapport-after
           rebuild.py /tmp/ab100k sqlite target/release/rapport

DIR holds demo.db and the Parquet files bench/yardstick.py writes; BACKEND is sqlite (DIR/demo.db)
or postgres (the database rapport_analytics_bench that bench/analytics.sh loads, or the one named
by PG_DATABASE). A suffix after @ is appended to the database URL (e.g. @?sslmode=disable).
"""
import os, statistics, subprocess, sys, time

os.environ["POLARS_MAX_THREADS"] = "2"
import cells  # bench/cells.py

d, backend, bins = sys.argv[1], sys.argv[2], sys.argv[3:]
url = {"sqlite": f"sqlite://{d}/demo.db",
       "postgres": "postgres://postgres@127.0.0.1:5432/" + os.environ.get("PG_DATABASE", "rapport_analytics_bench")}[backend]
runs = int(os.environ.get("RUNS", "5"))

times = {name: [] for name in ["yardstick"] + bins}
for _ in range(runs):
    start = time.perf_counter(); cells.polars_cells(d); times["yardstick"].append(time.perf_counter() - start)
    for b in bins:
        binary, _, suffix = b.partition("@")
        start = time.perf_counter()
        subprocess.run([binary, "--database-url", url + suffix, "analytics", "rebuild"], check=True, stdout=subprocess.DEVNULL)
        times[b].append(time.perf_counter() - start)
yardstick = statistics.median(times["yardstick"])
for name, ts in times.items():
    med = statistics.median(ts)
    print(f"{backend:8} {name:40} median {med:5.2f} s ({', '.join(f'{t:.2f}' for t in ts)})  {med / yardstick:4.2f}x")
