"""API authentication: `X-API-Key` for services, `Authorization: Bearer <JWT>` for people (and the
admin's session, for staff, where an admin page reads the API)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework import authentication, exceptions
from rest_framework_simplejwt import authentication as jwt_authentication

from access.actor import set_actor, user_label
from access.models import ServiceAPIKey
from core.outages import log_unavailable

logger = logging.getLogger(__name__)
ENV_KEY_NAME = "API_KEY"

# --- API key records cached by prefix (Redis, shared by every process) ----------------------
# A request with an API key needs the key's stored record (hash, name, flags, expiry). It is
# cached under its prefix so most requests skip the database; the secret is still checked
# against the stored hash, and the expiry against the clock, on every request.
#
# Every change to a key (save, delete, queryset update or delete: see access.models) puts a
# STALE marker in the entry, now and again when the transaction commits. Readers store a record
# with `add`, which never replaces an entry, so a reader that read the row before the change
# cannot put the old record back: the key is read from the database until the marker expires.
# If Redis is down, every request reads the database.
KEY_RECORD_PREFIX = "access:api_key:"
KEY_RECORD_TTL = 5 * 60
STALE = "stale"
STALE_TTL = 60
_RECORD_FIELDS = ("pk", "name", "read_only", "expiry_date", "hashed_key")


def _record_key(prefix: str) -> str:
    return f"{KEY_RECORD_PREFIX}{prefix}"


def _mark_stale(prefixes: tuple[str, ...]) -> None:
    if prefixes:
        cache.set_many({_record_key(prefix): STALE for prefix in prefixes}, timeout=STALE_TTL)


def api_keys_changed(prefixes: Iterable[str]) -> None:
    """Call for every write to API keys: cached records of these prefixes are no longer used."""
    prefixes = tuple(prefixes)
    _mark_stale(prefixes)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _mark_stale(prefixes))


class CachePrefetch:
    """Cache keys a view is about to read, fetched in the same round trip as the API key record.

    A view that knows, before authentication, which cache entries its answer needs (a cached
    company, say) attaches one to the request with `prefetch_cache_keys()`; API-key
    authentication then reads the key record and these entries in one round trip (with the
    throttle's count, see access.throttles.read_and_count), and the view takes them from
    `values`. `values` stays None when authentication did not read the cache (no API key, the
    `API_KEY` setting's key): the view then reads them itself.
    """

    __slots__ = ("keys", "values")

    def __init__(self, keys: Iterable[str]):
        self.keys = tuple(keys)
        self.values: dict | None = None


PREFETCH_ATTRIBUTE = "cache_prefetch"


def prefetch_cache_keys(request, keys: Iterable[str]) -> CachePrefetch:
    """Ask the request's API-key authentication to read `keys` along with the key record."""
    prefetch = CachePrefetch(keys)
    setattr(getattr(request, "_request", request), PREFETCH_ATTRIBUTE, prefetch)
    return prefetch


def _cached_entries(keys: list[str], counter: tuple[str, int] | None) -> tuple[dict, int | None]:
    """The cache entries found under `keys`, and the throttle's count when `counter` was counted
    in the same round trip (see access.throttles.read_and_count)."""
    if counter is not None:
        from access import throttles

        try:
            counted = throttles.read_and_count(keys, counter)
        except Exception as exc:  # Redis down: nothing cached, nothing counted (as IGNORE_EXCEPTIONS)
            log_unavailable(logger, "API key record and throttle unavailable", exc)
            return {}, None
        if counted is not None:
            return counted
    if len(keys) == 1:
        value = cache.get(keys[0])
        return ({} if value is None else {keys[0]: value}), None
    return cache.get_many(keys), None


def _key_record(
    prefix: str, prefetch: CachePrefetch | None = None, counter: tuple[str, int] | None = None
) -> tuple[dict | None, int | None]:
    """The usable (not revoked) key with this prefix, as a dict of _RECORD_FIELDS, or None; and
    the throttle's count if `counter` was counted along with the read."""
    key = _record_key(prefix)
    found, count = _cached_entries([key, *(prefetch.keys if prefetch else ())], counter)
    cached = found.pop(key, None)
    if prefetch is not None:
        prefetch.values = found
    if isinstance(cached, dict):
        return cached, count
    record = (
        ServiceAPIKey.objects.get_usable_keys().filter(prefix=prefix).values(*_RECORD_FIELDS).first()
    )
    if record is not None and cached is None:
        cache.add(key, record, timeout=KEY_RECORD_TTL)
    return record, count


@dataclass(frozen=True)
class ServicePrincipal:
    """The caller behind an API key. Stands in for `request.user` on key-authenticated calls."""

    name: str
    read_only: bool = False
    key_id: str | None = None  # the key's prefix
    # (counter key, count) when the API-key throttle's hit was counted during authentication.
    throttle_hit: tuple[str, int] | None = field(default=None, compare=False, repr=False)

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False
    pk = None

    def get_username(self) -> str:
        return self.name

    def __str__(self) -> str:
        return f"api_key:{self.name}"


class APIKeyAuthentication(authentication.BaseAuthentication):
    header = "HTTP_X_API_KEY"

    def authenticate(self, request):
        key = request.META.get(self.header, "").strip()
        if not key:
            return None
        view = (getattr(request, "parser_context", None) or {}).get("view")
        principal = self._principal_for(key, getattr(request, PREFETCH_ATTRIBUTE, None), view)
        set_actor(str(principal))
        return principal, principal

    def _principal_for(self, key: str, prefetch: CachePrefetch | None = None, view=None) -> ServicePrincipal:
        if settings.API_KEY and constant_time_compare(key, settings.API_KEY):
            return ServicePrincipal(name=ENV_KEY_NAME)
        prefix, dot, _ = key.partition(".")
        record, count, counter = None, None, None
        if dot and prefix:
            from access.throttles import APIKeyThrottle

            counter = APIKeyThrottle.counter_for(view, prefix)
            record, count = _key_record(prefix, prefetch, counter)
        if (
            record is None
            or not ServiceAPIKey.objects.key_generator.verify(key, record["hashed_key"])
            or (record["expiry_date"] is not None and record["expiry_date"] < timezone.now())
        ):
            if count is not None:
                from access.throttles import uncount

                uncount(counter[0])
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.", "invalid_api_key")
        throttle_hit = (counter[0], count) if count is not None else None
        return ServicePrincipal(
            name=record["name"], read_only=record["read_only"], key_id=prefix, throttle_hit=throttle_hit
        )

    def authenticate_header(self, request):
        return "X-API-Key"


class JWTAuthentication(jwt_authentication.JWTAuthentication):
    """simplejwt's authentication, recording the user as the actor of what follows."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            set_actor(user_label(result[0]))
        return result


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """The admin's session cookie, for active staff whose session passed the admin's second-factor
    rule, so the admin's own pages can read the API (an import's progress polls the task status).
    DRF's SessionAuthentication enforces CSRF on unsafe methods; anyone else is simply not
    authenticated by it."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        from access.admin_views import second_factor_satisfied

        user = result[0]
        if not user.is_staff or not second_factor_satisfied(user):
            return None
        return result
