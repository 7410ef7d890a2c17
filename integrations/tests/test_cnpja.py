from datetime import date
from decimal import Decimal

import httpx
import pytest
import respx

from integrations.cnpj import cnpja
from integrations.cnpj.types import (
    Activity,
    BadResponse,
    NotFound,
    Partner,
    RateLimited,
    RegistrationStatus,
    Unavailable,
)
from integrations.tests import payloads

URL = f"https://open.cnpja.com/office/{payloads.CNPJ}"


@pytest.fixture(autouse=True)
def default_url(settings):
    settings.CNPJA_URL = "https://open.cnpja.com/office/"


@respx.mock
def test_full_answer_becomes_a_record():
    respx.get(URL).mock(return_value=httpx.Response(200, json=payloads.cnpja()))
    record = cnpja.lookup(payloads.CNPJ)
    assert record.source == "cnpja"
    assert record.cnpj == payloads.CNPJ
    assert record.legal_name == "PADARIA BOM PAO LTDA"
    assert record.trade_name == "BOM PAO"
    assert record.registration_status is RegistrationStatus.ATIVA
    assert record.status_date == date(2005, 11, 3)
    assert record.opened_on == date(1998, 4, 15)
    assert record.share_capital == Decimal("10000.00")
    assert record.legal_nature == "Sociedade Empresária Limitada"
    assert record.size == "Microempresa"
    assert record.main_activity == Activity("1091102", "Fabricação de produtos de padaria e confeitaria")
    assert len(record.secondary_activities) == 1
    assert record.partners == (Partner("MARIA DA SILVA", "Sócio-Administrador", date(1998, 4, 15)),)
    assert record.address.city == "São Paulo"
    assert record.address.complement == ""
    assert record.address.ibge_code == "3550308"
    assert record.email == "contato@bompao.com.br"
    assert record.phone == "1133334444"


@respx.mock
def test_nulls_and_missing_objects_are_tolerated():
    payload = {
        "taxId": payloads.CNPJ,
        "company": {"name": "EMPRESA Y", "members": None, "equity": "5000.00"},
        "status": None,
        "address": None,
        "mainActivity": None,
        "sideActivities": None,
        "alias": None,
    }
    respx.get(URL).mock(return_value=httpx.Response(200, json=payload))
    record = cnpja.lookup(payloads.CNPJ)
    assert record.legal_name == "EMPRESA Y"
    assert record.share_capital == Decimal("5000.00")
    assert record.trade_name == ""
    assert record.registration_status is RegistrationStatus.UNKNOWN
    assert record.main_activity is None
    assert record.address.city == ""


@respx.mock
def test_404_is_not_found():
    respx.get(URL).mock(return_value=httpx.Response(404, json={"code": 404, "message": "Not Found"}))
    with pytest.raises(NotFound):
        cnpja.lookup(payloads.CNPJ)


@respx.mock
def test_429_is_rate_limited():
    respx.get(URL).mock(
        return_value=httpx.Response(
            429, headers={"Retry-After": "20"}, json={"code": 429, "message": "rate limit exceeded"}
        )
    )
    with pytest.raises(RateLimited) as caught:
        cnpja.lookup(payloads.CNPJ)
    assert caught.value.retry_after == 20


@respx.mock
def test_unexpected_status_is_a_bad_response():
    respx.get(URL).mock(return_value=httpx.Response(403, json={"code": 403, "message": "Forbidden"}))
    with pytest.raises(BadResponse, match="Forbidden"):
        cnpja.lookup(payloads.CNPJ)


@respx.mock
def test_answer_without_company_is_a_bad_response():
    respx.get(URL).mock(return_value=httpx.Response(200, json={"taxId": payloads.CNPJ}))
    with pytest.raises(BadResponse):
        cnpja.lookup(payloads.CNPJ)


@respx.mock
@pytest.mark.parametrize(
    "answer",
    [httpx.Response(500, json={"code": 500}), httpx.Response(200, text=""), httpx.ConnectTimeout("x")],
)
def test_server_faults_are_unavailable(answer):
    respx.get(URL).mock(**({"side_effect": answer} if isinstance(answer, Exception) else {"return_value": answer}))
    with pytest.raises(Unavailable):
        cnpja.lookup(payloads.CNPJ)
