"""Per-provider protection shared by every worker: a rate limit, an upstream cooldown and a
circuit breaker.

State lives in Redis in Redis deployments (the rate limit through `limits`' moving window, the
rest through Django's cache), so all web and worker processes share each provider's capacity;
with the local-memory cache of `make run` it is per process. While Redis is down, a provider
with a limit is held back (its count cannot be shared, and a ban costs more than a wait); one
without a limit is called.

A call the guard refuses raises `Skipped` (the provider was not asked) with the seconds until it
can be asked again; `capacity_wait()` tells the same without taking anything.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache as memoize
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from limits import RateLimitItemPerSecond, parse, storage, strategies
from redis.exceptions import RedisError

from core.caching import cache_is_redis
from integrations.errors import IntegrationError, RateLimited, Skipped, Unavailable

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Consecutive failures are forgotten after this long without a new one.
FAILURE_MEMORY_SECONDS = 600
LIMITS_KEY_PREFIX = "integrations-limits"
COOLING_DOWN, OPEN, OK = "cooling_down", "open", "ok"
# Seconds a provider with a limit is held back while the shared count (Redis) cannot be read.
STORE_DOWN_WAIT = 5.0
STATES = (OK, COOLING_DOWN, OPEN)


def _uses_redis() -> bool:
    return cache_is_redis()


@memoize
def _rate_limiter() -> strategies.MovingWindowRateLimiter:
    if _uses_redis():
        from django_redis import get_redis_connection

        pool = get_redis_connection("default").connection_pool
        rate_storage = storage.RedisStorage(settings.REDIS_URL, connection_pool=pool, key_prefix=LIMITS_KEY_PREFIX)
    else:
        rate_storage = storage.MemoryStorage()
    return strategies.MovingWindowRateLimiter(rate_storage)


class ProviderGuard:
    """Wraps calls to one provider: `guard.call(fn, *args)`."""

    def __init__(self, name: str, *, rate: str | None, fail_max: int, reset_seconds: float):
        self.name = name
        self.configured = parse(rate) if rate else None
        self.rate = _counted(self.configured) if self.configured else None
        self.fail_max = fail_max
        self.reset_seconds = reset_seconds

    def call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        self.check()
        self._take_token()
        try:
            result = fn(*args, **kwargs)
        except RateLimited as exc:
            self.cool_down(exc.retry_after or 60)
            raise
        except Unavailable:
            self.record_failure()
            raise
        except IntegrationError:
            self.record_success()  # the provider answered: it is up
            raise
        self.record_success()
        return result

    # --- state ---------------------------------------------------------------------------
    def _key(self, suffix: str) -> str:
        return f"integrations:guard:{self.name}:{suffix}"

    def _until(self, suffix: str) -> float:
        return cache.get(self._key(suffix)) or 0.0

    def check(self) -> None:
        """Raise Skipped without calling when the provider is cooling down or its circuit is open."""
        now = time.time()
        if (until := self._until("cooldown_until")) > now:
            raise Skipped(
                f"{self.name}: cooling down after a rate limit", provider=self.name, retry_after=math.ceil(until - now)
            )
        if (until := self._until("open_until")) > now:
            raise Skipped(
                f"{self.name}: circuit open after repeated failures",
                provider=self.name,
                retry_after=math.ceil(until - now),
            )

    def _take_token(self) -> None:
        if self.rate is None:
            return
        limiter = _rate_limiter()
        try:
            if limiter.hit(self.rate, "provider", self.name):
                return
            wait = self._token_wait()
        except RedisError as exc:
            # Without the shared count every worker would call at will: a provider's ban costs more
            # than a wait. The provider is held back until the store answers again.
            raise Skipped(
                f"{self.name}: shared rate limit store unavailable", provider=self.name, retry_after=STORE_DOWN_WAIT
            ) from exc
        raise Skipped(f"{self.name}: shared rate limit {self.configured} reached", provider=self.name, retry_after=wait)

    def _token_wait(self) -> float:
        reset_at = _rate_limiter().get_window_stats(self.rate, "provider", self.name).reset_time
        return max(0.05, reset_at - time.time())

    def capacity_wait(self) -> float:
        """Seconds until a call would be let through (0: now), without taking anything."""
        now = time.time()
        blocked_until = max(self._until("cooldown_until"), self._until("open_until"))
        if blocked_until > now:
            return blocked_until - now
        if self.rate is None:
            return 0.0
        try:
            if _rate_limiter().test(self.rate, "provider", self.name):
                return 0.0
            return self._token_wait()
        except RedisError:
            return STORE_DOWN_WAIT

    def cool_down(self, seconds: float) -> None:
        logger.warning("%s answered 429: not asked for %.0fs", self.name, seconds)
        cache.set(self._key("cooldown_until"), time.time() + seconds, timeout=math.ceil(seconds) + 1)

    def record_failure(self) -> None:
        key = self._key("failures")
        cache.add(key, 0, timeout=FAILURE_MEMORY_SECONDS)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            failures = 1
            cache.set(key, failures, timeout=FAILURE_MEMORY_SECONDS)
        if failures and failures >= self.fail_max:
            logger.warning("%s failed %s times in a row: skipped for %ss", self.name, failures, self.reset_seconds)
            cache.set(
                self._key("open_until"),
                time.time() + self.reset_seconds,
                timeout=math.ceil(self.reset_seconds) + 1,
            )
            # Half-open afterwards: the first failure after the pause opens the circuit again.
            cache.set(key, self.fail_max - 1, timeout=FAILURE_MEMORY_SECONDS)

    def record_success(self) -> None:
        if cache.get(self._key("failures")):
            cache.delete(self._key("failures"))

    def status(self) -> dict[str, Any]:
        """What an operator sees: {state: ok|cooling_down|open, until, used, limit, window_seconds}."""
        now = time.time()
        state, until = OK, None
        if (cooldown := self._until("cooldown_until")) > now:
            state, until = COOLING_DOWN, cooldown
        elif (opened := self._until("open_until")) > now:
            state, until = OPEN, opened
        used = None
        if self.rate is not None:
            try:
                stats = _rate_limiter().get_window_stats(self.rate, "provider", self.name)
                used = self.rate.amount - stats.remaining
            except RedisError:
                used = None
        return {
            "state": state,
            "until": datetime.fromtimestamp(until, tz=UTC).isoformat() if until else None,
            "used": used,
            "limit": self.configured.amount if self.configured else None,
            "window_seconds": self.configured.get_expiry() if self.configured else None,
        }

    @property
    def per_minute(self) -> float | None:
        """The allowed rate in calls per minute (None: unlimited)."""
        return self.configured.amount * 60 / self.configured.get_expiry() if self.configured else None


def _counted(rate):
    """What the guard counts: a little less than the provider allows. A call leaves here some
    milliseconds before it reaches the provider, so at a window's edge the calls still in flight
    land in the provider's previous window and draw a 429. A window of 30 s or more is counted a
    second longer (1/60 of a per-minute limit); a shorter one with 2% fewer calls when it allows
    50 or more (room for the calls in flight)."""
    expiry = rate.get_expiry()
    if expiry >= 30:
        return RateLimitItemPerSecond(rate.amount, expiry + 1)
    if rate.amount >= 50:
        return RateLimitItemPerSecond(rate.amount - math.ceil(rate.amount * 0.02), expiry)
    return rate


def provider_guard(name: str) -> ProviderGuard:
    return ProviderGuard(
        name,
        rate=settings.PROVIDER_RATES.get(name) or None,
        fail_max=settings.CNPJ_BREAKER_FAIL_MAX,
        reset_seconds=settings.CNPJ_BREAKER_RESET_SECONDS,
    )


def guard_reset(*names: str) -> None:
    """Forget every counter (limits, cooldowns, failures): for tests and operators."""
    try:
        _rate_limiter().storage.reset()
    except RedisError:
        logger.warning("rate limit store unavailable; not reset")
    for name in names:
        guard = ProviderGuard(name, rate=None, fail_max=1, reset_seconds=0)
        cache.delete_many([guard._key(s) for s in ("failures", "open_until", "cooldown_until")])
