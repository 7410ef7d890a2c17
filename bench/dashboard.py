"""Benchmark: how long the admin index (with its dashboard, config.dashboard) takes to render for a
signed-in staff user with 1,000,000 companies, with the figures' cache cold and warm; target 500 ms.

Starts throwaway PostgreSQL, Redis and secantusdb servers, loads the companies with
`manage.py import_companies` (then spreads them over registration statuses, enrichment outcomes and
the Pipefy states with one UPDATE, and ANALYZE), some books with `manage.py import_books` and
10,000 task results, and serves the app with gunicorn on PRODUCTION settings. "Cold": the
dashboard's cache entries are deleted from Redis before each request, so each one counts (or
estimates, past DASHBOARD_EXACT_COUNT_MS) every figure; then the same with the book figures kept
(secantusdb, the MongoDB stand-in, aggregates about 60 µs a document); "warm": the figures come
from the cache. Then each group of figures is timed alone.
Times are wall-clock from loopback, the whole response read.

    .venv/bin/python bench/dashboard.py [--companies 1000000] [--books 10000] [--rounds 7]
    .venv/bin/python bench/run.py --only dashboard      # the same, as part of `make bench`
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.books import generate_csv as generate_books_csv  # noqa: E402
from bench.environment import production_env, stop_all  # noqa: E402
from bench.import_companies import generate_csv as generate_companies_csv  # noqa: E402
from scripts.services import MongoServer, PostgresServer, RedisServer, free_port, wait_for_port  # noqa: E402

PYTHON = sys.executable
OUTPUT = ROOT / "bench" / "output"
TARGET_MS = 500
TASK_RESULTS = 10_000

SPREAD = """
UPDATE companies_company SET
  registration_status = (ARRAY['ATIVA','ATIVA','ATIVA','ATIVA','BAIXADA','INAPTA','SUSPENSA','NULA','UNKNOWN'])
                        [1 + id % 9],
  enrichment_status = (ARRAY['ok','ok','ok','ok','ok','ok','pending','failed','not_found','ok'])[1 + id % 10],
  enrichment_due_at = CASE WHEN id % 10 = 6 THEN now() END,
  pipefy_card_id = CASE WHEN id % 3 = 0 THEN 'card-' || id ELSE '' END,
  pipefy_error = CASE WHEN id % 3 <> 0 AND id % 101 = 0 THEN 'Pipe refused the card.' ELSE '' END,
  pipefy_due_at = CASE WHEN id % 3 <> 0 AND id % 101 = 1 THEN now() END
"""
TASKS = """
INSERT INTO django_celery_results_taskresult
  (task_id, task_name, status, date_created, date_done, content_type, content_encoding, result, meta, traceback)
SELECT 'bench-' || i, 'companies.enrich', CASE WHEN i %% 20 = 0 THEN 'FAILURE' ELSE 'SUCCESS' END,
       now() - (i || ' minutes')::interval, now() - (i || ' minutes')::interval,
       'application/json', 'utf-8', 'null', '{}', ''
FROM generate_series(1, %s) AS i
"""
SESSION = """
from django.contrib.auth import get_user_model
from django.test import Client
user = get_user_model().objects.create_superuser("bench-staff", "bench@example.com", "Bench-Staff-Passw0rd!")
client = Client(HTTP_HOST="localhost")
client.force_login(user)
print(client.cookies["sessionid"].value)
"""
# Where a cold view's time goes: each group of figures computed alone, best of three, in ms.
BREAKDOWN = """
import json, time
from config import dashboard
parts = {"companies": dashboard.company_figures, "tasks": dashboard.task_figures,
         "books": dashboard.book_figures, "provider states": dashboard.provider_states}
timings = {}
for name, compute in parts.items():
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        figures = compute()
        runs.append((time.perf_counter() - started) * 1000)
    timings[name] = round(min(runs))
    if name == "companies":
        timings["companies estimated"] = figures["estimated"]
