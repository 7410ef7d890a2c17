import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from integrations.cnpj import brasilapi, chain, cnpja, receitaws
from integrations.cnpj.types import BadResponse, NotFound, RateLimited, Unavailable
from integrations.fake import FakeServer
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
        [
            sys.executable,
            "-m",
            "integrations.fake",
            "--port",
            "0",
            "--rate",
            "brasilapi=2/60",
            "--rate",
            "pipefy=5/0.5",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        url = first_line.split(" on ")[1].split(";")[0]
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/_fake/health").json() == {"status": "ok"}
        assert httpx.get(f"{url}/_fake/rates").json() == {"rates": {"brasilapi": [2, 60], "pipefy": [5, 0.5]}}
        statuses = [httpx.get(f"{url}/brasilapi/api/cnpj/v1/{VALID}").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
    finally:
        process.terminate()
        process.wait(timeout=5)


# --- rate limits, scripts and outcome counts --------------------------------------------------
ROUTES = {"brasilapi": "brasilapi/api/cnpj/v1", "receitaws": "receitaws/v1/cnpj", "cnpja": "cnpja/office"}


def _get(server, provider, number, client=httpx):
    return client.get(f"{server.url}/{ROUTES[provider]}/{number}")


def _sleep_until(moment):
    time.sleep(max(0.0, moment - time.monotonic()))


@pytest.fixture
def limited():
    server = FakeServer(slow_seconds=0.5, retry_after=3, rates={"brasilapi": (3, 1)}).start()
    yield server
    server.stop()


def test_rate_limit_answers_429_beyond_n_and_the_window_slides(limited):
    client = httpx.Client()  # one kept-alive connection: the timings below have little slack

    def statuses(count, provider="brasilapi"):
        return [_get(limited, provider, VALID, client).status_code for _ in range(count)]

    assert statuses(1) == [200]
    first_answered = time.monotonic()  # the first request entered the window before this
    time.sleep(0.5)
    second_sent = time.monotonic()  # the second and third enter it after this
    assert statuses(2) == [200, 200]
    third_answered = time.monotonic()
    refused = _get(limited, "brasilapi", VALID, client)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"  # until the first leaves the window, at least 1
    assert refused.json() == {
        "name": "TooManyRequestsError",
        "message": "Too many requests",
        "type": "too_many_requests",
    }
    assert statuses(1, "receitaws") == [200]  # a provider without a rate is unlimited
    # Refused requests are not counted: more of them now do not delay the next free slot.
    assert statuses(5) == [429] * 5

    _sleep_until(first_answered + 1.05)
    answers = statuses(2)
    assert time.monotonic() < second_sent + 1, "too slow a machine for this test's timing"
    # Only the first request has left the window (a fixed window would have let three through).
    assert answers == [200, 429]

    _sleep_until(third_answered + 1.05)
    assert statuses(3) == [200, 200, 429]
    client.close()

    log = httpx.get(f"{limited.url}/_fake/requests").json()["requests"]
    brasilapi_log = [(r["status"], r["outcome"], r["behaviour"]) for r in log if r["provider"] == "brasilapi"]
    assert brasilapi_log[:4] == [(200, "found", None)] * 3 + [(429, "rate_limited", "over_limit")]
    stats = httpx.get(f"{limited.url}/_fake/stats").json()["by_provider"]["brasilapi"]
    assert stats == {"found": 6, "not_found": 0, "rate_limited": 8, "error": 0}


def test_rate_limit_holds_under_concurrent_requests(fake):
    fake.state.set_rates({"brasilapi": (5, 60)})
    with httpx.Client() as client, ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda _: _get(fake, "brasilapi", VALID, client).status_code, range(32)))
    assert sorted(statuses) == [200] * 5 + [429] * 27


def test_rates_change_at_run_time_and_reset_clears_the_windows(fake):
    answer = httpx.post(f"{fake.url}/_fake/rates", json={"cnpja": [1, 60], "receitaws": [5, 30]})
    assert answer.json() == {"rates": {"cnpja": [1, 60], "receitaws": [5, 30]}}
    assert _get(fake, "cnpja", VALID).status_code == 200
    refused = _get(fake, "cnpja", VALID)
    assert refused.status_code == 429
    assert 59 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json() == {"code": 429, "message": "rate limit exceeded"}

    httpx.post(f"{fake.url}/_fake/reset")
    assert _get(fake, "cnpja", VALID).status_code == 200  # the window is forgotten, the limit is not
    assert _get(fake, "cnpja", VALID).status_code == 429

    answer = httpx.post(f"{fake.url}/_fake/rates", json={"cnpja": None, "receitaws": [1, 60]})
    assert answer.json() == {"rates": {"receitaws": [1, 60]}}
    assert _get(fake, "cnpja", VALID).status_code == 200
    assert _get(fake, "receitaws", VALID).status_code == 200
    refused = _get(fake, "receitaws", VALID)
    assert (refused.status_code, refused.json()) == (429, {"status": "ERROR", "message": "Too many requests"})
    assert httpx.get(f"{fake.url}/_fake/rates").json() == {"rates": {"receitaws": [1, 60]}}

    for bad in ({"nowhere": [1, 1]}, {"cnpja": [1, 0]}, {"cnpja": [-1, 5]}, {"cnpja": "1/5"}, ["cnpja"]):
        assert httpx.post(f"{fake.url}/_fake/rates", json=bad).status_code == 400
    assert httpx.get(f"{fake.url}/_fake/rates").json() == {"rates": {"receitaws": [1, 60]}}


