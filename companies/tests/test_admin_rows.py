"""Partners and secondary activities edited as rows on the company form, saved through the service."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from companies.models import Company
from companies.tests.factories import CompanyFactory
from companies.tests.test_admin import change_url, form_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

ANA = {"name": "Ana Souza", "role": "Sócia-Administradora", "since": "2019-05-02"}
RETAIL = {"code": "4751201", "description": "Comércio varejista de informática"}


def _company(**fields):
    return CompanyFactory(partners=[ANA], secondary_activities=[RETAIL], **fields)


def test_the_form_shows_rows_not_json(admin_client):
    company = _company()
    page = admin_client.get(change_url(company))
    html = page.content.decode()
    form = page.context["adminform"].form
    assert "partners" not in form.fields and "secondary_activities" not in form.fields
    assert 'id="partners-rows"' in html and 'id="secondary-activities-rows"' in html
    assert 'name="partners-0-name" value="Ana Souza"' in html
    assert 'name="activities-0-code" value="4751-2/01"' in html  # shown formatted
    assert 'name="partners-0-DELETE"' in html and 'name="partners-1-name"' in html  # remove; blank rows to add
    assert 'name="partners-TOTAL_FORMS"' in html
    assert "<textarea" not in html.split('id="partners-group"')[1].split("</fieldset>")[0]


def test_adding_rows_saves_the_api_shape_through_the_service(admin_client, admin_user):
    company = _company()
    data = form_data(
        admin_client,
        change_url(company),
        **{
            "activities-1-code": "62.01-5-01",
            "activities-1-description": "Desenvolvimento de programas",
            "partners-1-name": "Bruno Lima",
            "partners-1-role": "Administrador",
            "partners-1-since": "2021-03-04",
        },
    )
    response = admin_client.post(change_url(company), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    company.refresh_from_db()
    assert company.secondary_activities == [RETAIL, {"code": "6201501", "description": "Desenvolvimento de programas"}]
    assert company.partners == [ANA, {"name": "Bruno Lima", "role": "Administrador", "since": "2021-03-04"}]
    version = company.history.latest()
    assert version.history_actor == f"user:{admin_user.username}"
    assert version.partners == company.partners  # recorded by the service's write


def test_removing_a_row_and_leaving_blank_rows_blank(admin_client):
    company = _company(trade_name="Sem Mudança")
    data = form_data(admin_client, change_url(company), **{"partners-0-DELETE": "on"})
    response = admin_client.post(change_url(company), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    company.refresh_from_db()
    assert company.partners == []
    assert company.secondary_activities == [RETAIL]  # untouched, blank rows added nothing


def test_an_untouched_form_writes_nothing(admin_client):
    company = _company()
    versions = company.history.count()
    response = admin_client.post(change_url(company), form_data(admin_client, change_url(company)))
    assert response.status_code == 302
    assert company.history.count() == versions


def test_an_invalid_row_shows_its_error_and_keeps_what_was_typed(admin_client):
    company = _company()
    data = form_data(
        admin_client,
        change_url(company),
        trade_name="Não Gravado",
        **{"activities-1-code": "12-34/X", "partners-1-role": "Procurador", "partners-1-since": "31/02/2020"},
    )
    response = admin_client.post(change_url(company), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a CNAE code of 7 digits, such as 6201-5/01." in html
    assert 'name="activities-1-code" value="12-34/X"' in html
    assert "This field is required." in html  # the partner row has a role but no name
    assert 'name="partners-1-role" value="Procurador"' in html
    assert "Enter a valid date." in html
    assert "Correct the rows marked below" in html
    company.refresh_from_db()
    assert company.trade_name != "Não Gravado" and company.secondary_activities == [RETAIL]


def test_adding_a_company_with_rows(admin_client):
    url = "/admin/companies/company/add/"
    data = form_data(
        admin_client,
        url,
        cnpj="11.222.333/0001-81",
        legal_name="Nova Ltda",
        **{"partners-0-name": "Carla", "activities-0-code": "0111301", "activities-0-description": "Arroz"},
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    company = Company.objects.get(cnpj="11222333000181")
    assert company.partners == [{"name": "Carla", "role": "", "since": None}]
    assert company.secondary_activities == [{"code": "0111301", "description": "Arroz"}]


def test_the_registry_payload_is_shown_formatted_and_cannot_be_written(admin_client):
    company = _company(registry_payload={"razao_social": "ACME", "qsa": [{"nome": "Ana"}]})
    page = admin_client.get(change_url(company))
    html = page.content.decode()
    assert '<pre class="registry-payload"' in html
    assert "&quot;qsa&quot;: [\n    {\n      &quot;nome&quot;: &quot;Ana&quot;" in html  # indented
    data = form_data(admin_client, change_url(company), registry_payload='{"forged": true}', trade_name="Outro")
    assert admin_client.post(change_url(company), data).status_code == 302
    company.refresh_from_db()
    assert company.registry_payload == {"razao_social": "ACME", "qsa": [{"nome": "Ana"}]}
    assert company.trade_name == "Outro"


def test_readers_see_the_rows_read_only_and_cannot_revert(make_user):
    reader = make_user(username="leitora", is_staff=True)
    reader.groups.add(Group.objects.get(name="Leitores"))
    client = Client()
    client.force_login(reader)
    company = _company()
    html = client.get(change_url(company)).content.decode()
    assert 'id="partners-rows"' in html and "Ana Souza" in html
    assert 'name="partners-0-name"' not in html and 'name="partners-TOTAL_FORMS"' not in html
    version = company.history.get()
    url = f"/admin/companies/company/{company.pk}/history/{version.history_id}/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="partners-0-name"' not in page.content.decode()
    assert client.post(url, {"legal_name": "Forjado"}).status_code == 403
    company.refresh_from_db()
    assert company.legal_name != "Forjado"
