"""Benchmark: import a generated CSV of 100,000 valid CNPJs and print rows per second.

    .venv/bin/python bench/import_companies.py [--rows 100000] [--batch-size 5000]

Uses DATABASE_URL when set; otherwise starts a throwaway PostgreSQL (scripts/services.py) and
stops it afterwards. About one CNPJ in ten is alphanumeric. The import runs twice: the second
run finds every CNPJ already stored (the "safe to run twice" path).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CITIES = [("São Paulo", "SP"), ("Rio de Janeiro", "RJ"), ("Belo Horizonte", "MG"), ("Curitiba", "PR"),
          ("Porto Alegre", "RS"), ("Salvador", "BA"), ("Recife", "PE"), ("Brasília", "DF")]
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def generate_csv(path: Path, rows: int, seed: int = 2026) -> None:
    from stdnum.br.cnpj import calc_check_digits

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
            base = f"{root}{rng.choice(['0001', '0002', '0003']) }"
            if base in seen:
                continue
            seen.add(base)
            number = base + calc_check_digits(base)
            city, state = rng.choice(CITIES)
            formatted = rng.random() < 0.5
            cnpj = f"{number[:2]}.{number[2:5]}.{number[5:8]}/{number[8:12]}-{number[12:]}" if formatted else number
            writer.writerow([cnpj, f"Empresa {len(seen)} Ltda", f"Marca {len(seen)}", city, state])


def run_import(path: Path, batch_size: int) -> tuple[float, str]:
    from django.core.management import call_command

    output = io.StringIO()
    started = time.perf_counter()
    with redirect_stdout(output):
        call_command("import_companies", str(path), batch_size=batch_size, stdout=output)
    return time.perf_counter() - started, output.getvalue().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()

    server = None
    if not os.environ.get("DATABASE_URL"):
        from scripts.services import PostgresServer

        server = PostgresServer.start()
        os.environ["DATABASE_URL"] = server.url
    os.environ.setdefault("ENVIRONMENT", "TEST")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", database="default", verbosity=0)
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "companies.csv"
            started = time.perf_counter()
            generate_csv(path, args.rows)
            print(f"generated {args.rows} rows in {time.perf_counter() - started:.2f}s ({path.stat().st_size:,} bytes)")
            for label in ("first run (all new)", "second run (all stored)"):
                elapsed, summary = run_import(path, args.batch_size)
                print(f"{label}: {args.rows / elapsed:,.0f} rows/s ({elapsed:.2f}s) | {summary}")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
