import pytest
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.db import OperationalError

from access.actor import current_actor
from config.celery import app as celery_app
from integrations.errors import BadResponse, NotFound, RateLimited, Rejected, Unavailable
from tasks.base import BaseTask, backoff_seconds, retry_countdown
from tasks.testing import purge_queue

pytestmark = pytest.mark.django_db


@celery_app.task(base=BaseTask, bind=True, name="tests.whoami")
def whoami(self):
    return current_actor()


@celery_app.task(base=BaseTask, bind=True, name="tests.fail_with")
def fail_with(self, kind):
    errors = {
        "unavailable": Unavailable("upstream down"),
        "rate_limited": RateLimited("slow down", retry_after=30),
        "rejected": Rejected("bad token"),
        "database": OperationalError("connection refused"),
        "value": ValueError("a bug"),
    }
    raise errors[kind]


@pytest.fixture(autouse=True)
def empty_queue():
    yield
    purge_queue()  # retries published by these tests must not reach a later worker


def _run_as_worker(task, *args, retries=0):
    """Call the task the way a worker does: with a (non-eager) request on its stack."""
    task.push_request(
        id=f"test-{task.name}-{retries}", retries=retries, is_eager=False, called_directly=False, args=args, kwargs={}
    )
    try:
        return task(*args)
    finally:
        task.pop_request()


def test_task_body_runs_as_the_task_actor():
    assert whoami.apply().get() == "task:tests.whoami"
    assert _run_as_worker(whoami) == "task:tests.whoami"
    assert whoami() == "task:tests.whoami"  # called directly
    assert current_actor() is None


@pytest.mark.parametrize("kind", ["unavailable", "database"])
def test_transient_errors_retry_with_backoff(settings, kind):
    settings.TASK_RETRY_BACKOFF_SECONDS = 10
    with pytest.raises(Retry) as caught:
        _run_as_worker(fail_with, kind, retries=2)
    assert 20 <= caught.value.when <= 40  # 10 * 2**2, half fixed and half jitter


def test_rate_limit_retries_after_its_retry_after():
    with pytest.raises(Retry) as caught:
        _run_as_worker(fail_with, "rate_limited")
    assert 30 <= caught.value.when <= 35


@pytest.mark.parametrize(("kind", "error"), [("rejected", Rejected), ("value", ValueError)])
def test_permanent_errors_do_not_retry(kind, error):
    with pytest.raises(error):
        _run_as_worker(fail_with, kind)


def test_after_the_last_retry_the_error_is_final(settings):
    settings.TASK_MAX_RETRIES = 3
    with pytest.raises(Unavailable):
        _run_as_worker(fail_with, "unavailable", retries=3)
    assert not fail_with.will_retry(Unavailable("x"))  # no request: called directly


def test_eager_runs_do_not_retry():
    result = fail_with.apply(args=("unavailable",))
    assert result.failed()
    assert isinstance(result.result, Unavailable)


def test_backoff_grows_exponentially_and_is_capped(settings):
    settings.TASK_RETRY_BACKOFF_SECONDS = 2
    settings.TASK_RETRY_BACKOFF_MAX_SECONDS = 60
    for retries, (low, high) in enumerate([(1, 2), (2, 4), (4, 8), (8, 16), (16, 32), (30, 60), (30, 60)]):
        delays = {backoff_seconds(retries) for _ in range(20)}
        assert all(low <= d <= high for d in delays)
        assert len(delays) > 1  # jitter


def test_retry_countdown_classifies_errors():
    assert retry_countdown(NotFound("x"), 0) is None
    assert retry_countdown(BadResponse("x"), 0) is None
    assert retry_countdown(SoftTimeLimitExceeded(), 0) is not None
    assert retry_countdown(RateLimited("x", retry_after=None), 0) >= 60


def test_the_retry_budget_is_task_max_retries_not_celerys_default(settings, caplog):
    settings.TASK_MAX_RETRIES = 5
    assert fail_with.max_retries is None  # Celery's own default (3) would have won
    for retries in range(5):
        with pytest.raises(Retry):
            _run_as_worker(fail_with, "unavailable", retries=retries)
    with caplog.at_level("WARNING"), pytest.raises(Unavailable):
        _run_as_worker(fail_with, "unavailable", retries=5)
    assert "tests.fail_with[test-tests.fail_with-5] given up after 6 tries: Unavailable" in caplog.text


def test_no_countdown_outlasts_half_the_visibility_timeout(settings):
    settings.TASK_MAX_COUNTDOWN_SECONDS = 30
    settings.TASK_RETRY_BACKOFF_SECONDS = 100
    assert retry_countdown(RateLimited("slow down", retry_after=600), 0) == 30
    assert retry_countdown(Unavailable("down"), 6) == 30
    with pytest.raises(Retry) as caught:
        _run_as_worker(fail_with, "rate_limited", retries=0)
    assert caught.value.when <= 30
