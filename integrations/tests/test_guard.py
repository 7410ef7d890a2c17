import time

import pytest
from django.core.cache import cache
from django_redis import get_redis_connection

from integrations import guard
from integrations.errors import NotFound, RateLimited, Skipped, Unavailable


class Upstream:
    """A stand-in provider function that counts its calls and fails as told."""

    def __init__(self):
        self.calls = 0
        self.error = None

    def __call__(self, value):
        self.calls += 1
        if self.error:
            raise self.error
        return value


@pytest.fixture
def upstream():
    return Upstream()


def test_rate_limit_is_shared_between_guard_instances(settings, upstream):
    settings.PROVIDER_RATES = {"receitaws": "2/minute"}
    assert guard.provider_guard("receitaws").call(upstream, 1) == 1
    assert guard.provider_guard("receitaws").call(upstream, 2) == 2
    with pytest.raises(Skipped) as caught:
        guard.provider_guard("receitaws").call(upstream, 3)
    assert upstream.calls == 2
    assert guard.provider_guard("receitaws").capacity_wait() == pytest.approx(caught.value.retry_after, abs=1)
    assert guard.provider_guard("receitaws").status()["used"] == 2
    assert 0 < caught.value.retry_after <= 61  # counted a second longer than the provider
    # The window lives in Redis, where every worker sees it.
    assert get_redis_connection("default").keys(f"{guard.LIMITS_KEY_PREFIX}*")


def test_provider_without_a_limit_is_not_limited(settings, upstream):
    settings.PROVIDER_RATES = {}
    for value in range(10):
        guard.provider_guard("brasilapi").call(upstream, value)
    assert upstream.calls == 10


def test_upstream_rate_limit_starts_a_shared_cooldown(upstream):
    upstream.error = RateLimited("slow down", retry_after=30)
    with pytest.raises(RateLimited):
        guard.provider_guard("cnpja").call(upstream, 1)
    upstream.error = None
    with pytest.raises(Skipped, match="cooling down") as caught:
        guard.provider_guard("cnpja").call(upstream, 1)
    assert upstream.calls == 1
    assert 29 <= caught.value.retry_after <= 30
    status = guard.provider_guard("cnpja").status()
    assert status["state"] == "cooling_down" and status["until"]
    assert 29 <= guard.provider_guard("cnpja").capacity_wait() <= 30


def test_circuit_opens_after_consecutive_failures_then_half_opens(settings, upstream):
    settings.CNPJ_BREAKER_FAIL_MAX = 3
    settings.CNPJ_BREAKER_RESET_SECONDS = 1
    upstream.error = Unavailable("HTTP 500")
    for _ in range(3):
        with pytest.raises(Unavailable, match="HTTP 500"):
            guard.provider_guard("brasilapi").call(upstream, 1)
    with pytest.raises(Skipped, match="circuit open") as caught:
        guard.provider_guard("brasilapi").call(upstream, 1)
    assert upstream.calls == 3
    assert caught.value.retry_after == 1
    assert guard.provider_guard("brasilapi").status()["state"] == "open"

    time.sleep(1.1)
    # Half-open: one trial call goes through; failing it opens the circuit again at once.
    with pytest.raises(Unavailable, match="HTTP 500"):
        guard.provider_guard("brasilapi").call(upstream, 1)
    with pytest.raises(Skipped, match="circuit open"):
        guard.provider_guard("brasilapi").call(upstream, 1)

    time.sleep(1.1)
    upstream.error = None
    assert guard.provider_guard("brasilapi").call(upstream, "ok") == "ok"
    assert guard.provider_guard("brasilapi").status()["state"] == "ok"
    assert cache.get(guard.provider_guard("brasilapi")._key("failures")) is None


def test_an_answer_such_as_not_found_resets_the_failure_count(settings, upstream):
    settings.CNPJ_BREAKER_FAIL_MAX = 3
    upstream.error = Unavailable("timeout")
    for _ in range(2):
        with pytest.raises(Unavailable):
            guard.provider_guard("brasilapi").call(upstream, 1)
    upstream.error = NotFound("no such company")
    with pytest.raises(NotFound):
        guard.provider_guard("brasilapi").call(upstream, 1)
    upstream.error = Unavailable("timeout")
    with pytest.raises(Unavailable, match="timeout"):
        guard.provider_guard("brasilapi").call(upstream, 1)
    assert upstream.calls == 4  # never skipped: the failures were not consecutive


def test_local_memory_cache_works_per_process(settings, upstream):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.PROVIDER_RATES = {"receitaws": "1/minute"}
    guard._rate_limiter.cache_clear()
    try:
        guard.provider_guard("receitaws").call(upstream, 1)
        with pytest.raises(Skipped):
            guard.provider_guard("receitaws").call(upstream, 1)
        assert cache.get("anything") is None
    finally:
        guard._rate_limiter.cache_clear()


def test_the_guard_counts_a_little_less_than_the_provider_allows(settings):
    settings.PROVIDER_RATES = {"receitaws": "3/minute", "brasilapi": "200 per 10 seconds", "cnpja": "5/second"}
    receitaws, brasilapi, cnpja = (guard.provider_guard(name) for name in ("receitaws", "brasilapi", "cnpja"))
    assert (receitaws.rate.amount, receitaws.rate.get_expiry()) == (3, 61)  # a second longer
    assert (brasilapi.rate.amount, brasilapi.rate.get_expiry()) == (196, 10)  # room for calls in flight
    assert (cnpja.rate.amount, cnpja.rate.get_expiry()) == (5, 1)  # too small to trim
    assert receitaws.status()["window_seconds"] == 60 and receitaws.status()["limit"] == 3  # what operators set
    assert brasilapi.per_minute == 1200


def test_with_the_shared_count_unreachable_a_limited_provider_is_held_back(settings, upstream, redis_server):
    settings.PROVIDER_RATES = {"receitaws": "3/minute", "brasilapi": ""}
    redis_server.kill()
    with pytest.raises(Skipped, match="store unavailable") as caught:
        guard.provider_guard("receitaws").call(upstream, 1)
    assert upstream.calls == 0 and caught.value.retry_after > 0
    assert guard.provider_guard("receitaws").capacity_wait() > 0
    assert guard.provider_guard("brasilapi").call(upstream, 2) == 2  # no limit to share: called
