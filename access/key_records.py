"""API key records kept for a few seconds in each process, so most requests skip the database.

A request with an API key needs the key's stored record (hash, name, flags, expiry). Each web
process keeps the records it read for `API_KEY_CACHE_SECONDS` (default 10; 0 reads the database
on every request); the secret is still checked against the stored hash, and the expiry against
the clock, on every request. Unknown prefixes are remembered too, so guessing at keys costs a
database query per prefix per interval, not per request.

Every change to a key made through the ORM (save, delete, queryset update or delete: see
access.models) drops this process's records at once, and again when the transaction commits;
a record read while a change was being made is not kept. Other processes see the change within
`API_KEY_CACHE_SECONDS`: that is the longest a revoked key keeps working (decision 0007).

This module imports nothing from the app's models, so the models can call `changed()`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from cachetools import TTLCache
from django.conf import settings
from django.db import transaction

MAX_RECORDS = 10_000
FIELDS = ("pk", "name", "read_only", "expiry_date", "hashed_key")

_lock = threading.Lock()
_records: TTLCache | None = None
_ttl: float | None = None
_generation = 0  # bumped by every change: a record read under an older generation is not kept


def _cache() -> TTLCache | None:
    global _records, _ttl
    ttl = settings.API_KEY_CACHE_SECONDS
    if ttl != _ttl:
        _records, _ttl = (TTLCache(maxsize=MAX_RECORDS, ttl=ttl) if ttl > 0 else None), ttl
    return _records


def record(prefix: str, load: Callable[[str], dict | None]) -> dict | None:
    """The record of the usable key with this prefix (`load` reads it from the database), or None."""
    with _lock:
        records = _cache()
        generation = _generation
        if records is not None and prefix in records:
            return records[prefix]
    found = load(prefix)
    with _lock:
        if records is not None and records is _records and generation == _generation:
            records[prefix] = found
    return found


def _forget() -> None:
    global _generation
    with _lock:
        _generation += 1
        if _records is not None:
            _records.clear()


def changed() -> None:
    """Call for every write to API keys: this process forgets the records it holds."""
    _forget()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_forget)
