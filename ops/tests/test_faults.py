"""Backing services failing and coming back, with Django left running throughout.

Redis down: cached reads still answer (cache bypassed, logged), readiness names Redis.
PostgreSQL down: company endpoints answer 503 JSON. MongoDB down: books answer 503 JSON while
companies keep working. Every service coming back is picked up without restarting anything,
and nothing accepted before or during an outage is lost.
"""

import logging
import time

import pytest
from django.db import close_old_connections

from companies.services import company_create
from ops.tests.helpers import wait_until_ready

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases=["default", "mongo"])]
CNPJ = "11222333000181"



def assert_503(response, service):
    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "service_unavailable" and body["service"] == service
    assert int(response["Retry-After"]) > 0


def test_redis_down_reads_bypass_the_cache_and_everything_recovers(api, redis_server, caplog):
    company_create(cnpj=CNPJ, legal_name="Cache Outage Ltda", enrich=False)
    assert api.get(f"/api/companies/{CNPJ}/").status_code == 200  # now cached

    redis_server.kill()
    with caplog.at_level(logging.WARNING):
        response = api.get(f"/api/companies/{CNPJ}/")
    assert response.status_code == 200 and response.json()["legal_name"] == "Cache Outage Ltda"
    assert any(record.name == "cache" for record in caplog.records), "cache bypass is logged"
    updated = api.patch(f"/api/companies/{CNPJ}/", {"trade_name": "Written While Redis Was Down"})
    assert updated.status_code == 200
    ready = api.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["cache"] == "down"
    # Enqueuing needs the broker (Redis): a clear 503, and nothing half-done is kept.
    assert_503(api.post(f"/api/companies/{CNPJ}/refresh/"), "broker")
    assert_503(api.post("/api/companies/", {"cnpj": "11444777000161"}), "broker")
    assert api.get("/api/companies/11444777000161/").status_code == 404
    assert api.post("/api/companies/", {"cnpj": "11444777000161", "enrich": False}).status_code == 201

    redis_server.restart()
    wait_until_ready(api)
    response = api.get(f"/api/companies/{CNPJ}/")
    assert response.json()["trade_name"] == "Written While Redis Was Down"  # no stale cache entry
    assert api.post(f"/api/companies/{CNPJ}/refresh/").status_code == 202


def test_postgres_down_answers_503_and_recovers(api, postgres_server):
    created = api.post("/api/companies/", {"cnpj": CNPJ, "legal_name": "Before The Outage", "enrich": False})
    assert created.status_code == 201, created.content

    postgres_server.kill()
    assert_503(api.get("/api/companies/"), "database")
    assert_503(api.get(f"/api/companies/{CNPJ}/"), "database")
    assert_503(api.post("/api/companies/", {"cnpj": "11444777000161", "enrich": False}), "database")
    ready = api.get("/health/ready")
    assert ready.status_code == 503 and ready.json()["status"] == "down"
    assert ready.json()["checks"]["database"] == "down"

    postgres_server.restart()
    # A server drops a connection that failed at the end of the request; Django's test client
    # does not, so do it here.
    close_old_connections()
    response = api.get(f"/api/companies/{CNPJ}/")
    assert response.status_code == 200 and response.json()["legal_name"] == "Before The Outage"
    assert api.post("/api/companies/", {"cnpj": "11444777000161", "enrich": False}).status_code == 201


def test_mongodb_down_books_answer_503_companies_keep_working(api, mongo_server):
    payload = {"title": "Dom Casmurro", "authors": ["Machado de Assis"], "isbn": "978-85-359-0277-8"}
    book = api.post("/api/books/", payload)
    assert book.status_code == 201, book.content
    company_create(cnpj=CNPJ, legal_name="Unaffected Ltda", enrich=False)

    mongo_server.kill()
    assert_503(api.get("/api/books/"), "mongodb")
    assert_503(api.get(f"/api/books/{book.json()['id']}/"), "mongodb")
    assert api.get("/api/companies/").status_code == 200
    assert api.get(f"/api/companies/{CNPJ}/").status_code == 200

    mongo_server.restart()
    # MongoDB failed a moment ago, so it is skipped for REDIS_DOWN_SECONDS, then tried again.
    deadline = time.monotonic() + 10
    while (response := api.get(f"/api/books/{book.json()['id']}/")).status_code == 503:
        assert time.monotonic() < deadline, response.content
        time.sleep(0.2)
    assert response.status_code == 200 and response.json()["title"] == "Dom Casmurro"


def test_admin_add_while_the_queue_is_down_keeps_the_form_and_stores_nothing(admin_client, redis_server):
    from companies.models import Company
    from companies.tests.test_admin import CHANGELIST, form_data

    data = form_data(admin_client, f"{CHANGELIST}add/", cnpj=CNPJ, legal_name="Queue Outage Ltda")
    redis_server.kill()
    response = admin_client.post(f"{CHANGELIST}add/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert "indisponível" in str(errors) and "nada foi gravado" in str(errors)  # pt-BR, the default
    assert not Company.objects.filter(cnpj=CNPJ).exists()

    redis_server.restart()
    wait_until_ready(admin_client)
    assert admin_client.post(f"{CHANGELIST}add/", data).status_code == 302
    assert Company.objects.filter(cnpj=CNPJ, legal_name="Queue Outage Ltda").exists()
