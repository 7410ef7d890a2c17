"""The plumbing's own periodic work: reconcile stranded task rows."""

from celery import shared_task

from tasks.base import BaseTask


@shared_task(base=BaseTask, bind=True, name="tasks.reconcile")
def tasks_reconcile_task(self) -> dict:
    from tasks.services import task_reconcile

    return task_reconcile()
