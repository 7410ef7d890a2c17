import json

import pytest
from celery import states
from django_celery_results.models import TaskResult

from config.celery import app as celery_app
from core.exceptions import ServiceUnavailable
from tasks.base import BaseTask
from tasks.services import task_enqueue, task_enqueue_on_commit
from tasks.testing import broker_unreachable, purge_queue, queued_task_ids


@celery_app.task(base=BaseTask, name="tests.add")
def add(a, b):
    return {"sum": a + b}


@celery_app.task(base=BaseTask, name="tests.explode")
def explode():
    raise ValueError("the input was wrong")


@pytest.fixture(autouse=True)
def empty_queue():
    purge_queue()
    yield
    purge_queue()


def test_enqueued_task_is_pending_at_once_and_on_the_broker(api):
    enqueued = task_enqueue(add, 1, 2)
    assert enqueued.status == states.PENDING
    assert enqueued.task_id in queued_task_ids()
    response = api.get(f"/api/tasks/{enqueued.task_id}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == enqueued.task_id
    assert body["name"] == "tests.add"
    assert body["status"] == "PENDING"
    assert body["result"] is None
    assert body["error"] == ""
    assert body["created_at"]
    assert body["started_at"] is None
    assert body["finished_at"] is None


def test_finished_task_shows_result_and_timestamps(api):
    enqueued = task_enqueue(add, 2, 3)
    add.apply(args=(2, 3), task_id=enqueued.task_id)  # what a worker would store
    body = api.get(f"/api/tasks/{enqueued.task_id}/").json()
    assert body["status"] == "SUCCESS"
    assert body["result"] == {"sum": 5}
    assert body["finished_at"]


def test_failed_task_shows_the_error_message(api):
    enqueued = task_enqueue(explode)
    explode.apply(task_id=enqueued.task_id)
    body = api.get(f"/api/tasks/{enqueued.task_id}/").json()
    assert body["status"] == "FAILURE"
    assert body["result"] is None
    assert body["error"] == "ValueError: the input was wrong"


@pytest.mark.parametrize("task_id", ["00000000-0000-0000-0000-000000000000", "nul%00byte", "x" * 300, "%F0%9F%98%80"])
def test_unknown_task_is_404_json(api, task_id):
    response = api.get(f"/api/tasks/{task_id}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_task_status_needs_credentials(client_anon, api):
    enqueued = task_enqueue(add, 1, 1)
    assert client_anon.get(f"/api/tasks/{enqueued.task_id}/").status_code in (401, 403)


def test_broker_down_raises_503_and_leaves_nothing_behind(db):
    with broker_unreachable(), pytest.raises(ServiceUnavailable) as caught:
        task_enqueue(add, 1, 2)
    assert caught.value.retry_after
    assert not TaskResult.objects.exists()
    assert task_enqueue(add, 1, 2).status == states.PENDING  # the broker is back


def test_enqueue_on_commit_publishes_after_the_transaction(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueued = task_enqueue_on_commit(add, 4, 5)
    assert TaskResult.objects.get(task_id=enqueued.task_id).status == states.PENDING
    assert enqueued.task_id not in queued_task_ids()
    for callback in callbacks:
        callback()
    assert enqueued.task_id in queued_task_ids()


def test_enqueue_on_commit_refuses_when_the_broker_is_down(db):
    with broker_unreachable(), pytest.raises(ServiceUnavailable):
        task_enqueue_on_commit(add, 4, 5)
    assert not TaskResult.objects.exists()


def test_broker_lost_after_commit_marks_the_task_failed(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueued = task_enqueue_on_commit(add, 4, 5)
    with broker_unreachable():
        for callback in callbacks:
            callback()
    row = TaskResult.objects.get(task_id=enqueued.task_id)
    assert row.status == states.FAILURE
    assert "not queued" in json.loads(row.result)["exc_message"][0]


def test_refresh_schedule_migration_creates_one_enabled_schedule(db):
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    # Transactional tests elsewhere empty the tables, so run the data migration's step here.
    migration = importlib.import_module("tasks.migrations.0001_refresh_stale_companies_schedule")
    PeriodicTask.objects.filter(name=migration.SCHEDULE_NAME).delete()
    migration.create_schedule(apps, None)
    migration.create_schedule(apps, None)
    schedule = PeriodicTask.objects.get(task="companies.refresh_stale")
    assert schedule.enabled
    assert (schedule.crontab.minute, schedule.crontab.hour) == ("0", "3")
    assert schedule.task in celery_app.tasks  # the name the beat sends is a registered task


def test_an_unknown_or_expired_task_says_how_long_results_are_kept(api, settings):
    settings.TASK_RESULT_EXPIRES = 3 * 86400
    response = api.get("/api/tasks/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert "kept for 3 days (TASK_RESULT_EXPIRES)" in response.json()["message"]


def test_results_expire_as_configured_and_the_cleanup_is_scheduled(settings):
    from config.celery import app

    assert app.conf.result_expires.total_seconds() == settings.TASK_RESULT_EXPIRES
    assert settings.CELERY_BEAT_SCHEDULE["flush-expired-tokens"]["task"] == "access.flush_expired_tokens"


@pytest.mark.django_db
def test_flushing_expired_tokens_removes_only_expired_ones(make_user):
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from access.tasks import flush_expired_tokens_task

    user = make_user()
    now = timezone.now()
    OutstandingToken.objects.create(user=user, jti="old", token="x", created_at=now, expires_at=now - timedelta(days=1))
    OutstandingToken.objects.create(user=user, jti="new", token="y", created_at=now, expires_at=now + timedelta(days=1))
    assert flush_expired_tokens_task.apply().get() == {"removed": 1}
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == ["new"]
