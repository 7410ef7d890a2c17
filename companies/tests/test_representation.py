"""The row-built representation of a company equals the serializer's, field for field."""

import datetime
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from companies import representation, selectors
from companies.models import Company, EnrichmentStatus, RegistrationStatus
from companies.serializers import CompanySerializer
from companies.tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db
COMPANIES_URL = "http://testserver/api/companies/"


def _full_company(**overrides) -> Company:
    fields = {
        "legal_name": "Empresa Completa Ltda",
        "trade_name": "Completa",
        "registration_status": RegistrationStatus.SUSPENSA,
        "status_date": datetime.date(2021, 3, 4),
        "opened_on": datetime.date(1999, 12, 31),
        "legal_nature": "206-2 - Sociedade Empresária Limitada",
        "size": "DEMAIS",
        "share_capital": Decimal("1234567.5"),
        "secondary_activities": [{"code": "6202300", "description": "Customização"}],
        "partners": [{"name": "Ana", "role": "Sócia-Administradora", "since": "2001-02-03"}],
        "street": "Avenida Paulista",
        "street_number": "1000",
        "complement": "Andar 5",
        "district": "Bela Vista",
        "zip_code": "01310100",
        "city_ibge_code": "3550308",
        "email": "contato@example.com",
        "phone": "1133334444",
        "registry_source": "brasilapi",
        "registry_synced_at": timezone.now().replace(microsecond=123456),
        "enrichment_status": EnrichmentStatus.OK,
        "enrichment_error": "",
        "registry_payload": {"cnpj": "x", "qsa": [{"nome": "Ana"}], "capital_social": 1234567.5, "nested": {"a": None}},
        "pipefy_card_id": "987",
    }
    fields.update(overrides)
    return CompanyFactory(**fields)


def _both(company: Company) -> tuple[dict, dict]:
    expected = CompanySerializer(Company.objects.get(pk=company.pk), context={"companies_url": COMPANIES_URL}).data
    row = selectors.company_get_values(cnpj=company.cnpj, fields=representation.VALUE_FIELDS)
    return representation.company_document(row, companies_url=COMPANIES_URL), dict(expected)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(_full_company, id="every-field-set"),
        pytest.param(lambda: _full_company(alphanumeric=True), id="alphanumeric-cnpj"),
        pytest.param(lambda: CompanyFactory(state="", city="", share_capital=None), id="blanks-and-nulls"),
        pytest.param(lambda: _full_company(share_capital=Decimal("0"), registry_payload=None), id="zero-capital"),
    ],
)
def test_document_equals_the_serializer_output_in_values_and_order(build):
    document, expected = _both(build())
    assert list(document) == list(expected)
    assert document == expected
    assert {name: type(value) for name, value in document.items()} == {
        name: type(value) for name, value in expected.items()
    }


def test_values_of_a_missing_company_are_none():
    assert selectors.company_get_values(cnpj="11222333000181", fields=representation.VALUE_FIELDS) is None


def test_values_equal_the_orm_values_query():
    company = _full_company()
    expected = Company.objects.filter(cnpj=company.cnpj).values(*representation.VALUE_FIELDS).get()
    assert selectors.company_get_values(cnpj=company.cnpj, fields=representation.VALUE_FIELDS) == expected
    # Another field list is compiled on its own.
    assert selectors.company_get_values(cnpj=company.cnpj, fields=("cnpj", "partners")) == {
        "cnpj": company.cnpj,
        "partners": expected["partners"],
    }


def test_uncached_retrieve_answers_the_serializer_representation(api):
    company = _full_company()
    response = api.get(f"/api/companies/{company.cnpj}/")
    assert response.status_code == 200
    stored = Company.objects.get(pk=company.pk)
    expected = JSONRenderer().render(CompanySerializer(stored, context={"companies_url": COMPANIES_URL}).data)
    assert response.json() == json.loads(expected)
