import subprocess
import sys
import time

import httpx
import pytest

from integrations.cnpj import brasilapi, chain, cnpja, receitaws
from integrations.cnpj.types import BadResponse, NotFound, RateLimited, Unavailable
from integrations.fake.companies import trigger_cnpj

VALID = "11222333000181"
ALPHANUMERIC = "12ABC34501DE35"
PROVIDERS = (brasilapi, receitaws, cnpja)


@pytest.mark.parametrize("number", [VALID, ALPHANUMERIC])
def test_every_provider_describes_the_same_company(fake_settings, number):
    records = [provider.lookup(number) for provider in PROVIDERS]
    assert {r.cnpj for r in records} == {number}
    assert len({r.legal_name for r in records}) == 1
    assert len({r.share_capital for r in records}) == 1
    assert len({r.opened_on for r in records}) == 1
    assert len({r.registration_status for r in records}) == 1
    assert len({r.main_activity.code for r in records}) == 1
    assert len({r.address.state for r in records}) == 1
    assert len({r.address.zip_code for r in records}) == 1
    assert all(r.partners for r in records)


def test_answers_are_deterministic(fake_settings):
    assert brasilapi.lookup(VALID) == brasilapi.lookup(VALID)
    assert brasilapi.lookup(VALID).legal_name != brasilapi.lookup("11444777000161").legal_name


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("prefix", "error"),
    [("404", NotFound), ("429", RateLimited), ("500", Unavailable), ("200", Unavailable)],
)
def test_trigger_cnpjs(fake_settings, provider, prefix, error):
    with pytest.raises(error) as caught:
        provider.lookup(trigger_cnpj(prefix))
    if error is RateLimited:
        assert caught.value.retry_after == 3


def test_provider_digit_limits_the_trigger_to_one_provider(fake_settings):
    brasilapi_only = trigger_cnpj("500", "1")
    with pytest.raises(Unavailable):
        brasilapi.lookup(brasilapi_only)
    assert receitaws.lookup(brasilapi_only).legal_name


def test_slow_answer(fake_settings):
    started = time.monotonic()
    assert cnpja.lookup(trigger_cnpj("408")).legal_name
    assert time.monotonic() - started >= 0.5


def test_slow_answer_beyond_the_read_timeout_is_unavailable(fake_settings):
    fake_settings.INTEGRATIONS_READ_TIMEOUT = 0.2
    with pytest.raises(Unavailable, match="timed out"):
        brasilapi.lookup(trigger_cnpj("408"))


def test_invalid_cnpj_shapes(fake_settings):
    with pytest.raises(BadResponse):
        brasilapi.lookup("11222333000180")
    with pytest.raises(NotFound):
        receitaws.lookup("11222333000180")


def test_chain_falls_through_on_the_fake(fake_settings, fake):
    record = chain.registry_lookup(trigger_cnpj("429", "1"))
    assert record.source == "receitaws"
    log = httpx.get(f"{fake.url}/_fake/requests").json()["requests"]
    assert [(r["provider"], r["behaviour"]) for r in log] == [("brasilapi", "rate_limited"), ("receitaws", None)]


def _graphql(fake, query, variables, token="fake-token"):
    return httpx.post(
        f"{fake.url}/pipefy/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )


CREATE = "mutation ($input: CreateCardInput!) { createCard(input: $input) { card { id title url } } }"
SEARCH = (
    "query ($pipeId: ID!, $title: String) "
    "{ cards(pipe_id: $pipeId, search: {title: $title}) { edges { node { id } } } }"
)


def test_pipefy_records_cards_and_finds_them_by_title(fake):
    answer = _graphql(
        fake,
        CREATE,
        {
            "input": {
                "pipe_id": "1",
                "title": "11.222.333/0001-81 ACME",
                "fields_attributes": [{"field_id": "cnpj", "field_value": "x"}],
            }
        },
    )
    card = answer.json()["data"]["createCard"]["card"]
    assert card["id"] and card["url"].endswith(card["id"])
    cards = httpx.get(f"{fake.url}/_fake/pipefy/cards").json()["cards"]
    assert [(c["id"], c["fields"]) for c in cards] == [(card["id"], {"cnpj": "x"})]
    found = _graphql(fake, SEARCH, {"pipeId": "1", "title": "11.222.333/0001-81"}).json()
    assert [e["node"]["id"] for e in found["data"]["cards"]["edges"]] == [card["id"]]
    assert _graphql(fake, SEARCH, {"pipeId": "2", "title": "11.222"}).json()["data"]["cards"]["edges"] == []
    httpx.delete(f"{fake.url}/_fake/pipefy/cards")
    assert httpx.get(f"{fake.url}/_fake/pipefy/cards").json()["cards"] == []


def test_pipefy_errors(fake):
    assert _graphql(fake, CREATE, {"input": {"pipe_id": "1", "title": "t"}}, token="invalid").status_code == 401
    missing = _graphql(fake, CREATE, {"input": {"pipe_id": "404", "title": "t"}})
    assert missing.status_code == 200
    assert missing.json()["errors"][0]["extensions"]["code"] == "RESOURCE_NOT_FOUND"
    denied = _graphql(fake, CREATE, {"input": {"pipe_id": "403", "title": "t"}}).json()
    assert denied["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


def test_pipefy_ambiguous_failure_still_creates_the_card(fake):
    title = "50200000000120 is not it; 50.200.000/0001-" + trigger_cnpj("502")[-2:]
    first = _graphql(fake, CREATE, {"input": {"pipe_id": "1", "title": title}})
    assert first.status_code == 502
    assert len(httpx.get(f"{fake.url}/_fake/pipefy/cards").json()["cards"]) == 1
    second = _graphql(fake, CREATE, {"input": {"pipe_id": "1", "title": title}})
    assert second.status_code == 200


def test_command_line_serves_on_the_given_port():
    process = subprocess.Popen(
        [sys.executable, "-m", "integrations.fake", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        url = first_line.split(" on ")[1].split(";")[0]
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/_fake/health").json() == {"status": "ok"}
    finally:
        process.terminate()
        process.wait(timeout=5)
