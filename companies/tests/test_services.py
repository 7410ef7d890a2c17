from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from access.actor import acting_as
from companies import services
from companies.models import Company, EnrichmentStatus
from companies.tests.factories import CompanyFactory, alphanumeric_cnpj, numeric_cnpj
from integrations.cnpj.types import Address, RegistryRecord

pytestmark = pytest.mark.django_db


def test_create_stores_the_compact_form_and_normalised_fields():
    company = services.company_create(
        cnpj="12.abc.345/01de-35", legal_name=" Acme Ltda ", state="sp", zip_code="01310-100",
        main_activity_code="62.01-5-01", share_capital="1000.50",
    )
    company.refresh_from_db()
    assert company.cnpj == "12ABC34501DE35"
    assert (company.legal_name, company.state, company.zip_code) == ("Acme Ltda", "SP", "01310100")
    assert company.main_activity_code == "6201501"
    assert company.share_capital == Decimal("1000.50")
    assert company.enrichment_status == EnrichmentStatus.PENDING


def test_create_reports_every_bad_field():
    with pytest.raises(ValidationError) as caught:
        services.company_create(cnpj="11222333000181", state="XX", email="not-an-email", pipefy_card_id="1")
    errors = caught.value.message_dict
    assert set(errors) == {"state", "email", "pipefy_card_id"}
    assert errors["pipefy_card_id"] == ["This field is read-only."]
    assert not Company.objects.exists()


def test_create_refuses_an_invalid_cnpj_on_the_cnpj_field():
    with pytest.raises(ValidationError) as caught:
        services.company_create(cnpj="11.222.333/0001-82")
    assert caught.value.error_dict["cnpj"][0].code == "invalid_check_digits"


def test_create_refuses_a_stored_cnpj_and_names_the_stored_company():
    stored = CompanyFactory()
    with pytest.raises(services.CompanyAlreadyExists) as caught:
        services.company_create(cnpj=stored.cnpj_formatted.lower())
    assert caught.value.company == stored


def test_create_schedules_enrichment_unless_told_not_to(monkeypatch):
    scheduled = []

    def schedule(company):
        scheduled.append(company.cnpj)
        return {"task_id": "t-1", "status": "queued"}

    monkeypatch.setattr(services, "_schedule_enrichment", schedule)
    company = services.company_create(cnpj=numeric_cnpj(1))
    assert scheduled == [company.cnpj]
    assert company.enrichment == {"task_id": "t-1", "status": "queued"}
    services.company_create(cnpj=numeric_cnpj(2), enrich=False)
    assert scheduled == [company.cnpj]


def test_create_is_rolled_back_when_enrichment_cannot_be_scheduled(monkeypatch):
    def unavailable(company):
        raise RuntimeError("queue down")

    monkeypatch.setattr(services, "_schedule_enrichment", unavailable)
    with pytest.raises(RuntimeError):
        services.company_create(cnpj=numeric_cnpj(3))
    assert not Company.objects.filter(cnpj=numeric_cnpj(3)).exists()


def test_update_records_history_with_the_actor_and_skips_no_op_changes():
    company = CompanyFactory()
    with acting_as("task:test"):
        updated = services.company_update(company=company, trade_name="Novo Nome")
        services.company_update(company=updated, trade_name="Novo Nome")
    assert updated.trade_name == "Novo Nome"
    versions = list(company.history.order_by("-history_id"))
    assert len(versions) == 2
    assert versions[0].history_actor == "task:test"
    assert versions[0].trade_name == "Novo Nome"


def test_update_refuses_a_different_cnpj_but_accepts_the_same_one():
    company = CompanyFactory()
    services.company_update(company=company, cnpj=company.cnpj_formatted, legal_name="Same CNPJ")
    with pytest.raises(ValidationError) as caught:
        services.company_update(company=company, cnpj=alphanumeric_cnpj(5))
    assert caught.value.error_dict["cnpj"][0].code == "immutable"


def test_update_refuses_bookkeeping_fields():
    company = CompanyFactory()
    with pytest.raises(ValidationError) as caught:
        services.company_update(company=company, enrichment_status="ok")
    assert caught.value.message_dict == {"enrichment_status": ["This field is read-only."]}


