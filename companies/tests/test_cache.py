"""Cached reads: served from Redis, and never older than the last committed write, whoever wrote."""

import io

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from companies import cache as company_cache
from companies import services
from companies.models import Company
from companies.tests.factories import CompanyFactory, numeric_cnpj
from companies.tests.test_admin import form_data as admin_form_data
from integrations.cnpj.types import RegistryRecord

pytestmark = pytest.mark.django_db
SITE = "http://testserver"


def detail(cnpj):
    return f"/api/companies/{cnpj}/"


def _company_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return response.json(), [q for q in queries.captured_queries if "companies_company" in q["sql"]]


def test_retrieve_and_list_are_served_from_the_cache(api):
    company = CompanyFactory()
    first, queries = _company_queries(api, detail(company.cnpj))
    assert len(queries) == 1
    second, queries = _company_queries(api, detail(company.cnpj))
    assert (second, queries) == (first, [])
    _company_queries(api, "/api/companies/", {"state": "SP"})
    _, queries = _company_queries(api, "/api/companies/", {"state": "SP"})
    assert queries == []
    _, queries = _company_queries(api, "/api/companies/", {"state": "RJ"})
    assert len(queries) == 1


def _warm(api, company):
    assert api.get(detail(company.cnpj)).status_code == 200
    assert api.get("/api/companies/").status_code == 200


def _fresh(api, company, field, value):
    assert api.get(detail(company.cnpj)).json()[field] == value
    rows = {row["cnpj"]: row for row in api.get("/api/companies/").json()["results"]}
    assert rows[company.cnpj][field] == value


def test_api_write_invalidates(api):
    company = CompanyFactory()
    _warm(api, company)
    api.patch(detail(company.cnpj), {"trade_name": "Via API"}, format="json")
    _fresh(api, company, "trade_name", "Via API")


def test_admin_write_invalidates(api, admin_client):
    company = CompanyFactory()
    _warm(api, company)
    url = f"/admin/companies/company/{company.pk}/change/"
    data = admin_form_data(admin_client, url, trade_name="Via Admin")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    _fresh(api, company, "trade_name", "Via Admin")


def test_task_style_service_writes_invalidate(api):
    company = CompanyFactory()
    _warm(api, company)
    record = RegistryRecord(cnpj=company.cnpj, legal_name="FROM REGISTRY", source="t")
    services.company_apply_registry_record(company=company, record=record)
    _fresh(api, company, "legal_name", "FROM REGISTRY")
    services.company_set_pipefy_card(company=company, card_id="777")
    _fresh(api, company, "pipefy_card_id", "777")
    services.company_set_enrichment_status(company=company, status="failed", error="timeout")
    _fresh(api, company, "enrichment_status", "failed")


def test_create_and_command_import_invalidate_lists(api, tmp_path):
    from django.core.management import call_command

    company = CompanyFactory()
    _warm(api, company)
    api.post("/api/companies/", {"cnpj": numeric_cnpj(700)}, format="json")
    assert numeric_cnpj(700) in {row["cnpj"] for row in api.get("/api/companies/").json()["results"]}
    source = tmp_path / "companies.csv"
    source.write_text(f"cnpj\n{numeric_cnpj(701)}\n")
    call_command("import_companies", str(source), stdout=io.StringIO(), stderr=io.StringIO())
    assert numeric_cnpj(701) in {row["cnpj"] for row in api.get("/api/companies/").json()["results"]}


def test_an_answer_read_before_a_write_is_never_served_after_it():
    """The race: a reader fetched the old row, the write committed, then the reader stored it."""
    company = CompanyFactory()
    lookup = company_cache.detail_lookup(company.cnpj, site=SITE)
    assert lookup.body is None
    services.company_update(company=company, trade_name="New")
    company_cache.store(lookup, b'{"trade_name": "Old"}')
    assert company_cache.detail_lookup(company.cnpj, site=SITE).body is None
    list_lookup = company_cache.list_lookup(f"{SITE}/api/companies/")
    services.company_update(company=company, trade_name="Newer")
    company_cache.store(list_lookup, b"[]")
    assert company_cache.list_lookup(f"{SITE}/api/companies/").body is None


