"""Write the small, realistic data files the examples in docs/examples.md run on.

python examples/make_data.py   # from the repository's root; the same files every time
"""

from __future__ import annotations

import csv
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

DATA = Path(__file__).parent / "data"
PATHS = ["/", "/index.html", "/search", "/static/app.js", "/api/v1/items", "/about"]


def access_log(chooser: random.Random, lines: int) -> list[str]:
    start = datetime(2026, 11, 27, 8, tzinfo=timezone.utc)
    out = []
    for _ in range(lines):
        when = start + timedelta(seconds=chooser.randint(0, 3 * 3600))
        path = chooser.choices(PATHS, weights=[30, 20, 10, 8, 5, 1])[0]
        query = f"?q={chooser.randint(1, 9)}" if path == "/search" else ""
        status = chooser.choice(["200", "200", "200", "304", "404", "500"])
        size = chooser.choice(["-", str(chooser.randint(100, 90000))])
        out.append(
            f"192.0.2.{chooser.randint(1, 5)} - - [{when:%d/%b/%Y:%H:%M:%S %z}] "
            f'"GET {path}{query} HTTP/1.1" {status} {size} "-" "Mozilla/5.0"'
        )
    out.insert(lines // 2, "GET / HTTP/1.1 (a truncated line)")
    return out


def main() -> None:
    chooser = random.Random(2026)
    DATA.mkdir(exist_ok=True)
    (DATA / "access.log").write_text("\n".join(access_log(chooser, 400)) + "\n")
    with open(DATA / "customers.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["customer_id", "name", "country"])
        for number in range(1, 9):
            writer.writerow([number, f"Customer {number}, Ltd", chooser.choice(["FR", "DE", "JP"])])
    with open(DATA / "orders.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["order_id", "customer_id", "amount"])
        for number in range(1, 21):
            amount = f"{chooser.uniform(5, 300):.2f}"
            writer.writerow([f"o{number:03d}", chooser.randint(1, 10), amount])
    with open(DATA / "requests.jsonl", "w") as file:
        for _ in range(2000):
            endpoint = chooser.choice(["/api/items", "/login", "/static/app.js"])
            ms = chooser.lognormvariate(1 if endpoint.startswith("/static") else 3.5, 0.7)
            file.write(json.dumps({"endpoint": endpoint, "ms": round(ms, 3)}) + "\n")
    with open(DATA / "scores.tsv", "w") as file:
        for number in range(12):
            file.write(f"player{number}\t{chooser.randint(0, 5000)}\n")


if __name__ == "__main__":
    main()
