"""Per-request CPU of one process serving the benchmark's paths one after another.

    .venv/bin/python bench/percall.py [--companies 30000] [--requests 600] [--rounds 3]

Starts the same throwaway servers as `make bench` with the same PRODUCTION settings
(`bench/settings.py`), loads companies with the import command, loads `config.wsgi` as gunicorn
does, then serves requests through Django's WSGI handler in this process (the test client: the
full middleware stack, no HTTP server). For each path it prints, best of the rounds, the CPU
time of this process per request, the wall time per request (which adds the waits for Redis and
PostgreSQL), and the ratio of the ceiling's CPU time to each. It is the quick before/after check
of a change; `make bench` remains the measurement of record. `--profile` adds a cProfile.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import Bench  # noqa: E402


def measure(client, paths: Iterator[str], headers: dict, requests: int, rounds: int) -> tuple[float, float]:
    """Best (CPU µs, wall µs) per request over `rounds` rounds of `requests` requests.

    `paths` is consumed, so a list of distinct paths (cache misses) gives every request its own.
    """
    for path in itertools.islice(paths, 3):
        response = client.get(path, **headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.content[:300]!r}")
    best_cpu = best_wall = float("inf")
    for _ in range(rounds):
        batch = list(itertools.islice(paths, requests))
        cpu, wall = time.process_time(), time.perf_counter()
        for path in batch:
            client.get(path, **headers)
        best_cpu = min(best_cpu, (time.process_time() - cpu) / requests * 1e6)
        best_wall = min(best_wall, (time.perf_counter() - wall) / requests * 1e6)
    return best_cpu, best_wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=30_000)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="measure only the paths whose name contains this")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the measured paths")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumulative)")
    parser.add_argument("--lines", type=int, default=25, help="cProfile lines to print")
    args = parser.parse_args()
    bench = Bench(argparse.Namespace(workers=1, threads=1, duration=1, connections=1))
    try:
        bench.start_services()
        bench.manage("migrate", "--noinput")
        bench.api_key = bench.manage("create_api_key", "bench", capture=True).strip()
        bench.import_companies(args.companies, seed=3, label="companies import")
        sample = [row[0] for row in bench.sql("SELECT cnpj FROM companies_company ORDER BY random()")]
        os.environ.update(bench.env)
        from django.test import Client

        import config.wsgi  # noqa: F401 (set up as gunicorn does: checks, then the start-up objects frozen)

        client = Client(SERVER_NAME="127.0.0.1")
        headers = {"HTTP_X_API_KEY": bench.api_key}
        hot = sample[0]
        third = len(sample) // 3
        cases = {
            "ceiling": ["/bench/ceiling/"],
            "naive peer": [f"/bench/naive/companies/{cnpj}/" for cnpj in sample[1:third]],
            "company retrieve, cache hit": [f"/api/companies/{hot}/"],
            "company retrieve, cache miss": [f"/api/companies/{cnpj}/" for cnpj in sample[third:]],  # each once
            "company list, first page": ["/api/companies/?page_size=50"],
        }
        results = {}
        for name, paths in cases.items():
            if args.only and args.only not in name and name != "ceiling":
                continue
            paths = itertools.cycle(paths)
            results[name] = measure(client, paths, headers, args.requests, args.rounds)
            if args.profile and name != "ceiling":
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.runcall(measure, client, paths, headers, args.requests, 1)
                print(f"\n--- {name}")
                pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.lines)
        ceiling_cpu = results["ceiling"][0]
        print(f"\n{'path':<32} {'CPU µs':>8} {'wall µs':>8} {'ceiling CPU / CPU':>18}")
        for name, (cpu, wall) in results.items():
            print(f"{name:<32} {cpu:>8.0f} {wall:>8.0f} {ceiling_cpu / cpu:>18.2f}")
    finally:
        bench.stop()


if __name__ == "__main__":
    main()
