import json
from datetime import date
from decimal import Decimal

import httpx
import pytest
import respx

from integrations.errors import RateLimited, Rejected, Unavailable, is_transient
from integrations.pipefy.client import (
    PipefyClient,
    PipefyGraphQLError,
    PipefyInvalidInput,
    PipefyNotConfigured,
    PipefyPermissionDenied,
    PipefyResourceNotFound,
    PipefyServerError,
    PipefyUnauthorized,
    field_value,
)

URL = "https://api.pipefy.com/graphql"


@pytest.fixture
def client():
    return PipefyClient(url=URL, token="secret-token", pipe_id="301", phase_id="")


def _created(card_id="9001", title="t"):
    url = f"https://app.pipefy.com/open-cards/{card_id}"
    return httpx.Response(200, json={"data": {"createCard": {"card": {"id": card_id, "title": title, "url": url}}}})


def _error(code, message="boom"):
    return httpx.Response(200, json={"data": None, "errors": [{"message": message, "extensions": {"code": code}}]})


@respx.mock
def test_create_card_sends_bearer_token_pipe_phase_and_fields(settings):
    settings.PIPEFY_URL, settings.PIPEFY_TOKEN, settings.PIPEFY_PIPE_ID = URL, "secret-token", "301"
    settings.PIPEFY_PHASE_ID = "77"
    route = respx.post(URL).mock(return_value=_created())
    card = PipefyClient.from_settings().card_create(
        title="11.222.333/0001-81 ACME", fields={"cnpj": "11.222.333/0001-81", "capital": Decimal("10.50"), "x": None}
    )
    assert card.id == "9001" and card.url.endswith("9001")
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer secret-token"
    body = json.loads(request.content)
    assert "createCard" in body["query"]
    assert body["variables"]["input"] == {
        "pipe_id": "301",
        "phase_id": "77",
        "title": "11.222.333/0001-81 ACME",
        "fields_attributes": [
            {"field_id": "cnpj", "field_value": "11.222.333/0001-81"},
            {"field_id": "capital", "field_value": "10.50"},
        ],
    }


@respx.mock
@pytest.mark.parametrize(
    ("code", "error", "transient"),
    [
        ("PERMISSION_DENIED", PipefyPermissionDenied, False),
        ("RESOURCE_NOT_FOUND", PipefyResourceNotFound, False),
        ("INVALID_INPUT", PipefyInvalidInput, False),
        ("INTERNAL_SERVER_ERROR", PipefyServerError, True),
        ("SOMETHING_NEW", PipefyGraphQLError, False),
    ],
)
def test_graphql_errors_with_http_200_become_named_errors(client, code, error, transient):
    respx.post(URL).mock(return_value=_error(code, "Field cnpj not found"))
    with pytest.raises(error, match="Field cnpj not found") as caught:
        client.card_create(title="t")
    assert caught.value.code == code
    assert is_transient(caught.value) is transient


@respx.mock
def test_401_is_permanent(client):
    respx.post(URL).mock(return_value=httpx.Response(401, json={"error": "Unauthorized"}))
    with pytest.raises(PipefyUnauthorized) as caught:
        client.card_create(title="t")
    assert isinstance(caught.value, Rejected)
    assert not is_transient(caught.value)


@respx.mock
@pytest.mark.parametrize(
    "answer",
    [httpx.Response(500), httpx.Response(503, text="down"), httpx.Response(200, text="<html>"), httpx.ReadTimeout("x")],
)
def test_timeouts_and_server_faults_are_transient(client, answer):
    respx.post(URL).mock(**({"side_effect": answer} if isinstance(answer, Exception) else {"return_value": answer}))
    with pytest.raises(Unavailable) as caught:
        client.card_create(title="t")
    assert is_transient(caught.value)


@respx.mock
def test_429_is_rate_limited(client):
    respx.post(URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "9"}))
    with pytest.raises(RateLimited) as caught:
        client.card_create(title="t")
    assert caught.value.retry_after == 9


def test_missing_configuration_is_permanent(settings):
    settings.PIPEFY_TOKEN = ""
    with pytest.raises(PipefyNotConfigured):
        PipefyClient.from_settings()


@respx.mock
def test_card_ensure_finds_an_existing_card_instead_of_creating(client):
    found = {
        "data": {
            "cards": {
                "edges": [
                    {"node": {"id": "5", "title": "11.222.333/0001-8 other", "url": ""}},
                    {"node": {"id": "7", "title": "11.222.333/0001-81 ACME", "url": "u"}},
                ]
            }
        }
    }
    route = respx.post(URL).mock(return_value=httpx.Response(200, json=found))
    card, created = client.card_ensure(key="11.222.333/0001-81", title="11.222.333/0001-81 ACME")
    assert (card.id, created) == ("7", False)
    assert route.call_count == 1  # no create


@respx.mock
def test_card_ensure_creates_when_the_pipe_has_none(client):
    empty = httpx.Response(200, json={"data": {"cards": {"edges": []}}})
    route = respx.post(URL).mock(side_effect=[empty, _created("42")])
    card, created = client.card_ensure(key="11.222.333/0001-81", title="11.222.333/0001-81 ACME")
    assert (card.id, created) == ("42", True)
    assert "cards(" in json.loads(route.calls[0].request.content)["query"]


def test_field_values_are_strings():
    assert field_value(date(2024, 1, 2)) == "2024-01-02"
    assert field_value(Decimal("1E+3")) == "1000"
    assert field_value([{"code": "1"}]) == '[{"code": "1"}]'
    assert field_value(12) == "12"


def test_no_duplicate_after_an_ambiguous_failure_on_the_fake(fake, fake_settings):
    from stdnum.br import cnpj as stdnum_cnpj

    from integrations.fake.companies import trigger_cnpj

    key = stdnum_cnpj.format(trigger_cnpj("502"))
    client = PipefyClient.from_settings()
    with pytest.raises(Unavailable):  # the fake stored the card, then answered 502
        client.card_ensure(key=key, title=f"{key} ACME")
    card, created = client.card_ensure(key=key, title=f"{key} ACME")
    assert created is False
    cards = httpx.get(f"{fake.url}/_fake/pipefy/cards").json()["cards"]
    assert [c["id"] for c in cards] == [card.id]
