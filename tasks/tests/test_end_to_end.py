"""End to end: the API, a real Celery worker process, the Redis broker, PostgreSQL, and the fake
upstreams over HTTP. The worker is killed with SIGKILL in the middle of a task and restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from django.db import connection

from companies.models import Company, EnrichmentStatus
from integrations.fake import FakeServer
from integrations.fake.companies import trigger_cnpj
from integrations.testing import forget_shared_state
from tasks.testing import purge_queue

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SLOW_SECONDS = 3
VISIBILITY_TIMEOUT = 4


def _database_url() -> str:
    db = connection.settings_dict  # the test database pytest-django created
    auth = f"{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@" if db["USER"] else ""
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`celery -A config worker --pool=solo` in a subprocess, logging to a file."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 30) -> None:
        self.starts += 1
        self.log = self.log_dir / f"worker-{self.starts}.log"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=INFO",
            f"--hostname=e2e{self.starts}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"worker did not start:\n{self.tail()}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def fake_upstreams():
    server = FakeServer(slow_seconds=SLOW_SECONDS, retry_after=1).start()
    yield server
    server.stop()


@pytest.fixture
def worker(transactional_db, fake_upstreams, settings, tmp_path):
    fake_upstreams.state.reset()
    forget_shared_state()
    purge_queue()  # messages other tests queued without a worker
    env = {
        **os.environ,
        "ENVIRONMENT": "TEST",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        **fake_upstreams.settings(),
        "PIPEFY_TOKEN": "fake-token",
        "PIPEFY_PIPE_ID": "1",
        "PIPEFY_AUTO_PUSH": "true",
        "PIPEFY_FIELD_MAP": '{"cnpj_formatted": "cnpj", "legal_name": "razao_social"}',
        "CNPJ_RATE_LIMITS": "receitaws=60/minute,cnpja=60/minute",
        "INTEGRATIONS_READ_TIMEOUT": "20",
        "TASK_RETRY_BACKOFF_SECONDS": "1",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "LOG_LEVEL": "INFO",
    }
    controller = Worker(env, tmp_path)
    controller.start()
    yield controller
    controller.stop()
    forget_shared_state()


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
    assert api.get(f"/api/tasks/{enrichment['task_id']}/").json()["status"] in ("PENDING", "STARTED", "SUCCESS")
    return enrichment["task_id"]


def _cards(fake):
    return httpx.get(f"{fake.url}/_fake/pipefy/cards").json()["cards"]


def _actors(company) -> list[str]:
    return list(company.history.order_by("history_id").values_list("history_actor", flat=True))


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
    history = api.get(f"/api/companies/{cnpj}/history/").json()["results"]
    changed = {change["field"] for version in history[:2] for change in version["changes"]}
    assert {"legal_name", "registry_source", "pipefy_card_id"} <= changed


def test_worker_killed_mid_task_finishes_once_after_restart(api, worker, fake_upstreams):
    cnpj = trigger_cnpj("408")  # the registry answers it slowly
    task_id = _create(api, cnpj)
    deadline = time.monotonic() + 15
    while not any(r["cnpj"] == cnpj for r in httpx.get(f"{fake_upstreams.url}/_fake/requests").json()["requests"]):
        assert time.monotonic() < deadline, worker.tail()
        time.sleep(0.05)
    assert api.get(f"/api/tasks/{task_id}/").json()["status"] == "STARTED"

    worker.kill()  # mid lookup: the message is neither acknowledged nor lost
    assert Company.objects.get(cnpj=cnpj).enrichment_status == EnrichmentStatus.PENDING
    worker.start()

    result = _wait_for_task(api, task_id, worker, timeout=VISIBILITY_TIMEOUT + 3 * SLOW_SECONDS + 15)["result"]
    _wait_for_task(api, result["pipefy_task_id"], worker)
    company = Company.objects.get(cnpj=cnpj)
    assert company.enrichment_status == EnrichmentStatus.OK
    assert len(_cards(fake_upstreams)) == 1
    assert _actors(company).count("provider:brasilapi") == 1
    assert _actors(company).count("task:companies.push_to_pipefy") == 1
    lookups = httpx.get(f"{fake_upstreams.url}/_fake/requests").json()["requests"]
    assert [r["provider"] for r in lookups if r["cnpj"] == cnpj] == ["brasilapi", "brasilapi"]  # killed, redone


def test_first_provider_failing_or_rate_limited_falls_through(api, worker, fake_upstreams):
    failing, rate_limited = trigger_cnpj("500", "1"), trigger_cnpj("429", "1")  # BrasilAPI only
    for cnpj in (failing, rate_limited):
        result = _wait_for_task(api, _create(api, cnpj), worker)["result"]
        assert result["registry_source"] == "receitaws"
        assert Company.objects.get(cnpj=cnpj).registry_source == "receitaws"
    log = httpx.get(f"{fake_upstreams.url}/_fake/requests").json()["requests"]
    assert [(r["provider"], r["behaviour"]) for r in log] == [
        ("brasilapi", "server_error"),
        ("receitaws", None),
        ("brasilapi", "rate_limited"),
        ("receitaws", None),
    ]
