"""Queue tasks so that their status is visible at once, nothing is lost when the broker is down,
and no task row is left unfinished for good (the reconciler)."""

from __future__ import annotations

import ast
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from celery import Task, states
from celery import current_app as celery_app  # the project's app (config.celery), without importing config
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_celery_results.models import TaskResult
from kombu.exceptions import OperationalError as BrokerOperationalError

from core import outages
from core.exceptions import OUTAGE_EXCEPTIONS, ServiceUnavailable
from tasks.base import PROGRESS

logger = logging.getLogger(__name__)

BROKER_DOWN = "The task queue is unavailable; nothing was queued. Try again shortly."


@dataclass(frozen=True)
class EnqueuedTask:
    task_id: str
    status: str

    def as_dict(self) -> dict[str, str]:
        return {"task_id": self.task_id, "status": self.status}


def task_enqueue(task: Task, *args, **kwargs) -> EnqueuedTask:
    """Record the task as PENDING, then publish it. If the broker is down, the record is removed
    again and ServiceUnavailable (503) is raised: the caller can simply retry."""
    task_id = str(uuid.uuid4())
    _record_pending(task, task_id, args, kwargs)
    try:
        task_publish(task, args=args, kwargs=kwargs, task_id=task_id)
    except OUTAGE_EXCEPTIONS as exc:
        logger.warning("broker unavailable, %s not queued: %s", task.name, exc)
        TaskResult.objects.filter(task_id=task_id, status=states.PENDING).delete()
        raise ServiceUnavailable(BROKER_DOWN, service="broker") from exc
    return EnqueuedTask(task_id, _status(task_id))


def task_enqueue_on_commit(task: Task, *args, **kwargs) -> EnqueuedTask:
    """For use inside a transaction: the PENDING record is written with it and the task is
    published once it commits (so the worker finds what the transaction wrote).

    The broker is checked first, so an outage answers 503 and rolls the transaction back. If it
    fails in the moment between check and publish, the record is marked FAILURE with the reason
    and the work is left to the periodic jobs that look for unfinished records.
    """
    broker_check()
    task_id = str(uuid.uuid4())
    _record_pending(task, task_id, args, kwargs)
    transaction.on_commit(lambda: _publish_after_commit(task, task_id, args, kwargs))
    return EnqueuedTask(task_id, states.PENDING)


def task_publish(task: Task, **options):
    """`task.apply_async(**options)`, failing at once while the broker is treated as down: after a
    publish or a check failed, for REDIS_DOWN_SECONDS (core.outages), so a hung broker costs one
    socket timeout, not one per request."""
    if not celery_app.conf.task_always_eager and outages.BROKER.down_for():
        raise BrokerOperationalError(str(outages.BROKER.refusal()))
    try:
        return task.apply_async(**options)
    except (*OUTAGE_EXCEPTIONS, OSError) as exc:
        outages.BROKER.trip(exc)
        raise


def broker_check() -> None:
    """Raise ServiceUnavailable unless the broker accepts connections (eager mode has none)."""
    if celery_app.conf.task_always_eager:
        return
    if outages.BROKER.down_for():
        raise ServiceUnavailable(BROKER_DOWN, service="broker")
    try:
        # A fresh connection, not one from the pool: a pooled connection to a broker that has
        # since gone away still looks connected until something is sent over it.
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except (*OUTAGE_EXCEPTIONS, OSError) as exc:
        outages.BROKER.trip(exc)
        raise ServiceUnavailable(BROKER_DOWN, service="broker") from exc


def _publish_after_commit(task: Task, task_id: str, args, kwargs) -> None:
    try:
        task_publish(task, args=args, kwargs=kwargs, task_id=task_id)
    except OUTAGE_EXCEPTIONS as exc:
        logger.error("broker unavailable after commit, %s[%s] not queued: %s", task.name, task_id, exc)
        failure = {
            "exc_type": "BrokerUnavailable",
            "exc_message": [f"not queued: {exc}"],
            "exc_module": "tasks.services",
        }
        TaskResult.objects.filter(task_id=task_id).update(status=states.FAILURE, result=json.dumps(failure))


def _record_pending(task: Task, task_id: str, args, kwargs) -> None:
    TaskResult.objects.create(
        task_id=task_id,
        task_name=task.name,
        status=states.PENDING,
        task_args=json.dumps(repr(tuple(args))),
        task_kwargs=json.dumps(repr(dict(kwargs))),
        content_type="application/json",
        content_encoding="utf-8",
        date_done=None,
    )


