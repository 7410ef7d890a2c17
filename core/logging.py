"""Logging pieces: the request id (and, inside Celery tasks, the task id) on every record, one
access line per request, and redaction of secrets from every record.

Inside a Celery task, `task_id` is the task's own id (the one `/api/tasks/{id}/` knows) and
`request_id` is the id of the HTTP request that enqueued it, carried in the message headers by
django-guid's CeleryIntegration. A task run eagerly (`task.apply()`, CELERY_TASK_ALWAYS_EAGER) has
no message headers: it keeps its caller's request id, and the caller has it back afterwards.
"""

from __future__ import annotations

import logging
import re
import time
from contextvars import ContextVar

from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django_guid import get_guid, set_guid
from django_guid.integrations.celery import signals as guid_celery

access_logger = logging.getLogger("api.access")

# Celery tasks running in this context, innermost last: (task id, request id of the caller of an
# eager run, None for a task from the broker). Thread- and task-local, like django-guid's own id.
_running_tasks: ContextVar[tuple[tuple[str, str | None], ...]] = ContextVar("running_tasks", default=())


def current_task_id() -> str | None:
    """The id of the Celery task running here, None outside tasks."""
    running = _running_tasks.get()
    return running[-1][0] if running else None


class RequestTaskIds(logging.Filter):
    """Sets `request_id` (django-guid's id: the HTTP request's, in a task the one behind it) and
    `task_id` (the Celery task id) on each record. Where there is no such id the attribute is left
    unset, and the formatters show their default: null in JSON, `-` in the plain format."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = get_guid()
        if request_id:
            record.request_id = request_id
        task_id = current_task_id()
        if task_id:
            record.task_id = task_id
        return True


def _task_started(task_id: str, task, **kwargs) -> None:
    """task_prerun: the task id for the logs, and the request id set django-guid's way (from the
    message header, else a new one), except that an eager run inside a request keeps its id."""
    eager = bool(task.request.is_eager)
    caller_request_id = get_guid() if eager else None
    if not caller_request_id:
        guid_celery.worker_prerun(task=task)
    running = _running_tasks.get() if eager else ()  # a task from the broker starts afresh
    _running_tasks.set((*running, (task_id, caller_request_id)))


def _task_finished(task_id: str, task, **kwargs) -> None:
    """task_postrun: drop the task id; give an eager run's caller its request id back (django-guid
    alone would clear it), else clear the task's request id django-guid's way."""
    running = _running_tasks.get()
    caller_request_id = None
    if running and running[-1][0] == task_id:
        caller_request_id = running[-1][1]
        _running_tasks.set(running[:-1])
    else:  # out of step (cannot happen with Celery's tracer): start clean rather than mislabel
        _running_tasks.set(())
    if caller_request_id:
        if get_guid() != caller_request_id:
            set_guid(caller_request_id)
    else:
        guid_celery.clean_up(task=task)


# django-guid's task_prerun/task_postrun handlers are called from ours instead of being connected
# themselves: the caller's request id must be read before django-guid replaces it and put back
# after django-guid clears it, and signal receivers have no reliable order. Its before_task_publish
# handler (request id into the message headers) stays connected as it is.
task_prerun.disconnect(guid_celery.worker_prerun)
task_postrun.disconnect(guid_celery.clean_up)
task_prerun.connect(_task_started, weak=False, dispatch_uid="core.logging.task_started")
task_postrun.connect(_task_finished, weak=False, dispatch_uid="core.logging.task_finished")

REDACTED = "[REDACTED]"
SECRET_PATTERNS = (
    # JSON Web Tokens (header.payload.signature, base64url, header starts with {" -> eyJ).
    re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}"),
    # API keys as issued here: 8-character prefix, a dot, 32-character secret.
    re.compile(r"\b[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}\b"),
    # "Bearer <anything>" in headers that ended up in a message.
    re.compile(r"(?i)(bearer\s+)[^\s\"',]+"),
    # key=value / "key": "value" for names that hold secrets.
    re.compile(
        r"(?i)((?:password|passwd|secret|token|access|refresh|api[_-]?key|authorization)"
        r"[\"']?\s*[:=]\s*[\"']?)([^\s\"',&}]+)"
    ),
)


def redact(text: str) -> str:
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.lastindex else "") + REDACTED, text)
    configured = getattr(settings, "API_KEY", "")
    if configured:
        text = text.replace(configured, REDACTED)
    return text


_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class QuietRefusals(logging.Filter):
    """Drops the records of calls refused at once because a service is treated as down
    (core.outages): the outage was logged when it began; a line per request adds nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and record.levelno < logging.CRITICAL:
            from core.outages import Outage

            return not Outage.is_refusal(record.exc_info[1])
        return True


class OutagesWithoutTraceback(logging.Filter):
    """A record carrying a backing service's outage (PostgreSQL, Redis, MongoDB down) is an
    expected condition: one WARNING line naming the error, without the traceback. Beat, for one,
    logs every failed schedule sync with a full traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        # A CRITICAL record is never expected: a process is going down, whatever the cause.
        if not record.exc_info or record.exc_info[1] is None or record.levelno >= logging.CRITICAL:
            return True
        from core.exceptions import outage_in

        outage = outage_in(record.exc_info[1])
        if outage is None:
            return True
        first_line = str(outage).strip().splitlines()[0] if str(outage).strip() else ""
        record.msg = f"{record.getMessage()} [{type(outage).__name__}: {first_line}]"
        record.args = None
        record.exc_info = None
        record.exc_text = None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class RedactSecrets(logging.Filter):
    """Rewrites each record's message, extra fields (e.g. SQL parameters) and traceback with
    secrets replaced: JSON output includes extra fields, so they are cleaned too."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in list(vars(record).items()):
            if name in _STANDARD_ATTRIBUTES or value is None or isinstance(value, (bool, int, float)):
                continue
            text = value if isinstance(value, str) else repr(value)
            cleaned = redact(text)
            if cleaned != text:
                setattr(record, name, cleaned)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        # Line breaks that came in with input (a username, a header) would start a forged line.
        cleaned = redact(message).replace("\r", "\\r").replace("\n", "\\n")
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class AccessLogMiddleware:
    """One line per request: method, path (no query string: it may carry secrets), status, time and
    the client's address (core.clients)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        if access_logger.isEnabledFor(logging.INFO) and not request.path.startswith("/static/"):
            elapsed_ms = (time.perf_counter() - started) * 1000
            access_logger.info(
                "%s %s %s %.1fms from %s",
                request.method,
                request.path,
                response.status_code,
                elapsed_ms,
                request.META.get("REMOTE_ADDR", "-"),
                extra={
                    "status": response.status_code,
                    "duration_ms": round(elapsed_ms, 1),
                    "client": request.META.get("REMOTE_ADDR", ""),
                },
            )
        return response
