"""Background work on companies: registry enrichment, the Pipefy push, and the periodic refresh.

Tasks are thin: load the company by CNPJ, call a service, let the base class retry transient
errors. All are idempotent, so a redelivered message (a worker killed mid-task) is harmless.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from celery import shared_task, states
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django_celery_results.models import TaskResult

from companies.models import Company, EnrichmentStatus
from config.exceptions import ServiceUnavailable
from integrations import services as integration_services
from integrations.errors import IntegrationError
from tasks.base import BaseTask
from tasks.services import EnqueuedTask, task_enqueue, task_enqueue_on_commit

logger = logging.getLogger(__name__)

# A company whose enrichment was queued this recently is left to that task.
RECENT_WRITE_GRACE = timedelta(minutes=15)
UNFINISHED = (states.PENDING, states.RECEIVED, states.STARTED, states.RETRY)
_CNPJ_IN_ARGS = re.compile(r"[0-9A-Z]{12}[0-9]{2}")


@shared_task(base=BaseTask, bind=True, name="companies.enrich")
def company_enrich_task(self, cnpj: str) -> dict:
    company = Company.objects.filter(cnpj=cnpj).first()
    if company is None:
        return {"cnpj": cnpj, "enrichment_status": None, "detail": "no such company"}
    try:
        company = integration_services.company_enrich(company=company)
    except IntegrationError as exc:
        if not self.will_retry(exc):
            integration_services.company_enrichment_failed(company=company, error=exc)
        raise
    result = {
        "cnpj": cnpj,
        "enrichment_status": company.enrichment_status,
        "registry_source": company.registry_source,
    }
    if settings.PIPEFY_AUTO_PUSH and company.enrichment_status == EnrichmentStatus.OK and not company.pipefy_card_id:
        try:
            result["pipefy_task_id"] = task_enqueue(company_push_to_pipefy_task, cnpj).task_id
        except ServiceUnavailable:
            logger.warning("could not queue the Pipefy push of %s; the next refresh will", cnpj)
    return result


@shared_task(base=BaseTask, bind=True, name="companies.push_to_pipefy")
def company_push_to_pipefy_task(self, cnpj: str) -> dict:
    company = Company.objects.filter(cnpj=cnpj).first()
    if company is None:
        return {"cnpj": cnpj, "pipefy_card_id": None, "detail": "no such company"}
    company, card, created = integration_services.company_push_to_pipefy(company=company)
    return {
        "cnpj": cnpj,
        "pipefy_card_id": company.pipefy_card_id,
        "created": created,
        "card_url": card.url if card else None,
    }


@shared_task(base=BaseTask, bind=True, name="companies.refresh_stale")
def companies_refresh_stale_task(self, stale_days: int | None = None, limit: int | None = None) -> dict:
    """Queue the enrichment of one bounded batch of companies due for a refresh."""
    cnpjs = companies_due_for_refresh(stale_days=stale_days, limit=limit)
    task_ids = [company_enrichment_enqueue(cnpj=cnpj).task_id for cnpj in cnpjs]
    return {"queued": len(task_ids), "cnpjs": cnpjs}


@shared_task(base=BaseTask, bind=True, name="companies.enrich_many")
def companies_enrich_many_task(self, cnpjs: list[str]) -> dict:
    """Fan out: one enrichment task per company. An import queues one of these per batch, so the
    import itself publishes a handful of messages however many rows it inserts."""
    task_ids = [company_enrichment_enqueue(cnpj=cnpj).task_id for cnpj in cnpjs]
    return {"queued": len(task_ids)}


# --- queueing (used by services, views, admin and commands) --------------------------------
def company_enrichment_schedule(company: Company) -> dict[str, str]:
    """Inside the transaction that creates `company`: queue its enrichment for after the commit."""
    return task_enqueue_on_commit(company_enrich_task, company.cnpj).as_dict()


def company_enrichment_enqueue(*, cnpj: str) -> EnqueuedTask:
    return task_enqueue(company_enrich_task, cnpj)


def companies_enrichment_enqueue_many(*, cnpjs: list[str]) -> EnqueuedTask:
    return task_enqueue(companies_enrich_many_task, list(cnpjs))


def company_pipefy_enqueue(*, cnpj: str) -> EnqueuedTask:
    return task_enqueue(company_push_to_pipefy_task, cnpj)


# --- which companies are due ---------------------------------------------------------------
def companies_due_for_refresh(*, stale_days: int | None = None, limit: int | None = None) -> list[str]:
    """CNPJs whose registry data is older than `stale_days` (default REGISTRY_MAX_AGE_DAYS) or that
    were never enriched, oldest first, at most `limit` (default REGISTRY_REFRESH_BATCH). Companies
    changed in the last minutes, checked as not found recently, or with an enrichment still
    queued are left out, so running the refresh twice queues nothing twice."""
    now = timezone.now()
    days = settings.REGISTRY_MAX_AGE_DAYS if stale_days is None else stale_days
    cutoff = now - timedelta(days=days)
    limit = settings.REGISTRY_REFRESH_BATCH if limit is None else limit
    due = (
        Company.objects.filter(Q(registry_synced_at__isnull=True) | Q(registry_synced_at__lt=cutoff))
        .filter(updated_at__lt=now - RECENT_WRITE_GRACE)
        .exclude(enrichment_status=EnrichmentStatus.NOT_FOUND, updated_at__gte=cutoff)
        .exclude(cnpj__in=_cnpjs_with_unfinished_enrichment())
        .order_by(F("registry_synced_at").asc(nulls_first=True), "id")
    )
    return list(due.values_list("cnpj", flat=True)[:limit])


def _cnpjs_with_unfinished_enrichment() -> set[str]:
    since = timezone.now() - timedelta(days=2)
    args = TaskResult.objects.filter(
        task_name=company_enrich_task.name, status__in=UNFINISHED, date_created__gte=since
    ).values_list("task_args", flat=True)
    return {match for text in args if text for match in _CNPJ_IN_ARGS.findall(text)}
