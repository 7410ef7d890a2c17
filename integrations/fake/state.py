"""What the fake remembers between requests: cards, the request log, rate windows, scripts, outcome counts."""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from typing import Any

from stdnum.br import cnpj as stdnum_cnpj

REGISTRIES = ("brasilapi", "receitaws", "cnpja")
PROVIDERS = (*REGISTRIES, "pipefy")
OUTCOMES = ("found", "not_found", "rate_limited", "error")
SCRIPTABLE = ("rate_limited", "not_found", "server_error", "malformed", "slow", "ok")
FORMATTED_CNPJ = re.compile(r"[0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}/[0-9A-Z]{4}-[0-9]{2}")


def check_rate(provider: str, rate: Any) -> tuple[int, float] | None:
    """`rate` as (requests, window seconds), or None for unlimited; ValueError when it is neither."""
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(PROVIDERS)}")
    if rate is None:
        return None
    if not isinstance(rate, (list, tuple)) or len(rate) != 2:
        raise ValueError(f"{provider}: a rate is [requests, window seconds] or null")
    limit, seconds = rate
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"{provider}: the number of requests must be a whole number >= 0")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
        raise ValueError(f"{provider}: the window must be a positive number of seconds")
    return limit, seconds


class FakeState:
    """Everything the fake remembers, behind one lock (the server answers on many threads)."""

    def __init__(
        self, *, slow_seconds: float, retry_after: int, rates: Mapping[str, tuple[int, float] | None] | None = None
    ):
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.lock = threading.Lock()
        self.cards: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.ambiguous_done: set[str] = set()
        self.next_card_id = 1000
        self.rates: dict[str, tuple[int, float]] = {}
        # Monotonic arrival times of the requests each limited provider accepted, oldest first:
        # a moving window, so a burst at the end of one minute and the start of the next is refused.
        self.windows: dict[str, deque[float]] = {}
        self.scripts: dict[tuple[str, str], deque[list[Any]]] = {}
        self.outcomes: dict[str, Counter[str]] = {provider: Counter() for provider in PROVIDERS}
        self.found_per_cnpj: Counter[str] = Counter()
        self.set_rates(rates or {})

    def reset(self) -> None:
        """Forget cards, requests, windows, scripts and counts; the configured rates stay."""
        with self.lock:
            self.cards.clear()
            self.requests.clear()
            self.ambiguous_done.clear()
            self.windows.clear()
            self.scripts.clear()
            self._forget_outcomes()

    # --- rate limits ---------------------------------------------------------------------
    def set_rates(self, rates: Mapping[str, Any]) -> dict[str, tuple[int, float]]:
        """Change the named providers' limits (None removes one); the others keep theirs."""
        checked = {provider: check_rate(provider, rate) for provider, rate in rates.items()}
        with self.lock:
            for provider, rate in checked.items():
                if rate is None:
                    self.rates.pop(provider, None)
                    self.windows.pop(provider, None)
                else:
                    self.rates[provider] = rate
            return dict(self.rates)

    def current_rates(self) -> dict[str, tuple[int, float]]:
        with self.lock:
            return dict(self.rates)

    def admit(self, provider: str) -> int | None:
        """Count a request against the provider's limit: None if accepted, else the Retry-After."""
        with self.lock:
            rate = self.rates.get(provider)
            if rate is None:
                return None
            limit, seconds = rate
            now = time.monotonic()
            window = self.windows.setdefault(provider, deque())
            while window and window[0] <= now - seconds:
                window.popleft()
            if len(window) < limit:
                window.append(now)
                return None
            # Refused requests stay out of the window, as at the real providers: hammering a
            # limited API does not push the moment it answers again further away.
            wait = window[0] + seconds - now if window else seconds
            return max(1, math.ceil(wait))

    # --- scripted behaviours -------------------------------------------------------------
    def script(self, cnpj: str, provider: str, behaviour: str, times: int = 1) -> None:
        """The next `times` lookups of `cnpj` at `provider` behave as `behaviour`, after earlier scripts."""
        number = stdnum_cnpj.compact(str(cnpj)).upper()
        if len(number) != 14 or not number.isalnum():
            raise ValueError(f"{cnpj!r} is not a 14-character CNPJ")
        if provider not in REGISTRIES:
            raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(REGISTRIES)}")
        if behaviour not in SCRIPTABLE:
            raise ValueError(f"unknown behaviour {behaviour!r}; expected one of {', '.join(SCRIPTABLE)}")
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError("times must be a whole number >= 1")
        with self.lock:
            self.scripts.setdefault((number, provider), deque()).append([behaviour, times])

    def take_script(self, cnpj: str, provider: str) -> str | None:
        """The scripted behaviour for this lookup, used up by it; None when nothing is scripted."""
        with self.lock:
            queue = self.scripts.get((cnpj, provider))
            if not queue:
                return None
            step = queue[0]
            step[1] -= 1
            if step[1] == 0:
                queue.popleft()
                if not queue:
                    del self.scripts[(cnpj, provider)]
            return step[0]

    # --- the request log and the outcome counts ------------------------------------------
    def log_request(self, provider: str, cnpj: str, behaviour: str | None, *, scripted: bool = False) -> dict:
        """Log a lookup on arrival (so a slow one shows while it is answered); `answered` completes it."""
        entry = {
            "provider": provider,
            "cnpj": cnpj,
            "behaviour": behaviour,
            "scripted": scripted,
            "at": time.time(),
            "status": None,
            "outcome": None,
        }
        with self.lock:
            self.requests.append(entry)
        return entry

    def answered(self, entry: dict, status: int, outcome: str) -> None:
        with self.lock:
            entry["status"], entry["outcome"] = status, outcome
            self._count(entry["provider"], outcome, entry["cnpj"])

    def count(self, provider: str, outcome: str, cnpj: str | None = None) -> None:
        with self.lock:
            self._count(provider, outcome, cnpj)

    def _count(self, provider: str, outcome: str, cnpj: str | None) -> None:
        self.outcomes[provider][outcome] += 1
        # Only registry lookups: a card created for a CNPJ is not a second lookup of it.
        if outcome == "found" and cnpj and provider in REGISTRIES:
            self.found_per_cnpj[cnpj] += 1

    def forget_outcomes(self) -> None:
        with self.lock:
            self._forget_outcomes()

    def _forget_outcomes(self) -> None:
        for counter in self.outcomes.values():
            counter.clear()
        self.found_per_cnpj.clear()

    def stats(self) -> dict[str, Any]:
        with self.lock:
            # Cards are told apart by the formatted CNPJ in their title, as the project names them.
            per_cnpj = Counter(match.group(0) for card in self.cards if (match := FORMATTED_CNPJ.search(card["title"])))
            return {
                "by_provider": {
                    provider: {outcome: counter[outcome] for outcome in OUTCOMES}
                    for provider, counter in self.outcomes.items()
                },
                "found_per_cnpj_max": max(self.found_per_cnpj.values(), default=0),
                "duplicate_found": sum(n - 1 for n in self.found_per_cnpj.values()),
                "duplicate_cards": sum(n - 1 for n in per_cnpj.values()),
            }
