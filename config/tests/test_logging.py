"""Logs: JSON lines (or plain lines) with the request id and, inside Celery tasks, the task id, and no
API key, token or password ever written."""

import copy
import io
import json
import logging
import logging.config
import re
import uuid

import pytest
from celery.app.trace import build_tracer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django_guid import clear_guid, get_guid, set_guid
from rest_framework.test import APIClient

from config.celery import app
from core.logging import redact

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Sup3r-Secret-Passw0rd!"
task_logger = logging.getLogger("config.tests.task")


@app.task(name="config.tests.logged_task")
def logged_task(message="inside the task"):
    task_logger.info(message)


@app.task(name="config.tests.task_running_another")
def task_running_another():
    task_logger.info("outer, before")
    inner = logged_task.apply(kwargs={"message": "inner"})
    task_logger.info("outer, after")
    return inner.id


def run_task_view(request):
    result = logged_task.apply(kwargs={"message": "task in a request"})
    task_logger.info("view, after the task")
    return JsonResponse({"task_id": result.id})


urlpatterns = [path("run-task/", run_task_view)]  # for @pytest.mark.urls(__name__)


@pytest.fixture(autouse=True)
def no_request_id_left_over():
    clear_guid()
    yield
    clear_guid()


def capture(log_format: str) -> tuple[logging.Handler, io.StringIO]:
    """The console handler of settings.LOGGING, built by dictConfig with its filters and the given
    formatter, writing to a StringIO."""
    stream = io.StringIO()
    config = copy.deepcopy(settings.LOGGING)
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": config["filters"],
            "formatters": config["formatters"],
            "handlers": {"capture": {**config["handlers"]["console"], "formatter": log_format, "stream": stream}},
            "loggers": {"config.tests.capture": {"handlers": ["capture"], "propagate": False}},
        }
    )
    holder = logging.getLogger("config.tests.capture")
    (handler,) = holder.handlers
    holder.removeHandler(handler)
    return handler, stream


@pytest.fixture
def log_output():
    """Attach the handler for one format ("json" or "plain") to the root logger at DEBUG."""
    attached = []
    root = logging.getLogger()
    old_level = root.level

    def attach(log_format: str) -> io.StringIO:
        handler, stream = capture(log_format)
        root.addHandler(handler)
        attached.append(handler)
        root.setLevel(logging.DEBUG)
        return stream

    yield attach
    for handler in attached:
        root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture
def json_log(log_output):
    """Everything logged at DEBUG and above, formatted exactly as PRODUCTION formats it."""
    stream = log_output("json")
    logging.getLogger("django.db.backends").setLevel(logging.DEBUG)
    connection.force_debug_cursor = True  # log every SQL statement with its parameters
    try:
        yield stream
    finally:
        connection.force_debug_cursor = False
        logging.getLogger("django.db.backends").setLevel(logging.INFO)


def json_records(stream: io.StringIO, logger: str = "config.tests.task") -> dict[str, dict]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return {line["message"]: line for line in lines if line["logger"] == logger}


PLAIN_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) \[(?P<request_id>[^\]]+)\] "
    r"\[task (?P<task_id>[^\]]+)\] (?P<logger>\S+) (?P<message>.*)$"
)


def plain_records(stream: io.StringIO, logger: str = "config.tests.task") -> dict[str, dict]:
    matches = [PLAIN_LINE.match(line) for line in stream.getvalue().splitlines()]
    assert all(matches), stream.getvalue()
    return {m["message"]: m.groupdict() for m in matches if m["logger"] == logger}


def test_request_id_is_accepted_returned_and_logged(api, json_log):
    response = api.get("/api/auth/me/", HTTP_X_REQUEST_ID="req-abc-123")
    assert response["X-Request-ID"] == "req-abc-123"
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "api.access"]
    assert access and access[-1]["request_id"] == "req-abc-123"
    assert access[-1]["task_id"] is None  # not in a task
    assert access[-1]["message"].startswith("GET /api/auth/me/ 200")
    assert {"time", "level", "logger", "message", "request_id", "task_id"} <= set(access[-1])


def test_plain_lines_show_request_id_and_a_dash_for_no_task(api, log_output):
    stream = log_output("plain")
    api.get("/api/auth/me/", HTTP_X_REQUEST_ID="req-plain-1")
    access = plain_records(stream, "api.access")
    (line,) = access.values()
    assert line["request_id"] == "req-plain-1"
    assert line["task_id"] == "-"
    assert line["message"].startswith("GET /api/auth/me/ 200")


def test_plain_lines_outside_requests_and_tasks_use_dashes(log_output):
    stream = log_output("plain")
    task_logger.info("neither")
    assert plain_records(stream)["neither"] == {
        "level": "INFO",
        "request_id": "-",
        "task_id": "-",
        "logger": "config.tests.task",
        "message": "neither",
    }


def test_request_id_is_generated_when_absent(api):
    assert len(api.get("/api/auth/me/")["X-Request-ID"]) >= 32


@pytest.mark.parametrize("log_format", ["json", "plain"])
def test_records_inside_a_task_carry_its_celery_task_id(log_format, log_output):
    stream = log_output(log_format)
    set_guid("req-before-task")  # as the request that runs the task would have
    task_logger.info("before the task")
    result = logged_task.apply()
    task_logger.info("after the task")

    records = (json_records if log_format == "json" else plain_records)(stream)
    no_task = None if log_format == "json" else "-"
    assert records["inside the task"]["task_id"] == result.id
    assert records["inside the task"]["request_id"] == "req-before-task"
    for outside in ("before the task", "after the task"):
        assert records[outside]["task_id"] == no_task
        assert records[outside]["request_id"] == "req-before-task"  # given back after the task
    assert get_guid() == "req-before-task"


