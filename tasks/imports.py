"""Files uploaded for a background import: stored with their job, queued, read back by the task,
and emptied once imported (the report is kept). Knows no domain: each app's task does the import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Task
from django.utils import timezone, translation
from django.utils.translation import get_language

from access.actor import acting_as, current_actor, user_label
from tasks.models import ImportJob
from tasks.services import task_enqueue


def data_lines(content: str, *, header: bool) -> int:
    """Lines holding something in `content`, less the header row: the rows a progress bar counts
    (a CSV cell spanning lines makes it an estimate)."""
    lines = sum(1 for line in content.splitlines() if line.strip())
    return max(0, lines - 1) if header else lines


def import_job_create(
    *, target: str, filename: str, size: int, content: str, rows_total: int, task: Task, user
) -> ImportJob:
    """Store the upload and queue `task(job_id)` to import it. When the task queue is down,
    ServiceUnavailable is raised and nothing is kept."""
    job = ImportJob.objects.create(
        target=target,
        filename=filename,
        size=size,
        content=content,
        rows_total=rows_total,
        created_by=user,
        actor=current_actor() or user_label(user),
        language=get_language() or "",
    )
    try:
        # Eager (`make run`): the import runs here, before task_enqueue returns.
        queued = task_enqueue(task, str(job.pk))
    except Exception:
        job.delete()
        raise
    ImportJob.objects.filter(pk=job.pk).update(task_id=queued.task_id)
    job.task_id = queued.task_id
    return job


def import_job_get(*, job_id, target: str | None = None) -> ImportJob | None:
    jobs = ImportJob.objects.filter(pk=job_id)
    if target is not None:
        jobs = jobs.filter(target=target)
    return jobs.first()


def import_job_run(*, task: Task, job_id, run: Callable[[ImportJob, Callable[[int], None]], Any]) -> dict:
    """The body of an app's import task: `run(job, progress)` imports the job's text (reporting rows
    done through `progress`) and returns a summary with `as_dict()`; it runs as the person who
    uploaded the file, in their language. A message delivered twice returns the first report."""
    job = import_job_get(job_id=job_id)
    if job is None:
        raise LookupError(f"No import job {job_id}.")
    if job.report is not None:  # the file is imported already
        return job.report
    with acting_as(job.actor), translation.override(job.language or None):
        summary = run(job, lambda done: task.report_progress(done, job.rows_total))
    report = summary.as_dict()
    import_job_finish(job=job, report=report)
    return report


def import_job_finish(*, job: ImportJob, report: dict) -> None:
    """Keep the report; the file's text is not needed any more."""
    job.report, job.content, job.finished_at = report, "", timezone.now()
    job.save(update_fields=["report", "content", "finished_at"])
