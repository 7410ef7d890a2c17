"""Enrichment from the registry and the Pipefy push, as work drained from the company backlogs.

The outcome rule: a company becomes `ok` when a provider knows it, `not_found` only when every
configured provider was asked and answered "unknown CNPJ", and `failed` only for errors that
asking again will not fix (an unusable answer, a refused token), or after TASK_MAX_RETRIES real
failures (timeouts, 5xx, connection errors). A provider that was not asked (its shared limit
used up, cooling down after a 429, circuit open) decides nothing: the company stays as it is and
its lookup is due again when that capacity returns. Waiting for capacity spends no retry.

The Pipefy push follows the same rules under Pipefy's own limit; a card is searched for before
one is created, and the claim on the company keeps two workers off one push, so a company never
gets a second card.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, transaction
from django.db.models import Count, Q

from access.actor import acting_as
from companies import backlog
from companies.backlog import ENRICHMENT, PIPEFY, Queue
from companies.models import Company, EnrichmentStatus
from companies.services import (
    company_apply_registry_record,
    company_set_enrichment_status,
    company_set_pipefy_card,
    company_set_pipefy_error,
)
from core.exceptions import OUTAGE_EXCEPTIONS
from integrations.cnpj.chain import LookupResult, configured_providers, registry_ask, registry_capacity_wait
from integrations.errors import IntegrationError, RateLimited, Rejected, Skipped, Unavailable
from integrations.guard import provider_guard
from integrations.pipefy.client import PipefyCard, PipefyClient
from tasks.base import backoff_seconds

logger = logging.getLogger(__name__)

NOT_IN_REGISTRY = "No registry provider knows this CNPJ."
# How long a provider's "unknown CNPJ" stands while the other providers are waited for.
UNKNOWN_MEMORY_SECONDS = 3600
OUTAGE_PAUSE_SECONDS = 2.0
# A drainer says it is alive at least this often (its slot is free soon after it dies).
HEARTBEAT_SECONDS = 5.0


# --- the registry ------------------------------------------------------------------------------
def enrichment_attempt(company: Company) -> dict[str, Any]:
    """Ask the registry about a claimed company once and record the outcome (see the module doc).
    Returns {cnpj, enrichment_status, registry_source, next_attempt_at}."""
    unknown_key = f"companies:enrichment:unknown_to:{company.cnpj}"
    result = registry_ask(company.cnpj, known_unknown=cache.get(unknown_key) or ())
    if result.retryable and result.unknown_to:
        # Those providers need not be asked again: the CNPJ is unknown once the others agree.
        cache.set(unknown_key, result.unknown_to, timeout=UNKNOWN_MEMORY_SECONDS)
    else:
        cache.delete(unknown_key)
    with transaction.atomic():  # the outcome and the queue's state together, or neither
        company, next_attempt_at = _record_outcome(company, result)
    return {
        "cnpj": company.cnpj,
        "enrichment_status": company.enrichment_status,
        "registry_source": company.registry_source,
        "next_attempt_at": next_attempt_at.isoformat() if next_attempt_at else None,
    }


def _record_outcome(company: Company, result: LookupResult):
    next_attempt_at = None
    if result.record is not None:
        with acting_as(f"provider:{result.record.source}"):
            company = company_apply_registry_record(company=company, record=result.record)
        backlog.queue_done(ENRICHMENT, company)
        if settings.PIPEFY_AUTO_PUSH and not company.pipefy_card_id:
            backlog.queue_request(PIPEFY, Company.objects.filter(pk=company.pk))
    elif result.unknown:
        company = company_set_enrichment_status(
            company=company, status=EnrichmentStatus.NOT_FOUND, error=NOT_IN_REGISTRY
        )
        backlog.queue_done(ENRICHMENT, company)
    elif result.retryable:
        company, next_attempt_at = _enrichment_later(company, result)
    else:  # every provider answered, and what they said was unusable
        company = company_set_enrichment_status(
            company=company, status=EnrichmentStatus.FAILED, error=result.summary()[:2000]
        )
        backlog.queue_done(ENRICHMENT, company)
    return company, next_attempt_at


def _enrichment_later(company: Company, result: LookupResult):
    """Not every provider could be asked: try again when capacity returns, or after a backoff
    when one failed; give up after TASK_MAX_RETRIES failed attempts."""
    if not result.failed:
        logger.info(
            "registry lookup of %s waits %.0fs for capacity: %s", company.cnpj, result.retry_after, result.summary()
        )
        return company, backlog.queue_later(ENRICHMENT, company, seconds=result.retry_after, failed_attempt=False)
    attempts = company.enrichment_attempts + 1
    if attempts > settings.TASK_MAX_RETRIES:
        logger.warning(
            "registry lookup of %s given up after %s failed attempts: %s", company.cnpj, attempts, result.summary()
        )
        reason = f"Given up after {attempts} failed attempts: {result.summary()}"[:2000]
        company = company_set_enrichment_status(company=company, status=EnrichmentStatus.FAILED, error=reason)
        backlog.queue_done(ENRICHMENT, company)
        return company, None
    wait = max(backoff_seconds(attempts - 1), result.retry_after if result.not_asked else 0)
    logger.warning(
        "registry lookup of %s failed (attempt %s), again in %.0fs: %s", company.cnpj, attempts, wait, result.summary()
    )
    return company, backlog.queue_later(ENRICHMENT, company, seconds=wait, failed_attempt=True)


# --- Pipefy ------------------------------------------------------------------------------------
PIPEFY_NOT_CONFIGURED = (
    "Pipefy is not configured on this server (PIPEFY_TOKEN and PIPEFY_PIPE_ID); nothing was queued."
)


def pipefy_configured() -> bool:
    return bool(settings.PIPEFY_TOKEN and settings.PIPEFY_PIPE_ID)


def pipefy_title(company: Company) -> str:
    name = company.legal_name or company.trade_name or "(name unknown)"
    return f"{company.cnpj_formatted} {name}"


def pipefy_fields(company: Company) -> dict[str, Any]:
    """Pipefy field id -> value, from PIPEFY_FIELD_MAP (company attribute -> Pipefy field id)."""
    fields = {}
    for attribute, field_id in settings.PIPEFY_FIELD_MAP.items():
        if not hasattr(company, attribute):  # the system check companies.E002 says so at start-up
            raise Rejected(f"PIPEFY_FIELD_MAP names {attribute!r}, which a company does not have.", provider="pipefy")
        fields[str(field_id)] = getattr(company, attribute)
    return fields


def pipefy_attempt(company: Company) -> dict[str, Any]:
    """Make sure a claimed company has a Pipefy card, once; record the outcome like the registry's.
    Returns {cnpj, pipefy_card_id, created, card_url, next_attempt_at, error}."""
    outcome = {"cnpj": company.cnpj, "created": False, "card_url": None, "next_attempt_at": None, "error": ""}
    if company.pipefy_card_id:
        backlog.queue_done(PIPEFY, company)
        return {**outcome, "pipefy_card_id": company.pipefy_card_id}
    try:
        card, created = _pipefy_card_ensure(company)
    except (Skipped, RateLimited) as exc:
        outcome["next_attempt_at"] = backlog.queue_later(
            PIPEFY, company, seconds=exc.retry_after or 30, failed_attempt=False
        ).isoformat()
        return {**outcome, "pipefy_card_id": ""}
    except Unavailable as exc:
        attempts = company.pipefy_attempts + 1
        if attempts <= settings.TASK_MAX_RETRIES:
            logger.warning("Pipefy push of %s failed (attempt %s): %s", company.cnpj, attempts, exc)
            due = backlog.queue_later(PIPEFY, company, seconds=backoff_seconds(attempts - 1), failed_attempt=True)
            return {**outcome, "pipefy_card_id": "", "next_attempt_at": due.isoformat()}
        logger.warning("Pipefy push of %s given up after %s failed attempts: %s", company.cnpj, attempts, exc)
        return _pipefy_failed(company, outcome, f"Given up after {attempts} failed attempts: {exc}")
    except IntegrationError as exc:  # refused: a bad token, a wrong pipe or field, not configured
        logger.warning("Pipefy push of %s refused: %s", company.cnpj, exc)
        return _pipefy_failed(company, outcome, str(exc))
    if not created:
        logger.info("Pipefy card %s for %s already existed; storing its id", card.id, company.cnpj)
    company = company_set_pipefy_card(company=company, card_id=card.id)
    backlog.queue_done(PIPEFY, company)
    return {**outcome, "pipefy_card_id": company.pipefy_card_id, "created": created, "card_url": card.url or None}


def _pipefy_card_ensure(company: Company) -> tuple[PipefyCard, bool]:
    """Search first (an earlier attempt may have created the card before failing), then create;
    each call goes through Pipefy's guard."""
    client = PipefyClient.from_settings()  # PipefyNotConfigured before anything else
    guard = provider_guard(PIPEFY.name)
    if card := guard.call(client.card_find, title_contains=company.cnpj_formatted):
        return card, False
    fields = pipefy_fields(company)
    return guard.call(client.card_create, title=pipefy_title(company), fields=fields), True


