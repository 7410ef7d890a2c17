"""The API contract, walked over every operation in the schema: crafted input (a tampered cursor,
an unknown query parameter, an unknown body field, wrong types in nested lists) is a 4xx in the
error shape, never a 5xx, for companies and books alike."""

import pytest
import yaml
from django.test import override_settings
from drf_spectacular.settings import spectacular_settings
from rest_framework.test import APIClient

from books.models import Book
from companies.tests.factories import CompanyFactory
from integrations import testing as integration_fixtures
from tasks.testing import purge_queue

pytestmark = pytest.mark.django_db(databases=["default", "mongo"])

# The fake upstreams (the registry lookup answers from them), as fixtures of this module.
clean_integrations = integration_fixtures.clean_integrations
fake = integration_fixtures.fake
fake_settings = integration_fixtures.fake_settings

ERROR_KEYS = {"type", "code", "message", "field", "errors"}
CRAFTED_BODY = {
    "zzz_unknown": 1,
    "partners": [{"name": 5, "x": 1}],
    "secondary_activities": [{"code": ["6201501"]}],
    "authors": [1, {"a": 1}],
    "tags": [{"t": 1}],
}


def operations():
    schema = spectacular_settings.DEFAULT_GENERATOR_CLASS().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _fill(path: str, company, book) -> str:
    return path.replace("{cnpj}", company.cnpj).replace("{id}", str(book.pk)).replace("{task_id}", "no-such-task")


def _check(response, what):
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:300]!r}"
    if response.status_code >= 400 and response.content:
        body = response.json()
        assert set(body) >= ERROR_KEYS, f"{what}: not the error shape: {body}"
        assert all(error["field"] == body["field"] for error in body["errors"][:1]) or body["field"] is None, what


@override_settings(API_THROTTLE_RATES={"api_key": "100000/minute", "user": "100000/minute", "anon": "100000/minute",
                                       "login_address": "100000/minute", "login_username": "100000/minute"})
def test_every_operation_answers_crafted_input_with_a_4xx_in_the_error_shape(api_key, fake_settings):
    fake_settings.PIPEFY_TOKEN, fake_settings.PIPEFY_PIPE_ID = "", ""  # the push answers 409, queues nothing
    company = CompanyFactory()
    book = Book.objects.create(title="Contrato", authors=["Ana"], isbn="9788535914849")
    client = APIClient(HTTP_X_API_KEY=api_key)
    walked = 0
    for path, method, operation in operations():
        url = _fill(path, company, book)
        names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
        what = f"{method.upper()} {path}"
        if "cursor" in names:
            for cursor in ("tampered", "eyJvIjoiY25waiIsInYiOnRydWUsImsiOjEsImIiOmZhbHNlfQ", "a:b:c"):
                response = getattr(client, method)(url, {"cursor": cursor})
                _check(response, f"{what} cursor={cursor}")
                assert response.status_code == 400 and response.json()["field"] == "cursor", what
        if method == "get" and names and "cursor" in names:  # the lists: an unknown parameter is refused
            response = client.get(url, {"zzz_unknown": "1"})
            _check(response, f"{what} ?zzz_unknown")
            assert response.status_code == 400 and response.json()["field"] == "zzz_unknown", what
        if "requestBody" in operation and "application/json" in operation["requestBody"].get("content", {}):
            response = getattr(client, method)(url, CRAFTED_BODY, format="json")
            _check(response, f"{what} crafted body")
            if path != "/api/auth/logout/":  # the body is refused: nothing is written
                assert 400 <= response.status_code < 500, f"{what}: {response.status_code}"
        response = getattr(client, method)(url)
        _check(response, f"{what} plain")
        walked += 1
    purge_queue()  # the plain POSTs queued work no worker will run
    assert walked >= 20  # every operation of the schema was walked


def test_the_schema_is_loadable_yaml(client):
    assert yaml.safe_load(client.get("/api/schema/").content)["paths"]
