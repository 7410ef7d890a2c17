"""Benchmark: import a generated CSV of 100,000 valid CNPJs and print rows per second.

    .venv/bin/python bench/import_companies.py [--rows 100000] [--batch-size 5000] [--workers 2]

Uses DATABASE_URL and REDIS_URL when set; otherwise starts a throwaway PostgreSQL and Redis
(scripts/services.py) and stops them afterwards. Redis is the task broker, as in `make bench`:
without one, tasks run eagerly and the enrichment queued per batch would run inside the import.

About one CNPJ in ten is alphanumeric and half are formatted. The import runs
twice: the second run finds every CNPJ already stored (the "safe to run twice" path).

Besides wall-clock rows/s it prints the CPU time per row spent in this process and, when it
started the server itself, in PostgreSQL: on a shared machine those say more than the wall clock.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CITIES = [("São Paulo", "SP"), ("Rio de Janeiro", "RJ"), ("Belo Horizonte", "MG"), ("Curitiba", "PR"),
          ("Porto Alegre", "RS"), ("Salvador", "BA"), ("Recife", "PE"), ("Brasília", "DF")]
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TICKS = os.sysconf("SC_CLK_TCK")


def generate_csv(path: Path, rows: int, seed: int = 2026) -> None:
    from stdnum.br.cnpj import calc_check_digits, format

    rng = random.Random(seed)
    seen = set()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["cnpj", "legal_name", "trade_name", "city", "state"])
        while len(seen) < rows:
            if rng.random() < 0.1:
                root = "".join(rng.choice(ALPHANUMERIC) for _ in range(8))
            else:
                root = f"{rng.randrange(1, 10**8):08d}"
            base = root + rng.choice(["0001", "0002", "0003"])
            if base in seen:
                continue
            seen.add(base)
            number = base + calc_check_digits(base)
            city, state = rng.choice(CITIES)
            cnpj = format(number) if rng.random() < 0.5 else number
            writer.writerow([cnpj, f"Empresa {len(seen)} Ltda", f"Marca {len(seen)}", city, state])


def _process_cpu(pid: int, *, reaped_children: bool = False) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime + ((cutime + cstime) if reaped_children else 0)) / TICKS


def _children(postmaster: int) -> set[int]:
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                children.add(int(entry.name))
        except (OSError, ValueError):
            continue
    return children


def postgres_cpu(postmaster: int) -> float:
    """CPU seconds of the server: the postmaster, its live backends and the ones that exited."""
    total = _process_cpu(postmaster, reaped_children=True)
    for child in _children(postmaster):
        try:
            total += _process_cpu(child)
        except (OSError, ValueError):
            continue
    return total


def wait_for_backends_to_exit(postmaster: int, before: set[int], timeout: float = 5.0) -> None:
    """The import's own connections close as it ends; their CPU time reaches the postmaster's
    count of exited children only once it has reaped them."""
    deadline = time.monotonic() + timeout
    while _children(postmaster) - before and time.monotonic() < deadline:
        time.sleep(0.05)


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_import(path: Path, rows: int, batch_size: int, workers: int, postmaster: int | None) -> str:
    from django.core.management import call_command

    output = io.StringIO()
    server_before = postgres_cpu(postmaster) if postmaster else 0.0
    backends = _children(postmaster) if postmaster else set()
    cpu_before, started = own_cpu(), time.perf_counter()
    call_command("import_companies", str(path), batch_size=batch_size, workers=workers, stdout=output)
    elapsed, cpu = time.perf_counter() - started, own_cpu() - cpu_before
    line = f"{rows / elapsed:,.0f} rows/s ({elapsed:.2f}s); CPU per row: python {cpu / rows * 1e6:.0f} us"
    if postmaster:
        wait_for_backends_to_exit(postmaster, backends)
        line += f", postgres {(postgres_cpu(postmaster) - server_before) / rows * 1e6:.0f} us"
    return f"{line}\n    {output.getvalue().strip()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    server = broker = None
    if not os.environ.get("DATABASE_URL"):
        from scripts.services import PostgresServer

        server = PostgresServer.start()
        os.environ["DATABASE_URL"] = server.url
    if not os.environ.get("REDIS_URL"):
        from scripts.services import RedisServer

        broker = RedisServer.start()
        os.environ["REDIS_URL"] = broker.url + "/0"
        os.environ["CELERY_BROKER_URL"] = broker.url + "/1"
    os.environ.setdefault("ENVIRONMENT", "TEST")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", database="default", verbosity=0)
        postmaster = server.process.pid if server else None
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "companies.csv"
            started = time.perf_counter()
            generate_csv(path, args.rows)
            size = path.stat().st_size
            print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.2f}s ({size:,} bytes)")
            print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}, workers: {args.workers}")
            for label in ("first run (all new)", "second run (all stored)"):
                print(f"{label}: {run_import(path, args.rows, args.batch_size, args.workers, postmaster)}")
    finally:
        for started_server in (server, broker):
            if started_server is not None:
                started_server.stop()


if __name__ == "__main__":
    main()
