"""Request rate limits, counted in the shared cache (Redis) so every web process agrees.

Rates come from settings.API_THROTTLE_RATES (environment: THROTTLE_RATE_*), read at request
time. Counting is a fixed window: one Redis command per request (a small Lua script: INCR, and
EXPIRE on the window's first hit, atomically), instead of DRF's default of reading and rewriting
a list of every request's timestamp in the window. When Redis is down requests are not throttled.

The throttles run where DRF runs them: after authentication and permissions, so a request that
is refused (no credentials, a write with a read-only key) spends no allowance. The command that
counts a request also reads the cache entries its view names (core.prefetch): a cached answer
costs one Redis round trip in all.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from access.authentication import ServicePrincipal
from core import prefetch
from core.caching import cache_is_redis
from core.clients import client_address
from core.outages import log_unavailable

logger = logging.getLogger(__name__)


def count_hit(key: str, duration: int, *, request=None, view=None) -> int | None:
    """This window's count for `key` after adding one hit; None when the count is unavailable.

    With `request` and `view`, the cache entries the view names are read in the same command and
    delivered to it (core.prefetch)."""
    try:
        if not cache_is_redis():  # local-memory cache (make run): counted per process
            cache.add(key, 0, duration)
            return cache.incr(key)
        keys = prefetch.wanted(request, view) if request is not None else ()
        count, found = prefetch.count_and_read(key, duration, keys)
        if keys:
            prefetch.deliver(request, keys, found)
        return count
    except Exception as exc:  # Redis down: do not throttle, do not fail the request
        log_unavailable(logger, "throttle count unavailable, request not throttled", exc)
        return None


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
        count = count_hit(f"{self.key}:{self.window}", self.duration, request=request, view=view)
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