def test_apply_registry_record_from_the_integration_record_type():
    types = pytest.importorskip("integrations.cnpj.types")
    company = CompanyFactory(legal_name="", trade_name="")
    record = types.RegistryRecord(
        cnpj=company.cnpj,
        legal_name="ACME COMERCIO LTDA",
        source="brasilapi",
        trade_name="ACME",
        registration_status=types.RegistrationStatus.ATIVA,
        opened_on=date(2010, 1, 2),
        share_capital=Decimal("50000.00"),
        main_activity=types.Activity(code="4712100", description="Comércio varejista"),
        secondary_activities=(types.Activity(code="62.01-5-01", description="Software"),),
        partners=(types.Partner(name="Ana", role="Sócia", since=date(2010, 1, 2)),),
        address=types.Address(city="Campinas", state="SP", zip_code="13010-000", ibge_code="3509502"),
        email="not-an-email",
        raw={"razao_social": "ACME COMERCIO LTDA"},
    )
    with acting_as("task:enrich_company"):
        company = services.company_apply_registry_record(company=company, record=record)
    company.refresh_from_db()
    assert company.legal_name == "ACME COMERCIO LTDA"
    assert company.registration_status == "ATIVA"
    assert company.main_activity_code == "4712100"
    assert company.secondary_activities == [{"code": "6201501", "description": "Software"}]
    assert company.partners == [{"name": "Ana", "role": "Sócia", "since": "2010-01-02"}]
    assert (company.city, company.zip_code, company.city_ibge_code) == ("Campinas", "13010000", "3509502")
    assert company.email == ""  # an invalid registry value is skipped, not fatal
    assert company.registry_source == "brasilapi"
    assert company.registry_payload == {"razao_social": "ACME COMERCIO LTDA"}
    assert company.registry_synced_at is not None
    assert company.enrichment_status == EnrichmentStatus.OK
    assert company.history.latest().history_actor == "task:enrich_company"


def test_a_registry_value_that_fails_validation_is_skipped_and_the_rest_applied():
    company = CompanyFactory(state="SP")
    record = RegistryRecord(cnpj=company.cnpj, legal_name="NEW NAME", source="x", address=Address(state="ZZ"))
    services.company_apply_registry_record(company=company, record=record)
    company.refresh_from_db()
    assert (company.legal_name, company.state, company.registry_source) == ("NEW NAME", "SP", "x")


def test_enrichment_status_and_pipefy_card():
    company = CompanyFactory()
    services.company_set_enrichment_status(company=company, status="failed", error="timeout")
    company = services.company_set_pipefy_card(company=company, card_id=123)
    company.refresh_from_db()
    assert (company.enrichment_status, company.enrichment_error, company.pipefy_card_id) == ("failed", "timeout", "123")
    with pytest.raises(ValidationError):
        services.company_set_enrichment_status(company=company, status="done")


def test_bulk_create_skips_stored_cnpjs_and_records_history_with_the_actor():
    stored = CompanyFactory()
    rows = [{"cnpj": stored.cnpj, "legal_name": "Ignored"}] + [
        {"cnpj": numeric_cnpj(n), "legal_name": f"Bulk {n}", "partners": [{"name": "Ana"}]} for n in range(100, 103)
    ]
    with acting_as("command:import_companies"):
        inserted = services.company_bulk_create(rows=rows)
        again = services.company_bulk_create(rows=rows)
    assert sorted(inserted) == [numeric_cnpj(n) for n in range(100, 103)]
    assert again == []
    company = Company.objects.get(cnpj=numeric_cnpj(101))
    assert company.partners == [{"name": "Ana"}]
    assert company.registration_status == "UNKNOWN" and company.created_at is not None
    version = company.history.get()
    assert (version.history_type, version.history_actor) == ("+", "command:import_companies")
    assert version.legal_name == "Bulk 101"
    stored.refresh_from_db()
    assert stored.legal_name != "Ignored"


def test_generic_bulk_path_also_skips_stored_and_records_history():
    from companies import bulk

    stored = CompanyFactory()
    rows = [{"cnpj": stored.cnpj}, {"cnpj": alphanumeric_cnpj(9), "legal_name": "Generic"}]
    assert bulk.insert_generic(rows, actor="command:import_companies", defaults={}) == [alphanumeric_cnpj(9)]
    version = Company.objects.get(cnpj=alphanumeric_cnpj(9)).history.get()
    assert version.history_actor == "command:import_companies"


def test_registry_values_with_null_characters_are_skipped():
    company = CompanyFactory(trade_name="Kept")
    record = RegistryRecord(
        cnpj=company.cnpj, source="x", trade_name="Bad\x00", raw={"nome": "x\x00"}, legal_name="OK"
    )
    services.company_apply_registry_record(company=company, record=record)
    company.refresh_from_db()
    assert (company.trade_name, company.legal_name, company.registry_payload) == ("Kept", "OK", None)


@pytest.mark.parametrize("value", [6201501, "62.01-5-01", 111301, "620150", "00.00-0-00", None])
def test_clients_cnae_codes_follow_the_registrys_rule(value):
    from companies.values import normalize_cnae
    from integrations.cnpj.types import cnae_code

    assert normalize_cnae(value) == cnae_code(value)  # one normaliser for every writer
