"""Background work on companies: the backlog drainers, the first attempt at one company's
registry lookup or Pipefy push, the periodic refresh, and the admin's file import.

The durable record of pending work is the company row (companies.backlog), not a message: a
message only says "there is work". So a lost, repeated or late message loses nothing and
duplicates nothing, and waiting for a provider's capacity happens in the backlog, not in a
message held past the broker's visibility timeout.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import current_app as celery_app  # the project's app (config.celery), without importing config
from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from companies import backlog
from companies.backlog import ENRICHMENT, PIPEFY, Queue
from companies.models import Company, EnrichmentStatus
from core.exceptions import OUTAGE_EXCEPTIONS, ServiceUnavailable
from tasks.base import BaseTask
from tasks.services import EnqueuedTask, task_enqueue, task_enqueue_on_commit, task_publish

logger = logging.getLogger(__name__)

# A queued drain message is expected to start within this long; after it, another may be sent.
KICK_SECONDS = 60


@shared_task(base=BaseTask, bind=True, name="companies.enrich")
def company_enrich_task(self, cnpj: str) -> dict:
    """The first registry lookup of one company, at once if a provider has capacity; otherwise
    the company waits in the backlog and a drainer does it when capacity returns."""
    return _work_now(ENRICHMENT, cnpj)


@shared_task(base=BaseTask, bind=True, name="companies.push_to_pipefy")
def company_push_to_pipefy_task(self, cnpj: str) -> dict:
    """The Pipefy push of one company, at once if Pipefy's limit allows; otherwise backlogged."""
    return _work_now(PIPEFY, cnpj)


def _work_now(queue: Queue, cnpj: str) -> dict[str, Any]:
    from companies import enrichment  # it imports the services, which import this module

    company = Company.objects.filter(cnpj=cnpj).first()
    if company is None:
        return {"cnpj": cnpj, "detail": "no such company"}
    outcome = enrichment.work_one(queue, company_id=company.pk)
    if outcome is None:  # done already (a repeated message), claimed by a drainer, or not due yet
        company.refresh_from_db()
        outcome = _state(queue, company)
    if outcome.get("next_attempt_at"):
        backlog_kick()
    if queue is ENRICHMENT and outcome["enrichment_status"] == EnrichmentStatus.OK:
        outcome.update(_pipefy_first_attempt(cnpj))
    return outcome


def _state(queue: Queue, company: Company) -> dict[str, Any]:
    due_at = getattr(company, queue.due)
    claimed = getattr(company, queue.claimed)
    if queue is PIPEFY:
        state = {"cnpj": company.cnpj, "pipefy_card_id": company.pipefy_card_id, "error": company.pipefy_error}
    else:
        state = {
            "cnpj": company.cnpj,
            "enrichment_status": company.enrichment_status,
            "registry_source": company.registry_source,
        }
    if claimed and claimed > timezone.now():
        state["detail"] = "being worked on by a backlog drainer"
    state["next_attempt_at"] = due_at.isoformat() if due_at and not state.get("detail") else None
    return state


def _pipefy_first_attempt(cnpj: str) -> dict[str, str]:
    """With PIPEFY_AUTO_PUSH, a company just enriched is due for Pipefy: queue its first try."""
    if not Company.objects.filter(cnpj=cnpj, pipefy_due_at__isnull=False).exists():
        return {}
    try:
        return {"pipefy_task_id": task_enqueue(company_push_to_pipefy_task, cnpj).task_id}
    except ServiceUnavailable:
        logger.warning("could not queue the Pipefy push of %s; it waits in the backlog", cnpj)
        return {}


@shared_task(base=BaseTask, bind=True, name="companies.backlog_drain")
def backlog_drain_task(self, slot: int = 0) -> dict:
    """Drain both backlogs for BACKLOG_DRAIN_SECONDS at most, then hand over to a fresh message
    (so no message is held near the visibility timeout, and other tasks get their turn)."""
    from companies import enrichment

    cache.delete(_slot_key("queued", slot))
    running = _slot_key("running", slot)
    holder = self.request.id or "-"
    # A message delivered again after its worker died finds its own id here and takes over.
    # The slot is held for a few heartbeats at a time: a drainer killed outright frees it soon.
    held_for = int(enrichment.HEARTBEAT_SECONDS * 3)
    taken = cache.add(running, holder, timeout=held_for)
    if not taken and cache.get(running) != holder:
        return {"slot": slot, "detail": "another drainer holds this slot"}
    try:
        report = enrichment.backlog_drain(
            seconds=settings.BACKLOG_DRAIN_SECONDS, heartbeat=lambda: cache.set(running, holder, timeout=held_for)
        )
    finally:
        cache.delete(running)
    if (next_in := report["next_in"]) is not None:
        # A wait the next drain can sleep through is no countdown: a worker holds every message
        # with a countdown it receives, so the other drainers' slots would sit with it, idle.
        countdown = 0 if next_in <= settings.BACKLOG_DRAIN_SECONDS else next_in
        backlog_kick(countdown=countdown, slots=[slot])
    return {"slot": slot, **report}


@shared_task(base=BaseTask, bind=True, name="companies.backlog_tick")
def backlog_tick_task(self) -> dict:
    """Beat's safety net: make sure drainers are coming while work is queued (after an outage,
    a lost message, a restart)."""
    from companies import enrichment

    next_in = enrichment.next_work_in()
    if next_in is not None and next_in < settings.BACKLOG_TICK_SECONDS:
        backlog_kick(countdown=next_in)
    return {"next_in": next_in}


