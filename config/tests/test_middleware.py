"""config/middleware.py: a path without its trailing slash is redirected with 308, keeping the
method and the body, in production and development settings alike."""

import pytest

from companies.models import Company

pytestmark = pytest.mark.django_db

BODY = {"cnpj": "11.222.333/0001-81", "legal_name": "Sem Barra Ltda", "enrich": False}


@pytest.mark.parametrize("debug", [False, True])
def test_a_write_without_the_slash_is_308_to_the_slashed_path(api, settings, debug):
    settings.DEBUG = debug
    response = api.post("/api/companies?x=1", BODY, format="json")
    assert response.status_code == 308
    assert response["Location"] == "/api/companies/?x=1"
    assert not Company.objects.exists()  # nothing done yet: the client sends it again there


def test_following_the_308_sends_the_same_write_again(api):
    response = api.post("/api/companies", BODY, format="json", follow=True)
    assert response.status_code == 201 and response.redirect_chain == [("/api/companies/", 308)]
    assert Company.objects.get().legal_name == "Sem Barra Ltda"
    cnpj = Company.objects.get().cnpj
    patched = api.patch(f"/api/companies/{cnpj}", {"trade_name": "Barra"}, format="json", follow=True)
    assert patched.status_code == 200 and Company.objects.get().trade_name == "Barra"


@pytest.mark.parametrize("method", ["put", "patch", "delete", "get"])
def test_every_method_is_redirected_with_308(api, method):
    assert getattr(api, method)("/api/companies/11222333000181").status_code == 308
