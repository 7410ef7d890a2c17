"""Export benchmark: the companies change list as CSV from the admin, streamed by gunicorn.

Starts throwaway PostgreSQL and Redis (scripts/services.py), loads `--companies` companies with
`manage.py import_companies --no-enrich`, serves the app with gunicorn on PRODUCTION settings (one
sync worker, the default GUNICORN_TIMEOUT), signs a superuser in at the admin's login form, and
downloads `GET /admin/companies/company/export/?format=csv` (every company, then the list filtered
by UF) with httpx, counting the rows as they arrive. Reported: rows per second (target: 50,000 or
more for the whole list), time to the first byte, and the gunicorn worker's peak resident memory
(VmHWM) before and after, which stays flat when the rows are streamed rather than held.

    .venv/bin/python bench/export.py [--companies 1000000]
    .venv/bin/python bench/run.py --only export [--companies 1000000]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.environment import production_env, stop_all  # noqa: E402
from bench.import_companies import generate_csv  # noqa: E402
from scripts.services import PostgresServer, RedisServer, free_port, wait_for_port  # noqa: E402

PYTHON = sys.executable
OUTPUT = ROOT / "bench" / "output"
TARGET_ROWS_PER_SECOND = 50_000
EXPORT = "/admin/companies/company/export/"
PASSWORD = "bench-export-Passw0rd!"


class ExportBench:
    def __init__(self, companies: int):
        self.companies = companies
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-export-"))
        self.servers, self.processes = [], []

    def manage(self, *args: str, env: dict | None = None) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=env or self.env, text=True, capture_output=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def start(self) -> None:
        postgres, redis = PostgresServer.start(), RedisServer.start()
        self.servers += [postgres, redis]
        self.env = production_env(self.workdir, database_url=postgres.url, redis_url=redis.url)
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        path = self.workdir / "companies.csv"
        generate_csv(path, self.companies)
        started = time.perf_counter()
        self.manage("import_companies", str(path), "--no-enrich")
        print(f"  loaded {self.companies:,} companies in {time.perf_counter() - started:.1f}s", flush=True)
        path.unlink()
        self.manage(
            "createsuperuser", "--noinput", "--username", "bench", "--email", "bench@example.com",
            env={**self.env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
        )
        self.port = free_port()
        log = (self.workdir / "gunicorn.log").open("w")
        env = {**self.env, "MS_HOST": "127.0.0.1", "MS_PORT": str(self.port), "WEB_CONCURRENCY": "1"}
        self.gunicorn = subprocess.Popen(
            [str(Path(PYTHON).with_name("gunicorn")), "-c", "gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        self.processes.append(self.gunicorn)
        wait_for_port(self.port, process=self.gunicorn, name="gunicorn")
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_all(self.processes, self.servers)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def sign_in(self, client) -> dict[str, str]:
        """The admin's session cookie. PRODUCTION marks cookies Secure, which a cookie jar keeps
        off plain http, so they are carried by hand."""
        page = client.get(self.base + "/admin/login/")
        cookies = _cookies(page)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = client.post(
            self.base + "/admin/login/?next=/admin/",
            data={"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token, "next": "/admin/"},
            headers={"Cookie": _cookie_header(cookies)},
        )
        if response.status_code != 302:
            raise RuntimeError(f"sign-in failed: {response.status_code} {response.text[:300]}")
        return {**cookies, **_cookies(response)}

    def worker_peak_kb(self) -> int:
        """The gunicorn worker's peak resident memory (its only child; the arbiter forks it)."""
        children = Path(f"/proc/{self.gunicorn.pid}/task/{self.gunicorn.pid}/children").read_text().split()
        status = Path(f"/proc/{children[0]}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))

    def download(self, client, cookies, query: str) -> dict:
        started = time.perf_counter()
        first_byte = None
        rows, size = -1, 0  # the header row is not counted
        headers = {"Cookie": _cookie_header(cookies)}
        with client.stream("GET", f"{self.base}{EXPORT}?{query}", headers=headers) as response:
            if response.status_code != 200:
                raise RuntimeError(f"export answered {response.status_code}: {response.read()[:300]!r}")
            for chunk in response.iter_bytes():
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                rows += chunk.count(b"\n")
                size += len(chunk)
        elapsed = time.perf_counter() - started
        return {
            "query": query, "rows": rows, "bytes": size, "seconds": round(elapsed, 2),
            "first_byte_ms": round((first_byte or 0) * 1000, 1), "rows_per_second": round(rows / elapsed),
        }

    def run(self) -> dict:
        import httpx

        self.start()
        with httpx.Client(timeout=600, follow_redirects=False) as client:
            cookies = self.sign_in(client)
            self.download(client, cookies, "format=csv&state__exact=AC")  # warm: imports, connection
            memory_before = self.worker_peak_kb()
            whole = self.download(client, cookies, "format=csv")
            memory_after = self.worker_peak_kb()
            filtered = self.download(client, cookies, "format=csv&state__exact=SP&o=2")
        if whole["rows"] != self.companies:
            raise RuntimeError(f"the export had {whole['rows']:,} rows; {self.companies:,} were loaded")
        return {
            "companies": self.companies, "whole": whole, "filtered": filtered,
            "worker_peak_kb_before": memory_before, "worker_peak_kb_after": memory_after,
            "machine": f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}",
            "load": os.getloadavg(),
        }


def _cookies(response) -> dict[str, str]:
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def report(result: dict) -> str:
    whole, filtered = result["whole"], result["filtered"]
    met = "yes" if whole["rows_per_second"] >= TARGET_ROWS_PER_SECOND else "no"
    growth = (result["worker_peak_kb_after"] - result["worker_peak_kb_before"]) / 1024
    lines = [
        "| CSV export (admin, gunicorn) | rows | MB | seconds | first byte ms | rows/s | target | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        f"| every company | {whole['rows']:,} | {whole['bytes'] / 1e6:,.1f} | {whole['seconds']} "
        f"| {whole['first_byte_ms']} | {whole['rows_per_second']:,} | >= {TARGET_ROWS_PER_SECOND:,} | {met} |",
        f"| filtered (UF = SP), ordered by name | {filtered['rows']:,} | {filtered['bytes'] / 1e6:,.1f} "
        f"| {filtered['seconds']} | {filtered['first_byte_ms']} | {filtered['rows_per_second']:,} | | |",
        "",
        f"Worker peak memory: {result['worker_peak_kb_before'] / 1024:,.0f} MB before the whole export, "
        f"{result['worker_peak_kb_after'] / 1024:,.0f} MB after ({growth:+,.1f} MB). "
        f"Machine: {result['machine']}; load average {' '.join(f'{v:.2f}' for v in result['load'])}.",
    ]
    return "\n".join(lines)


def run_export(*, companies: int = 1_000_000) -> dict | None:
    """Run the measurement, print its table and write bench/output/export.{md,json}; None if it failed."""
    bench = ExportBench(companies)
    try:
        result = bench.run()
    except Exception as exc:  # reported like a failed measurement; the services still stop
        print(f"  CSV export: FAILED: {type(exc).__name__}: {str(exc)[:2000]}", flush=True)
        return None
    finally:
        bench.stop()
    table = report(result)
    print("\n" + table, flush=True)
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "export.md").write_text(table + "\n")
    (OUTPUT / "export.json").write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=1_000_000)
    args = parser.parse_args()
    sys.exit(0 if run_export(companies=args.companies) is not None else 1)


if __name__ == "__main__":
    main()
