"""Request rate limits, counted in the shared cache (Redis) so every web process agrees.

Rates come from settings.API_THROTTLE_RATES (environment: THROTTLE_RATE_*), read at request
time. Counting is a fixed window: one Redis command per request (a small Lua script: INCR, and
EXPIRE on the window's first hit, atomically), instead of DRF's default of reading and rewriting
a list of every request's timestamp in the window. When Redis is down requests are not throttled.

Requests with an API key are counted by the authentication itself, in the same round trip that
reads the key's record (`read_and_count`); the throttle then uses that count instead of counting
again. A request whose key turns out to be invalid has its hit taken back, so guessing at a
key's prefix does not use up that key's allowance.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from access.authentication import ServicePrincipal
from core.caching import cache_is_redis
from core.clients import client_address
from core.outages import log_unavailable

logger = logging.getLogger(__name__)


# INCR the window's counter (KEYS[1]); the window's first hit sets its expiry in the same atomic
# step, so a counter never outlives its window even if the caller dies in between. Any further
# keys are read in the same command (one EVAL costs the client less than a pipeline of MGET and
# EVAL). Returns {count, value of KEYS[2], ...}.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local values = {}
if #KEYS > 1 then values = redis.call('MGET', unpack(KEYS, 2)) end
table.insert(values, 1, count)
return values
"""


def _redis_client():
    if not cache_is_redis():
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def count_hit(key: str, duration: int) -> int | None:
    """This window's count for `key` after adding one hit; None when the count is unavailable."""
    try:
        client = _redis_client()
        if client is None:  # local-memory cache (make run): counted per process
            cache.add(key, 0, duration)
            return cache.incr(key)
        return int(client.eval(_COUNT_SCRIPT, 1, cache.make_key(key), duration)[0])
    except Exception as exc:  # Redis down: do not throttle, do not fail the request
        log_unavailable(logger, "throttle count unavailable, request not throttled", exc)
        return None


def read_and_count(keys: list[str], counter: tuple[str, int]) -> tuple[dict, int] | None:
    """Read the cache `keys` and count one hit on `counter` (key, window seconds), in one Redis
    round trip: (the entries found, the window's count). None when the cache is not Redis."""
    client = _redis_client()
    if client is None:
        return None
    counter_key, duration = counter
    made = [cache.make_key(key) for key in keys]
    count, *values = client.eval(_COUNT_SCRIPT, 1 + len(made), cache.make_key(counter_key), *made, duration)
    decode = cache.client.decode
    return {key: decode(value) for key, value in zip(keys, values, strict=True) if value is not None}, int(count)


def uncount(counter_key: str) -> None:
    """Take back a hit counted by `read_and_count` (the request turned out not to be the key's)."""
    try:
        client = _redis_client()
        if client is not None:
            client.decr(cache.make_key(counter_key))
    except Exception as exc:  # Redis down: the hit stays counted until its window ends
        log_unavailable(logger, "throttle hit not taken back", exc)


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_ident(self, request):
        """The client's address through TRUSTED_PROXIES, never a raw X-Forwarded-For."""
        return client_address(request)

    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = time.time()
        self.window = int(self.now // self.duration)
        counter_key = f"{self.key}:{self.window}"
        counted = getattr(request.user, "throttle_hit", None)
        if counted is not None and counted[0] == counter_key:
            count = counted[1]  # already counted, with the authentication's read
        else:
            count = count_hit(counter_key, self.duration)
        return count is None or count <= self.num_requests

    def wait(self):
        return max(1, int((self.window + 1) * self.duration - self.now) + 1)


class APIKeyThrottle(_SettingsRateThrottle):
    """Per API key (by its prefix; the `API_KEY` setting's key by its name)."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        if not isinstance(request.user, ServicePrincipal):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.key_id or request.user.name}

    @classmethod
    def counter_for(cls, view, key_id: str) -> tuple[str, int] | None:
        """The counter (key, window seconds) this throttle will use on `view` for the API key
        `key_id` now, or None if `view` does not throttle API keys or the rate is off."""
        if cls not in getattr(view, "throttle_classes", ()):
            return None
        throttle = cls()
        if throttle.rate is None:
            return None
        ident = throttle.cache_format % {"scope": cls.scope, "ident": key_id}
        return f"{ident}:{int(time.time() // throttle.duration)}", throttle.duration


class UserThrottle(_SettingsRateThrottle):
    """Per JWT user."""

    scope = "user"

    def get_cache_key(self, request, view):
        user = request.user
        if isinstance(user, ServicePrincipal) or not (user and user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


class AnonThrottle(_SettingsRateThrottle):
    """Per client address, for requests without valid credentials."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginAddressThrottle(_SettingsRateThrottle):
    """Token endpoint, per client address: slows down password guessing from one place."""

    scope = "login_address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUsernameThrottle(_SettingsRateThrottle):
    """Token endpoint, per username: slows down guessing one account's password from many places."""

    scope = "login_username"

    def get_cache_key(self, request, view):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if not isinstance(username, str) or not username:
            return None
        return self.cache_format % {"scope": self.scope, "ident": username.strip().lower()[:150]}
