"""Prometheus metrics at /metrics: who may read them, and that the figures are the real ones."""

import re

import pytest
from django.test import Client, override_settings

from companies.models import Company
from companies.services import company_create
from integrations.testing import forget_shared_state

pytestmark = pytest.mark.django_db(databases=["default", "mongo"])


def sample(text: str, name: str, **labels) -> float | None:
    """The value of one sample in Prometheus' text format (None when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = rf"^{re.escape(name)}(?:\{{([^}}]*)\}})? (\S+)$"
    for match in re.finditer(pattern, text, re.MULTILINE):
        found = match.group(1) or ""
        if all(part in found.split(",") for part in wanted.split(",") if part):
            return float(match.group(2))
    return None


def scrape(**extra) -> str:
    response = Client(**extra).get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_metrics_show_requests_cache_backlog_providers_and_tasks(api):
    forget_shared_state()
    for number in ("11222333000181", "11444777000161"):
        company_create(cnpj=number, legal_name="Métrica Ltda", enrich=False)
    Company.objects.filter(cnpj="11444777000161").update(enrichment_status="failed")
    before = scrape()
    hits_before = sample(before, "app_company_cache_lookups_total", kind="detail", result="hit") or 0
    for _ in range(3):
        assert api.get("/api/companies/11222333000181/").status_code == 200

    text = scrape()
    # Requests: latency per view (django-prometheus).
    latency = "django_http_requests_latency_seconds_by_view_method_count"
    assert sample(text, latency, method="GET", view="company-detail") - (
        sample(before, latency, method="GET", view="company-detail") or 0
    ) == 3
    # The company cache: the first read misses, the next two hit.
    assert sample(text, "app_company_cache_lookups_total", kind="detail", result="hit") == hits_before + 2
    assert sample(text, "django_cache_get_total", backend="redis") is not None
    # The backlog and the providers, read from the database and Redis.
    assert sample(text, "app_enrichment_companies", status="pending") == 1
    assert sample(text, "app_enrichment_companies", status="failed") == 1
    assert sample(text, "app_provider_state", provider="brasilapi", state="ok") == 1
    assert sample(text, "app_provider_state", provider="brasilapi", state="open") == 0
    assert sample(text, "app_figures_up", group="backlog") == 1


def test_task_outcomes_of_the_last_day_are_counted(api):
    from django_celery_results.models import TaskResult

    TaskResult.objects.create(task_id="t-ok", task_name="companies.enrich", status="SUCCESS")
    TaskResult.objects.create(task_id="t-failed", task_name="companies.enrich", status="FAILURE")
    TaskResult.objects.create(task_id="t-failed-2", task_name="companies.enrich", status="FAILURE")
    text = scrape()
    assert sample(text, "app_task_results", task="companies.enrich", status="FAILURE") == 2
    assert sample(text, "app_task_results", task="companies.enrich", status="SUCCESS") == 1


def test_metrics_are_refused_outside_the_allowed_networks_without_the_token():
    outsider = Client(REMOTE_ADDR="203.0.113.5")
    refused = outsider.get("/metrics")
    assert refused.status_code == 403 and "METRICS_TOKEN" in refused.json()["detail"]
    # A forwarded-for header of its own does not make an outsider local (no trusted proxy).
    assert Client(REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="127.0.0.1").get("/metrics").status_code == 403
    with override_settings(METRICS_TOKEN="scrape-token-0123456789"):
        assert outsider.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
        assert outsider.get("/metrics", HTTP_AUTHORIZATION="Bearer \u00e9\u00e9").status_code == 403  # not a 500
        assert outsider.get("/metrics", HTTP_AUTHORIZATION="bearer scrape-token-0123456789").status_code == 200
        assert outsider.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-0123456789").status_code == 200
    with override_settings(METRICS_ALLOWED_NETWORKS=["203.0.113.0/24"]):
        assert outsider.get("/metrics").status_code == 200


@override_settings(ALLOWED_HOSTS=["api.example.com.br"])
def test_prometheus_may_scrape_by_address_whatever_the_allowed_hosts():
    assert Client().get("/metrics", HTTP_HOST="10.1.2.3:5000").status_code == 200
    assert Client().get("/api/companies/", HTTP_HOST="10.1.2.3:5000").status_code == 400


def test_a_bad_allowed_network_is_refused_by_a_system_check():
    from ops.checks import metrics_networks_check

    with override_settings(METRICS_ALLOWED_NETWORKS=["10.0.0.0/8", "not-a-network"]):
        (error,) = metrics_networks_check()
    assert error.id == "ops.E011"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases=["default", "mongo"])
def test_several_gunicorn_workers_report_one_set_of_counters(tmp_path):
    """Requests spread over three workers are all counted, whichever worker answers the scrape."""
    import httpx

    from access.services import api_key_create
    from ops.tests.helpers import gunicorn

    _, raw_key = api_key_create(name="metrics-test")
    company_create(cnpj="11222333000181", legal_name="Contada Ltda", enrich=False)
    (tmp_path / "prometheus").mkdir()
    (tmp_path / "prometheus" / "counter_99999.db").write_bytes(b"stale")  # from a previous run
    multiprocess = {"WEB_CONCURRENCY": "3", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")}
    with (
        gunicorn(tmp_path, **multiprocess) as (base, _log),
        httpx.Client(base_url=base, headers={"X-API-Key": raw_key}, timeout=20) as client,
    ):
        for _ in range(30):
            assert client.get("/api/companies/11222333000181/").status_code == 200
        scrapes = [client.get("/metrics").text for _ in range(6)]
    latency = "django_http_requests_latency_seconds_by_view_method_count"
    counts = {sample(text, latency, method="GET", view="company-detail") for text in scrapes}
    assert counts == {30.0}, counts
