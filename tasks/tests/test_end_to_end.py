"""End to end: the API, real Celery worker and beat processes, the Redis broker, PostgreSQL, and
the fake upstreams over HTTP. Workers are killed with SIGKILL, PostgreSQL is stopped mid-work,
task rows are stranded; nothing accepted is lost and nothing is done twice."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import httpx
import pytest
from django.db import close_old_connections
from django.utils import timezone
from django_celery_results.models import TaskResult
from stdnum.br import cnpj as stdnum_cnpj

from companies import backlog
from companies.models import Company, EnrichmentStatus
from integrations.fake import FakeServer
from integrations.fake.companies import trigger_cnpj
from integrations.testing import forget_shared_state
from tasks.services import task_reconcile
from tasks.testing import CeleryProcess, process_env, purge_queue

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SLOW_SECONDS = 3


@pytest.fixture(scope="module")
def fake_upstreams():
    server = FakeServer(slow_seconds=SLOW_SECONDS, retry_after=1).start()
    yield server
    server.stop()


@pytest.fixture
def env(transactional_db, fake_upstreams, settings):
    fake_upstreams.state.reset()
    fake_upstreams.state.set_rates({"brasilapi": None, "receitaws": None, "cnpja": None, "pipefy": None})
    forget_shared_state()
    purge_queue()  # messages other tests queued without a worker
    settings.PROVIDER_RATES = {"brasilapi": "", "receitaws": "", "cnpja": "", "pipefy": ""}
    yield process_env(
        settings,
        fake_upstreams,
        PIPEFY_AUTO_PUSH="true",
        PIPEFY_FIELD_MAP='{"cnpj_formatted": "cnpj", "legal_name": "razao_social"}',
        BACKLOG_DRAINERS="1",
    )
    purge_queue()
    forget_shared_state()


@pytest.fixture
def worker(env, tmp_path):
    controller = CeleryProcess(env, tmp_path)
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def beat(env, tmp_path):
    controller = CeleryProcess(env, tmp_path, kind="beat", name="beat")
    controller.start()
    yield controller
    controller.stop()


def _wait_for_task(api, task_id, worker, *, status="SUCCESS", timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    body = {}
    while time.monotonic() < deadline:
        body = api.get(f"/api/tasks/{task_id}/").json()
        if body["status"] == status:
            return body
        if body["status"] == "FAILURE":
            break
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} is {body}, not {status}\n{worker.tail()}")


def _create(api, cnpj) -> str:
    response = api.post("/api/companies/", {"cnpj": cnpj}, format="json")
    assert response.status_code == 201, response.content
    enrichment = response.json()["enrichment"]
    assert enrichment["status"] == "PENDING"
    return enrichment["task_id"]


def _cards(fake):
    return httpx.get(f"{fake.url}/_fake/pipefy/cards").json()["cards"]


def _actors(company) -> list[str]:
    return list(company.history.order_by("history_id").values_list("history_actor", flat=True))


def _cnpj(n: int) -> str:
    base = f"{n:08d}0001"
    return base + stdnum_cnpj.calc_check_digits(base)


def test_create_enrich_and_push_through_a_real_worker(api, worker, fake_upstreams):
    cnpj = "11222333000181"
    task_id = _create(api, cnpj)
    result = _wait_for_task(api, task_id, worker)["result"]
    assert result["enrichment_status"] == "ok" and result["registry_source"] == "brasilapi"
    push = _wait_for_task(api, result["pipefy_task_id"], worker)["result"]
    assert push["created"] is True

    company = Company.objects.get(cnpj=cnpj)
    assert company.enrichment_status == EnrichmentStatus.OK
    assert company.legal_name and company.city and company.registry_payload
    cards = _cards(fake_upstreams)
    assert [card["id"] for card in cards] == [company.pipefy_card_id]
    assert cards[0]["fields"]["cnpj"] == "11.222.333/0001-81"
    assert _actors(company)[1:] == ["provider:brasilapi", "task:companies.push_to_pipefy"]
    # The lines the task logged carry the id the task API knows.
    succeeded = [line for line in worker.text().splitlines() if f"companies.enrich[{task_id}] succeeded" in line]
    assert succeeded and f"[task {task_id}]" in succeeded[0]


def test_worker_killed_mid_lookup_finishes_once_after_restart(api, worker, fake_upstreams):
    cnpj = trigger_cnpj("408")  # the registry answers it slowly
    _create(api, cnpj)
    deadline = time.monotonic() + 15
    while not any(r["cnpj"] == cnpj for r in fake_upstreams.state.requests):
        assert time.monotonic() < deadline, worker.tail()
        time.sleep(0.05)
    worker.kill()  # mid lookup: the company keeps its lookup due; the claim's lease runs out
    company = Company.objects.get(cnpj=cnpj)
    assert company.enrichment_status == EnrichmentStatus.PENDING and company.enrichment_claimed_until
    Company.objects.filter(pk=company.pk).update(enrichment_claimed_until=timezone.now())  # lease over
    worker.start()
    deadline = time.monotonic() + 30
    while Company.objects.get(cnpj=cnpj).pipefy_card_id == "":
        assert time.monotonic() < deadline, worker.tail()
        time.sleep(0.2)
    company = Company.objects.get(cnpj=cnpj)
    assert company.enrichment_status == EnrichmentStatus.OK
    assert len(_cards(fake_upstreams)) == 1
    assert _actors(company).count("provider:brasilapi") == 1
    assert _actors(company).count("task:companies.push_to_pipefy") + _actors(company).count(
        "task:companies.backlog_drain"
    ) == 1
    lookups = [r["provider"] for r in fake_upstreams.state.requests if r["cnpj"] == cnpj]
    assert lookups == ["brasilapi", "brasilapi"]  # killed, redone once


def test_first_provider_failing_or_rate_limited_falls_through(api, worker, fake_upstreams):
    failing, rate_limited = trigger_cnpj("500", "1"), trigger_cnpj("429", "1")  # BrasilAPI only
    for cnpj in (failing, rate_limited):
        result = _wait_for_task(api, _create(api, cnpj), worker)["result"]
        assert result["registry_source"] == "receitaws"
    log = [(r["provider"], r["behaviour"]) for r in fake_upstreams.state.requests]
    assert log == [
        ("brasilapi", "server_error"),
        ("receitaws", None),
        ("brasilapi", "rate_limited"),
        ("receitaws", None),
    ]


def test_postgres_stopped_mid_work_everything_completes_after(
    request, env, beat, postgres_server, fake_upstreams, tmp_path
):
    from django.core.management import call_command

    # About one lookup a second, so the work spans the outage.
    paced = {"BRASILAPI_RATE": "1 per 2 seconds", "RECEITAWS_RATE": "1/minute", "CNPJA_RATE": "1/minute"}
    worker = CeleryProcess({**env, **paced}, tmp_path, name="paced")
    worker.start()
    request.addfinalizer(worker.stop)
    cnpjs = [_cnpj(9100 + n) for n in range(12)]
    path = tmp_path / "companies.csv"
    path.write_text("cnpj\n" + "".join(f"{number}\n" for number in cnpjs))
    call_command("import_companies", str(path), workers=1)
    deadline = time.monotonic() + 20
    while not fake_upstreams.state.requests:
        assert time.monotonic() < deadline, worker.tail()
        time.sleep(0.05)
    close_old_connections()
    postgres_server.kill()
    time.sleep(15)
    postgres_server.restart()
    close_old_connections()
    deadline = time.monotonic() + 90
    while Company.objects.filter(enrichment_status=EnrichmentStatus.OK).count() < len(cnpjs):
        assert time.monotonic() < deadline, worker.tail(80)
        time.sleep(0.5)
    assert httpx.get(f"{fake_upstreams.url}/_fake/stats").json()["found_per_cnpj_max"] <= 2
    # The outage was expected: one warning line, no traceback.
    assert "backlog drain paused" in worker.text()


def test_a_stranded_pending_row_is_queued_again_by_the_reconciler(api, worker, caplog):
    number = _cnpj(9300)
    Company.objects.create(cnpj=number)
    backlog.queue_request(backlog.ENRICHMENT, Company.objects.filter(cnpj=number))
    stranded = TaskResult.objects.create(
        task_id="stranded-1",
        task_name="companies.enrich",
        status="PENDING",
        task_args=json.dumps(repr((number,))),
        task_kwargs=json.dumps(repr({})),
    )
    TaskResult.objects.filter(pk=stranded.pk).update(date_done=timezone.now() - timedelta(hours=1))
    with caplog.at_level("WARNING"):
        assert task_reconcile() == {"requeued": 1, "failed": 0}
    assert "companies.enrich[stranded-1] stranded PENDING" in caplog.text and "queued again (1/3)" in caplog.text
    result = _wait_for_task(api, "stranded-1", worker)["result"]
    assert result["enrichment_status"] == "ok"
    assert task_reconcile() == {"requeued": 0, "failed": 0}  # done: nothing stranded any more


def test_task_log_lines_carry_the_celery_task_id_and_the_request_id(api, worker):
    response = api.post("/api/companies/", {"cnpj": _cnpj(9400)}, format="json", HTTP_X_REQUEST_ID="req-e2e-1")
    task_id = response.json()["enrichment"]["task_id"]
    _wait_for_task(api, task_id, worker)
    lines = [line for line in worker.text().splitlines() if f"[task {task_id}]" in line]
    assert lines and all(re.search(r"\[req-e2e-1\]", line) for line in lines)
