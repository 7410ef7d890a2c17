"""The enrichment backlog end to end: real Celery workers, the Redis broker, PostgreSQL, and the
fake upstreams over HTTP enforcing rate limits of their own."""

from __future__ import annotations

import io
import json
import time
from unittest.mock import ANY

import httpx
import pytest
from django.core.management import call_command
from stdnum.br import cnpj as stdnum_cnpj

from companies.models import Company, EnrichmentStatus
from integrations.cnpj.chain import registry_capacity_wait
from integrations.fake import FakeServer
from integrations.fake.companies import trigger_cnpj
from integrations.guard import provider_guard
from integrations.testing import forget_shared_state
from tasks.testing import CeleryProcess, process_env, purge_queue

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def fake_upstreams():
    server = FakeServer(slow_seconds=3, retry_after=1).start()
    yield server
    server.stop()


@pytest.fixture
def stack(transactional_db, fake_upstreams, settings, tmp_path):
    """start(rates={...}, workers=1): the fake's limits, the same limits in every process, and
    running workers. Yields the function; stops everything after the test."""
    processes: list[CeleryProcess] = []
    fake_upstreams.state.reset()
    fake_upstreams.state.set_rates({"brasilapi": None, "receitaws": None, "cnpja": None, "pipefy": None})
    forget_shared_state()
    purge_queue()

    def start(*, rates: dict[str, tuple[int, int]], workers: int = 1, local: dict[str, str] | None = None):
        fake_upstreams.state.set_rates(rates)
        local = local or {name: f"{count} per {seconds} seconds" for name, (count, seconds) in rates.items()}
        settings.PROVIDER_RATES = {**dict.fromkeys(("brasilapi", "receitaws", "cnpja", "pipefy"), ""), **local}
        env = process_env(
            settings,
            fake_upstreams,
            BACKLOG_DRAINERS=str(workers),
            **{f"{name.upper()}_RATE": rate for name, rate in settings.PROVIDER_RATES.items()},
        )
        for number in range(workers):
            worker = CeleryProcess(env, tmp_path, name=f"w{number}")
            worker.start()
            processes.append(worker)
        return processes

    yield start
    for process in processes:
        process.stop()
    purge_queue()
    forget_shared_state()


def _cnpj(n: int) -> str:
    base = f"{n:08d}0001"
    return base + stdnum_cnpj.calc_check_digits(base)


def _import(tmp_path, cnpjs, *options):
    path = tmp_path / "companies.csv"
    path.write_text("cnpj\n" + "".join(f"{number}\n" for number in cnpjs))
    call_command("import_companies", str(path), *options, workers=1)


def _statuses() -> dict[str, str]:
    return dict(Company.objects.values_list("cnpj", "enrichment_status"))


