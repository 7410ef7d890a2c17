"""The two work queues kept on the company rows: registry enrichment and the Pipefy push.

A company has work due when its `<queue>_due_at` is set and has passed. A worker claims one such
company for a lease (`<queue>_claimed_until`): the row is picked with `FOR UPDATE SKIP LOCKED` and
the lease written by a conditional UPDATE, so any number of workers drain a queue without two of
them holding the same company; a worker that dies loses only its lease, after which the company
is claimed again. Releasing either finishes the work (due cleared) or puts it back for later.

Queue bookkeeping is written with QuerySet.update: it is not part of a company's history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from companies.models import Company


@dataclass(frozen=True)
class Queue:
    name: str  # "enrichment" or "pipefy": the prefix of the company's queue fields

    @property
    def due(self) -> str:
        return f"{self.name}_due_at"

    @property
    def claimed(self) -> str:
        return f"{self.name}_claimed_until"

    @property
    def attempts(self) -> str:
        return f"{self.name}_attempts"

    def lease_seconds(self) -> float:
        """Longer than one piece of work can take (every outbound call timing out)."""
        call = settings.INTEGRATIONS_CONNECT_TIMEOUT + settings.INTEGRATIONS_READ_TIMEOUT
        if self.name == PIPEFY.name:  # a search, then a create
            call, calls = settings.INTEGRATIONS_CONNECT_TIMEOUT + settings.PIPEFY_READ_TIMEOUT, 2
        else:  # every registry provider once
            calls = len(settings.CNPJ_PROVIDERS)
        return math.ceil(call * calls + 30)

    def unclaimed(self, now: datetime) -> Q:
        return Q(**{f"{self.claimed}__isnull": True}) | Q(**{f"{self.claimed}__lt": now})

    def waiting(self, now: datetime) -> Q:
        """Queued (due now or later) and not claimed by a worker."""
        return Q(**{f"{self.due}__isnull": False}) & self.unclaimed(now)

    def in_progress(self, now: datetime) -> Q:
        """Claimed by a worker now."""
        return Q(**{f"{self.due}__isnull": False}) & Q(**{f"{self.claimed}__gte": now})


ENRICHMENT = Queue("enrichment")
PIPEFY = Queue("pipefy")
# The Pipefy push's outcomes kept on the row: a card, or the reason the push failed for good.
PIPEFY_CARDED = ~Q(pipefy_card_id="")
PIPEFY_FAILED = Q(pipefy_card_id="") & ~Q(pipefy_error="")


def queue_request(queue: Queue, companies: QuerySet, *, at: datetime | None = None, dry_run: bool = False) -> int:
    """Make the work due at `at` (default now) for these companies; work already due sooner
    keeps its time. Returns how many companies were queued or brought forward (with `dry_run`,
    would be; nothing is written)."""
    at = at or timezone.now()
    pending = Q(**{f"{queue.due}__isnull": True}) | Q(**{f"{queue.due}__gt": at})
    if dry_run:
        return companies.filter(pending).count()
    return companies.filter(pending).update(**{queue.due: at})


def queue_claim(queue: Queue, *, company_id: int | None = None) -> Company | None:
    """Claim the company whose work has waited longest (or this one, if its work is due).
    Returns it, or None when nothing is due and unclaimed."""
    now = timezone.now()
    due = Company.objects.filter(**{f"{queue.due}__lte": now}).filter(queue.unclaimed(now))
    if company_id is not None:
        due = due.filter(pk=company_id)
    with transaction.atomic():
        picked = (
            due.order_by(queue.due)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)
            .first()
        )
        if picked is None:
            return None
        lease = now + timedelta(seconds=queue.lease_seconds())
        # Conditional, so the claim holds even where SELECT ... FOR UPDATE is not available.
        if not due.filter(pk=picked).update(**{queue.claimed: lease}):
            return None
    return Company.objects.get(pk=picked)


def queue_done(queue: Queue, company: Company) -> None:
    """The work is finished (whatever its outcome): nothing due, no claim, no attempts counted."""
    Company.objects.filter(pk=company.pk).update(**{queue.due: None, queue.claimed: None, queue.attempts: 0})


def queue_later(queue: Queue, company: Company, *, seconds: float, failed_attempt: bool) -> datetime:
    """Put the work back, due in `seconds`; `failed_attempt` counts it against the retry budget
    (a wait for capacity does not). Returns when it is due."""
    due_at = timezone.now() + timedelta(seconds=max(0.0, seconds))
    fields = {queue.due: due_at, queue.claimed: None}
    if failed_attempt:
        fields[queue.attempts] = getattr(company, queue.attempts) + 1
    Company.objects.filter(pk=company.pk).update(**fields)
    return due_at


def queue_next_due_in(queue: Queue) -> float | None:
    """Seconds until the next unclaimed work is due (0: due now), or None when none is queued."""
    now = timezone.now()
    soonest = (
        Company.objects.filter(**{f"{queue.due}__isnull": False})
        .filter(queue.unclaimed(now))
        .aggregate(soonest=Min(queue.due))["soonest"]
    )
    return None if soonest is None else max(0.0, (soonest - now).total_seconds())


def queue_counts(queue: Queue) -> dict[str, int]:
    """{queued: work due now or later, unclaimed; in_progress: claimed now}."""
    now = timezone.now()
    counts = Company.objects.filter(**{f"{queue.due}__isnull": False}).aggregate(
        queued=Count("pk", filter=queue.waiting(now)), in_progress=Count("pk", filter=queue.in_progress(now))
    )
    return {"queued": counts["queued"], "in_progress": counts["in_progress"]}
