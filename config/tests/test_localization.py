"""The back office in Portuguese by default, in English on request (Accept-Language or the language
switch), with times in America/Sao_Paulo; the API in English and UTC whatever the client asks
(core.localization, config.urls)."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from companies.models import Company
from companies.tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db
NOON_UTC = datetime(2024, 3, 15, 12, 30, tzinfo=UTC)  # 09:30 in São Paulo (UTC-3, no summer time since 2019)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>")


@pytest.fixture
def staff_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def _index(client, **headers):
    response = client.get("/admin/", **headers)
    assert response.status_code == 200
    return response


def test_the_back_office_speaks_portuguese_by_default(staff_client):
    response = _index(staff_client)
    page = response.content.decode()
    assert response["Content-Language"] == "pt-br" and '<html lang="pt-br"' in page
    assert "Empresas" in page and "Livros" in page and "Retaguarda de Empresas e Livros" in page
    assert "Companies" not in page


def test_english_on_request_through_accept_language(staff_client):
    response = _index(staff_client, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    page = response.content.decode()
    assert response["Content-Language"] == "en" and "Companies" in page and "Companies &amp; Books back office" in page
    assert "Empresas" not in page
    # A browser asking for Portuguese, or for a language the site does not speak, gets Portuguese.
    assert "Empresas" in _index(staff_client, HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9").content.decode()
    assert "Empresas" in _index(staff_client, HTTP_ACCEPT_LANGUAGE="de-DE").content.decode()


def test_the_language_switch_keeps_the_choice_for_the_next_pages(staff_client):
    page = _index(staff_client).content.decode()
    switch = re.search(r'<form id="language-switch".*?</form>', page, re.S).group(0)
    assert 'action="/i18n/setlang/"' in switch and 'name="csrfmiddlewaretoken"' in switch
    assert 'value="en"' in switch and 'value="pt-br"' in switch and 'name="next" value="/admin/"' in switch
    assert not INLINE_SCRIPT.search(switch)  # the production CSP allows no inline script

    switched = staff_client.post("/i18n/setlang/", {"language": "en", "next": "/admin/companies/company/"})
    assert switched.status_code == 302 and switched["Location"] == "/admin/companies/company/"
    # Even a Portuguese browser now gets English: the switch wins over Accept-Language.
    assert "Companies" in _index(staff_client, HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    staff_client.post("/i18n/setlang/", {"language": "pt-br", "next": "/admin/"})
    assert "Empresas" in _index(staff_client).content.decode()


def test_the_sign_in_page_has_the_switch_too(client):
    page = client.get("/admin/login/").content.decode()
    assert 'id="language-switch"' in page and "Acessar" in page
    assert "Log in" in client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_back_office_shows_sao_paulo_time_and_the_api_keeps_utc(staff_client, api):
    company = CompanyFactory()
    Company.objects.filter(pk=company.pk).update(updated_at=NOON_UTC)

    listed = staff_client.get("/admin/companies/company/").content.decode()
    assert "15/03/2024 09:30" in listed and "12:30" not in listed
    in_english = staff_client.get("/admin/companies/company/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "March 15, 2024, 9:30 a.m." in in_english

    for language in ("pt-BR", "en"):
        body = api.get(f"/api/companies/{company.cnpj}/", HTTP_ACCEPT_LANGUAGE=language).json()
        stamp = datetime.fromisoformat(body["updated_at"])
        assert stamp == NOON_UTC and stamp.utcoffset().total_seconds() == 0
    # The zone does not stay active after the admin's request: the next API request is in UTC too.
    staff_client.get("/admin/companies/company/")
    assert api.get(f"/api/companies/{company.cnpj}/").json()["updated_at"] == body["updated_at"]


def test_the_api_answers_in_english_whatever_the_client_asks(api):
    response = api.post(
        "/api/companies/", {"cnpj": "11.222.333/0001-82"}, format="json", HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9"
    )
    assert response.status_code == 400 and response["Content-Language"] == "en"
    assert "check digits do not match" in response.json()["message"]
    required = api.post("/api/books/", {}, format="json", HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert required.status_code == 400 and "This field is required." in str(required.json())
