"""The example jobs, each on real or realistic data, against a direct computation."""

from __future__ import annotations

import csv
import json
import random
import re
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import SAMPLE

import simplemr
from simplemr.examples.inverted_index import InvertedIndex
from simplemr.examples.join import OrdersWithCustomers, orders_with_customers
from simplemr.examples.latency_stats import LatencyStats
from simplemr.examples.log_analysis import LogReport
from simplemr.examples.ngrams import NGrams
from simplemr.examples.sort_lines import SortLines
from simplemr.examples.top_k import TopK

SAMPLE_FILES = sorted(SAMPLE.glob("*"))


def sample_lines() -> list[str]:
    return [line for path in SAMPLE_FILES for line in path.read_text().splitlines()]


def test_inverted_index_on_the_sample_text() -> None:
    job = InvertedIndex(min_length=4)
    result = job.run(job.files(SAMPLE_FILES), workers=2)
    expected: dict[str, set] = defaultdict(set)
    for path in SAMPLE_FILES:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for word in re.findall(r"[^\W\d_]+", line.lower()):
                if len(word) >= 4:
                    expected[word].add((str(path), number))
    assert [word for word, _ in result] == sorted(expected)
    assert {word: set(postings) for word, postings in result} == expected


def test_top_k_on_the_sample_text() -> None:
    counts = Counter(word.lower() for line in sample_lines() for word in line.split())
    expected = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:7]
    result = TopK(k=7).run(sample_lines(), workers=2, chunksize=20)
    assert result.results == expected
    assert result.counters["tasks.map"] > 2  # several map tasks each sent only its top 7


def test_ngrams_on_the_sample_text() -> None:
    expected: Counter = Counter()
    for line in sample_lines():
        words = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)*", line.lower())
        expected.update(" ".join(words[i : i + 3]) for i in range(len(words) - 2))
    result = NGrams(n=3, min_count=2).run(sample_lines(), workers=2)
    assert dict(result) == {gram: count for gram, count in expected.items() if count >= 2}
    assert result.counters["ngrams.distinct"] == len(expected)


