"""Logs: JSON lines with request id, and no API key, token or password ever written."""

import io
import json
import logging

import pytest
from django.conf import settings
from django.db import connection
from django_guid.integrations.celery.log_filters import CeleryTracing
from django_guid.log_filters import CorrelationId
from pythonjsonlogger.json import JsonFormatter
from rest_framework.test import APIClient

from config.logging import RedactSecrets, redact

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Sup3r-Secret-Passw0rd!"


@pytest.fixture
def json_log():
    """Everything logged at DEBUG and above, formatted exactly as PRODUCTION formats it."""
    spec = settings.LOGGING["formatters"]["json"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(spec["fmt"], rename_fields=spec["rename_fields"]))
    for log_filter in (CorrelationId(), CeleryTracing(), RedactSecrets()):
        handler.addFilter(log_filter)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("django.db.backends").setLevel(logging.DEBUG)
    connection.force_debug_cursor = True  # log every SQL statement with its parameters
    try:
        yield stream
    finally:
        connection.force_debug_cursor = False
        logging.getLogger("django.db.backends").setLevel(logging.INFO)
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_request_id_is_accepted_returned_and_logged(api, json_log):
    response = api.get("/api/auth/me/", HTTP_X_REQUEST_ID="req-abc-123")
    assert response["X-Request-ID"] == "req-abc-123"
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "api.access"]
    assert access and access[-1]["request_id"] == "req-abc-123"
    assert access[-1]["message"].startswith("GET /api/auth/me/ 200")


def test_request_id_is_generated_when_absent(api):
    assert len(api.get("/api/auth/me/")["X-Request-ID"]) >= 32


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
        'Authorization: Bearer abc.def.ghi',
        '{"password": "hunter2"}',
        "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "key AbCdEfGh.0123456789abcdefghijABCDEFGHIJ01 used",
    ],
)
def test_redact_patterns(text):
    cleaned = redact(text)
    assert "[REDACTED]" in cleaned
    assert not any(secret in cleaned for secret in ("abc.def.ghi", "hunter2", "c2lnbmF0dXJl", "0123456789abcdefghij"))