def _status(task_id: str) -> str:
    # Eager mode (`make run`) has already run the task by now.
    status = TaskResult.objects.filter(task_id=task_id).values_list("status", flat=True).first()
    return status or states.PENDING


# --- the reconciler ----------------------------------------------------------------------------
UNFINISHED = (states.PENDING, states.RECEIVED, states.STARTED, states.RETRY, PROGRESS)


def broker_task_ids() -> set[str]:
    """The ids of every task message the broker holds: waiting in the default queue, or handed
    to a worker and not yet acknowledged (running, or waiting for its countdown)."""
    with celery_app.connection_for_read() as connection:
        channel = connection.default_channel
        client = channel.client
        waiting = client.lrange(celery_app.conf.task_default_queue, 0, -1)
        unacked = client.hvals(getattr(channel, "unacked_key", "unacked"))
    ids = set()
    for raw in waiting:
        ids.add(json.loads(raw)["headers"]["id"])
    for raw in unacked:
        ids.add(json.loads(raw)[0]["headers"]["id"])
    return ids


def task_reconcile(*, limit: int = 500) -> dict[str, int]:
    """Find task rows left unfinished for TASK_STRANDED_SECONDS whose message the broker no longer
    holds (the broker lost it, a worker died, the outcome could not be written), and queue each
    again under its own id, at most TASK_REQUEUE_MAX times; then mark it failed with the reason.
    Tasks are idempotent, so running one again is safe. Returns {requeued, failed}."""
    cutoff = timezone.now() - timedelta(seconds=settings.TASK_STRANDED_SECONDS)
    stranded = list(
        TaskResult.objects.filter(status__in=UNFINISHED, date_done__lt=cutoff).order_by("date_done")[:limit]
    )
    counts = {"requeued": 0, "failed": 0}
    if not stranded:
        return counts
    live = set() if celery_app.conf.task_always_eager else broker_task_ids()
    for row in stranded:
        if row.task_id not in live:
            counts["requeued" if _requeue(row) else "failed"] += 1
    return counts


def _requeue(row: TaskResult) -> bool:
    meta = _json_object(row.meta)
    tries = int(meta.get("requeued", 0)) + 1
    reason = f"stranded {row.status} since {row.date_done:%Y-%m-%d %H:%M:%S} UTC with no message left for it"
    arguments = _arguments(row)
    if row.task_name not in celery_app.tasks or arguments is None:
        return _give_up(row, f"{reason}; it cannot be queued again (unknown task or arguments)")
    if tries > settings.TASK_REQUEUE_MAX:
        return _give_up(row, f"{reason}; queued again {tries - 1} times already")
    meta.update(requeued=tries, reason=f"{reason}; queued again ({tries}/{settings.TASK_REQUEUE_MAX})")
    TaskResult.objects.filter(pk=row.pk).update(status=states.PENDING, meta=json.dumps(meta), date_done=timezone.now())
    args, kwargs = arguments
    task_publish(celery_app.tasks[row.task_name], args=args, kwargs=kwargs, task_id=row.task_id)
    logger.warning("task %s[%s] %s", row.task_name, row.task_id, meta["reason"])
    return True


def _give_up(row: TaskResult, reason: str) -> bool:
    logger.warning("task %s[%s] given up: %s", row.task_name, row.task_id, reason)
    failure = {"exc_type": "Stranded", "exc_message": [reason], "exc_module": "tasks.services"}
    meta = {**_json_object(row.meta), "reason": reason}
    TaskResult.objects.filter(pk=row.pk).update(
        status=states.FAILURE, result=json.dumps(failure), meta=json.dumps(meta), date_done=timezone.now()
    )
    return False


def _json_object(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _arguments(row: TaskResult) -> tuple[tuple, dict] | None:
    """The task's (args, kwargs) from the row: JSON strings holding their Python repr."""
    try:
        args = ast.literal_eval(json.loads(row.task_args or '"()"'))
        kwargs = ast.literal_eval(json.loads(row.task_kwargs or '"{}"'))
    except (ValueError, SyntaxError, TypeError):
        return None
    if isinstance(args, list):
        args = tuple(args)
    return (args, kwargs) if isinstance(args, tuple) and isinstance(kwargs, dict) else None
