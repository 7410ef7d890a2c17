"""The three front doors agree: the same raw or formatted value sent through the API, the admin
form and the CSV import is stored the same, or refused by all three naming the same field."""

import csv
import datetime
import io
import json
from decimal import Decimal

import pytest

from companies import bulk, services
from companies.imports import company_import
from companies.models import Company
from companies.tests.factories import CompanyFactory, numeric_cnpj
from companies.tests.test_admin import change_url, form_data

pytestmark = pytest.mark.django_db
REFUSED = object()

# (field, what is sent, what is stored or REFUSED)
SCALARS = [
    ("state", " sp ", "SP"),
    ("state", "XX", REFUSED),
    ("registration_status", "ativa", "ATIVA"),
    ("registration_status", "open", REFUSED),
    ("zip_code", "01310-100", "01310100"),
    ("zip_code", "1310100", REFUSED),
    ("main_activity_code", "62.01-5-01", "6201501"),
    ("main_activity_code", "6201-5/01", "6201501"),
    ("main_activity_code", "62O1501", REFUSED),
    ("city_ibge_code", "3550308", "3550308"),
    ("city_ibge_code", "355030", REFUSED),
    ("email", " contato@acme.com.br ", "contato@acme.com.br"),
    ("email", "contato@", REFUSED),
    ("share_capital", "1234.50", Decimal("1234.50")),
    ("share_capital", "-1", REFUSED),
    ("share_capital", "1.234", REFUSED),
    ("share_capital", "1,5", REFUSED),
    ("opened_on", "2020-02-29", datetime.date(2020, 2, 29)),
    ("opened_on", "2021-02-29", REFUSED),
    ("phone", " 11 5555-0000 ", "11 5555-0000"),
    ("legal_name", "  Acme Ltda  ", "Acme Ltda"),
    ("legal_name", "x" * 256, REFUSED),
]


def _import(cnpj: str, **fields) -> tuple[Company | None, str]:
    """One CSV row through the import: the stored company, or None and the reason."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["cnpj", *fields])
    writer.writerow([cnpj, *(json.dumps(v) if isinstance(v, list) else v for v in fields.values())])
    tally = company_import(source=text.getvalue(), enrich=False, workers=1)
    reason = tally.errors[0].reason if tally.errors else ""
    return Company.objects.filter(cnpj=services.cnpj_value.normalize(cnpj)).first(), reason


@pytest.mark.parametrize(("field", "sent", "stored"), SCALARS)
def test_api_admin_and_import_store_or_refuse_alike(api, admin_client, field, sent, stored):
    # API
    response = api.post("/api/companies/", {"cnpj": numeric_cnpj(701), field: sent, "enrich": False}, format="json")
    if stored is REFUSED:
        assert response.status_code == 400 and response.json()["field"] == field, response.content
    else:
        assert response.status_code == 201, response.content
        assert getattr(Company.objects.get(cnpj=numeric_cnpj(701)), field) == stored

    # Admin (the change form of a stored company)
    company = CompanyFactory(cnpj=numeric_cnpj(702))
    response = admin_client.post(change_url(company), form_data(admin_client, change_url(company), **{field: sent}))
    company.refresh_from_db()
    if stored is REFUSED:
        assert response.status_code == 200 and field in response.context["adminform"].form.errors
    else:
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert getattr(company, field) == stored

    # CSV import
    imported, reason = _import(numeric_cnpj(703), **{field: sent})
    if stored is REFUSED:
        assert imported is None and reason.startswith(f"{field}:"), reason
    else:
        assert imported is not None and getattr(imported, field) == stored, reason


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("11.222.333/0001-81", "11222333000181"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),
        ("11.222.333/0001-82", REFUSED),
        ("11.222.333/0001", REFUSED),
        ("11.222.333?0001-81", REFUSED),
    ],
)
def test_the_cnpj_is_read_alike(api, admin_client, sent, stored):
    add = "/admin/companies/company/add/"
    response = admin_client.post(add, form_data(admin_client, add, cnpj=sent))
    if stored is REFUSED:
        assert response.status_code == 200 and "cnpj" in response.context["adminform"].form.errors
    else:
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert Company.objects.filter(cnpj=stored).exists()

    # The API finds the company the admin stored under the same CNPJ (409), or refuses it alike.
    response = api.post("/api/companies/", {"cnpj": sent, "enrich": False}, format="json")
    if stored is REFUSED:
        assert response.status_code == 400 and response.json()["field"] == "cnpj"
    else:
        assert response.status_code == 409 and response.json()["existing_url"].endswith(f"/{stored}/")

    tally = company_import(source=f'cnpj\n"{sent}"\n', enrich=False, workers=1)
    if stored is REFUSED:
        assert tally.errors and tally.errors[0].reason.startswith("cnpj:")
    else:
        assert not tally.errors and tally.stored == 1


LISTS = [
    (
        "partners",
        [{"name": " Ana ", "since": "2020-2-1"}, {"name": "Bia", "role": "Sócia", "since": ""}],
        [{"name": "Ana", "role": "", "since": "2020-02-01"}, {"name": "Bia", "role": "Sócia", "since": None}],
    ),
    ("partners", [{"name": "Ana", "since": "2020-02-30"}], REFUSED),
    ("partners", [{"name": "  "}], REFUSED),
    ("partners", [{"name": "Ana", "cpf": "1"}], REFUSED),
    ("secondary_activities", [{"code": "62.01-5-01"}], [{"code": "6201501", "description": ""}]),
    ("secondary_activities", [{"code": "620150", "description": "x"}], REFUSED),
]


@pytest.mark.parametrize(("field", "sent", "stored"), LISTS)
def test_the_lists_are_stored_or_refused_alike(api, field, sent, stored):
    """The admin edits the lists as rows: companies/tests/test_admin_rows.py checks they produce
    this same JSON, through the same service."""
    response = api.post("/api/companies/", {"cnpj": numeric_cnpj(711), field: sent, "enrich": False}, format="json")
    imported, reason = _import(numeric_cnpj(712), **{field: sent})
    if stored is REFUSED:
        assert response.status_code == 400 and response.json()["field"].split(".")[0] == field
        assert imported is None and reason.startswith(f"{field}:"), reason
    else:
        assert response.status_code == 201, response.content
        assert getattr(Company.objects.get(cnpj=numeric_cnpj(711)), field) == stored
        assert imported is not None and getattr(imported, field) == stored, reason


@pytest.mark.parametrize(
    "name", [name for name in services.EDITABLE_FIELDS if name not in ("secondary_activities", "partners")]
)
@pytest.mark.parametrize("sent", ["", " sp ", "SP", "ativa", "ATIVA", "x" * 300, "a\x00b", "01310-100", "7"])
def test_the_bulk_fast_path_answers_as_the_service(name, sent):
    def outcome(clean):
        try:
            return clean(sent)
        except services.ValidationError as exc:
            return ("refused", exc.messages)

    assert outcome(bulk.field_cleaner(name)) == outcome(services.company_field_cleaner(name))
