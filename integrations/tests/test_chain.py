import httpx
import pytest
import respx
from django.core.exceptions import ImproperlyConfigured

from integrations.cnpj import chain
from integrations.cnpj.types import NotFound, RateLimited, Unavailable
from integrations.tests import payloads

BRASILAPI = f"https://brasilapi.test/cnpj/{payloads.CNPJ}"
RECEITAWS = f"https://receitaws.test/cnpj/{payloads.CNPJ}"
CNPJA = f"https://cnpja.test/office/{payloads.CNPJ}"


@pytest.fixture(autouse=True)
def providers(settings):
    settings.CNPJ_PROVIDERS = ["brasilapi", "receitaws", "cnpja"]
    settings.BRASILAPI_URL = "https://brasilapi.test/cnpj/"
    settings.RECEITAWS_URL = "https://receitaws.test/cnpj/"
    settings.CNPJA_URL = "https://cnpja.test/office/"
    settings.PROVIDER_RATES = {}


@respx.mock
def test_first_provider_answers():
    respx.get(BRASILAPI).mock(return_value=httpx.Response(200, json=payloads.brasilapi()))
    receitaws = respx.get(RECEITAWS)
    assert chain.registry_lookup(payloads.CNPJ).source == "brasilapi"
    assert not receitaws.called


@respx.mock
@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(429, headers={"Retry-After": "5"}),
        httpx.Response(500, json={"name": "InternalError"}),
        httpx.Response(200, text="<html>"),
        httpx.Response(400, json={"name": "BadRequestError", "message": "CNPJ inválido"}),
    ],
)
def test_falls_through_to_the_next_provider(failure):
    respx.get(BRASILAPI).mock(return_value=failure)
    respx.get(RECEITAWS).mock(return_value=httpx.Response(200, json=payloads.receitaws()))
    record = chain.registry_lookup(payloads.CNPJ)
    assert record.source == "receitaws"
    assert record.legal_name == "PADARIA BOM PAO LTDA"


@respx.mock
def test_unknown_to_one_provider_asks_the_next():
    respx.get(BRASILAPI).mock(return_value=httpx.Response(404, json={"type": "not_found"}))
    receitaws = respx.get(RECEITAWS).mock(return_value=httpx.Response(200, json=payloads.receitaws()))
    assert chain.registry_lookup(payloads.CNPJ).source == "receitaws"
    assert receitaws.called


@respx.mock
def test_unknown_only_when_every_provider_answered_so():
    respx.get(BRASILAPI).mock(return_value=httpx.Response(404, json={"type": "not_found"}))
    respx.get(RECEITAWS).mock(return_value=httpx.Response(200, json={"status": "ERROR", "message": "CNPJ rejeitado"}))
    respx.get(CNPJA).mock(return_value=httpx.Response(404, json={"code": 404, "message": "Not Found"}))
    result = chain.registry_ask(payloads.CNPJ)
    assert result.unknown and result.unknown_to == ["brasilapi", "receitaws", "cnpja"]
    with pytest.raises(NotFound):
        chain.registry_lookup(payloads.CNPJ)


@respx.mock
@pytest.mark.parametrize(
    "other",
    [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(503), httpx.ConnectError("refused")],
)
def test_unknown_to_some_while_another_could_not_answer_is_not_unknown(other):
    respx.get(BRASILAPI).mock(return_value=httpx.Response(404, json={"type": "not_found"}))
    if isinstance(other, Exception):
        respx.get(RECEITAWS).mock(side_effect=other)
    else:
        respx.get(RECEITAWS).mock(return_value=other)
    respx.get(CNPJA).mock(return_value=httpx.Response(404, json={"code": 404, "message": "Not Found"}))
    result = chain.registry_ask(payloads.CNPJ)
    assert not result.unknown and result.retryable
    with pytest.raises((RateLimited, Unavailable)):
        chain.registry_lookup(payloads.CNPJ)


@respx.mock
def test_every_provider_rate_limited_gives_the_shortest_wait():
    respx.get(BRASILAPI).mock(return_value=httpx.Response(429, headers={"Retry-After": "50"}))
    respx.get(RECEITAWS).mock(return_value=httpx.Response(429, headers={"Retry-After": "20"}))
    respx.get(CNPJA).mock(return_value=httpx.Response(429, headers={"Retry-After": "90"}))
    with pytest.raises(RateLimited) as caught:
        chain.registry_lookup(payloads.CNPJ)
    assert caught.value.retry_after == 20


@respx.mock
def test_every_provider_down_is_unavailable():
    respx.get(BRASILAPI).mock(side_effect=httpx.ReadTimeout("slow"))
    respx.get(RECEITAWS).mock(return_value=httpx.Response(429, headers={"Retry-After": "20"}))
    respx.get(CNPJA).mock(return_value=httpx.Response(503))
    with pytest.raises(Unavailable) as caught:
        chain.registry_lookup(payloads.CNPJ)
    assert caught.value.retry_after == 20
    assert "brasilapi" in str(caught.value) and "cnpja" in str(caught.value)


@respx.mock
def test_configured_order_is_followed(settings):
    settings.CNPJ_PROVIDERS = ["cnpja", "brasilapi"]
    respx.get(CNPJA).mock(return_value=httpx.Response(200, json=payloads.cnpja()))
    brasilapi = respx.get(BRASILAPI)
    assert chain.registry_lookup(payloads.CNPJ).source == "cnpja"
    assert not brasilapi.called


@respx.mock
def test_a_provider_with_an_open_circuit_is_skipped(settings):
    settings.CNPJ_BREAKER_FAIL_MAX = 2
    brasilapi = respx.get(BRASILAPI).mock(return_value=httpx.Response(502))
    respx.get(RECEITAWS).mock(return_value=httpx.Response(200, json=payloads.receitaws()))
    for _ in range(3):
        assert chain.registry_lookup(payloads.CNPJ).source == "receitaws"
    assert brasilapi.call_count == 2


@respx.mock
def test_a_provider_over_its_own_limit_is_skipped_without_a_call(settings):
    settings.CNPJ_PROVIDERS = ["receitaws", "cnpja"]
    settings.PROVIDER_RATES = {"receitaws": "1/minute"}
    receitaws = respx.get(RECEITAWS).mock(return_value=httpx.Response(200, json=payloads.receitaws()))
    respx.get(CNPJA).mock(return_value=httpx.Response(200, json=payloads.cnpja()))
    assert chain.registry_lookup(payloads.CNPJ).source == "receitaws"
    assert chain.registry_lookup(payloads.CNPJ).source == "cnpja"
    assert receitaws.call_count == 1


def test_unknown_provider_is_a_configuration_error(settings):
    settings.CNPJ_PROVIDERS = ["brasilapi", "serpro"]
    with pytest.raises(ImproperlyConfigured, match="serpro"):
        chain.registry_lookup(payloads.CNPJ)