def test_pipefy_rate_limit_answers_its_graphql_error(fake_settings, fake):
    from integrations.pipefy.client import PipefyClient

    fake.state.set_rates({"pipefy": (1, 60)})
    client = PipefyClient.from_settings()
    assert client.card_create(title="11.222.333/0001-81 ACME").id
    refused = _graphql(fake, CREATE, {"input": {"pipe_id": "1", "title": "t"}})
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert refused.json() == {"errors": [{"message": "Too many requests", "extensions": {"code": "TOO_MANY_REQUESTS"}}]}
    with pytest.raises(RateLimited):
        client.card_create(title="t")
    pipefy = httpx.get(f"{fake.url}/_fake/stats").json()["by_provider"]["pipefy"]
    assert pipefy == {"found": 1, "not_found": 0, "rate_limited": 2, "error": 0}


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("behaviour", "error"),
    [("rate_limited", RateLimited), ("not_found", NotFound), ("server_error", Unavailable), ("malformed", Unavailable)],
)
def test_scripted_behaviours_last_times_lookups(fake_settings, fake, provider, behaviour, error):
    answer = httpx.post(
        f"{fake.url}/_fake/script", json={"cnpj": VALID, "provider": provider.NAME, "behaviour": behaviour, "times": 2}
    )
    assert answer.status_code == 200
    for _ in range(2):
        with pytest.raises(error) as caught:
            provider.lookup(VALID)
    if error is RateLimited:
        assert caught.value.retry_after == 3  # the server's retry_after
    assert provider.lookup(VALID).cnpj == VALID  # then back to normal
    log = httpx.get(f"{fake.url}/_fake/requests").json()["requests"]
    assert [(r["behaviour"], r["scripted"]) for r in log] == [(behaviour, True)] * 2 + [(None, False)]


def test_scripts_beat_triggers_queue_up_and_stay_with_their_provider(fake_settings, fake):
    failing = trigger_cnpj("500")
    fake.state.script(failing, "brasilapi", "ok")
    fake.state.script(failing, "brasilapi", "slow")
    assert brasilapi.lookup(failing).cnpj == failing
    started = time.monotonic()
    assert brasilapi.lookup(failing).cnpj == failing
    assert time.monotonic() - started >= 0.5
    with pytest.raises(Unavailable):
        brasilapi.lookup(failing)  # the trigger is back
    fake.state.script(VALID, "receitaws", "not_found", times=1)
    assert brasilapi.lookup(VALID).cnpj == VALID
    with pytest.raises(NotFound):
        receitaws.lookup(VALID)

    for bad in (
        {"cnpj": "123", "provider": "brasilapi", "behaviour": "ok"},
        {"cnpj": VALID, "provider": "pipefy", "behaviour": "ok"},
        {"cnpj": VALID, "provider": "brasilapi", "behaviour": "explode"},
        {"cnpj": VALID, "provider": "brasilapi", "behaviour": "ok", "times": 0},
    ):
        assert httpx.post(f"{fake.url}/_fake/script", json=bad).status_code == 400


def test_a_refused_request_does_not_use_up_a_script(fake):
    fake.state.set_rates({"cnpja": (1, 60)})
    assert _get(fake, "cnpja", VALID).status_code == 200
    fake.state.script(VALID, "cnpja", "not_found")
    assert _get(fake, "cnpja", VALID).status_code == 429
    fake.state.set_rates({"cnpja": None})
    assert _get(fake, "cnpja", VALID).status_code == 404


def test_stats_count_outcomes_and_duplicate_finds(fake_settings, fake):
    other = "11444777000161"
    for provider in PROVIDERS:
        provider.lookup(VALID)  # found three times: two duplicates
    brasilapi.lookup(other)
    with pytest.raises(NotFound):
        brasilapi.lookup(trigger_cnpj("404"))
    with pytest.raises(Unavailable):
        receitaws.lookup(trigger_cnpj("500"))
    with pytest.raises(RateLimited):
        cnpja.lookup(trigger_cnpj("429"))
    for _ in range(2):
        _graphql(fake, CREATE, {"input": {"pipe_id": "1", "title": "11.222.333/0001-81 ACME"}})
    _graphql(fake, CREATE, {"input": {"pipe_id": "404", "title": "t"}})
    _graphql(fake, SEARCH, {"pipeId": "1", "title": "ACME"})  # not a createCard: not counted

    stats = httpx.get(f"{fake.url}/_fake/stats").json()
    assert stats == {
        "by_provider": {
            "brasilapi": {"found": 2, "not_found": 1, "rate_limited": 0, "error": 0},
            "receitaws": {"found": 1, "not_found": 0, "rate_limited": 0, "error": 1},
            "cnpja": {"found": 1, "not_found": 0, "rate_limited": 1, "error": 0},
            "pipefy": {"found": 2, "not_found": 1, "rate_limited": 0, "error": 0},
        },
        "found_per_cnpj_max": 3,
        "duplicate_found": 2,
        "duplicate_cards": 1,
    }
    log = httpx.get(f"{fake.url}/_fake/requests").json()["requests"]
    assert [(r["provider"], r["status"], r["outcome"]) for r in log] == [
        ("brasilapi", 200, "found"),
        ("receitaws", 200, "found"),
        ("cnpja", 200, "found"),
        ("brasilapi", 200, "found"),
        ("brasilapi", 404, "not_found"),
        ("receitaws", 500, "error"),
        ("cnpja", 429, "rate_limited"),
    ]

    httpx.delete(f"{fake.url}/_fake/stats")
    stats = httpx.get(f"{fake.url}/_fake/stats").json()
    assert stats["found_per_cnpj_max"] == stats["duplicate_found"] == 0
    assert stats["by_provider"]["brasilapi"] == {"found": 0, "not_found": 0, "rate_limited": 0, "error": 0}
    assert stats["duplicate_cards"] == 1  # the cards are still there: DELETE /_fake/pipefy/cards forgets them
