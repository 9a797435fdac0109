"""What a rebuild computes, with Polars (the rebuild's yardstick): every cell from every answer of
every wave (per wave, account and contact role level: the latest answer of each contact;
promoters, passives, detractors, the LTR sum and sum of squares; per driver n, sum x, sum x
squared, sum x times LTR), from the Parquet files in DIR. Used by bench/yardstick.py and
bench/rebuild.py."""
import polars as pl

DRIVERS = ["brand", "promise", "product", "delivery", "support", "value"]

def polars_cells(d):
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
