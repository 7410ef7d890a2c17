import time

import httpx
import pytest

from companies.models import Company
from integrations.fake.companies import trigger_cnpj
from integrations.guard import provider_guard

pytestmark = pytest.mark.django_db

VALID = "11222333000181"


def _lookups(fake):
    return httpx.get(f"{fake.url}/_fake/requests").json()["requests"]


def test_lookup_returns_the_normalised_record(api, fake, fake_settings):
    response = api.get(f"/api/registry/{VALID}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["cnpj"] == VALID
    assert body["source"] == "brasilapi"
    assert body["legal_name"]
    assert body["registration_status"] in {"ATIVA", "SUSPENSA", "INAPTA", "BAIXADA", "NULA"}
    assert body["main_activity"]["code"].isdigit() and len(body["main_activity"]["code"]) == 7
    assert body["address"]["state"] and len(body["address"]["zip_code"]) == 8
    assert isinstance(body["share_capital"], str)
    assert body["fetched_at"]
    assert "raw" not in body
    assert not Company.objects.exists()  # a lookup stores nothing


def test_lookup_is_cached(api, fake, fake_settings):
    first = api.get(f"/api/registry/{VALID}/").json()
    second = api.get(f"/api/registry/{VALID}/").json()
    assert first == second
    assert len(_lookups(fake)) == 1


def test_cache_ttl_zero_asks_again(api, fake, fake_settings):
    fake_settings.REGISTRY_CACHE_TTL = 0
    api.get(f"/api/registry/{VALID}/")
    api.get(f"/api/registry/{VALID}/")
    assert len(_lookups(fake)) == 2


def test_lower_case_alphanumeric_cnpj(read_only_api, fake, fake_settings):
    response = read_only_api.get("/api/registry/12abc34501de35/")
    assert response.status_code == 200, response.content
    assert response.json()["cnpj"] == "12ABC34501DE35"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("11222333000180", "invalid_check_digits"),
        ("1122233300018", "invalid_length"),
        ("11222333000l8!", "invalid_format"),
    ],
)
def test_invalid_cnpj_is_400_naming_the_field(api, fake, fake_settings, value, code):
    response = api.get(f"/api/registry/{value}/")
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "cnpj"
    assert body["code"] == code
    assert _lookups(fake) == []


def test_unknown_cnpj_is_404_json(api, fake, fake_settings):
    response = api.get(f"/api/registry/{trigger_cnpj('404')}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    # Unknown only when every provider was asked and answered so.
    assert [r["provider"] for r in _lookups(fake)] == ["brasilapi", "receitaws", "cnpja"]


def test_unknown_to_one_but_another_not_asked_is_503_not_404(api, fake, fake_settings):
    fake_settings.PROVIDER_RATES = {"cnpja": "1/minute"}
    provider_guard("cnpja").call(lambda: None)  # its capacity is used up
    response = api.get(f"/api/registry/{trigger_cnpj('404')}/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert [r["provider"] for r in _lookups(fake)] == ["brasilapi", "receitaws"]


def test_first_provider_failing_falls_through(api, fake, fake_settings):
    response = api.get(f"/api/registry/{trigger_cnpj('500', '1')}/")
    assert response.status_code == 200
    assert response.json()["source"] == "receitaws"


def test_every_provider_rate_limited_is_503_with_retry_after(api, fake, fake_settings):
    response = api.get(f"/api/registry/{trigger_cnpj('429')}/")
    assert response.status_code == 503
    assert response["Retry-After"] == "3"
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["service"] == "registry"


def test_every_provider_down_is_503(api, fake, fake_settings):
    response = api.get(f"/api/registry/{trigger_cnpj('200')}/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert {r["provider"] for r in _lookups(fake)} == {"brasilapi", "receitaws", "cnpja"}


def test_needs_credentials(client_anon):
    assert client_anon.get(f"/api/registry/{VALID}/").status_code == 401


def test_a_lookup_slower_than_its_deadline_answers_503_in_time(api, fake, fake_settings, settings):
    # Every provider answers slowly (2 s each, 6 s for the three) while the deadline is 1 s: the
    # client gets a 503 with Retry-After after about a second, not a worker timeout.
    settings.REGISTRY_DEADLINE_SECONDS = 1.0
    settings.INTEGRATIONS_READ_TIMEOUT = 10.0
    fake.state.slow_seconds = 2.0
    try:
        started = time.monotonic()
        response = api.get(f"/api/registry/{trigger_cnpj('408')}/")
        elapsed = time.monotonic() - started
    finally:
        fake.state.slow_seconds = 0.5
    assert response.status_code == 503, response.content
    assert response.json()["service"] == "registry" and int(response["Retry-After"]) > 0
    assert elapsed < 1.8
    # The first provider was cut off when time ran out; the others were not asked at all.
    assert [entry["provider"] for entry in _lookups(fake)] == ["brasilapi"]


def test_the_registry_deadline_must_end_before_the_web_workers_timeout(settings, monkeypatch):
    from ops.checks import timeouts_check

    monkeypatch.setenv("GUNICORN_TIMEOUT", "30")
    settings.REGISTRY_DEADLINE_SECONDS = 20
    assert timeouts_check() == []
    settings.REGISTRY_DEADLINE_SECONDS = 45
    (error,) = timeouts_check()
    assert error.id == "ops.E010" and "REGISTRY_DEADLINE_SECONDS" in error.msg


def test_every_request_long_wait_is_checked_against_the_worker_timeout(settings, monkeypatch):
    from ops.checks import timeouts_check

    monkeypatch.setenv("GUNICORN_TIMEOUT", "30")
    settings.MONGODB_OPERATION_TIMEOUT_MS = 40_000
    settings.DATABASE_QUERY_TIMEOUT = 45
    named = {error.msg.split(" ")[0] for error in timeouts_check()}
    assert named == {"MONGODB_OPERATION_TIMEOUT_MS", "DATABASE_QUERY_TIMEOUT"}
    monkeypatch.setenv("GUNICORN_TIMEOUT", "0")  # gunicorn's "no timeout"
    assert timeouts_check() == []
    monkeypatch.setenv("GUNICORN_TIMEOUT", "30.5")
    assert [error.id for error in timeouts_check()] == ["ops.E010"]
    monkeypatch.setenv("GUNICORN_TIMEOUT", "30")
    settings.MONGODB_OPERATION_TIMEOUT_MS, settings.DATABASE_QUERY_TIMEOUT = 5000, 5
    settings.REDIS_DOWN_SECONDS = 1e9
    assert [error.id for error in timeouts_check()] == ["ops.E012"]
