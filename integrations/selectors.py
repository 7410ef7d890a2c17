"""Reads from the registry: the cached lookup behind `GET /api/registry/{cnpj}/`."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from integrations.cnpj.chain import registry_lookup
from integrations.cnpj.types import RegistryRecord


def _cache_key(cnpj: str) -> str:
    return f"registry:record:{cnpj}"


def registry_record_get(*, cnpj: str) -> tuple[RegistryRecord, str]:
    """The registry record for a compact CNPJ and when it was fetched (ISO time), from the cache
    when a lookup in the last REGISTRY_CACHE_TTL seconds found it. Stores nothing else.
    Raises NotFound, RateLimited or Unavailable from the provider chain."""
    cached = cache.get(_cache_key(cnpj))
    if cached:
        return RegistryRecord.from_dict(cached["record"]), cached["fetched_at"]
    # Answered within a web request: the whole lookup has REGISTRY_DEADLINE_SECONDS, below the
    # web server's worker timeout, so the client gets a 503 rather than a dropped connection.
    record = registry_lookup(cnpj, within=settings.REGISTRY_DEADLINE_SECONDS)
    fetched_at = timezone.now().isoformat()
    entry = {"record": record.as_dict(include_raw=False), "fetched_at": fetched_at}
    cache.set(_cache_key(cnpj), entry, timeout=settings.REGISTRY_CACHE_TTL)
    return record, fetched_at
