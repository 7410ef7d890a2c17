"""core.views.SharedComponentsMixin: one set of stateless DRF components per view class; and
what every view answers alike (an unsupported format, HEAD on health)."""

import re

import pytest

from companies.views import CompanyViewSet


def test_parsers_authenticators_and_renderers_are_built_once_and_shared():
    first, second = CompanyViewSet(), CompanyViewSet()
    for getter in ("get_parsers", "get_authenticators", "get_renderers"):
        a, b = getattr(first, getter)(), getattr(second, getter)()
        assert a and [type(x) for x in a] == [type(x) for x in b]
        assert all(x is y for x, y in zip(a, b, strict=True))
    # Throttles remember per-request state: still one per request.
    assert all(x is not y for x, y in zip(first.get_throttles(), second.get_throttles(), strict=True))


def test_a_different_class_list_gets_its_own_objects():
    class JSONOnly(CompanyViewSet):
        parser_classes = CompanyViewSet.parser_classes[:1]

    assert [type(p) for p in JSONOnly().get_parsers()] == [type(CompanyViewSet().get_parsers()[0])]


def test_content_negotiation_answers_as_drf_does():
    from rest_framework.negotiation import DefaultContentNegotiation
    from rest_framework.renderers import JSONRenderer
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from core.views import ContentNegotiation

    factory = APIRequestFactory()
    renderers = [JSONRenderer()]
    for headers, query in [
        ({}, ""),
        ({"HTTP_ACCEPT": "*/*"}, ""),
        ({"HTTP_ACCEPT": ""}, ""),
        ({"HTTP_ACCEPT": "text/html"}, ""),
        ({"HTTP_ACCEPT": "application/json"}, ""),
        ({}, "?format=json"),
        ({}, "?format=xml"),
    ]:
        outcomes = []
        for negotiation in (ContentNegotiation(), DefaultContentNegotiation()):
            request = Request(factory.get(f"/x/{query}", **headers))
            try:
                renderer, media_type = negotiation.select_renderer(request, renderers)
                outcomes.append((type(renderer), media_type))
            except Exception as exc:  # the same refusal from both
                outcomes.append(type(exc))
        assert outcomes[0] == outcomes[1], (headers, query, outcomes)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/api/companies/?format=xml", "/api/tasks/abc/?format=xml", "/api/enrichment/?format=xml"]
)
def test_an_unsupported_format_is_404_in_the_error_shape(api, url):
    response = api.get(url)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found" and response.json()["type"] == "client_error"


def test_health_answers_head(client):
    assert client.head("/health/live").status_code == 200


@pytest.mark.django_db
def test_a_request_that_runs_a_task_in_process_keeps_the_clients_request_id(
    api, settings, django_capture_on_commit_callbacks
):
    from config.celery import app

    settings.CNPJ_PROVIDERS = ["brasilapi"]
    settings.BRASILAPI_URL = "http://127.0.0.1:1/"  # nothing listens: the lookup fails at once
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(
                "/api/companies/", {"cnpj": "11222333000181"}, format="json", HTTP_X_REQUEST_ID="req-kept-1"
            )
    finally:
        app.conf.task_always_eager = False
    assert response.status_code == 201
    from django_celery_results.models import TaskResult

    task_id = response.json()["enrichment"]["task_id"]
    assert TaskResult.objects.get(task_id=task_id).status == "SUCCESS"  # the lookup ran in this request
    assert response["X-Request-ID"] == "req-kept-1"


@pytest.mark.django_db
def test_json_nested_too_deeply_is_a_400_not_a_500(client_anon, api):
    deep = "[" * 3000 + "]" * 3000
    for client, url in ((client_anon, "/api/auth/token/"), (api, "/api/companies/")):
        response = client.post(url, deep, content_type="application/json")
        assert response.status_code == 400 and response.json()["code"] == "parse_error", url


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/companies/11222333000182/", "/api/nope/", "/api/companies/1234/history/"])
def test_no_route_under_api_is_a_json_404_even_with_debug_on(api, settings, url):
    settings.DEBUG = True  # the development server's technical 404 page is HTML
    response = api.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


def test_a_csrf_refusal_on_health_is_json(client):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/health/live")
    assert response.status_code in (403, 405) and response["Content-Type"].startswith("application/json")


@pytest.mark.django_db
@pytest.mark.parametrize("given, kept", [("req-1.a_B", True), ("x" * 128, True), ("x" * 129, False),
                                         ("has space", False), ("ünïcode", False), ("a\\nb", False)])
def test_a_clients_request_id_is_used_only_when_short_and_plain(api, given, kept):
    response = api.get("/api/auth/me/", HTTP_X_REQUEST_ID=given)
    assert (response["X-Request-ID"] == given) is kept
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,128}", response["X-Request-ID"])


SURROGATE_BODIES = [
    ("/api/companies/", '{"cnpj": "11222333000181", "legal_name": "a\\ud800b"}', "legal_name", "surrogate"),
    ("/api/companies/", '{"cnpj": "11222333000181", "partners": [{"name": "\\udfff"}]}', "partners.0.name",
     "surrogate"),
    ("/api/companies/", '{"cnpj": "11222333000181", "\\ud800": 1}', None, "surrogate"),  # a key: no field
    ("/api/books/", '{"title": "a\\u0000b", "authors": ["A"], "isbn": "9780306406157"}', "title", "null"),
    ("/api/books/", '{"title": "T", "authors": ["x\\u0000y"], "isbn": "9780306406157"}', "authors.0", "null"),
]


@pytest.mark.django_db(databases=["default", "mongo"])
@pytest.mark.parametrize(("url", "body", "field", "kind"), SURROGATE_BODIES)
def test_text_no_database_can_store_is_a_400_naming_where_it_is(api, url, body, field, kind):
    from books.models import Book
    from companies.models import Company

    response = api.post(url, data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["field"] == field and f"{kind}_characters_not_allowed" in response.content.decode()
    assert not Company.objects.exists() and not Book.objects.exists()  # nothing stored
    assert api.get("/api/companies/").status_code == 200


@pytest.mark.django_db
def test_a_json_number_with_cents_reaches_a_decimal_field_exactly(api):
    response = api.post(
        "/api/companies/", {"cnpj": "11222333000181", "share_capital": 1234.56, "enrich": False}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["share_capital"] == "1234.56"
    assert api.patch("/api/companies/11222333000181/", data='{"share_capital": 0.01}',
                     content_type="application/json").json()["share_capital"] == "0.01"