def fake_log(path: Path, lines: int) -> dict:
    """Write combined-format lines (and a few broken ones); return the true figures."""
    chooser = random.Random(4)
    paths = ["/", "/index.html", "/search", "/static/app.js", "/api/v1/items", "/about"]
    start = datetime(2026, 11, 27, 8, tzinfo=timezone(timedelta(hours=1)))
    hits: Counter = Counter()
    statuses: Counter = Counter()
    sent: Counter = Counter()
    with open(path, "w") as file:
        for number in range(lines):
            if number % 97 == 0:
                file.write("GET / HTTP/1.1 (truncated)\n")
                continue
            client = f"192.0.2.{chooser.randint(1, 30)}"
            when = start + timedelta(seconds=chooser.randint(0, 4 * 3600))
            target = chooser.choices(paths, weights=[30, 20, 10, 8, 5, 1])[0]
            query = f"?q={chooser.randint(1, 9)}" if target == "/search" else ""
            status = chooser.choice(["200", "200", "200", "304", "404", "500"])
            size = chooser.choice(["-", str(chooser.randint(100, 90000))])
            file.write(
                f'{client} - - [{when:%d/%b/%Y:%H:%M:%S %z}] "GET {target}{query} HTTP/1.1" '
                f'{status} {size} "https://example.org/" "Mozilla/5.0 (X11; Linux x86_64)"\n'
            )
            hits[target] += 1
            statuses[(f"{when:%Y-%m-%dT%H}:00{when:%z}", status)] += 1
            sent[client] += 0 if size == "-" else int(size)
    return {"hits": hits, "statuses": statuses, "sent": sent, "broken": -(-lines // 97)}


def test_log_report_on_a_realistic_access_log(tmp_path: Path) -> None:
    truth = fake_log(tmp_path / "access.log", 5000)
    job = LogReport(top=3)
    result = job.run(job.files(tmp_path / "access.log"), workers=2)
    reports = {key: value for key, value in result}
    top = sorted(truth["hits"].items(), key=lambda item: (-item[1], item[0]))[:3]
    assert reports.pop(("path", "TOP")) == [[path, hits] for path, hits in top]
    assert {key[1:]: value for key, value in reports.items() if key[0] == "status"} == dict(
        truth["statuses"]
    )
    assert {key[1]: value for key, value in reports.items() if key[0] == "bytes"} == dict(
        truth["sent"]
    )
    assert result.counters["log.malformed"] == truth["broken"]


def test_join_of_orders_and_customers(tmp_path: Path) -> None:
    chooser = random.Random(2)
    customers = {
        str(n): (f"Customer {n}, Ltd", chooser.choice(["FR", "DE", "JP"])) for n in range(50)
    }
    with open(tmp_path / "customers.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["customer_id", "name", "country"])
        writer.writerows([key, *value] for key, value in customers.items())
    orders = [
        (f"o{n:05d}", str(chooser.randint(0, 59)), f"{chooser.uniform(1, 500):.2f}")
        for n in range(3000)
    ]
    with open(tmp_path / "orders.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["order_id", "customer_id", "amount"])
        writer.writerows(orders)
    job = OrdersWithCustomers()
    result = job.run(job.files(tmp_path), workers=2)
    helped = orders_with_customers(
        str(tmp_path / "orders.csv"), str(tmp_path / "customers.csv"), workers=2
    )
    expected = [
        (order, {"order_id": order, "customer_id": who, "amount": float(amount),
                 "name": customers[who][0], "country": customers[who][1]})
        for order, who, amount in orders
        if who in customers
    ]  # fmt: skip
    assert result.results == expected  # sorted by order id
    assert helped == expected  # the same, on simplemr.join
    assert result.counters["join.orphan_orders"] == len(orders) - len(expected)


def test_latency_percentiles_are_within_two_percent(tmp_path: Path) -> None:
    chooser = random.Random(3)
    samples: dict[str, list[float]] = {"/api": [], "/login": [], "/static": []}
    with open(tmp_path / "requests.jsonl", "w") as file:
        for _ in range(20_000):
            endpoint = chooser.choice(list(samples))
            ms = chooser.lognormvariate(3 if endpoint != "/static" else 1, 0.8)
            samples[endpoint].append(ms)
            file.write(json.dumps({"endpoint": endpoint, "ms": ms, "agent": "test"}) + "\n")
    job = LatencyStats()
    result = dict(job.run(job.files(tmp_path / "requests.jsonl"), workers=2, memory="1MB"))
    assert sorted(result) == sorted(samples)
    for endpoint, values in samples.items():
        stats = result[endpoint]
        assert stats["count"] == len(values)
        assert stats["mean"] == pytest.approx(statistics.fmean(values), abs=1e-3)
        ordered = sorted(values)
        for q in (50, 90, 99):
            true = ordered[int(q / 100 * (len(values) - 1))]
            assert stats[f"p{q}"] == pytest.approx(true, rel=0.02), (endpoint, q)


@pytest.mark.parametrize("numeric", [False, True])
def test_sort_lines_beyond_the_memory_budget(tmp_path: Path, numeric: bool) -> None:
    chooser = random.Random(5)
    lines = [
        f"row{n}\t{chooser.randint(0, 10**6)}\t{'x' * chooser.randint(0, 40)}"
        for n in range(30_000)
    ]
    (tmp_path / "data.tsv").write_text("\n".join(lines) + "\n")
    job = SortLines(field=2, numeric=numeric)
    result = job.run(job.files(tmp_path / "data.tsv"), workers=2, memory="256KB")

    def key(line: str) -> object:
        field = line.split("\t")[1]
        return float(field) if numeric else field

    assert [key(line) for _, line in result] == sorted(map(key, lines))
    assert sorted(line for _, line in result) == sorted(lines)
    assert result.counters["reduce.spilled_bytes"] > 0


def test_every_example_is_short_and_says_what_it_shows() -> None:
    folder = Path(simplemr.__file__).parent / "examples"
    for path in folder.glob("*.py"):
        if path.name in ("__init__.py", "wordcount.py"):
            continue
        text = path.read_text()
        assert len(text.splitlines()) < 80, path.name
        assert text.startswith('"""'), path.name
