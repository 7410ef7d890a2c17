"""Reads of task state, from django-celery-results' TaskResult table."""

from __future__ import annotations

import json
from typing import Any

from celery import states
from django_celery_results.models import TaskResult

from tasks.base import PROGRESS


def task_result_get(*, task_id: str) -> TaskResult | None:
    return TaskResult.objects.filter(task_id=task_id).first()


def task_result_value(task_result: TaskResult) -> Any:
    """The task's return value (SUCCESS only); None otherwise."""
    if task_result.status != states.SUCCESS or task_result.result is None:
        return None
    try:
        return json.loads(task_result.result)
    except ValueError:
        return task_result.result


def task_progress(task_result: TaskResult) -> dict | None:
    """{"done", "total"} while a task reports its progress (tasks.base.BaseTask.report_progress)."""
    if task_result.status != PROGRESS or not task_result.result:
        return None
    try:
        progress = json.loads(task_result.result)
    except ValueError:
        return None
    if not isinstance(progress, dict):
        return None
    return {"done": progress.get("done"), "total": progress.get("total")}


def task_error_message(task_result: TaskResult) -> str:
    """`ExceptionType: message` for FAILURE and RETRY (the error that caused the retry)."""
    if task_result.status not in (states.FAILURE, states.RETRY) or not task_result.result:
        return ""
    try:
        error = json.loads(task_result.result)
    except ValueError:
        return str(task_result.result)
    if not isinstance(error, dict):
        return str(error)
    message = error.get("exc_message")
    if isinstance(message, (list, tuple)):
        message = " ".join(str(part) for part in message)
    kind = error.get("exc_type") or "Error"
    return f"{kind}: {message}" if message else kind


def task_detail(task_result: TaskResult) -> str:
    """What the reconciler said about the task (queued again, or given up, and why)."""
    try:
        meta = json.loads(task_result.meta or "{}")
    except ValueError:
        return ""
    return str(meta.get("reason", "")) if isinstance(meta, dict) else ""
