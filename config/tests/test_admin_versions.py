"""The admin's change forms refuse a save based on a stale version, with the form kept and a
clear message; a fresh form saves as before."""

import pytest
from django.urls import reverse

from books.tests.test_admin import form_data as book_form_data
from companies.models import Company
from companies.services import company_update
from companies.tests.factories import CompanyFactory
from companies.tests.test_admin import change_url as company_change_url
from companies.tests.test_admin import form_data as company_form_data
from core.admin_versions import StaleEdit

STALE = "alterado por outra pessoa depois que você abriu esta página".encode()  # pt-BR, the default


@pytest.mark.django_db
def test_a_company_form_opened_before_another_change_is_refused(admin_client):
    company = CompanyFactory(trade_name="Antes")
    url = company_change_url(company)
    opened = company_form_data(admin_client, url, email="contato@antes.com.br")
    company_update(company=company, trade_name="Mudou Pela API")  # meanwhile, elsewhere

    refused = admin_client.post(url, opened)
    assert refused.status_code == 200 and STALE in refused.content
    company.refresh_from_db()
    assert (company.trade_name, company.email) == ("Mudou Pela API", "")  # nothing of the stale form

    fresh = company_form_data(admin_client, url, email="contato@antes.com.br")
    assert admin_client.post(url, fresh).status_code == 302
    company.refresh_from_db()
    assert (company.trade_name, company.email) == ("Mudou Pela API", "contato@antes.com.br")


@pytest.mark.django_db(databases=["default", "mongo"])
def test_a_book_form_opened_before_another_change_is_refused(admin_client, api):
    created = api.post("/api/books/", {"title": "Iracema", "authors": ["José de Alencar"], "isbn": "9788572326971"})
    book_id = created.json()["id"]
    url = reverse("admin:books_book_change", args=[book_id])
    opened = {**book_form_data(title="Iracema (edição do admin)"), "isbn": "9788572326971",
              "version": admin_client.get(url).context["adminform"].form.initial["version"]}
    assert api.patch(f"/api/books/{book_id}/", {"subtitle": "Lenda do Ceará"}).status_code == 200

    refused = admin_client.post(url, opened)
    assert refused.status_code == 200 and STALE in refused.content
    assert api.get(f"/api/books/{book_id}/").json()["title"] == "Iracema"

    fresh = {**opened, "version": admin_client.get(url).context["adminform"].form.initial["version"],
             "subtitle": "Lenda do Ceará"}
    assert admin_client.post(url, fresh).status_code == 302
    assert api.get(f"/api/books/{book_id}/").json()["title"] == "Iracema (edição do admin)"


@pytest.mark.django_db
def test_a_change_landing_between_the_check_and_the_save_is_refused_under_the_lock():
    from companies.admin import CompanyAdminForm

    company = CompanyFactory()
    form = CompanyAdminForm(data={"version": company.updated_at.isoformat()}, instance=company)
    check = form.precondition()
    company_update(company=company, trade_name="Entrou Antes")
    with pytest.raises(StaleEdit):
        company_update(company=company, precondition=check, trade_name="Perdida")
    assert Company.objects.get(pk=company.pk).trade_name == "Entrou Antes"