@shared_task(base=BaseTask, bind=True, name="companies.refresh_stale")
def companies_refresh_stale_task(self, stale_days: int | None = None, limit: int | None = None) -> dict:
    """Queue the registry lookups that are due: see companies_refresh_queue."""
    return companies_refresh_queue(stale_days=stale_days, limit=limit)


@shared_task(base=BaseTask, bind=True, name="companies.enrich_many")
def companies_enrich_many_task(self, cnpjs: list[str]) -> dict:
    """Messages of earlier releases (one per import batch): the lookups become due in the backlog."""
    queued = backlog.queue_request(ENRICHMENT, Company.objects.filter(cnpj__in=cnpjs))
    backlog_kick()
    return {"queued": queued}


# --- queueing (used by services, views, admin and commands) --------------------------------
@shared_task(base=BaseTask, bind=True, name="companies.import_file")
def company_import_file_task(self, job_id: str) -> dict:
    """Import a CSV file uploaded in the admin (a tasks.ImportJob) through companies.imports, as
    the person who uploaded it; the progress is the task's state, the result the report."""
    from companies.imports import company_import
    from tasks.imports import import_job_run

    return import_job_run(
        task=self,
        job_id=job_id,
        run=lambda job, progress: company_import(source=job.content, progress=lambda tally: progress(tally.rows)),
    )


def _slot_key(kind: str, slot: int) -> str:
    return f"companies:backlog:{kind}:{slot}"


def backlog_kick(*, countdown: float = 0, slots: list[int] | None = None) -> int | None:
    """Make sure a drainer is coming for each slot (BACKLOG_DRAINERS of them): at most one drain
    message waits per slot, so kicking often costs nothing. Returns how many were sent, or None
    when the broker is unreachable (logged; beat's tick sends them later). Without a worker
    (`make run` runs tasks in-process) there is nobody to send them to."""
    if celery_app.conf.task_always_eager:
        return 0
    countdown = min(max(0.0, countdown), settings.TASK_MAX_COUNTDOWN_SECONDS)
    sent = 0
    for slot in range(settings.BACKLOG_DRAINERS) if slots is None else slots:
        key = _slot_key("queued", slot)
        if not cache.add(key, 1, timeout=int(countdown) + KICK_SECONDS):
            continue
        try:
            task_publish(backlog_drain_task, args=[slot], countdown=countdown)
            sent += 1
        except OUTAGE_EXCEPTIONS as exc:
            cache.delete(key)
            logger.warning("broker unavailable, no drainer sent (beat will retry): %s", exc.__class__.__name__)
            return None
    return sent


def company_enrichment_schedule(company: Company) -> dict[str, str]:
    """Inside the transaction that creates `company` (its lookup already due): queue the first
    attempt for after the commit. {task_id, status}."""
    return task_enqueue_on_commit(company_enrich_task, company.cnpj).as_dict()


def company_enrichment_enqueue(*, cnpj: str) -> EnqueuedTask:
    """Make the company's registry lookup due now and queue a first attempt."""
    backlog.queue_request(ENRICHMENT, Company.objects.filter(cnpj=cnpj))
    return task_enqueue(company_enrich_task, cnpj)


def company_pipefy_enqueue(*, cnpj: str) -> EnqueuedTask:
    backlog.queue_request(PIPEFY, Company.objects.filter(cnpj=cnpj, pipefy_card_id=""))
    return task_enqueue(company_push_to_pipefy_task, cnpj)


# --- which companies are due ---------------------------------------------------------------
def companies_refresh_queue(
    *, stale_days: int | None = None, limit: int | None = None, dry_run: bool = False
) -> dict[str, int]:
    """Make registry lookups due, then kick the drainers. First every company never enriched or
    left pending (or failed) that is not queued yet, whatever its age; then, at most `limit`
    (default REGISTRY_REFRESH_BATCH) companies whose registry data is stale: looked up more than
    `stale_days` (default REGISTRY_MAX_AGE_DAYS) ago, oldest first. Returns {unfinished, stale}
    (with `dry_run`, the counts it would queue; nothing is written or sent)."""
    days = settings.REGISTRY_MAX_AGE_DAYS if stale_days is None else stale_days
    limit = settings.REGISTRY_REFRESH_BATCH if limit is None else limit
    not_queued = Company.objects.filter(enrichment_due_at__isnull=True)  # those backing off keep their time
    unfinished = backlog.queue_request(
        ENRICHMENT,
        not_queued.filter(enrichment_status__in=[EnrichmentStatus.PENDING, EnrichmentStatus.FAILED]),
        dry_run=dry_run,
    )
    stale_ids = list(companies_stale(stale_days=days).values_list("pk", flat=True)[:limit])
    stale = backlog.queue_request(ENRICHMENT, Company.objects.filter(pk__in=stale_ids), dry_run=dry_run)
    if (unfinished or stale) and not dry_run:
        backlog_kick()
    return {"unfinished": unfinished, "stale": stale}


def companies_stale(*, stale_days: int):
    """Companies looked up (or found unknown) more than `stale_days` ago, not queued, oldest first."""
    cutoff = timezone.now() - timedelta(days=stale_days)
    looked_up = Q(enrichment_status=EnrichmentStatus.OK, registry_synced_at__lt=cutoff)
    unknown = Q(enrichment_status=EnrichmentStatus.NOT_FOUND, updated_at__lt=cutoff)
    return Company.objects.filter(looked_up | unknown, enrichment_due_at__isnull=True).order_by(
        "registry_synced_at", "id"
    )