def _wait_until_none_pending(processes, timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = _statuses()
        if EnrichmentStatus.PENDING not in statuses.values():
            return statuses
        time.sleep(0.25)
    pending = sum(status == EnrichmentStatus.PENDING for status in _statuses().values())
    raise AssertionError(f"{pending} companies still pending\n" + "\n".join(p.tail(30) for p in processes))


def _stats(fake) -> dict:
    return httpx.get(f"{fake.url}/_fake/stats").json()


def test_429_at_the_first_provider_and_the_second_over_its_limit_ends_ok_never_not_found(
    api, stack, fake_upstreams
):
    workers = stack(rates={"receitaws": (1, 60)})
    provider_guard("receitaws").call(lambda: None)  # another lookup used ReceitaWS's minute
    number = _cnpj(4242)
    fake_upstreams.state.script(number, "brasilapi", "rate_limited")  # 429, Retry-After: 1
    fake_upstreams.state.script(number, "cnpja", "not_found")  # CNPJa does not know it (yet)
    assert api.post("/api/companies/", {"cnpj": number}, format="json").status_code == 201
    seen = []
    deadline = time.monotonic() + 30
    while (status := Company.objects.get(cnpj=number).enrichment_status) != EnrichmentStatus.OK:
        seen.append(status)
        assert time.monotonic() < deadline, workers[0].tail()
        time.sleep(0.05)
    assert EnrichmentStatus.NOT_FOUND not in seen and EnrichmentStatus.FAILED not in seen
    asked = [(r["provider"], r["outcome"]) for r in fake_upstreams.state.requests if r["cnpj"] == number]
    assert asked[:2] == [("brasilapi", "rate_limited"), ("cnpja", "not_found")]  # ReceitaWS not asked
    assert asked[-1] == ("brasilapi", "found")
    assert Company.objects.get(cnpj=number).enrichment_attempts == 0  # waits spend no retry


def test_200_companies_with_every_provider_rate_limited_all_end_ok_once(stack, fake_upstreams, tmp_path):
    # CNPJa's shared limit is set above what the fake allows, so its 429s happen and are obeyed.
    rates = {"brasilapi": (40, 5), "receitaws": (20, 5), "cnpja": (10, 5)}
    local = {"brasilapi": "40 per 5 seconds", "receitaws": "20 per 5 seconds", "cnpja": "15 per 5 seconds"}
    workers = stack(rates=rates, workers=2, local=local)
    cnpjs = [_cnpj(5000 + n) for n in range(200)]
    _import(tmp_path, cnpjs)
    statuses = _wait_until_none_pending(workers, timeout=90)
    assert set(statuses.values()) == {EnrichmentStatus.OK}
    stats = _stats(fake_upstreams)
    assert stats["duplicate_found"] == 0 and stats["found_per_cnpj_max"] == 1
    assert sum(p["found"] for p in stats["by_provider"].values()) == 200
    # Each 429 pauses that provider for every worker: a few per run, not one per lookup.
    assert sum(p["rate_limited"] for p in stats["by_provider"].values()) <= 12
    assert Company.objects.filter(enrichment_attempts__gt=0).count() == 0


def test_worker_killed_while_companies_wait_loses_nothing_and_duplicates_nothing(stack, fake_upstreams, tmp_path):
    rates = {"brasilapi": (4, 2), "receitaws": (4, 2), "cnpja": (4, 2)}
    (worker,) = stack(rates=rates)
    cnpjs = [_cnpj(6000 + n) for n in range(30)]
    _import(tmp_path, cnpjs)
    deadline = time.monotonic() + 20
    while not (Company.objects.filter(enrichment_status=EnrichmentStatus.OK).exists() and registry_capacity_wait() > 1):
        assert time.monotonic() < deadline, worker.tail()
        time.sleep(0.02)
    time.sleep(0.2)  # every provider's capacity is used: the drainer is waiting, nothing is in flight
    worker.kill()
    done_before = Company.objects.filter(enrichment_status=EnrichmentStatus.OK).count()
    assert 0 < done_before < len(cnpjs)
    worker.start()
    statuses = _wait_until_none_pending([worker], timeout=60)
    assert set(statuses.values()) == {EnrichmentStatus.OK}
    assert _stats(fake_upstreams)["duplicate_found"] == 0


def test_unknown_cnpj_is_not_found_only_after_every_provider_answered(api, stack, fake_upstreams):
    (worker,) = stack(rates={"cnpja": (1, 3)})
    provider_guard("cnpja").call(lambda: None)  # CNPJa's capacity is used for the next 3 seconds
    number = trigger_cnpj("404")
    assert api.post("/api/companies/", {"cnpj": number}, format="json").status_code == 201
    deadline = time.monotonic() + 30
    while (company := Company.objects.get(cnpj=number)).enrichment_status == EnrichmentStatus.PENDING:
        assert time.monotonic() < deadline, worker.tail()
        time.sleep(0.05)
    assert company.enrichment_status == EnrichmentStatus.NOT_FOUND
    asked = [r["provider"] for r in fake_upstreams.state.requests if r["cnpj"] == number]
    assert "cnpja" in asked and asked[:2] == ["brasilapi", "receitaws"]


def test_no_enrich_import_then_refresh_companies_enriches_every_company(stack, fake_upstreams, tmp_path):
    workers = stack(rates={}, workers=1)
    cnpjs = [_cnpj(7000 + n) for n in range(20)] + [trigger_cnpj("404")]
    _import(tmp_path, cnpjs, "--no-enrich")
    time.sleep(1)
    assert set(_statuses().values()) == {EnrichmentStatus.PENDING}  # nothing was queued
    call_command("refresh_companies")
    statuses = _wait_until_none_pending(workers, timeout=30)
    assert statuses.pop(trigger_cnpj("404")) == EnrichmentStatus.NOT_FOUND
    assert set(statuses.values()) == {EnrichmentStatus.OK}


def test_enrichment_figures_follow_the_backlog(api, stack, fake_upstreams, tmp_path):
    stack(rates={"brasilapi": (3, 60), "receitaws": (2, 60), "cnpja": (1, 60)})
    _import(tmp_path, [_cnpj(8000 + n) for n in range(10)])
    deadline = time.monotonic() + 20
    while (figures := api.get("/api/enrichment/").json())["ok"] < 6:
        assert time.monotonic() < deadline, figures
        time.sleep(0.2)
    time.sleep(0.5)
    figures = api.get("/api/enrichment/").json()
    assert (figures["ok"], figures["pending"], figures["queued"] + figures["in_progress"]) == (6, 4, 4)
    assert {p["used"] for p in figures["providers"].values()} == {1, 2, 3}  # every minute used up
    assert figures["rate_per_minute"] == 6 and figures["eta_seconds"] == 40  # 4 left at 6 a minute
    call_command("enrichment_status", "--json", stdout=(out := io.StringIO()))
    assert json.loads(out.getvalue()) == {**api.get("/api/enrichment/").json(), "providers": ANY}
