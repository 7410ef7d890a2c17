"""The shared Celery base class: who acts, and when to try again.

Every task body runs as `task:<name>` (history rows and logs name it). Transient errors (an
outside service unavailable, a backing service down, a soft time limit) retry with exponential
backoff and jitter, at most TASK_MAX_RETRIES times; a rate limit retries after its retry-after;
anything else is permanent and fails at once. No countdown is longer than
TASK_MAX_COUNTDOWN_SECONDS (half the broker's visibility timeout), so a message waiting in a
worker's hands is never handed to a second worker. A task given up is logged by name and id.
Tasks run eagerly (`make run`) do not retry. Tasks run in English, whoever queued them: what they
store (an enrichment error, a task result) is read through the API.
"""

from __future__ import annotations

import logging
import random
import time

from celery import Task
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.conf import settings
from django.utils import translation

from access.actor import acting_as
from core.exceptions import OUTAGE_EXCEPTIONS
from core.localization import API_LANGUAGE
from integrations.errors import RateLimited, is_transient

logger = logging.getLogger(__name__)

# A running task's custom state while it reports how far it is (BaseTask.report_progress); the
# task status API shows it as STARTED with `progress`.
PROGRESS = "PROGRESS"
PROGRESS_EVERY_SECONDS = 0.5


def backoff_seconds(retries: int) -> float:
    """Exponential backoff with "equal jitter": half the step fixed, half random; capped."""
    step = min(settings.TASK_RETRY_BACKOFF_MAX_SECONDS, settings.TASK_RETRY_BACKOFF_SECONDS * (2**retries))
    return step / 2 + random.uniform(0, step / 2)


def retry_countdown(exc: BaseException, retries: int) -> float | None:
    """Seconds to wait before the next try, or None when `exc` is permanent."""
    if isinstance(exc, RateLimited):
        wait = exc.retry_after or 60
        countdown = wait + random.uniform(0, min(5.0, 1 + wait * 0.1))
    elif is_transient(exc) or isinstance(exc, (*OUTAGE_EXCEPTIONS, SoftTimeLimitExceeded)):
        countdown = backoff_seconds(retries)
    else:
        return None
    return min(countdown, settings.TASK_MAX_COUNTDOWN_SECONDS)


class BaseTask(Task):
    """Use with `@shared_task(base=BaseTask, bind=True, name="app.verb")`."""

    # Celery's own default (3) would win over TASK_MAX_RETRIES: None defers to the setting.
    max_retries = None

    @property
    def actor(self) -> str:
        return f"task:{self.name}"

    @property
    def max_attempts_retries(self) -> int:
        return settings.TASK_MAX_RETRIES if self.max_retries is None else self.max_retries

    def __call__(self, *args, **kwargs):
        with acting_as(self.actor), translation.override(API_LANGUAGE):
            if self.request_stack.top is None:  # called as a plain function, not by a worker
                return super().__call__(*args, **kwargs)
            try:
                return self.run(*args, **kwargs)
            except Retry:
                raise
            except Exception as exc:
                countdown = self._countdown_if_retrying(exc)
                if countdown is None:
                    self._log_given_up(exc)
                    raise
                logger.warning(
                    "%s[%s] retry %s in %.0fs: %s", self.name, self.request.id, self.request.retries + 1, countdown, exc
                )
                raise self.retry(exc=exc, countdown=countdown, max_retries=self.max_attempts_retries) from exc

    def report_progress(self, done: int, total: int | None, *, force: bool = False) -> None:
        """Record how far the task is (`done` of `total` items) in its state, at most every
        PROGRESS_EVERY_SECONDS unless `force`; does nothing when called as a plain function."""
        request = self.request
        if request.id is None or request.called_directly:
            return
        now = time.monotonic()
        if not force and now - getattr(request, "progress_reported_at", 0.0) < PROGRESS_EVERY_SECONDS:
            return
        request.progress_reported_at = now
        self.update_state(state=PROGRESS, meta={"done": done, "total": total})

    def _log_given_up(self, exc: BaseException) -> None:
        if self.request.called_directly:
            return
        tries = self.request.retries + 1
        logger.warning(
            "%s[%s] given up after %s tries: %s: %s", self.name, self.request.id, tries, type(exc).__name__, exc
        )

    def will_retry(self, exc: BaseException) -> bool:
        """Whether a failure with `exc` now will be tried again (so it is not final yet)."""
        return self._countdown_if_retrying(exc) is not None

    def _countdown_if_retrying(self, exc: BaseException) -> float | None:
        request = self.request
        if request.called_directly or request.is_eager or request.retries >= self.max_attempts_retries:
            return None
        return retry_countdown(exc, request.retries)