def _pipefy_failed(company: Company, outcome: dict, reason: str) -> dict[str, Any]:
    company = company_set_pipefy_error(company=company, error=reason[:2000])
    backlog.queue_done(PIPEFY, company)
    return {**outcome, "pipefy_card_id": "", "error": company.pipefy_error}


# --- draining ----------------------------------------------------------------------------------
ATTEMPTS = {ENRICHMENT.name: enrichment_attempt, PIPEFY.name: pipefy_attempt}


def capacity_wait(queue: Queue) -> float:
    if queue is ENRICHMENT:
        return registry_capacity_wait()
    return provider_guard(PIPEFY.name).capacity_wait()


def work_one(queue: Queue, *, company_id: int | None = None) -> dict[str, Any] | None:
    """Claim one due company of `queue` (or this one) and do its work once; None if none is due."""
    company = backlog.queue_claim(queue, company_id=company_id)
    if company is None:
        return None
    try:
        return ATTEMPTS[queue.name](company)
    except BaseException:
        # Whatever went wrong (a database outage, a bug), the work stays due: the lease expires.
        logger.warning("%s of %s interrupted; it stays in the backlog", queue.name, company.cnpj)
        raise


def next_work_in() -> float | None:
    """Seconds until some queued work can be done (due and with capacity), or None: none queued."""
    waits = []
    for queue in (ENRICHMENT, PIPEFY):
        due_in = backlog.queue_next_due_in(queue)
        if due_in is not None:
            waits.append(max(due_in, capacity_wait(queue)))
    return min(waits) if waits else None


