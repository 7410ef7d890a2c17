"""Every error under /api/ has one JSON shape: type, code, message, field, errors."""

import json

import pytest
from django.test import override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.urls("config.tests.error_urls")]
TOKEN = "/api/auth/token/"


def assert_shape(response, status, *, code=None, field=None, kind=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert {"type", "code", "message", "field", "errors"} <= body.keys()
    assert body["message"]
    if code:
        assert body["code"] == code
    if field:
        assert body["field"] == field
    if kind:
        assert body["type"] == kind
    return body


def test_400_names_the_field(client_anon):
    body = assert_shape(client_anon.post(TOKEN, {"username": "x"}), 400, kind="validation_error", field="password")
    assert body["errors"][0] == {"field": "password", "code": "required", "message": "This field is required."}


def test_400_malformed_json(client_anon):
    response = client_anon.post(TOKEN, data="{not json", content_type="application/json")
    assert_shape(response, 400, code="parse_error")


def test_401(client_anon):
    assert_shape(client_anon.get("/api/auth/me/"), 401, code="not_authenticated", kind="client_error")


def test_403(read_only_api):
    assert_shape(read_only_api.post("/api/auth/me/"), 403, code="read_only_key")


def test_404_unknown_api_path(api):
    assert_shape(api.get("/api/no-such-thing/"), 404, code="not_found")


def test_405(client_anon):
    assert_shape(client_anon.get(TOKEN), 405, code="method_not_allowed")


def test_409_carries_field_and_existing_url(api):
    body = assert_shape(api.post("/api/test/conflict/"), 409, code="conflict", field="cnpj")
    assert body["existing_url"] == "/api/things/1/"


@override_settings(MAX_REQUEST_BODY_BYTES=1000)
def test_413(client_anon):
    payload = json.dumps({"username": "x" * 2000, "password": "y"})
    assert_shape(client_anon.post(TOKEN, data=payload, content_type="application/json"), 413, code="request_too_large")


def test_415(client_anon):
    response = client_anon.post(TOKEN, data="<xml/>", content_type="application/xml")
    assert_shape(response, 415, code="unsupported_media_type")


def test_429_has_retry_after(api):
    response = api.get("/api/test/throttled/")
    assert_shape(response, 429, code="throttled")
    assert response["Retry-After"] == "42"


def test_500_is_json_and_hides_internals(api):
    body = assert_shape(api.get("/api/test/crash/"), 500, code="server_error", kind="server_error")
    assert "boom" not in json.dumps(body)


def test_503_when_a_backing_service_is_down(api):
    response = api.get("/api/test/db-down/")
    body = assert_shape(response, 503, code="service_unavailable", kind="server_error")
    assert body["service"] == "database"
    assert int(response["Retry-After"]) > 0

