"""The fast path (core.prefetch): a throttle that counts a request reads the cache entries its
view names in the same Redis command. Its answers equal the plain path's, where the view reads
them itself."""

import pytest
from django.conf import settings
from django.test import override_settings
from django_redis import get_redis_connection

from companies.tests.factories import CompanyFactory
from core import prefetch

pytestmark = pytest.mark.django_db

FAST = override_settings(API_THROTTLE_RATES={**settings.API_THROTTLE_RATES, "api_key": "100000/minute"})
PLAIN = override_settings(API_THROTTLE_RATES={**settings.API_THROTTLE_RATES, "api_key": None})


def _commands(call):
    connection = get_redis_connection("default")
    connection.config_resetstat()
    response = call()
    stats = connection.info("commandstats")
    return response, {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}


def _answer(response):
    return response.status_code, response.content, response.get("ETag")


def test_the_fast_and_the_plain_path_give_the_same_answers(api):
    companies = [CompanyFactory(state="SP"), CompanyFactory(state="SP"), CompanyFactory(state="RJ")]
    detail = f"/api/companies/{companies[0].cnpj}/"
    steps = [
        lambda: api.get(detail),  # a miss, then a hit
        lambda: api.get(detail),
        lambda: api.get("/api/companies/", {"state": "SP"}),
        lambda: api.get("/api/companies/", {"state": "SP", "page_size": 1}),
        lambda: api.get("/api/companies/00000000000000/"),  # not a company: 404 both ways
        lambda: api.patch(detail, {"trade_name": "Padaria Nova"}, format="json"),
        lambda: api.get(detail),
        lambda: api.get("/api/companies/", {"state": "SP"}),
    ]
    for step in steps:
        with PLAIN:
            plain = _answer(step())
        with FAST:
            fast = _answer(step())
        assert fast == plain


def test_a_cached_answer_costs_one_redis_command_on_the_fast_path_and_two_on_the_plain_one(api):
    detail = f"/api/companies/{CompanyFactory().cnpj}/"
    with FAST:
        assert api.get(detail).status_code == 200  # cached now
        response, fast = _commands(lambda: api.get(detail))
    with PLAIN:
        response_plain, plain = _commands(lambda: api.get(detail))
    assert response.content == response_plain.content
    assert {name: fast.get(name, 0) for name in ("eval", "mget", "get")} == {"eval": 1, "mget": 1, "get": 0}
    # Inside the script's one command: INCR and MGET. Without a throttle: the view's own MGET.
    assert {name: plain.get(name, 0) for name in ("eval", "mget", "incr")} == {"eval": 0, "mget": 1, "incr": 0}


class _View:
    def __init__(self, keys):
        self.keys = keys

    def cache_reads(self, request):
        return self.keys


def test_entries_are_delivered_only_for_the_keys_asked(rf):
    from django.core.cache import cache

    cache.set("prefetch:a", 1)
    request = rf.get("/")
    view = _View(["prefetch:a", "prefetch:b"])
    count, found = prefetch.count_and_read("prefetch:counter", 60, prefetch.wanted(request, view))
    assert (count, found) == (1, {"prefetch:a": 1})
    prefetch.deliver(request, view.keys, found)
    cache.set("prefetch:a", 2)  # delivered entries are what the command read
    assert prefetch.entries(request, ["prefetch:a", "prefetch:b"]) == {"prefetch:a": 1}
    assert prefetch.entries(request, ["prefetch:a"]) == {"prefetch:a": 2}  # other keys: read now
    assert prefetch.wanted(request, object()) == ()
