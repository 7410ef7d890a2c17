from datetime import date
from decimal import Decimal

import httpx
import pytest
import respx

from integrations.cnpj import receitaws
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

URL = f"https://receitaws.com.br/v1/cnpj/{payloads.CNPJ}"


@pytest.fixture(autouse=True)
def default_url(settings):
    settings.RECEITAWS_URL = "https://receitaws.com.br/v1/cnpj/"
    settings.RECEITAWS_TOKEN = ""


@respx.mock
def test_full_answer_with_portuguese_formats():
    route = respx.get(URL).mock(return_value=httpx.Response(200, json=payloads.receitaws()))
    record = receitaws.lookup(payloads.CNPJ)
    assert "Authorization" not in route.calls.last.request.headers
    assert record.cnpj == payloads.CNPJ  # formatted upstream, compact here
    assert record.source == "receitaws"
    assert record.legal_name == "PADARIA BOM PAO LTDA"
    assert record.registration_status is RegistrationStatus.ATIVA
    assert record.status_date == date(2005, 11, 3)  # DD/MM/YYYY
    assert record.opened_on == date(1998, 4, 15)
    assert record.share_capital == Decimal("10000.00")  # "10.000,00"
    assert record.main_activity == Activity("1091102", "Fabricação de produtos de padaria e confeitaria")
    assert record.secondary_activities == (Activity("4721102", "Padaria e confeitaria com predominância de revenda"),)
    assert record.partners == (Partner("MARIA DA SILVA", "49-Sócio-Administrador", None),)
    assert record.address.complement == ""  # "********" means none
    assert record.address.zip_code == "01311000"
    assert record.legal_nature == "206-2 - Sociedade Empresária Limitada"
    assert record.phone == "(11) 3333-4444"


@respx.mock
def test_plain_decimal_capital_and_no_secondary_activity():
    payload = payloads.receitaws(
        capital_social="10000.00",
        atividades_secundarias=[{"code": "00.00-0-00", "text": "Não informada"}],
    )
    respx.get(URL).mock(return_value=httpx.Response(200, json=payload))
    record = receitaws.lookup(payloads.CNPJ)
    assert record.share_capital == Decimal("10000.00")
    assert record.secondary_activities == ()


@respx.mock
def test_token_is_sent_as_bearer(settings):
    settings.RECEITAWS_TOKEN = "paid-tier-token"
    route = respx.get(URL).mock(return_value=httpx.Response(200, json=payloads.receitaws()))
    receitaws.lookup(payloads.CNPJ)
    assert route.calls.last.request.headers["Authorization"] == "Bearer paid-tier-token"


@respx.mock
@pytest.mark.parametrize("message", ["CNPJ inválido", "CNPJ rejeitado pela Receita Federal"])
def test_error_status_with_http_200_is_not_found(message):
    respx.get(URL).mock(return_value=httpx.Response(200, json={"status": "ERROR", "message": message}))
    with pytest.raises(NotFound):
        receitaws.lookup(payloads.CNPJ)


@respx.mock
def test_404_is_not_found():
    respx.get(URL).mock(return_value=httpx.Response(404, json={"status": "ERROR", "message": "Not found"}))
    with pytest.raises(NotFound):
        receitaws.lookup(payloads.CNPJ)


@respx.mock
def test_too_many_requests_in_body_is_rate_limited():
    respx.get(URL).mock(return_value=httpx.Response(200, json={"status": "ERROR", "message": "Too many requests"}))
    with pytest.raises(RateLimited):
        receitaws.lookup(payloads.CNPJ)


@respx.mock
def test_429_without_retry_after_defaults_to_a_minute():
    respx.get(URL).mock(return_value=httpx.Response(429, text="Too many requests, please try again later."))
    with pytest.raises(RateLimited) as caught:
        receitaws.lookup(payloads.CNPJ)
    assert caught.value.retry_after == 60


@respx.mock
def test_unexplained_error_is_a_bad_response():
    respx.get(URL).mock(return_value=httpx.Response(200, json={"status": "ERROR"}))
    with pytest.raises(BadResponse):
        receitaws.lookup(payloads.CNPJ)


@respx.mock
@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(504, text="Gateway Timeout"),
        httpx.Response(200, text="{not json"),
        httpx.ReadTimeout("x"),
    ],
)
def test_server_faults_are_unavailable(answer):
    respx.get(URL).mock(**({"side_effect": answer} if isinstance(answer, Exception) else {"return_value": answer}))
    with pytest.raises(Unavailable):
        receitaws.lookup(payloads.CNPJ)
