"""companies/enrichment.py: the drain loop and the backlog figures, shown alike by the API, the
command and the admin (real PostgreSQL and Redis, fake upstreams over HTTP)."""

import io
import json
import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from companies import backlog, enrichment, services
from companies.backlog import ENRICHMENT
from companies.models import Company, EnrichmentStatus
from integrations.fake.companies import trigger_cnpj
from integrations.guard import provider_guard
from tasks.testing import purge_queue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_queue(clean_integrations):
    purge_queue()
    yield
    purge_queue()


def _cnpj(n):
    from stdnum.br import cnpj as stdnum_cnpj

    base = f"{n:08d}0001"
    return base + stdnum_cnpj.calc_check_digits(base)


def _due(*numbers):
    for number in numbers:
        services.company_create(cnpj=number, enrich=False)
    backlog.queue_request(ENRICHMENT, Company.objects.filter(cnpj__in=numbers))


def test_drain_works_through_the_backlog_and_sleeps_only_for_capacity(fake_settings, fake):
    fake_settings.PROVIDER_RATES = {"brasilapi": "2/minute", "receitaws": "1/minute", "cnpja": ""}
    fake_settings.CNPJ_PROVIDERS = ["brasilapi", "receitaws"]
    _due(*(_cnpj(n) for n in range(1, 6)))
    naps = []
    report = enrichment.backlog_drain(seconds=5, sleep=naps.append)
    assert report["done"] == {"ok": 3}  # the providers' capacity for this minute
    assert Company.objects.filter(enrichment_status=EnrichmentStatus.OK).count() == 3
    assert 50 < report["next_in"] <= 61 and not naps  # the next capacity is past the drain's time
    assert len(fake.state.requests) == 3  # nothing was asked beyond the limits


def test_drain_with_nothing_due_returns_at_once():
    assert enrichment.backlog_drain(seconds=5, sleep=pytest.fail) == {"done": {}, "next_in": None}


def test_a_claimed_company_is_not_claimed_again_until_its_lease_ends():
    _due(_cnpj(7))
    first = backlog.queue_claim(ENRICHMENT)
    assert first is not None and backlog.queue_claim(ENRICHMENT) is None
    Company.objects.filter(pk=first.pk).update(enrichment_claimed_until=timezone.now())  # the lease ran out
    assert backlog.queue_claim(ENRICHMENT).pk == first.pk


def _figures_in_admin(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="(\w+)">([^<]*)<', html))


def test_the_api_the_command_and_the_admin_show_the_same_figures(api, client, fake_settings):
    fake_settings.PROVIDER_RATES = {"brasilapi": "10/minute", "receitaws": "3/minute", "cnpja": "5/minute"}
    _due(_cnpj(11), _cnpj(12), trigger_cnpj("404"))
    services.company_create(cnpj=_cnpj(13), enrich=False)
    company_ok = Company.objects.get(cnpj=_cnpj(11))
    enrichment.enrichment_attempt(backlog.queue_claim(ENRICHMENT, company_id=company_ok.pk))
    provider_guard("cnpja").cool_down(30)

    figures = api.get("/api/enrichment/").json()
    assert {k: figures[k] for k in ("pending", "ok", "not_found", "failed", "queued", "in_progress")} == {
        "pending": 3,
        "ok": 1,
        "not_found": 0,
        "failed": 0,
        "queued": 2,
        "in_progress": 0,
    }
    assert figures["providers"]["brasilapi"] == {
        "state": "ok",
        "until": None,
        "used": 1,
        "limit": 10,
        "window_seconds": 60,
    }
    assert figures["providers"]["cnpja"]["state"] == "cooling_down" and figures["providers"]["cnpja"]["until"]
    assert figures["rate_per_minute"] == 13 and figures["eta_seconds"] == round(2 / 13 * 60)
    assert figures["pipefy"]["queued"] == 0 and figures["pipefy"]["limit"] is None

    out = io.StringIO()
    call_command("enrichment_status", "--json", stdout=out)
    assert json.loads(out.getvalue()) == figures
    call_command("enrichment_status", stdout=(text := io.StringIO()))
    assert "Companies: 3 pending, 1 ok, 0 not_found, 0 failed." in text.getvalue()
    assert "cnpja: cooling_down until" in text.getvalue() and "brasilapi: ok, 1/10 per 60s" in text.getvalue()

    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "s3cret-Passw0rd!")
    client.force_login(admin)
    shown = _figures_in_admin(client.get("/admin/companies/company/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert {name: int(shown[name]) for name in ("pending", "in_progress", "ok", "not_found", "failed", "queued")} == {
        name: figures[name] for name in ("pending", "in_progress", "ok", "not_found", "failed", "queued")
    }
    assert float(shown["rate_per_minute"]) == figures["rate_per_minute"]


def test_the_figures_need_a_credential(client_anon, read_only_api):
    assert client_anon.get("/api/enrichment/").status_code == 401
    assert read_only_api.get("/api/enrichment/").status_code == 200


def test_a_drainer_waiting_for_work_naps_briefly_and_says_it_is_alive(fake_settings, monkeypatch):
    monkeypatch.setattr(enrichment, "HEARTBEAT_SECONDS", 0.2)
    _due(_cnpj(21))
    Company.objects.update(enrichment_due_at=timezone.now() + timezone.timedelta(seconds=0.7))
    beats, naps = [], []

    def nap(seconds):
        naps.append(seconds)
        time.sleep(seconds)

    report = enrichment.backlog_drain(seconds=2, sleep=nap, heartbeat=lambda: beats.append(time.monotonic()))
    assert report["done"] == {"ok": 1}
    assert naps and max(naps) <= 0.2 and len(beats) >= 3
