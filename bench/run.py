"""`make bench`: HTTP benchmarks of the API against a reference view, then the enrichment drain.

Starts throwaway PostgreSQL, Redis and secantusdb servers and the fake upstream server, loads
1,000,000 companies and 100,000 books with the import commands (their rates are reported),
serves the app with gunicorn on PRODUCTION settings (plus bench/urls.py, which mounts the
ceiling and the naive peer), drives bounded load from loopback with wrk and prints a table of
requests/s, p50 and p99, each as a ratio to the ceiling measured just before it (so a change
in the machine's load during the run affects both sides of each ratio alike). Then the
enrichment drain (bench/drain.py, its own servers): two Celery workers clearing 2,000 pending
companies against rate-limited fake upstreams. Then the admin index with its dashboard
(bench/dashboard.py, its own servers, the same number of companies): cold and warm cache, against
500 ms. Everything is stopped at the end.

    .venv/bin/python bench/run.py [--companies 1000000] [--books 100000] [--duration 8]
        [--only http|drain|dashboard] [--drain-companies 2000] [--dashboard-books 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.books import generate_csv as generate_books_csv  # noqa: E402
from bench.dashboard import run_dashboard  # noqa: E402
from bench.drain import run_drain  # noqa: E402
from bench.environment import production_env, stop_all  # noqa: E402
from bench.export import run_export  # noqa: E402
from bench.import_companies import generate_csv as generate_companies_csv  # noqa: E402
from scripts.services import MongoServer, PostgresServer, RedisServer, free_port, wait_for_port  # noqa: E402

PYTHON = sys.executable
OUTPUT = ROOT / "bench" / "output"
SMALL_DATASET = 1_000
CEILING = "ceiling (JsonResponse, no DB)"


@dataclass
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


class Bench:
    def __init__(self, args):
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-"))
        self.servers = []
        self.processes = []
        self.results: dict[str, Result] = {}
        # The ceiling measured just before each measurement: its ratio is to that one, so a
        # change in the machine's load during the run moves both sides of the ratio alike.
        self.ceilings: list[Result] = []
        self.ceiling_for: dict[str, Result] = {}
        self.rates: dict[str, float] = {}

    # --- infrastructure ---------------------------------------------------------------------
    def start_services(self):
        postgres, redis, mongo = PostgresServer.start(), RedisServer.start(), MongoServer.start()
        self.servers += [postgres, redis, mongo]
        fake_port = free_port()
        fake = subprocess.Popen(
            [PYTHON, "-m", "integrations.fake", "--port", str(fake_port)], cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.processes.append(fake)
        wait_for_port(fake_port, process=fake, name="fake upstreams")
        fake_url = f"http://127.0.0.1:{fake_port}"
        # Per second: DRF keeps one timestamp per request in the window, read and written back on
        # every request, so a minute-long window at bench rates grows to tens of thousands.
        unlimited = "1000000/second"
        self.env = production_env(
            self.workdir,
            database_url=postgres.url,
            redis_url=redis.url,
            MONGODB_URI=mongo.url,
            BRASILAPI_URL=f"{fake_url}/brasilapi/api/cnpj/v1/",
            CNPJ_PROVIDERS="brasilapi",
            **{f"THROTTLE_RATE_{scope}": unlimited for scope in ("API_KEY", "USER", "ANON")},
        )

    def manage(self, *args, capture=False) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, text=True,
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout or ""

    def start_gunicorn(self):
        self.port = free_port()
        env = {
            **self.env,
            "MS_HOST": "127.0.0.1",
            "MS_PORT": str(self.port),
            "WEB_CONCURRENCY": str(self.args.workers),
            "GUNICORN_THREADS": str(self.args.threads),
            # No worker recycling during the run: at bench rates every worker reached the default
            # 10,000 requests every few measurements, and its replacement's start-up (imports,
            # checks) landed inside whichever measurement was running.
            "GUNICORN_MAX_REQUESTS": "0",
        }
        log = (self.workdir / "gunicorn.log").open("w")
        self.gunicorn = subprocess.Popen(
            [str(Path(PYTHON).with_name("gunicorn")), "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        self.processes.append(self.gunicorn)
        wait_for_port(self.port, process=self.gunicorn, name="gunicorn")
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self):
        stop_all(self.processes, self.servers)
        shutil.rmtree(self.workdir, ignore_errors=True)

    # --- data ---------------------------------------------------------------------------------
    def import_companies(self, rows: int, seed: int, label: str):
        path = self.workdir / f"companies-{seed}.csv"
        generate_companies_csv(path, rows, seed=seed)
        started = time.perf_counter()
        self.manage("import_companies", str(path))
        elapsed = time.perf_counter() - started
        self.rates[label] = rows / elapsed
        print(f"  {label}: {rows:,} rows in {elapsed:.1f}s = {rows / elapsed:,.0f} rows/s", flush=True)
        path.unlink()

    def import_books(self, rows: int):
        path = self.workdir / "books.csv"
        generate_books_csv(path, rows)
        started = time.perf_counter()
        self.manage("import_books", str(path))
        elapsed = time.perf_counter() - started
        self.rates["books import"] = rows / elapsed
        print(f"  books import: {rows:,} rows in {elapsed:.1f}s = {rows / elapsed:,.0f} rows/s", flush=True)

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.env["DATABASE_URL"]) as connection:
            return connection.execute(query, params).fetchall()

    def mongo_ids(self, limit: int) -> list[str]:
        import pymongo

        client = pymongo.MongoClient(self.env["MONGODB_URI"])
        try:
            names = client["catalogue"].list_collection_names()
            collection = next(name for name in names if name.endswith("book") and "historical" not in name)
            return [str(doc["_id"]) for doc in client["catalogue"][collection].find({}, {"_id": 1}).limit(limit)]
        finally:
            client.close()

    # --- load ---------------------------------------------------------------------------------
    def warm_up(self, paths: list[str], seconds: int = 2) -> None:
        """Unmeasured load, so every freshly started worker has imported and connected."""
        paths_file = self.workdir / "warm.txt"
        paths_file.write_text("\n".join(paths) + "\n")
        env = {**os.environ, "WRK_PATHS": str(paths_file), "WRK_API_KEY": self.api_key}
        subprocess.run(
            ["wrk", "-t", "2", "-c", str(self.args.connections), "-d", f"{seconds}s",
             "-s", str(ROOT / "bench" / "paths.lua"), self.base],
            env=env, capture_output=True, timeout=seconds + 60,
        )

    def wrk(self, name: str, paths: list[str], *, duration: float | None = None) -> Result | None:
        """One measurement, right after a measurement of the ceiling; a failed one is reported
        and the bench goes on to the next."""
        try:
            ceiling = self._wrk(CEILING, ["/bench/ceiling/"], duration=duration, record=False)
            result = self._wrk(name, paths, duration=duration)
        except Exception as exc:  # any failure of one measurement
            print(f"  {name}: FAILED: {type(exc).__name__}: {str(exc)[:300]}", flush=True)
            return None
        self.ceilings.append(ceiling)
        self.ceiling_for[name] = ceiling
        return result

    def _wrk(self, name: str, paths: list[str], *, duration: float | None = None, record: bool = True) -> Result:
        import httpx

        for path in paths[:3]:  # warm caches and connections, and fail loudly on a broken path
            response = httpx.get(self.base + path, headers={"X-API-Key": self.api_key}, timeout=120)
            if response.status_code != 200:
                raise RuntimeError(f"{name}: GET {path} answered {response.status_code}: {response.text[:300]}")
        paths_file = self.workdir / "paths.txt"
        paths_file.write_text("\n".join(paths) + "\n")
        seconds = duration or self.args.duration
        command = [
            "wrk", "-t", "2", "-c", str(self.args.connections), "-d", f"{round(seconds)}s", "--latency",
            "-s", str(ROOT / "bench" / "paths.lua"), self.base,
        ]
        env = {**os.environ, "WRK_PATHS": str(paths_file), "WRK_API_KEY": self.api_key}
        completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
        if "Requests/sec" not in completed.stdout:
            raise RuntimeError(f"{name}: wrk failed:\n{completed.stdout}\n{completed.stderr}")
        result = Result(name, *parse_wrk(completed.stdout))
        if record:
            self.results[name] = result
        print(
            f"  {name:<34} {result.requests_per_second:>9,.0f} req/s  p50 {result.p50_ms:>7.2f} ms"
            f"  p99 {result.p99_ms:>7.2f} ms  errors {result.errors}",
            flush=True,
        )
        return result

    def deep_cursor(self) -> str:
        total = self.sql("SELECT count(*) FROM companies_company")[0][0]
        cnpj, key = self.sql(
            "SELECT cnpj, id FROM companies_company ORDER BY cnpj, id OFFSET %s LIMIT 1", (int(total * 0.9),)
        )[0]
        position = {"o": "cnpj", "v": cnpj, "k": key, "b": False}
        # Signed as the list signs its own cursors (core.pagination), with the served app's key.
        code = (
            "from core.cursors import cursor_sign; from core.pagination import CURSOR_SALT; "
            "from companies.pagination import CompanyPagination as P; "
            f"print(cursor_sign({position!r}, salt=f'{{CURSOR_SALT}}:{{P.cursor_name}}:'))"
        )
        return self.manage("shell", "-c", code, capture=True).strip().splitlines()[-1]

    # --- the run ------------------------------------------------------------------------------
    def run(self):
        started = time.monotonic()
        self.load_before = os.getloadavg()
        print("Starting PostgreSQL, Redis, secantusdb and the fake upstreams...", flush=True)
        self.start_services()
        self.manage("migrate", "--noinput")
        self.manage("migrate", "--database", "mongo", "--noinput")
        self.manage("collectstatic", "--noinput")
        self.api_key = self.manage("create_api_key", "bench", capture=True).strip()

        print("Loading data:", flush=True)
        self.import_companies(SMALL_DATASET, seed=1, label="companies import (1,000)")
        self.start_gunicorn()
        print(f"gunicorn: {self.args.workers} workers x {self.args.threads} threads on {self.base}", flush=True)
        print("Load with 1,000 companies:", flush=True)
        self.warm_up(["/bench/ceiling/", "/api/companies/?page_size=50"])
        self.wrk("company list, 1,000 rows", ["/api/companies/?page_size=50"])

        self.import_companies(self.args.companies - SMALL_DATASET, seed=2, label="companies import (bulk)")
        self.import_books(self.args.books)
        self.manage("shell", "-c", "from django.core.cache import cache; cache.clear()")

        sample = [row[0] for row in self.sql("SELECT cnpj FROM companies_company ORDER BY random() LIMIT 50000")]
        hot = sample[0]
        book_ids = self.mongo_ids(5000)
        cursor = self.deep_cursor()
        print(f"Load with {self.args.companies:,} companies and {self.args.books:,} books:", flush=True)
        self.wrk("naive peer (stock ModelViewSet)", [f"/bench/naive/companies/{cnpj}/" for cnpj in sample[1:10001]])
        self.wrk("company retrieve, cache hit", [f"/api/companies/{hot}/"])
        self.wrk("company retrieve, cache miss", [f"/api/companies/{cnpj}/" for cnpj in sample[10001:]])
        self.wrk("company list, first page", ["/api/companies/?page_size=50"])
        self.wrk("company list, deep cursor", [f"/api/companies/?page_size=50&cursor={cursor}"])
        self.wrk(f"company list, {self.args.companies:,} rows", ["/api/companies/?page_size=50"])
        self.wrk("book retrieve", [f"/api/books/{book_id}/" for book_id in book_ids])
        self.wrk("book list", ["/api/books/?page_size=50"])
        self.wrk("registry lookup, cached", [f"/api/registry/{hot}/"])
        self.report(time.monotonic() - started)

    def report(self, elapsed: float):
        targets = {
            "company retrieve, cache hit": ("ratio", 0.6),
            "company retrieve, cache miss": ("ratio", 0.4),
            "company list, first page": ("ratio", 0.2),
        }
        lines = [
            "| measurement | req/s | p50 ms | p99 ms | ceiling just before, req/s | ratio to ceiling | target | met |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        ]
        rates = sorted(ceiling.requests_per_second for ceiling in self.ceilings)
        if rates:
            mean, median = sum(rates) / len(rates), rates[len(rates) // 2]
            lines.append(
                f"| {CEILING}, {len(rates)} runs | {mean:,.0f} (median {median:,.0f}, "
                f"{rates[0]:,.0f}-{rates[-1]:,.0f}) | | | | 1.00 | | |"
            )
        for name, result in self.results.items():
            ceiling = self.ceiling_for[name].requests_per_second
            ratio = result.requests_per_second / ceiling
            target, met = "", ""
            if name in targets:
                target = f">= {targets[name][1]}"
                met = "yes" if ratio >= targets[name][1] else "no"
            lines.append(
                f"| {name} | {result.requests_per_second:,.0f} | {result.p50_ms:.2f} | {result.p99_ms:.2f} "
                f"| {ceiling:,.0f} | {ratio:.2f} | {target} | {met} |"
            )

        def ratio(name: str) -> float:
            # Compared as ratios to their own ceilings, so a change of load between them cancels out.
            if name not in self.results:
                return float("nan")
            return self.results[name].requests_per_second / self.ceiling_for[name].requests_per_second

        first, deep = ratio("company list, first page"), ratio("company list, deep cursor")
        small, large = ratio("company list, 1,000 rows"), ratio(f"company list, {self.args.companies:,} rows")
        checks = [
            ("deep cursor within 15% of the first page", deep / first, abs(1 - deep / first) <= 0.15),
            (f"list at {self.args.companies:,} rows vs 1,000 rows", large / small, large / small >= 0.85),
            ("company import >= 25,000 rows/s", self.rates["companies import (bulk)"],
             self.rates["companies import (bulk)"] >= 25_000),
        ]
        lines += ["", "| check | value | met |", "| --- | ---: | --- |"]
        for label, value, met in checks:
            lines.append(f"| {label} | {value:,.2f} | {'yes' if met else 'no'} |")
        lines += ["", "| bulk import | rows/s |", "| --- | ---: |"]
        lines += [f"| {label} | {rate:,.0f} |" for label, rate in self.rates.items()]
        machine = f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}"
        load = " / ".join(f"{a:.2f} {b:.2f} {c:.2f}" for a, b, c in (self.load_before, os.getloadavg()))
        lines += [
            "",
            f"Machine: {machine}. Total bench time: {elapsed:.0f}s. "
            f"Load average (1, 5, 15 min) at start / end: {load}.",
        ]
        table = "\n".join(lines)
        print("\n" + table)
        OUTPUT.mkdir(exist_ok=True)
        (OUTPUT / "results.md").write_text(table + "\n")
        (OUTPUT / "results.json").write_text(
            json.dumps(
                {name: vars(result) | {"ceiling": vars(self.ceiling_for[name])}
                 for name, result in self.results.items()}
                | {"rates": self.rates},
                indent=2,
            )
        )


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * UNITS[unit]


def parse_wrk(output: str) -> tuple[float, float, float, int]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(group) for group in match.groups())
    return rps, p50, p99, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=1_000_000)
    parser.add_argument("--books", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of load per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--only",
        choices=("http", "drain", "export", "dashboard"),
        help="run only the HTTP benchmarks, the drain, the export or the admin dashboard",
    )
    parser.add_argument("--drain-companies", type=int, default=2000, help="pending companies (1%% unknown)")
    parser.add_argument("--drain-timeout", type=float, default=240, help="seconds before the drain gives up")
    parser.add_argument("--dashboard-books", type=int, default=10_000, help="books loaded for the dashboard bench")
    args = parser.parse_args()
    if args.only in (None, "http"):
        if not shutil.which("wrk"):
            sys.exit("wrk is not installed: apt-get install wrk (make bench installs it when run as root)")
        bench = Bench(args)
        try:
            bench.run()
        finally:
            bench.stop()
    drain = {"companies": args.drain_companies, "not_found": args.drain_companies // 100, "timeout": args.drain_timeout}
    failed = False
    if args.only in (None, "drain"):
        failed |= run_drain(**drain) is None
    if args.only in (None, "export"):
        failed |= run_export(companies=args.companies) is None
    if args.only in (None, "dashboard"):
        run_dashboard(companies=args.companies, books=args.dashboard_books, rounds=7)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
