"""BaseTask.report_progress: a running task's count, in its state and in the task status API."""

import pytest
from django_celery_results.models import TaskResult

from config.celery import app as celery_app
from tasks.base import BaseTask
from tasks.services import UNFINISHED

pytestmark = pytest.mark.django_db


@celery_app.task(base=BaseTask, bind=True, name="tests.count_rows")
def count_rows(self, total):
    seen = []
    for done in range(1, total + 1):
        self.report_progress(done, total, force=done == 2)  # the first call records; later ones wait
        row = TaskResult.objects.get(task_id=self.request.id)
        seen.append([row.status, row.result])
    return seen


def test_progress_is_recorded_at_most_every_half_second_unless_forced(api):
    TaskResult.objects.create(task_id="count-1", task_name="tests.count_rows", status="PENDING")
    seen = count_rows.apply(args=(3,), task_id="count-1").get()
    assert seen[0] == ["PROGRESS", '{"done": 1, "total": 3}']
    assert seen[1] == ["PROGRESS", '{"done": 2, "total": 3}']  # forced
    assert seen[2] == seen[1]  # too soon after the last one: not written
    assert "PROGRESS" in UNFINISHED  # a stranded import is found by the reconciler too
    body = api.get("/api/tasks/count-1/").json()
    assert body["status"] == "SUCCESS" and body["progress"] is None


def test_called_as_a_plain_function_it_records_nothing():
    count_rows.report_progress(1, 2)  # no task id: nothing to record, no error
    assert not TaskResult.objects.exists()