from django.utils import timezone
started = time.perf_counter()
dashboard._companies_estimated(timezone.now())
timings["companies, estimates alone"] = round((time.perf_counter() - started) * 1000)
print(json.dumps(timings))
"""


class DashboardBench:
    def __init__(self, args):
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
        self.servers, self.processes = [], []

    def manage(self, *args, capture=False) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, text=True,
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout or ""

    def sql(self, query: str, params: tuple | None = None) -> None:
        import psycopg

        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as connection:
            connection.execute(query, params)

    def start(self):
        postgres, self.redis, mongo = PostgresServer.start(), RedisServer.start(), MongoServer.start()
        self.servers += [postgres, self.redis, mongo]
        self.env = production_env(
            self.workdir, database_url=postgres.url, redis_url=self.redis.url, MONGODB_URI=mongo.url,
            CNPJ_PROVIDERS="brasilapi",
        )
        self.manage("migrate", "--noinput")
        self.manage("migrate", "--database", "mongo", "--noinput")
        self.manage("collectstatic", "--noinput")

    def load(self):
        started = time.perf_counter()
        companies = self.workdir / "companies.csv"
        generate_companies_csv(companies, self.args.companies, seed=3)
        self.manage("import_companies", str(companies))
        companies.unlink()
        self.sql(SPREAD)
        self.sql("VACUUM ANALYZE companies_company")
        books = self.workdir / "books.csv"
        generate_books_csv(books, self.args.books)
        self.manage("import_books", str(books))
        self.sql(TASKS, (TASK_RESULTS,))
        print(f"  loaded {self.args.companies:,} companies, {self.args.books:,} books and {TASK_RESULTS:,} task "
              f"results in {time.perf_counter() - started:.0f}s", flush=True)

    def serve(self):
        self.port = free_port()
        env = {**self.env, "MS_HOST": "127.0.0.1", "MS_PORT": str(self.port), "WEB_CONCURRENCY": "2",
               "GUNICORN_MAX_REQUESTS": "0"}
        log = (self.workdir / "gunicorn.log").open("w")
        gunicorn = subprocess.Popen(
            [str(Path(PYTHON).with_name("gunicorn")), "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        self.processes.append(gunicorn)
        wait_for_port(self.port, process=gunicorn, name="gunicorn")
        self.session = self.manage("shell", "-c", SESSION, capture=True).strip().splitlines()[-1]

    def forget(self, *groups: str):
        import redis

        client = redis.Redis.from_url(self.env["REDIS_URL"])
        keys = [key for group in groups or ("*",) for key in client.scan_iter(match=f"*dashboard:*:{group}")]
        if keys:
            client.delete(*keys)

    def index(self, client) -> tuple[float, str]:
        started = time.perf_counter()
        response = client.get("/admin/")
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200 or 'id="dashboard"' not in response.text:
            raise RuntimeError(f"GET /admin/ answered {response.status_code}: {response.text[:500]}")
        return elapsed, response.text

    def measure(self) -> dict:
        import httpx

        cookies = {"sessionid": self.session}
        with httpx.Client(base_url=f"http://127.0.0.1:{self.port}", cookies=cookies, timeout=60) as client:
            for _ in range(4):  # each worker imports, connects and compiles its templates
                self.index(client)
            cold, estimated = [], []
            for _ in range(self.args.rounds):
                self.forget()
                elapsed, page = self.index(client)
                cold.append(elapsed)
                estimated.append("Estimated by PostgreSQL" in page)
            companies_cold = []
            for _ in range(self.args.rounds):
                self.forget("companies", "tasks")
                companies_cold.append(self.index(client)[0])
            warm = [self.index(client)[0] for _ in range(self.args.rounds * 5)]
        breakdown = json.loads(self.manage("shell", "-c", BREAKDOWN, capture=True).strip().splitlines()[-1])
        return {"cold": cold, "companies_cold": companies_cold, "warm": warm, "estimated": estimated,
                "breakdown": breakdown}

    def stop(self):
        stop_all(self.processes, self.servers)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def run(self) -> dict:
        print(f"Dashboard: admin index with {self.args.companies:,} companies", flush=True)
        self.start()
        self.load()
        self.serve()
        timings = self.measure()
        return report(self.args, timings)


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    return (f"median {statistics.median(ordered):.0f} ms, min {ordered[0]:.0f}, max {ordered[-1]:.0f} "
            f"({len(ordered)} requests)")


def report(args, timings: dict) -> dict:
    cold_median, warm_median = statistics.median(timings["cold"]), statistics.median(timings["warm"])
    source = "estimates" if all(timings["estimated"]) else (
        "exact" if not any(timings["estimated"]) else "exact and estimates")
    lines = [
        f"| admin index, {args.companies:,} companies | time | under {TARGET_MS} ms |",
        "| --- | --- | --- |",
        f"| cold cache (figures counted: {source}) | {_summary(timings['cold'])} | "
        f"{'yes' if cold_median < TARGET_MS else 'no'} |",
        f"| cold company and task figures, book figures cached | {_summary(timings['companies_cold'])} | "
        f"{'yes' if statistics.median(timings['companies_cold']) < TARGET_MS else 'no'} |",
        f"| warm cache | {_summary(timings['warm'])} | {'yes' if warm_median < TARGET_MS else 'no'} |",
        "",
        "Each group of figures computed alone (best of three): "
        + ", ".join(f"{name} {value}" + ("" if isinstance(value, bool) else " ms")
                    for name, value in timings["breakdown"].items()) + ".",
        "",
        f"Machine: {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average {' '.join(f'{value:.2f}' for value in os.getloadavg())}.",
    ]
    table = "\n".join(lines)
    print("\n" + table, flush=True)
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "dashboard.md").write_text(table + "\n")
    (OUTPUT / "dashboard.json").write_text(json.dumps({"companies": args.companies, **timings}, indent=2))
    return {"cold_median_ms": cold_median, "warm_median_ms": warm_median, "source": source}


def run_dashboard(*, companies: int, books: int, rounds: int) -> dict:
    bench = DashboardBench(argparse.Namespace(companies=companies, books=books, rounds=rounds))
    try:
        return bench.run()
    finally:
        bench.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=1_000_000)
    parser.add_argument("--books", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7, help="cold requests (warm: five times as many)")
    args = parser.parse_args()
    run_dashboard(companies=args.companies, books=args.books, rounds=args.rounds)


if __name__ == "__main__":
    main()