def backlog_drain(*, seconds: float, sleep=time.sleep, heartbeat=None) -> dict[str, Any]:
    """Work through both backlogs for up to `seconds`, at the pace the providers allow: sleep
    while nothing can be done yet (in naps of at most HEARTBEAT_SECONDS, calling `heartbeat`
    between them). Returns {done: {outcome: n}, next_in: seconds or None}."""
    deadline = time.monotonic() + seconds
    done: Counter[str] = Counter()
    beat_at = 0.0
    while (left := deadline - time.monotonic()) > 0:
        if heartbeat is not None and time.monotonic() >= beat_at:
            heartbeat()
            beat_at = time.monotonic() + HEARTBEAT_SECONDS
        try:
            worked = False
            for queue in (ENRICHMENT, PIPEFY):
                if capacity_wait(queue) == 0 and (outcome := work_one(queue)) is not None:
                    done[_outcome_label(queue, outcome)] += 1
                    worked = True
            if worked:
                continue
            wait = next_work_in()
        except OUTAGE_EXCEPTIONS as exc:
            logger.warning("backlog drain paused: %s", exc.__class__.__name__)
            close_old_connections()
            sleep(min(OUTAGE_PAUSE_SECONDS, left))
            continue
        if wait is None or wait > left:
            break
        sleep(min(max(wait, 0.01), HEARTBEAT_SECONDS))
    try:
        next_in = next_work_in()
    except OUTAGE_EXCEPTIONS:
        close_old_connections()
        next_in = OUTAGE_PAUSE_SECONDS
    return {"done": dict(done), "next_in": next_in}


def _outcome_label(queue: Queue, outcome: dict[str, Any]) -> str:
    if queue is PIPEFY:
        return "pipefy_card" if outcome["pipefy_card_id"] else ("pipefy_failed" if outcome["error"] else "pipefy_later")
    return "later" if outcome["next_attempt_at"] else str(outcome["enrichment_status"])


# --- figures -----------------------------------------------------------------------------------
def backlog_status() -> dict[str, Any]:
    """The figures of `GET /api/enrichment/`, `manage.py enrichment_status` and the admin."""
    by_status = dict.fromkeys(EnrichmentStatus.values, 0)
    for row in Company.objects.order_by().values("enrichment_status").annotate(count=Count("pk")):
        by_status[row["enrichment_status"]] = row["count"]
    queue = backlog.queue_counts(ENRICHMENT)
    guards = {name: provider_guard(name) for name in configured_providers()}
    providers = {name: guard.status() for name, guard in guards.items()}
    rate = sum(guards[name].per_minute or 0 for name, state in providers.items() if state["state"] == "ok")
    pipefy_guard = provider_guard(PIPEFY.name)
    pipefy_queue = backlog.queue_counts(PIPEFY)
    pipefy_rate = pipefy_guard.per_minute or 0
    no_card = Q(pipefy_card_id="")
    cards = Company.objects.aggregate(
        with_card=Count("pk", filter=~no_card), failed=Count("pk", filter=no_card & ~Q(pipefy_error=""))
    )
    return {
        **by_status,
        **queue,
        "rate_per_minute": round(rate, 2),
        "eta_seconds": _eta(queue, rate),
        "providers": providers,
        "pipefy": {
            **pipefy_queue,
            **cards,
            "rate_per_minute": round(pipefy_rate, 2),
            "eta_seconds": _eta(pipefy_queue, pipefy_rate),
            **pipefy_guard.status(),
        },
    }


def _eta(queue: dict[str, int], rate_per_minute: float) -> int | None:
    work = queue["queued"] + queue["in_progress"]
    if not work:
        return 0
    return round(work / rate_per_minute * 60) if rate_per_minute else None


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return "unknown (no provider available now)"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def backlog_summary(status: dict | None = None) -> str:
    """One line: the registry lookups waiting and when they should be done."""
    status = status or backlog_status()
    work = status["queued"] + status["in_progress"]
    return (
        f"Enrichment backlog: {work} lookups waiting ({status['in_progress']} in progress) at "
        f"{status['rate_per_minute']:g} a minute; ETA {duration_text(status['eta_seconds'])}. "
        "Follow it with `manage.py enrichment_status` or GET /api/enrichment/."
    )
