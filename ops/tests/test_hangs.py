"""Hung backing services (stopped with SIGSTOP: they accept connections and answer nothing) cost
bounded time, against the app served by gunicorn as in a deployment.

Redis: the first request pays one socket timeout, the following skip Redis at once while it is
treated as down. PostgreSQL: a query on an open connection is cut after DATABASE_QUERY_TIMEOUT and
the API answers 503. MongoDB: the operation timeout ends the read with 503. Readiness answers within
2 s in every case. Everything recovers by itself after SIGCONT.
"""

import time
from contextlib import contextmanager

import httpx
import pytest

from access.services import api_key_create
from companies.services import company_create
from ops.tests.helpers import gunicorn
from scripts.pytest_services import started_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases=["default", "mongo"])]
CNPJ = "11222333000181"
QUERY_TIMEOUT = 2.0


@pytest.fixture
def served(tmp_path):
    """gunicorn (one sync worker, so each request meets the same process state) on the suite's
    servers, with a full-access API key; yields (client, log path)."""
    _, raw_key = api_key_create(name="hang-test")
    company_create(cnpj=CNPJ, legal_name="Paciente Ltda", enrich=False)
    overrides = {
        "MONGODB_OPERATION_TIMEOUT_MS": "2000",
        "DATABASE_QUERY_TIMEOUT": str(QUERY_TIMEOUT),
        "DATABASE_REQUEST_TIMEOUT": "8",
        "CONN_HEALTH_CHECKS": "false",  # as in PRODUCTION
        "REDIS_DOWN_SECONDS": "5",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_TIMEOUT": "30",
    }
    with gunicorn(tmp_path, **overrides) as (base, log):
        client = httpx.Client(base_url=base, headers={"X-API-Key": raw_key}, timeout=40)
        assert client.get(f"/api/companies/{CNPJ}/").status_code == 200, log.read_text()
        yield client, log


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@contextmanager
def paused(name):
    server = started_server(name)
    if server is None:
        pytest.skip(f"{name} is managed outside the suite; it cannot be stopped here")
    with server.paused():
        yield


def wait_until(predicate, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "did not recover in time"
        time.sleep(0.3)


def ready_status(client):
    response = client.get("/health/ready")
    return response.status_code, response.json()


def test_a_hung_redis_costs_one_timeout_then_requests_skip_it(served):
    client, log = served
    with paused("redis"):
        first, first_time = timed(lambda: client.get(f"/api/companies/{CNPJ}/"))
        assert first.status_code == 200 and first.json()["legal_name"] == "Paciente Ltda"
        assert first_time < 2.0  # one socket timeout (1 s), not one per Redis command
        for _ in range(5):
            response, elapsed = timed(lambda: client.get(f"/api/companies/{CNPJ}/"))
            assert response.status_code == 200 and elapsed < 0.5, elapsed
        (status, body), elapsed = timed(lambda: ready_status(client))
        assert elapsed < 2.0
        assert status == 200 and body["status"] == "degraded" and body["checks"]["cache"] == "down"
        # Queueing work needs the broker (the same Redis here): one socket timeout (3 s, not
        # retried), then 503 at once.
        refused, elapsed = timed(lambda: client.post(f"/api/companies/{CNPJ}/refresh/"))
        assert refused.status_code == 503 and refused.json()["service"] == "broker"
        assert elapsed < 4.5
        again, elapsed = timed(lambda: client.post(f"/api/companies/{CNPJ}/refresh/"))
        assert again.status_code == 503 and elapsed < 0.5
    text = log.read_text()
    assert "treated as down for 5 s" in text  # the fallback is visible, once per outage...
    for per_request in ("Exception ignored", "throttle count unavailable", "company cache not written"):
        assert text.count(per_request) <= 1, per_request  # ...not once per request while it lasts
    wait_until(lambda: ready_status(client) == (200, {"status": "ok", "checks": dict.fromkeys(
        ("database", "mongodb", "cache", "broker"), "ok")}))
    assert client.post(f"/api/companies/{CNPJ}/refresh/").status_code == 202


def test_a_hung_postgresql_answers_503_within_seconds_and_recovers(served):
    client, log = served
    history = f"/api/companies/{CNPJ}/history/"
    assert client.get(history).status_code == 200  # the connection is open and reused
    with paused("postgres"):
        # (Cached reads may still answer from Redis; a write and the history need the database.)
        response, elapsed = timed(lambda: client.patch(f"/api/companies/{CNPJ}/", json={"trade_name": "Lost?"}))
        assert response.status_code == 503, response.text
        assert response.json()["service"] == "database" and int(response.headers["Retry-After"]) > 0
        assert elapsed < QUERY_TIMEOUT + 4  # cut after DATABASE_QUERY_TIMEOUT (or connect_timeout)
        response, elapsed = timed(lambda: client.get(history))
        assert response.status_code == 503 and elapsed < QUERY_TIMEOUT + 4
        (status, body), elapsed = timed(lambda: ready_status(client))
        assert elapsed < 2.5
        assert status == 503 and body["status"] == "down" and body["checks"]["database"] == "down"
        # Prometheus' scrape reads the backlog from the database: cut too, never a worker timeout.
        scraped, elapsed = timed(lambda: client.get("/metrics"))
        assert scraped.status_code == 200 and elapsed < QUERY_TIMEOUT + 4
        assert 'app_figures_up{group="backlog"} 0.0' in scraped.text
    assert "connection cut" in log.read_text()
    wait_until(lambda: client.get(history).status_code == 200)
    assert client.get(f"/api/companies/{CNPJ}/").json()["trade_name"] == ""  # the refused write left nothing
    assert client.patch(f"/api/companies/{CNPJ}/", json={"trade_name": "Depois"}).status_code == 200
    assert ready_status(client)[0] == 200


def test_a_hung_mongodb_answers_503_for_books_while_companies_serve(served):
    client, _ = served
    assert client.get("/api/books/").status_code == 200
    with paused("mongo"):
        response, elapsed = timed(lambda: client.get("/api/books/"))
        assert response.status_code == 503 and response.json()["service"] == "mongodb"
        assert elapsed < 3.5  # MONGODB_OPERATION_TIMEOUT_MS=2000
        # Then MongoDB is treated as down for a while: the next books requests answer at once.
        again, elapsed = timed(lambda: client.get("/api/books/"))
        assert again.status_code == 503 and elapsed < 0.5
        assert client.get("/api/companies/").status_code == 200
        for _ in range(4):  # readiness never blames the database for MongoDB
            (status, body), elapsed = timed(lambda: ready_status(client))
            assert elapsed < 2.0
            assert status == 200 and body["status"] == "degraded" and body["checks"]["mongodb"] == "down"
            assert body["checks"]["database"] == "ok"
    wait_until(lambda: client.get("/api/books/").status_code == 200)
