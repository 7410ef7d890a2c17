"""Queue tasks so that their status is visible at once, and nothing is lost when the broker is down."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass

from celery import Task, states
from django.db import transaction
from django_celery_results.models import TaskResult

from config.celery import app as celery_app
from config.exceptions import OUTAGE_EXCEPTIONS, ServiceUnavailable

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
        task.apply_async(args=args, kwargs=kwargs, task_id=task_id)
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


def broker_check() -> None:
    """Raise ServiceUnavailable unless the broker accepts connections (eager mode has none)."""
    if celery_app.conf.task_always_eager:
        return
    try:
        # A fresh connection, not one from the pool: a pooled connection to a broker that has
        # since gone away still looks connected until something is sent over it.
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except (*OUTAGE_EXCEPTIONS, OSError) as exc:
        raise ServiceUnavailable(BROKER_DOWN, service="broker") from exc


def _publish_after_commit(task: Task, task_id: str, args, kwargs) -> None:
    try:
        task.apply_async(args=args, kwargs=kwargs, task_id=task_id)
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
