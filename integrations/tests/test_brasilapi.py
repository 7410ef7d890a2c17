from datetime import date
from decimal import Decimal

import httpx
import pytest
import respx

from integrations.cnpj import brasilapi
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

URL = f"https://brasilapi.com.br/api/cnpj/v1/{payloads.CNPJ}"


@pytest.fixture(autouse=True)
def default_url(settings):
    settings.BRASILAPI_URL = "https://brasilapi.com.br/api/cnpj/v1/"


@respx.mock
def test_full_answer_becomes_a_record():
    route = respx.get(URL).mock(return_value=httpx.Response(200, json=payloads.brasilapi()))
    record = brasilapi.lookup(payloads.CNPJ)
    assert route.calls.last.request.headers["User-Agent"]
    assert record.cnpj == payloads.CNPJ
    assert record.source == "brasilapi"
    assert record.legal_name == "PADARIA BOM PAO LTDA"
    assert record.trade_name == "BOM PAO"
    assert record.registration_status is RegistrationStatus.ATIVA
    assert record.status_date == date(2005, 11, 3)
    assert record.opened_on == date(1998, 4, 15)
    assert record.share_capital == Decimal("150000.50")
    assert record.main_activity == Activity("1091102", "Fabricação de produtos de padaria e confeitaria")
    assert [a.code for a in record.secondary_activities] == ["4721102", "5620104"]
    assert record.partners == (Partner("MARIA DA SILVA", "Sócio-Administrador", date(1998, 4, 15)),)
    assert record.address.street == "RUA DAS FLORES"
    assert record.address.state == "SP"
    assert record.address.zip_code == "01311000"
    assert record.address.ibge_code == "3550308"
    assert record.email == "contato@bompao.com.br"
    assert record.phone == "1133334444"
    assert record.raw["razao_social"] == "PADARIA BOM PAO LTDA"


@respx.mock
def test_missing_and_null_fields_are_blank():
    sparse = {
        "cnpj": payloads.CNPJ,
        "razao_social": "EMPRESA X",
        "qsa": None,
        "cnaes_secundarios": None,
        "capital_social": None,
        "data_inicio_atividade": "",
        "situacao_cadastral": None,
        "uf": None,
    }
    respx.get(URL).mock(return_value=httpx.Response(200, json=sparse))
    record = brasilapi.lookup(payloads.CNPJ)
    assert record.legal_name == "EMPRESA X"
    assert record.registration_status is RegistrationStatus.UNKNOWN
    assert record.share_capital is None
    assert record.opened_on is None
    assert record.main_activity is None
    assert record.partners == ()
    assert record.secondary_activities == ()
    assert record.address.state == ""


@respx.mock
def test_status_from_description_when_code_missing():
    payload = payloads.brasilapi(situacao_cadastral=None, descricao_situacao_cadastral="BAIXADA")
    respx.get(URL).mock(return_value=httpx.Response(200, json=payload))
    assert brasilapi.lookup(payloads.CNPJ).registration_status is RegistrationStatus.BAIXADA


@respx.mock
def test_404_is_not_found():
    body = {"name": "NotFoundError", "message": "CNPJ 11222333000181 não encontrado.", "type": "not_found"}
    respx.get(URL).mock(return_value=httpx.Response(404, json=body))
    with pytest.raises(NotFound):
        brasilapi.lookup(payloads.CNPJ)


@respx.mock
def test_400_is_a_bad_response():
    body = {"name": "BadRequestError", "message": "CNPJ inválido", "type": "bad_request"}
    respx.get(URL).mock(return_value=httpx.Response(400, json=body))
    with pytest.raises(BadResponse, match="CNPJ inválido"):
        brasilapi.lookup(payloads.CNPJ)


@respx.mock
def test_429_is_rate_limited_with_retry_after():
    respx.get(URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "42"}, json={}))
    with pytest.raises(RateLimited) as caught:
        brasilapi.lookup(payloads.CNPJ)
    assert caught.value.retry_after == 42


@respx.mock
@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, json={"name": "InternalError"}),
        httpx.Response(502, text="Bad gateway"),
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.ReadTimeout("too slow"),
        httpx.ConnectError("refused"),
    ],
)
def test_server_faults_are_unavailable(answer):
    respx.get(URL).mock(**({"side_effect": answer} if isinstance(answer, Exception) else {"return_value": answer}))
    with pytest.raises(Unavailable):
        brasilapi.lookup(payloads.CNPJ)


@respx.mock
@pytest.mark.parametrize("body", [[1, 2], {"cnpj": payloads.CNPJ}])
def test_wrong_shape_is_a_bad_response(body):
    respx.get(URL).mock(return_value=httpx.Response(200, json=body))
    with pytest.raises(BadResponse):
        brasilapi.lookup(payloads.CNPJ)