def test_celery_own_task_lines_carry_the_task_id(json_log):
    result = logged_task.apply()
    trace = [line for line in map(json.loads, json_log.getvalue().splitlines()) if line["logger"] == "celery.app.trace"]
    assert trace and all(line["task_id"] == result.id for line in trace)


def test_task_from_the_broker_takes_the_request_id_from_its_message_headers(log_output):
    """As a worker runs it: the request carries django-guid's header, and the id is cleared after."""
    stream = log_output("json")
    task_id = str(uuid.uuid4())
    tracer = build_tracer(logged_task.name, logged_task, app=app, eager=True, propagate=True)
    tracer(task_id, (), {}, {"id": task_id, "task": logged_task.name, "X-Request-ID": "req-enqueuer"})

    record = json_records(stream)["inside the task"]
    assert (record["task_id"], record["request_id"]) == (task_id, "req-enqueuer")
    assert get_guid() is None


def test_a_task_without_request_gets_a_generated_request_id(log_output):
    stream = log_output("json")
    result = logged_task.apply()
    record = json_records(stream)["inside the task"]
    assert record["task_id"] == result.id
    assert len(record["request_id"]) == 32
    assert get_guid() is None


def test_a_task_run_by_a_task_logs_its_own_id_then_the_outer_again(log_output):
    stream = log_output("json")
    outer = task_running_another.apply()
    records = json_records(stream)
    assert records["outer, before"]["task_id"] == outer.id
    assert records["inner"]["task_id"] == outer.result != outer.id
    assert records["outer, after"]["task_id"] == outer.id
    assert len({record["request_id"] for record in records.values()}) == 1


@pytest.mark.urls(__name__)
def test_a_task_run_eagerly_in_a_request_logs_the_request_id_and_keeps_it(log_output):
    stream = log_output("json")
    response = APIClient().get("/run-task/", HTTP_X_REQUEST_ID="req-eager-1")
    assert response["X-Request-ID"] == "req-eager-1"

    records = json_records(stream)
    inside = records["task in a request"]
    assert (inside["task_id"], inside["request_id"]) == (response.json()["task_id"], "req-eager-1")
    assert records["view, after the task"]["task_id"] is None
    assert records["view, after the task"]["request_id"] == "req-eager-1"
    (access,) = json_records(stream, "api.access").values()
    assert (access["request_id"], access["task_id"]) == ("req-eager-1", None)


def test_secrets_never_reach_the_logs(api_key, make_user, json_log):
    make_user(username="grace", password=PASSWORD)
    client = APIClient()
    tokens = client.post("/api/auth/token/", {"username": "grace", "password": PASSWORD}).json()
    client.post("/api/auth/token/", {"username": "grace", "password": PASSWORD + "-wrong"})
    rotated = client.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}).json()
    client.post("/api/auth/logout/", {"refresh": rotated["refresh"]})
    client.credentials(HTTP_X_API_KEY=api_key)
    client.get("/api/auth/me/?api_key=" + api_key)
    client.credentials(HTTP_AUTHORIZATION="Bearer " + tokens["access"])
    client.get("/api/auth/me/")
    logging.getLogger("audit").warning("login by grace with password=%s and key %s", PASSWORD, api_key)
    logged_task.apply(kwargs={"message": f"task saw token={tokens['access']}"})

    output = json_log.getvalue()
    assert "INSERT" in output  # SQL, including the stored refresh tokens, was logged ...
    for secret in (api_key, PASSWORD, tokens["access"], tokens["refresh"], rotated["refresh"]):
        assert secret not in output  # ... but never a secret
    assert "[REDACTED]" in output
    for line in output.splitlines():
        json.loads(line)  # every line is one JSON document


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abc.def.ghi",
        '{"password": "hunter2"}',
        "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "key AbCdEfGh.0123456789abcdefghijABCDEFGHIJ01 used",
    ],
)
def test_redact_patterns(text):
    cleaned = redact(text)
    assert "[REDACTED]" in cleaned
    assert not any(secret in cleaned for secret in ("abc.def.ghi", "hunter2", "c2lnbmF0dXJl", "0123456789abcdefghij"))


def test_a_backing_service_outage_is_one_warning_line_without_traceback(log_output):
    from django.db import OperationalError

    stream = log_output("plain")
    beat_like = logging.getLogger("config.tests.task")
    try:
        try:
            raise ConnectionRefusedError("refused")
        except ConnectionRefusedError as cause:
            raise OperationalError("connection failed: connection refused\n\tIs the server running?") from cause
    except OperationalError:
        beat_like.error("Database gave error: %s", "sync", exc_info=True)
    try:
        raise ValueError("a bug")
    except ValueError:
        beat_like.error("something else broke", exc_info=True)
    text = stream.getvalue()
    assert "Traceback" in text and text.count("Traceback") == 1  # the bug keeps its traceback
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        beat_like.critical("Unrecoverable error", exc_info=True)
    assert "CRITICAL" in stream.getvalue() and stream.getvalue().count("Traceback") == 2  # a crash stays one
    outage = plain_records(io.StringIO(text.split("\n", 1)[0] + "\n"))
    ((message, record),) = outage.items()
    assert record["level"] == "WARNING"
    assert message == "Database gave error: sync [OperationalError: connection failed: connection refused]"
