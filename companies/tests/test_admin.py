"""The back office: no delete for anyone, writes through the services, history with the user."""

import pytest

from companies.models import Company
from companies.tests.factories import CompanyFactory, alphanumeric_cnpj, cnpj_for, numeric_cnpj

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/companies/company/"


def change_url(company):
    return f"{CHANGELIST}{company.pk}/change/"


def form_data(client, url, **changes):
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {name: "" if value is None else value for name, value in data.items()}
    data.update(secondary_activities=data["secondary_activities"] or "[]", partners=data["partners"] or "[]")
    data.update(changes)
    return data


def test_superuser_has_no_delete_anywhere(admin_client):
    company = CompanyFactory()
    changelist = admin_client.get(CHANGELIST)
    assert changelist.status_code == 200
    assert "delete_selected" not in changelist.content.decode()
    assert "delete_selected" not in dict(changelist.context["action_form"].fields["action"].choices)
    change = admin_client.get(change_url(company))
    assert change.status_code == 200
    assert change.context["has_delete_permission"] is False
    assert b"deletelink" not in change.content
    assert admin_client.get(f"{CHANGELIST}{company.pk}/delete/").status_code == 403
    response = admin_client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [company.pk]})
    assert Company.objects.filter(pk=company.pk).exists()
    assert response.status_code in (200, 302)


def test_add_accepts_formatted_lower_case_cnpj_and_records_the_user(admin_client, admin_user):
    data = form_data(admin_client, f"{CHANGELIST}add/", cnpj="12.abc.345/01de-35", legal_name="Pelo Admin Ltda",
                     zip_code="01310-100", state="SP")
    response = admin_client.post(f"{CHANGELIST}add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    company = Company.objects.get(cnpj="12ABC34501DE35")
    assert (company.legal_name, company.zip_code) == ("Pelo Admin Ltda", "01310100")
    version = company.history.get()
    assert version.history_user == admin_user
    assert version.history_actor == f"user:{admin_user.username}"


def test_add_refuses_invalid_and_duplicate_cnpjs(admin_client):
    stored = CompanyFactory()
    for cnpj, message in [("11.222.333/0001-82", "dígitos verificadores"), (stored.cnpj_formatted, "já existe")]:
        response = admin_client.post(f"{CHANGELIST}add/", form_data(admin_client, f"{CHANGELIST}add/", cnpj=cnpj))
        assert response.status_code == 200
        assert message in str(response.context["adminform"].form.errors["cnpj"])
    assert Company.objects.count() == 1


def test_change_goes_through_the_service_and_keeps_the_cnpj(admin_client, admin_user):
    company = CompanyFactory()
    data = form_data(admin_client, change_url(company), trade_name="Alterado", cnpj=numeric_cnpj(900))
    response = admin_client.post(change_url(company), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    company.refresh_from_db()
    assert company.trade_name == "Alterado"
    assert company.cnpj != numeric_cnpj(900)
    version = company.history.latest()
    assert (version.history_type, version.history_actor) == ("~", f"user:{admin_user.username}")
    assert admin_client.get(f"{CHANGELIST}{company.pk}/history/").status_code == 200


def test_search_by_raw_or_formatted_cnpj_and_names(admin_client):
    target = CompanyFactory(cnpj=alphanumeric_cnpj(3), legal_name="Alvo Ltda")
    CompanyFactory(legal_name="Outra Ltda")
    for term in (target.cnpj, target.cnpj_formatted, target.cnpj_formatted.lower()[:6], "alvo"):
        results = list(admin_client.get(CHANGELIST, {"q": term}).context["cl"].result_list)
        assert results == [target], term


def test_filters_include_head_office(admin_client):
    head = CompanyFactory(cnpj=cnpj_for("445566770001"))
    branch = CompanyFactory(cnpj=cnpj_for("445566770002"), state="RJ")
    assert list(admin_client.get(CHANGELIST, {"head_office": "yes"}).context["cl"].result_list) == [head]
    assert list(admin_client.get(CHANGELIST, {"head_office": "no"}).context["cl"].result_list) == [branch]
    assert list(admin_client.get(CHANGELIST, {"state__exact": "RJ"}).context["cl"].result_list) == [branch]


def test_registry_fields_are_read_only_and_the_payload_is_readable(admin_client):
    company = CompanyFactory(registry_source="brasilapi", registry_payload={"razao_social": "ACME <b>"})
    page = admin_client.get(change_url(company))
    form = page.context["adminform"].form
    assert "registry_payload" not in form.fields and "enrichment_status" not in form.fields
    html = page.content.decode()
    assert "&quot;razao_social&quot;: &quot;ACME &lt;b&gt;&quot;" in html
    assert "brasilapi" in html


def test_revert_to_a_past_version_goes_through_the_service(admin_client, admin_user, api):
    company = CompanyFactory(trade_name="Original")
    first_version = company.history.get()
    api.patch(f"/api/companies/{company.cnpj}/", {"trade_name": "Changed", "city": "Campinas"}, format="json")
    assert api.get(f"/api/companies/{company.cnpj}/").json()["trade_name"] == "Changed"  # now cached
    url = f"{CHANGELIST}{company.pk}/history/{first_version.history_id}/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, form_data(admin_client, url))
    assert response.status_code == 302, response.context["adminform"].form.errors
    company.refresh_from_db()
    assert (company.trade_name, company.city) == ("Original", "São Paulo")
    latest = company.history.latest()
    assert latest.history_actor == f"user:{admin_user.username}"
    assert api.get(f"/api/companies/{company.cnpj}/").json()["trade_name"] == "Original"


def test_the_list_shows_brazilian_formats_and_sao_paulo_time(admin_client):
    from datetime import UTC, datetime
    from decimal import Decimal

    company = CompanyFactory(cnpj=numeric_cnpj(11221332), zip_code="01310100", share_capital=Decimal("1234.56"))
    Company.objects.filter(pk=company.pk).update(updated_at=datetime(2024, 1, 31, 2, 5, tzinfo=UTC))
    page = admin_client.get(CHANGELIST).content.decode()
    row = page[page.index(f'href="{change_url(company)}"') :].split("</tr>")[0]
    assert company.cnpj_formatted in row and "11.221.333/0001" in row
    assert "01310-100" in row and "R$ 1.234,56" in row
    assert "30/01/2024 23:05" in row  # 02:05 UTC is the evening before in São Paulo
    assert "Razão social" in page and "Capital social" in page and "Situação cadastral" in page  # the headers

    in_english = admin_client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "R$ 1,234.56" in in_english and "01310-100" in in_english and "Jan. 30, 2024, 11:05 p.m." in in_english


def test_a_reader_sees_the_formatted_values_and_an_editor_the_plain_inputs(admin_client, make_user):
    from decimal import Decimal

    from django.contrib.auth.models import Group
    from django.test import Client

    company = CompanyFactory(zip_code="01310100", share_capital=Decimal("50000"), status_date="2024-02-29")
    reader = make_user(username="leitora", is_staff=True)
    reader.groups.add(Group.objects.get(name="Leitores"))
    client = Client()
    client.force_login(reader)
    page = client.get(change_url(company)).content.decode()
    assert company.cnpj_formatted in page and "01310-100" in page and "R$ 50.000,00" in page
    assert "29/02/2024" in page  # dd/mm/aaaa

    form = admin_client.get(change_url(company)).content.decode()
    assert 'name="share_capital" value="50000.00"' in form and 'name="zip_code" value="01310100"' in form
    assert 'name="status_date" value="29/02/2024"' in form and company.cnpj_formatted in form