@pytest.mark.django_db(transaction=True)
def test_an_answer_cached_while_a_write_was_uncommitted_is_dropped_at_commit():
    company = CompanyFactory()
    with transaction.atomic():
        services.company_update(company=company, trade_name="Committed")
        # Another reader, outside this transaction, still sees the old row and caches it.
        lookup = company_cache.detail_lookup(company.cnpj, site=SITE)
        company_cache.store(lookup, b'{"trade_name": "Old"}')
        assert company_cache.detail_lookup(company.cnpj, site=SITE).body == b'{"trade_name": "Old"}'
    assert company_cache.detail_lookup(company.cnpj, site=SITE).body is None
    assert Company.objects.get(pk=company.pk).trade_name == "Committed"


def test_a_lost_version_token_never_revives_an_old_entry():
    from django.core.cache import cache

    company = CompanyFactory()
    lookup = company_cache.detail_lookup(company.cnpj, site=SITE)
    company_cache.store(lookup, b"{}")
    cache.delete(f"companies:version:{company.cnpj}")
    assert company_cache.detail_lookup(company.cnpj, site=SITE).body is None


def test_a_reader_that_found_no_token_creates_it_when_storing():
    from django.core.cache import cache

    company = CompanyFactory()
    cache.delete(f"companies:version:{company.cnpj}")
    lookup = company_cache.detail_lookup(company.cnpj, site=SITE)
    assert lookup.body is None and lookup.token_key is not None
    company_cache.store(lookup, b'{"trade_name": "Stored"}')
    assert cache.get(f"companies:version:{company.cnpj}") == lookup.token
    assert company_cache.detail_lookup(company.cnpj, site=SITE).body == b'{"trade_name": "Stored"}'


def test_a_reader_that_found_no_token_loses_to_a_write_made_before_it_stored():
    from django.core.cache import cache

    company = CompanyFactory()
    cache.delete(f"companies:version:{company.cnpj}")
    lookup = company_cache.detail_lookup(company.cnpj, site=SITE)
    services.company_update(company=company, trade_name="New")
    company_cache.store(lookup, b'{"trade_name": "Old"}')
    assert cache.get(f"companies:version:{company.cnpj}") != lookup.token
    assert company_cache.detail_lookup(company.cnpj, site=SITE).body is None


def test_a_cached_retrieve_reads_key_record_and_answer_in_one_round_trip(api):
    """The API key record, the company's token and its cached answer: one MGET, nothing else read."""
    from django_redis import get_redis_connection

    company = CompanyFactory()
    first = api.get(detail(company.cnpj))
    assert first.status_code == 200
    connection = get_redis_connection("default")
    connection.config_resetstat()
    second = api.get(detail(company.cnpj))
    assert second.content == first.content
    reads = {
        name.removeprefix("cmdstat_"): stats["calls"]
        for name, stats in connection.info("commandstats").items()
        if name in ("cmdstat_get", "cmdstat_mget")
    }
    assert reads == {"mget": 1}


def test_a_cached_list_page_reads_the_lists_token_with_the_key_record(api):
    """The lists' token comes with the API key record (one MGET); the page itself is one GET."""
    from django_redis import get_redis_connection

    CompanyFactory()
    first = api.get("/api/companies/")
    assert first.status_code == 200
    connection = get_redis_connection("default")
    connection.config_resetstat()
    second = api.get("/api/companies/")
    assert second.content == first.content
    reads = {
        name.removeprefix("cmdstat_"): stats["calls"]
        for name, stats in connection.info("commandstats").items()
        if name in ("cmdstat_get", "cmdstat_mget")
    }
    assert reads == {"mget": 1, "get": 1}
