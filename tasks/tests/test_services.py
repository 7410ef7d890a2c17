"""tasks/services.py: the reconciler against the real broker (no worker: messages stay queued)."""

import json
from datetime import timedelta

import pytest
from celery import states
from django.utils import timezone
from django_celery_results.models import TaskResult

from config.celery import app as celery_app
from tasks.base import BaseTask
from tasks.services import task_enqueue, task_reconcile
from tasks.testing import purge_queue, queued_task_ids

pytestmark = pytest.mark.django_db


@celery_app.task(base=BaseTask, name="tests.reconciled")
def reconciled(value, *, twice=False):
    return value * (2 if twice else 1)


@pytest.fixture(autouse=True)
def empty_queue():
    purge_queue()
    yield
    purge_queue()


def _stranded(task_id, *, name="tests.reconciled", status=states.PENDING, args=("x",), kwargs=None, hours=1):
    TaskResult.objects.create(
        task_id=task_id,
        task_name=name,
        status=status,
        task_args=json.dumps(repr(tuple(args))),
        task_kwargs=json.dumps(repr(kwargs or {})),
    )
    TaskResult.objects.filter(task_id=task_id).update(date_done=timezone.now() - timedelta(hours=hours))


def test_a_stranded_row_is_queued_again_under_its_own_id_with_the_reason(api, settings):
    settings.TASK_REQUEUE_MAX = 2
    _stranded("lost-1", kwargs={"twice": True}, status=states.STARTED)
    assert task_reconcile() == {"requeued": 1, "failed": 0}
    assert queued_task_ids() == ["lost-1"]
    body = api.get("/api/tasks/lost-1/").json()
    assert body["status"] == "PENDING"
    assert "stranded STARTED" in body["detail"] and "queued again (1/2)" in body["detail"]
    assert task_reconcile() == {"requeued": 0, "failed": 0}  # its message is on the broker now


def test_rows_with_a_live_message_or_recent_are_left_alone():
    live = task_enqueue(reconciled, "y")
    TaskResult.objects.filter(task_id=live.task_id).update(date_done=timezone.now() - timedelta(hours=1))
    _stranded("recent", hours=0)
    assert task_reconcile() == {"requeued": 0, "failed": 0}
    assert TaskResult.objects.get(task_id="recent").status == states.PENDING


def test_after_the_requeue_budget_the_row_fails_with_the_reason(api, settings):
    settings.TASK_REQUEUE_MAX = 1
    _stranded("lost-2")
    assert task_reconcile()["requeued"] == 1
    purge_queue()  # lost again
    TaskResult.objects.filter(task_id="lost-2").update(date_done=timezone.now() - timedelta(hours=1))
    assert task_reconcile() == {"requeued": 0, "failed": 1}
    body = api.get("/api/tasks/lost-2/").json()
    assert body["status"] == "FAILURE"
    assert body["error"].startswith("Stranded: ") and "queued again 1 times already" in body["error"]


@pytest.mark.parametrize("name, args", [("tests.no_such_task", ("x",)), ("tests.reconciled", "not a tuple(")])
def test_a_row_that_cannot_be_queued_again_fails_at_once(name, args):
    TaskResult.objects.create(
        task_id="odd",
        task_name=name,
        status=states.PENDING,
        task_args=json.dumps(args if isinstance(args, str) else repr(args)),
    )
    TaskResult.objects.filter(task_id="odd").update(date_done=timezone.now() - timedelta(hours=1))
    assert task_reconcile() == {"requeued": 0, "failed": 1}
    assert "cannot be queued again" in TaskResult.objects.get(task_id="odd").result
