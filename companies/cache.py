"""Cached company API answers (Redis through Django's cache), kept fresh by version tokens.

Readers cache the rendered JSON of a company, or of a list page, together with the version
token they read *before* going to the database. Writers replace the tokens (one per company, one
for all list pages) when they write and again once the transaction commits. An answer is served
only while its token is still current, so:

- a reader that raced a writer (read the old row, stored it after the commit) stored it under a
  token that is already gone, and nobody is served that stale answer;
- once a write has committed (and the service that made it has returned), no reader gets an
  answer older than it.

Tokens are random, so a token that expired or was evicted can never match an old entry again.
If Redis is down (IGNORE_EXCEPTIONS), reads go to the database; a token replacement lost in a
Redis outage is bounded by the entry TTL.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from prometheus_client import Counter

from core.outages import log_unavailable

logger = logging.getLogger("cache")
# Exposed at /metrics (ops.metrics).
LOOKUPS = Counter(
    "app_company_cache_lookups",
    "Company answers looked up in the cache, by kind (detail, list) and result (hit, miss).",
    ["kind", "result"],
)

PREFIX = "companies"
LIST_GENERATION_KEY = f"{PREFIX}:lists:generation"
# Entries use the cache's default TTL (CACHE_TTL). Tokens live longer; losing one only costs a miss.
TOKEN_TTL = 24 * 60 * 60


@dataclass(frozen=True)
class Lookup:
    """What the cache held: `body` (rendered JSON) on a hit, else None and the token to store under.

    `token_key` is set when the cache held no token: `store` then creates it (only if still
    missing) together with the entry.
    """

    body: bytes | None
    token: str
    key: str
    token_key: str | None = None


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _new_token() -> str:
    return secrets.token_hex(8)


def _token_key(cnpj: str) -> str:
    return f"{PREFIX}:version:{cnpj}"


def _current_token(key: str) -> str:
    """The token under `key`, creating one if it is missing (first read, or evicted)."""
    token = _new_token()
    if cache.add(key, token, timeout=TOKEN_TTL):
        return token
    return cache.get(key) or token


def _entry(found, key: str, token: str) -> bytes | None:
    entry = found.get(key) if isinstance(found, dict) else found
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == token:
        return entry[1]
    return None


def detail_keys(cnpj: str, *, site: str) -> tuple[str, str]:
    """The cache keys of a company's answer: its version token and its entry for this site."""
    return _token_key(cnpj), f"{PREFIX}:detail:{cnpj}:{_digest(site)}"


def detail_lookup(cnpj: str, *, site: str, found: dict | None = None) -> Lookup:
    """The company's token and cached answer, read together in one round trip, or taken from
    `found` when they were already read (by the throttle as it counted the request, see core.prefetch).

    No round trip more on a miss: when there is no token yet, the reader picks one and `store`
    sets it only if it is still missing (SET NX) in the same round trip as the entry. A writer
    that replaced the token meanwhile wins, and the entry stored under the losing token is never
    served.
    """
    token_key, key = detail_keys(cnpj, site=site)
    if found is None:
        found = cache.get_many([token_key, key])
    token = found.get(token_key)
    if not token:
        LOOKUPS.labels(kind="detail", result="miss").inc()
        return Lookup(body=None, token=_new_token(), key=key, token_key=token_key)
    body = _entry(found, key, token)
    LOOKUPS.labels(kind="detail", result="miss" if body is None else "hit").inc()
    return Lookup(body=body, token=token, key=key)


def list_lookup(url: str, *, found: dict | None = None) -> Lookup:
    """A list page is keyed by its full URL (filters, ordering, cursor, page size, host). The
    lists' token is taken from `found` when it was already read (by the throttle, see core.prefetch)."""
    token = found.get(LIST_GENERATION_KEY) if found is not None else cache.get(LIST_GENERATION_KEY)
    token = token or _current_token(LIST_GENERATION_KEY)
    key = f"{PREFIX}:list:{token}:{_digest(url)}"
    body = _entry(cache.get(key), key, token)
    LOOKUPS.labels(kind="list", result="miss" if body is None else "hit").inc()
    return Lookup(body=body, token=token, key=key)


# The token only if it is still missing, and the entry: one command (cheaper than a pipeline).
_STORE_WITH_TOKEN_SCRIPT = """
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
if tonumber(ARGV[4]) > 0 then
  redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
else
  redis.call('SET', KEYS[2], ARGV[3])
end
"""


def store(lookup: Lookup, body: bytes) -> None:
    entry = (lookup.token, body)
    if lookup.token_key is None:
        cache.set(lookup.key, entry)
        return
    client = getattr(cache, "client", None)
    if client is None or not hasattr(client, "get_client"):  # not django-redis (make run's memory cache)
        cache.add(lookup.token_key, lookup.token, timeout=TOKEN_TTL)
        cache.set(lookup.key, entry)
        return
    try:
        client.get_client(write=True).eval(
            _STORE_WITH_TOKEN_SCRIPT, 2,
            client.make_key(lookup.token_key), client.make_key(lookup.key),
            client.encode(lookup.token), TOKEN_TTL, client.encode(entry), int(cache.default_timeout or 0),
        )
    except Exception as exc:  # Redis down: the answer is simply not cached (as IGNORE_EXCEPTIONS does)
        log_unavailable(logger, "company cache not written", exc)


def _replace_tokens(cnpjs: tuple[str, ...], lists: bool) -> None:
    tokens = {_token_key(cnpj): _new_token() for cnpj in cnpjs}
    if lists:
        tokens[LIST_GENERATION_KEY] = _new_token()
    if tokens:
        cache.set_many(tokens, timeout=TOKEN_TTL)


def invalidate(*, cnpjs: Iterable[str] = (), lists: bool = True) -> None:
    """Call from every write: now (inside the transaction) and again when it commits."""
    cnpjs = tuple(cnpjs)
    _replace_tokens(cnpjs, lists)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _replace_tokens(cnpjs, lists))


def clear() -> None:
    """Forget every cached company answer (tests, maintenance)."""
    delete_pattern = getattr(cache, "delete_pattern", None)
    if delete_pattern is not None:
        delete_pattern(f"{PREFIX}:*")
    else:
        cache.clear()
