"""Enrichment drain: how fast two Celery workers clear a backlog of pending companies at the
providers' combined limit, and whether they do it without 429s, duplicate lookups or wrong outcomes.

Starts throwaway PostgreSQL and Redis (scripts/services.py; Redis is cache and broker), the fake
upstreams enforcing 1,200, 600 and 300 lookups a minute (BrasilAPI, ReceitaWS, CNPJá; 429 with
Retry-After beyond), counted in 10 s windows (200, 100 and 50 per 10 s) so that 2,000 companies
take about a minute and cross several windows' edges, and two `celery -A config worker
--pool=solo --concurrency=1` processes on PRODUCTION settings with the same rates
(`BRASILAPI_RATE="200 per 10 seconds"`, ...), BACKLOG_DRAINERS=2 and the Pipefy auto-push off.
Then `manage.py import_companies` loads 2,000 companies with valid
CNPJs, 20 of them the fake's "unknown everywhere" trigger (truth: not_found; the others: ok).

Measured from the import's end (or the first lookup the fake received, if that came first) until
no company is pending or due, polling PostgreSQL every 0.2 s and giving up after `timeout`
seconds. Reported: companies per minute as a ratio to the combined limit (2,100 a minute), and,
stricter, the shortest possible drain (the lookups needed, unknown CNPJs asked everywhere, less
the first window's allowance, at the combined rate) over the measured one; the 429s the fake
sent (its /_fake/stats) and, per provider, the most 429s inside any one rate window (a window
slid over the 429s' arrival times in /_fake/requests); duplicate successful lookups
(`duplicate_found`); companies whose final status differs from the truth; and where the
CPU went (workers, PostgreSQL, Redis, the fake, other processes, the hypervisor), since on a shared
machine the workers' share of it decides the pace. Everything listens on 127.0.0.1 and is stopped
at the end; worker logs and every lookup the fake received are written to bench/output/.

    .venv/bin/python bench/drain.py [--companies 2000] [--not-found 20] [--timeout 240]
    .venv/bin/python bench/run.py --only drain          # the same, as part of `make bench`
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.environment import production_env, stop_all  # noqa: E402
from bench.import_companies import postgres_cpu  # noqa: E402
from scripts.services import PostgresServer, RedisServer, free_port, wait_for_port  # noqa: E402

PYTHON = sys.executable
OUTPUT = ROOT / "bench" / "output"
# Lookups per window of seconds, at the fake and in the project's settings alike.
RATES = {"brasilapi": (200, 10), "receitaws": (100, 10), "cnpja": (50, 10)}
COMBINED_PER_MINUTE = sum(n * 60 / seconds for n, seconds in RATES.values())
WORKERS = 2
TARGETS = {"ratio": 0.9, "duplicates": 0, "wrong": 0, "max_429_per_window": 1}
# CNPJs whose first three digits make the fake misbehave (integrations/fake/companies.py).
TRIGGER_PREFIXES = ("404", "429", "500", "200", "408", "502")
TICKS = os.sysconf("SC_CLK_TCK")


def generate_csv(path: Path, rows: int, not_found: int, seed: int = 7) -> dict[str, str]:
    """Write the CSV; return {compact CNPJ: the outcome it should end with}."""
    from stdnum.br.cnpj import calc_check_digits

    from integrations.fake.companies import trigger_cnpj

    rng = random.Random(seed)
    truth = {trigger_cnpj("404", branch=f"{n + 1:04d}"): "not_found" for n in range(not_found)}
    while len(truth) < rows:
        base = f"{rng.randrange(1, 10**8):08d}" + rng.choice(["0001", "0002", "0003"])
        if base.startswith(TRIGGER_PREFIXES):
            continue
        truth.setdefault(base + calc_check_digits(base), "ok")
    numbers = list(truth)
    rng.shuffle(numbers)  # the unknown ones spread through the backlog, not first
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["cnpj", "legal_name", "city", "state"])
        for n, number in enumerate(numbers, 1):
            writer.writerow([number, f"Empresa {n} Ltda", "São Paulo", "SP"])
    return truth


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_cpu() -> tuple[float, float]:
    """(busy, stolen): CPU seconds the machine's cores were busy, and taken by the hypervisor."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4] - fields[7]) / TICKS, fields[7] / TICKS


def max_in_window(times: list[float], seconds: float) -> int:
    """The most of these moments inside any one span of `seconds` (a window slid over them)."""
    times, best, start = sorted(times), 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


