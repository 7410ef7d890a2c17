"""Ask the providers in `CNPJ_PROVIDERS` order until one knows the CNPJ.

A provider the guard holds back (its shared limit used up, cooling down after a 429, circuit
open) is skipped without a call, so a lookup goes to whichever provider has capacity now. An
"unknown CNPJ" answer is not the end: the next provider is asked too, because the providers'
copies of the registry differ. `registry_ask` says what happened at each provider; a CNPJ is
unknown only when every configured provider was asked and answered so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from integrations import http
from integrations.cnpj import brasilapi, cnpja, receitaws
from integrations.cnpj.types import BadResponse, NotFound, RateLimited, RegistryRecord, Unavailable
from integrations.errors import IntegrationError, Skipped
from integrations.guard import provider_guard

logger = logging.getLogger(__name__)

PROVIDERS: dict[str, Callable[[str], RegistryRecord]] = {
    brasilapi.NAME: brasilapi.lookup,
    receitaws.NAME: receitaws.lookup,
    cnpja.NAME: cnpja.lookup,
}
DEFAULT_RETRY_AFTER = 30
# Under a deadline, a provider is not asked with less time than this left.
MIN_SECONDS_FOR_A_CALL = 0.5


def configured_providers() -> list[str]:
    names = [name.strip().lower() for name in settings.CNPJ_PROVIDERS if name.strip()]
    unknown = sorted(set(names) - set(PROVIDERS))
    if unknown or not names:
        raise ImproperlyConfigured(
            f"CNPJ_PROVIDERS must list some of {', '.join(PROVIDERS)}; unknown: {', '.join(unknown) or '-'}"
        )
    return names


@dataclass
class LookupResult:
    """What asking the providers about one CNPJ gave."""

    record: RegistryRecord | None = None
    unknown_to: list[str] = field(default_factory=list)  # asked; answered "unknown CNPJ"
    not_asked: list[IntegrationError] = field(default_factory=list)  # held back, or answered 429
    failed: list[IntegrationError] = field(default_factory=list)  # asked; transient failure
    refused: list[IntegrationError] = field(default_factory=list)  # asked; unusable answer

    @property
    def unknown(self) -> bool:
        """Every configured provider was asked and none knows the CNPJ."""
        return self.record is None and set(self.unknown_to) >= set(configured_providers())

    @property
    def retryable(self) -> bool:
        """Some provider was not asked or failed on the way: asking again may give an answer."""
        return self.record is None and bool(self.not_asked or self.failed)

    @property
    def retry_after(self) -> float:
        """Seconds until the soonest provider that was not asked (or failed) may be asked again."""
        waits = [exc.retry_after for exc in (*self.not_asked, *self.failed) if exc.retry_after]
        return min(waits) if waits else DEFAULT_RETRY_AFTER

    def summary(self) -> str:
        """What each provider said, the failures first (they are why a lookup is given up)."""
        parts = [str(exc) for exc in (*self.failed, *self.refused)]
        parts += [f"{name}: unknown CNPJ" for name in self.unknown_to]
        parts += [f"not asked: {exc}" for exc in self.not_asked]
        return "; ".join(parts)


def registry_ask(cnpj: str, *, known_unknown: Iterable[str] = ()) -> LookupResult:
    """Ask the providers about a compact, valid CNPJ until one knows it; never raises for them.
    Providers in `known_unknown` answered "unknown CNPJ" a moment ago and are not asked again."""
    result = LookupResult()
    for name in configured_providers():
        if name in known_unknown:
            result.unknown_to.append(name)
            continue
        left = http.time_left()
        if left is not None and left < MIN_SECONDS_FOR_A_CALL:
            out_of_time = Skipped(f"{name}: not asked, the lookup ran out of time", provider=name, retry_after=5)
            result.not_asked.append(out_of_time)
            continue
        try:
            result.record = provider_guard(name).call(PROVIDERS[name], cnpj)
            return result
        except NotFound:
            result.unknown_to.append(name)
        except (Skipped, RateLimited) as exc:  # a 429 is a capacity answer, not a failure
            result.not_asked.append(exc)
        except Unavailable as exc:
            logger.warning("registry lookup of %s at %s failed: %s", cnpj, name, exc)
            result.failed.append(exc)
        except IntegrationError as exc:
            logger.warning("registry lookup of %s at %s gave an unusable answer: %s", cnpj, name, exc)
            result.refused.append(exc)
    return result


def registry_capacity_wait() -> float:
    """Seconds until some configured provider can be asked (0: one can be asked now)."""
    return min(provider_guard(name).capacity_wait() for name in configured_providers())


def registry_lookup(cnpj: str, *, within: float | None = None) -> RegistryRecord:
    """The registry record for a compact, valid CNPJ, asking for at most `within` seconds in all
    (None: each call's own timeouts only). Raises NotFound (every provider answered that it does
    not know it), RateLimited / Unavailable (some could not be asked, or time ran out: try again)
    or BadResponse (the answers were unusable)."""
    with http.deadline(within):
        result = registry_ask(cnpj)
    if result.record is not None:
        return result.record
    message = f"no registry provider could answer for {cnpj}: {result.summary()}"
    if result.unknown:
        raise NotFound(f"no registry provider knows {cnpj}")
    if result.retryable:
        kind = Unavailable if result.failed else RateLimited
        raise kind(message, retry_after=result.retry_after)
    raise BadResponse(message)
