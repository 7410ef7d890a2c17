"""Benchmark: import generated books into MongoDB, then measure the list and retrieve endpoints.

    .venv/bin/python bench/books.py [--count 100000] [--requests 10] [--retrievals 200]

Starts a throwaway secantusdb (scripts/services.py) and a temporary SQLite file for the SQL side
(API keys), runs `manage.py import_books` on a generated CSV (and again, the "safe to run twice"
path), then calls /api/books/ and /api/books/{id}/ in-process through DRF's APIClient with an
API key and prints requests per second and mean/p50/p99 latency. Numbers are for this machine and
secantusdb; a real MongoDB is faster on writes.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST = ["Ana", "Bruno", "Clara", "Daniel", "Elena", "Felipe", "Grace", "Hugo", "Iris", "João", "Karen", "Luís"]
LAST = ["Silva", "Souza", "Costa", "Herbert", "Austen", "Lem", "Gibson", "Le Guin", "Okafor", "Tanaka"]
WORDS = ["shadow", "river", "empire", "garden", "machine", "winter", "silence", "harbor", "atlas", "ember",
         "orbit", "letters", "city", "glass", "storm", "memory", "north", "signal", "forest", "echo"]
TAGS = ["sf", "fantasy", "novel", "history", "programming", "poetry", "essay", "crime", "classic", "children"]
LANGUAGES = ["en", "en", "en", "pt", "es", "fr", "de"]


def isbn13(serial: int) -> str:
    from stdnum import ean

    body = f"978{serial:09d}"
    return body + ean.calc_check_digit(body)


def generate_csv(path: Path, count: int, seed: int = 2026) -> None:
    rng = random.Random(seed)
    serials = rng.sample(range(10**9), count)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "authors", "isbn", "publisher", "published_date", "language", "page_count", "tags"])
        for serial in serials:
            title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4))).capitalize()
            authors = "; ".join(f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(1, 3)))
            year = rng.randint(1900, 2025)
            published = rng.choice([f"{year}", f"{year}-{rng.randint(1, 12):02d}",
                                    f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"])
            tags = "; ".join(rng.sample(TAGS, rng.randint(0, 3)))
            writer.writerow([title, authors, isbn13(serial), "Bench House", published, rng.choice(LANGUAGES),
                             rng.randint(40, 900), tags])


def timed_import(path: Path) -> tuple[float, str]:
    from django.core.management import call_command

    output = io.StringIO()
    started = time.perf_counter()
    call_command("import_books", str(path), stdout=output, stderr=io.StringIO())
    return time.perf_counter() - started, output.getvalue().strip()


def measure(client, urls: list[str]) -> dict:
    latencies = []
    started = time.perf_counter()
    for url in urls:
        began = time.perf_counter()
        response = client.get(url)
        latencies.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}: {response.content[:200]!r}")
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(urls),
        "rps": len(urls) / elapsed,
        "mean": statistics.fmean(latencies) * 1000,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def measure_pages(client, url: str, pages: int) -> dict:
    """Follow `next` from `url` for `pages` pages, timing each page after the first."""
    urls = []
    for _ in range(pages + 1):
        body = client.get(url).json()
        url = body["next"]
        if url is None:
            break
        urls.append(url)
    return measure(client, urls)


def report(name: str, numbers: dict) -> None:
    print(
        f"{name:<34} {numbers['requests']:>5} requests  {numbers['rps']:>8.1f} req/s  "
        f"mean {numbers['mean']:6.1f} ms  p50 {numbers['p50']:6.1f} ms  p99 {numbers['p99']:6.1f} ms"
    )


def run(count: int, requests: int, retrievals: int, workdir: Path) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("migrate", database="mongo", verbosity=0)

    from rest_framework.test import APIClient

    from access.services import api_key_create
    from books.models import Book

    path = workdir / "books.csv"
    started = time.perf_counter()
    generate_csv(path, count)
    print(f"generated {count:,} rows in {time.perf_counter() - started:.1f} s ({path.stat().st_size / 1e6:.1f} MB)")

    elapsed, summary = timed_import(path)
    print(f"import (new books)      {count / elapsed:>10,.0f} rows/s  ({elapsed:.1f} s)  {summary}")
    elapsed, summary = timed_import(path)
    print(f"import again (no change){count / elapsed:>10,.0f} rows/s  ({elapsed:.1f} s)  {summary}")

    _, raw_key = api_key_create(name="bench")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    rng = random.Random(7)
    ids = [str(pk) for pk in Book.objects.values_list("pk", flat=True)[:5000]]
    authors = [f"{first} {last}" for first in FIRST for last in LAST]

    started = time.perf_counter()
    client.get("/api/books/")  # warm up (connections, the first query)
    print(f"first list (cold) {1000 * (time.perf_counter() - started):.0f} ms")
    report("list, first page", measure(client, ["/api/books/"] * requests))
    report("list, next pages (cursor)", measure_pages(client, "/api/books/", requests))
    report("list, title order, next pages", measure_pages(client, "/api/books/?ordering=title", requests))
    report("list, author filter", measure(client, [f"/api/books/?author={rng.choice(authors)}"
                                                   for _ in range(requests)]))
    report("list, tag + language + ordering", measure(
        client, [f"/api/books/?tag={rng.choice(TAGS)}&language=pt&ordering=-published_date"
                 for _ in range(requests)]))
    report("list, search", measure(client, [f"/api/books/?search={rng.choice(WORDS)}" for _ in range(requests)]))
    report("retrieve", measure(client, [f"/api/books/{rng.choice(ids)}/" for _ in range(retrievals)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="books to generate and import")
    parser.add_argument("--requests", type=int, default=10, help="requests per list measurement")
    parser.add_argument("--retrievals", type=int, default=200, help="requests for the retrieve measurement")
    args = parser.parse_args()

    from scripts.services import MongoServer

    workdir = Path(tempfile.mkdtemp(prefix="bench-books-"))
    mongo = MongoServer.start()
    os.environ.update(
        {
            "ENVIRONMENT": "TEST",
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "MONGODB_URI": mongo.url,
            "MONGODB_NAME": "bench_books",
            "DATABASE_URL": f"sqlite:///{workdir / 'default.sqlite3'}",
            "REDIS_URL": "",
            "LOG_LEVEL": "WARNING",
            "ALLOWED_HOSTS": "testserver,localhost",
        }
    )
    print(f"secantusdb on {mongo.url}; working files in {workdir}; load average {os.getloadavg()}")
    try:
        run(args.count, args.requests, args.retrievals, workdir)
    finally:
        mongo.stop()
        for child in workdir.iterdir():
            child.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