class DrainBench:
    def __init__(self, *, companies: int = 2000, not_found: int = 20, timeout: float = 240):
        self.companies, self.not_found, self.timeout = companies, not_found, timeout
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-drain-"))
        self.servers, self.processes, self.workers = [], [], []

    # --- infrastructure ---------------------------------------------------------------------
    def start(self) -> None:
        postgres, redis = PostgresServer.start(), RedisServer.start()
        self.servers += [postgres, redis]
        port = free_port()
        rates = [arg for name, (n, s) in RATES.items() for arg in ("--rate", f"{name}={n}/{s}")]
        fake = subprocess.Popen(
            [PYTHON, "-m", "integrations.fake", "--host", "127.0.0.1", "--port", str(port), *rates],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.processes.append(fake)
        wait_for_port(port, process=fake, name="fake upstreams")
        self.fake_url = f"http://127.0.0.1:{port}"
        self.database_url = postgres.url
        self.env = production_env(
            self.workdir,
            database_url=postgres.url,
            redis_url=redis.url,
            BRASILAPI_URL=f"{self.fake_url}/brasilapi/api/cnpj/v1/",
            RECEITAWS_URL=f"{self.fake_url}/receitaws/v1/cnpj/",
            CNPJA_URL=f"{self.fake_url}/cnpja/office/",
            PIPEFY_URL=f"{self.fake_url}/pipefy/graphql",
            CNPJ_PROVIDERS=",".join(RATES),
            **{f"{name.upper()}_RATE": f"{n} per {s} seconds" for name, (n, s) in RATES.items()},
            BACKLOG_DRAINERS=str(WORKERS),
            PIPEFY_AUTO_PUSH="false",
        )

    def manage(self, *args: str) -> str:
        result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, text=True, capture_output=True)
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def worker_command(self, n: int) -> list[str]:
        return [PYTHON, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
                "--loglevel=INFO", f"--hostname=drain{n}@%h", "--without-gossip", "--without-mingle"]

    def start_workers(self, timeout: float = 60) -> None:
        for n in range(WORKERS):
            log = self.workdir / f"worker-{n}.log"
            with log.open("wb") as output:
                process = subprocess.Popen(
                    self.worker_command(n), cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT
                )
            self.processes.append(process)
            self.workers.append((process, log))
        # With LOG_LEVEL=WARNING the worker's "ready." line is not logged: ask the workers instead.
        names = {f"drain{n}@{platform.node()}" for n in range(WORKERS)}
        deadline = time.monotonic() + timeout
        while True:
            for process, log in self.workers:
                if process.poll() is not None:
                    raise RuntimeError(f"celery worker exited:\n{log.read_text(errors='replace')[-3000:]}")
            ping = subprocess.run(
                [PYTHON, "-m", "celery", "-A", "config", "inspect", "ping", "--timeout=1", "--json"],
                cwd=ROOT, env=self.env, text=True, capture_output=True,
            )
            answered = {name for line in ping.stdout.splitlines() if line.startswith("{")
                        for name in json.loads(line)}
            if names <= answered:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"celery workers did not answer a ping within {timeout}s: {ping.stdout[-500:]}")
            time.sleep(0.5)

    def stop(self) -> None:
        for number, (_, log) in enumerate(self.workers):
            if log.exists():
                OUTPUT.mkdir(exist_ok=True)
                shutil.copy(log, OUTPUT / f"drain-worker-{number}.log")
        stop_all(self.processes, self.servers)
        shutil.rmtree(self.workdir, ignore_errors=True)

    # --- measurement ------------------------------------------------------------------------
    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of what this bench runs (the import: this process's reaped children)."""
        postgres, redis = self.servers
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "workers": sum(cpu_seconds(process.pid) for process, _ in self.workers),
            "postgres": postgres_cpu(postgres.process.pid),
            "redis": cpu_seconds(redis.process.pid),
            "fake upstreams": cpu_seconds(self.processes[0].pid),
            "import": children.ru_utime + children.ru_stime,
        }

    def fake(self, path: str):
        import httpx

        return httpx.get(self.fake_url + path, timeout=30).json()

    def run(self) -> dict:
        import psycopg

        load_before = os.getloadavg()
        print("Enrichment drain: starting PostgreSQL, Redis, the fake upstreams and two workers...", flush=True)
        self.start()
        self.manage("migrate", "--noinput")
        self.start_workers()
        path = self.workdir / "companies.csv"
        truth = generate_csv(path, self.companies, self.not_found)
        cpu_before, machine_before = self.cpu(), machine_cpu()
        import_started = time.time()
        self.manage("import_companies", str(path))
        import_ended = time.time()
        print(f"  imported {len(truth):,} companies in {import_ended - import_started:.1f}s; draining...", flush=True)

        pending_sql = (
            "SELECT count(*) FROM companies_company "
            "WHERE enrichment_status = 'pending' OR enrichment_due_at IS NOT NULL"
        )
        progress, next_print = [], import_ended + 10
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            while True:
                now = time.time()
                pending = connection.execute(pending_sql).fetchone()[0]
                progress.append((now, pending))
                if pending == 0 or now - import_ended > self.timeout:
                    break
                if now >= next_print:
                    print(f"  {now - import_ended:5.0f}s after the import: {pending:,} pending", flush=True)
                    next_print += 10
                time.sleep(0.2)
            drained_at, left = progress[-1]
            rows = connection.execute("SELECT cnpj, enrichment_status FROM companies_company").fetchall()
        cpu = {name: seconds - cpu_before[name] for name, seconds in self.cpu().items()}
        busy, stolen = (after - before for after, before in zip(machine_cpu(), machine_before, strict=True))
        cpu["other processes"], cpu["stolen by the hypervisor"] = busy - sum(cpu.values()), stolen
        stats, requests = self.fake("/_fake/stats"), self.fake("/_fake/requests")["requests"]
        return self.result(
            truth=truth, rows=rows, stats=stats, requests=requests, progress=progress, left=left,
            import_started=import_started, import_ended=import_ended, drained_at=drained_at,
            worker_cpu=cpu, load=(load_before, os.getloadavg()),
        )

    def result(self, *, truth, rows, stats, requests, progress, left, import_started, import_ended,
               drained_at, worker_cpu, load) -> dict:
        lookups = [r for r in requests if r["provider"] in RATES]
        first_lookup = min((r["at"] for r in lookups), default=import_ended)
        started = min(import_ended, first_lookup)
        elapsed = drained_at - started
        done = len(truth) - left
        per_minute = done / elapsed * 60 if elapsed > 0 else 0.0
        # The physical limit: every company needs one lookup, an unknown one a lookup at each
        # provider; the first window's allowance is available at once, the rest comes at the
        # combined rate.
        unknown = sum(1 for want in truth.values() if want == "not_found")
        needed = len(truth) + unknown * (len(RATES) - 1)
        allowance = sum(n for n, _ in RATES.values())
        shortest = max(0.0, needed - allowance) / (COMBINED_PER_MINUTE / 60)
        status = dict(rows)
        outcomes = Counter((truth[cnpj], status.get(cnpj, "missing")) for cnpj in truth)
        # Finished with another status than the truth's (still pending: counted as left, not wrong).
        wrong = {f"{want} -> {got}": n for (want, got), n in outcomes.items() if got not in (want, "pending")}
        providers = {}
        for name, (_, seconds) in RATES.items():
            mine = [r for r in lookups if r["provider"] == name]
            throttled = [r["at"] for r in mine if r["status"] == 429]
            counts = stats["by_provider"][name]
            providers[name] = {
                **counts,
                "requests": len(mine),
                "in_first_window": sum(1 for r in mine if r["at"] < first_lookup + seconds and r["status"] != 429),
                "max_429_per_window": max_in_window(throttled, seconds),
                "first_429_s": round(min(throttled) - started, 1) if throttled else None,
            }
        return {
            "companies": len(truth),
            "import_seconds": import_ended - import_started,
            "first_lookup_after_import_s": first_lookup - import_ended,
            "elapsed_seconds": elapsed,
            "timed_out": left > 0,
            "left_pending": left,
            "per_minute": per_minute,
            "combined_limit_per_minute": COMBINED_PER_MINUTE,
            "ratio": per_minute / COMBINED_PER_MINUTE if not left else 0.0,
            "shortest_seconds": shortest,
            "packing": shortest / elapsed if elapsed > 0 and not left else 0.0,
            "rate_limited": sum(p["rate_limited"] for p in providers.values()),
            "max_429_per_window": max(p["max_429_per_window"] for p in providers.values()),
            "duplicate_found": stats["duplicate_found"],
            "found_per_cnpj_max": stats["found_per_cnpj_max"],
            "outcomes": {f"{want} -> {got}": n for (want, got), n in sorted(outcomes.items())},
            "wrong": wrong,
            "wrong_total": sum(wrong.values()),
            "providers": providers,
            "window_edge_crossed": elapsed > min(seconds for _, seconds in RATES.values()),
            "worker_cpu_ms_per_company": worker_cpu["workers"] / max(done, 1) * 1000,
            "cpu_seconds": {name: round(seconds, 1) for name, seconds in worker_cpu.items()},
            "progress": [(round(t - started, 1), n) for t, n in progress[:: max(1, len(progress) // 60)]],
            "load": load,
            "requests": [{k: r[k] for k in ("provider", "cnpj", "at", "status")} for r in lookups],
        }


def report(result: dict) -> str:
    def met(ok: bool) -> str:
        return "yes" if ok else "no"
    wrong = ", ".join(f"{n} {label}" for label, n in result["wrong"].items()) or "none"
    timed_out = " (gave up: timeout)" if result["timed_out"] else ""
    lines = [
        "| enrichment drain | value | target | met |",
        "| --- | ---: | --- | --- |",
        f"| companies drained | {result['companies'] - result['left_pending']:,} of {result['companies']:,} "
        f"in {result['elapsed_seconds']:.1f} s{timed_out} | | |",
        f"| companies per minute | {result['per_minute']:,.0f} | | |",
        f"| ratio to the combined limit ({result['combined_limit_per_minute']:,.0f}/min) | {result['ratio']:.2f} "
        f"| >= {TARGETS['ratio']} | {met(result['ratio'] >= TARGETS['ratio'] and not result['timed_out'])} |",
        f"| shortest possible drain over the measured one ({result['shortest_seconds']:.1f} s: the lookups "
        f"needed less the first window's allowance, at the combined rate) | {result['packing']:.2f} | | |",
        f"| 429s received (all providers) | {result['rate_limited']} | | |",
        f"| max 429s per provider per rate window | {result['max_429_per_window']} "
        f"| <= {TARGETS['max_429_per_window']} "
        f"| {met(result['max_429_per_window'] <= TARGETS['max_429_per_window'])} |",
        f"| duplicate successful lookups | {result['duplicate_found']} (most per CNPJ: "
        f"{result['found_per_cnpj_max']}) | {TARGETS['duplicates']} "
        f"| {met(result['duplicate_found'] <= TARGETS['duplicates'])} |",
        f"| wrong outcomes (not_found / failed / ok against the truth) | {result['wrong_total']} ({wrong}) "
        f"| {TARGETS['wrong']} | {met(result['wrong_total'] <= TARGETS['wrong'])} |",
        "",
        "| provider | limit | requests | found | not_found | 429 | error | served in the first window "
        "| max 429s in one window | first 429 at |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, p in result["providers"].items():
        n, seconds = RATES[name]
        first = f"{p['first_429_s']} s" if p["first_429_s"] is not None else ""
        lines.append(
            f"| {name} | {n}/{seconds}s | {p['requests']:,} | {p['found']:,} | {p['not_found']} | {p['rate_limited']} "
            f"| {p['error']} | {p['in_first_window']:,} | {p['max_429_per_window']} | {first} |"
        )
    if not result["window_edge_crossed"]:
        lines += ["", "The drain ended inside the providers' first rate window, so the pace at a window's edge "
                  "(where 429s come from) was not exercised; more companies (`--drain-companies 4000`) cross it."]
    (before, after) = result["load"]
    span = result["elapsed_seconds"] + result["import_seconds"]
    cores = span * (os.cpu_count() or 1)
    load = " / ".join(f"{a:.2f} {b:.2f} {c:.2f}" for a, b, c in (before, after))
    lines += [
        "",
        f"Import: {result['import_seconds']:.1f} s; first lookup {result['first_lookup_after_import_s']:+.1f} s "
        f"from its end. Outcomes (truth -> final): "
        + ", ".join(f"{label}: {n}" for label, n in result["outcomes"].items())
        + f". Worker CPU: {result['worker_cpu_ms_per_company']:.1f} ms per company. CPU seconds from the "
        f"import's start to the drain's end ({os.cpu_count()} cores x {span:.0f} s = {cores:.0f} s): "
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in result["cpu_seconds"].items())
        + f". {platform.node()}; load average at start / end: {load}.",
    ]
    return "\n".join(lines)


def run_drain(*, companies: int = 2000, not_found: int = 20, timeout: float = 240) -> dict | None:
    """Run the measurement, print its table and write bench/output/drain.{md,json}; None if it failed."""
    bench = DrainBench(companies=companies, not_found=not_found, timeout=timeout)
    try:
        result = bench.run()
    except Exception as exc:  # reported like a failed wrk measurement; the services still stop
        print(f"  enrichment drain: FAILED: {type(exc).__name__}: {str(exc)[:2000]}", flush=True)
        return None
    finally:
        bench.stop()
    table = report(result)
    print("\n" + table, flush=True)
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "drain.md").write_text(table + "\n")
    (OUTPUT / "drain.json").write_text(json.dumps({k: v for k, v in result.items() if k != "requests"}, indent=2))
    # Every lookup the fake received ({provider, cnpj, at, status}), for a closer look at a miss.
    (OUTPUT / "drain-requests.json").write_text(json.dumps(result["requests"]))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=2000)
    parser.add_argument("--not-found", type=int, default=20, help="of them, CNPJs no provider knows")
    parser.add_argument("--timeout", type=float, default=240, help="give up after this many seconds")
    args = parser.parse_args()
    result = run_drain(companies=args.companies, not_found=args.not_found, timeout=args.timeout)
    sys.exit(0 if result is not None else 1)


if __name__ == "__main__":
    main()
