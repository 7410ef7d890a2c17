"""Ask the providers in `CNPJ_PROVIDERS` order until one answers.

A provider that is rate limited, unavailable (timeouts, 5xx, malformed body, open circuit) or
answers with something unusable is skipped for the next one; "not found" is an answer and ends
the search. When every provider fails, one error sums them up with the shortest retry-after.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from integrations.cnpj import brasilapi, cnpja, receitaws
from integrations.cnpj.types import BadResponse, NotFound, RateLimited, RegistryRecord, Unavailable
from integrations.errors import IntegrationError
from integrations.guard import provider_guard

logger = logging.getLogger(__name__)

PROVIDERS: dict[str, Callable[[str], RegistryRecord]] = {
    brasilapi.NAME: brasilapi.lookup,
    receitaws.NAME: receitaws.lookup,
    cnpja.NAME: cnpja.lookup,
}
DEFAULT_RETRY_AFTER = 30


def configured_providers() -> list[str]:
    names = [name.strip().lower() for name in settings.CNPJ_PROVIDERS if name.strip()]
    unknown = sorted(set(names) - set(PROVIDERS))
    if unknown or not names:
        raise ImproperlyConfigured(
            f"CNPJ_PROVIDERS must list some of {', '.join(PROVIDERS)}; unknown: {', '.join(unknown) or '-'}"
        )
    return names


def registry_lookup(cnpj: str) -> RegistryRecord:
    """The registry record for a compact, valid CNPJ. Raises NotFound, RateLimited or Unavailable."""
    failures: list[IntegrationError] = []
    for name in configured_providers():
        try:
            return provider_guard(name).call(PROVIDERS[name], cnpj)
        except NotFound:
            raise
        except (RateLimited, Unavailable, BadResponse) as exc:
            logger.info("registry lookup of %s: %s failed (%s); trying the next provider", cnpj, name, exc)
            failures.append(exc)
    raise _exhausted(cnpj, failures)


def _exhausted(cnpj: str, failures: list[IntegrationError]) -> IntegrationError:
    summary = "; ".join(str(exc) for exc in failures)
    waits = [exc.retry_after for exc in failures if exc.retry_after]
    retry_after = min(waits) if waits else DEFAULT_RETRY_AFTER
    message = f"no registry provider could answer for {cnpj}: {summary}"
    if all(isinstance(exc, RateLimited) for exc in failures):
        return RateLimited(message, retry_after=retry_after)
    if all(isinstance(exc, BadResponse) for exc in failures):
        return BadResponse(message)
    return Unavailable(message, retry_after=retry_after)
