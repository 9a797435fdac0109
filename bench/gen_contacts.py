#!/usr/bin/env python3
"""Writes accounts.csv and contacts.csv for the import benchmark: N contacts over N/10 accounts."""
import csv, random, sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
out = sys.argv[2] if len(sys.argv) > 2 else "."
rng = random.Random(7)
first = ["Ana", "Tom", "Mia", "Raj", "Li", "Olga", "Kwame", "Sofia", "Jonas", "Yuki", "Amir", "Chloé"]
last = ["Ruiz", "Lee", "Chen", "Patel", "Wang", "Ivanova", "Mensah", "Rossi", "Berg", "Tanaka", "Haddad", "Martin"]
titles = [("CFO", "executive"), ("VP Operations", "executive"), ("Procurement Manager", "manager"),
          ("Plant Manager", "manager"), ("Engineer", "user"), ("Analyst", "user")]
accounts = max(1, n // 10)
with open(f"{out}/accounts.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["account_id", "name", "vertical", "billed_revenue"])
    for a in range(accounts):
        w.writerow([f"ACC-{a:07d}", f"Company {a}", rng.choice(["Energy", "Retail", "Healthcare"]), rng.randint(1, 10**7)])
with open(f"{out}/contacts.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["contact_id", "account_id", "name", "title", "role", "email", "phone"])
    for c in range(n):
        fn, ln = rng.choice(first), rng.choice(last)
        title, role = rng.choice(titles)
        a = rng.randrange(accounts)
        w.writerow([f"CON-{c:08d}", f"ACC-{a:07d}", f"{fn} {ln}", title, role,
                    f"{fn.lower()}.{ln.lower()}{c}@company{a}.example", f"555-{c % 10000:04d}"])
