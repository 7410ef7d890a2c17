"""config.views.SharedComponentsMixin: one set of stateless DRF components per view class; and
what every view answers alike (an unsupported format, HEAD on health)."""

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

    from config.views import ContentNegotiation

    factory = APIRequestFactory()
    renderers = [JSONRenderer()]
    for headers, query in [({}, ""), ({"HTTP_ACCEPT": "*/*"}, ""), ({"HTTP_ACCEPT": ""}, ""),
                           ({"HTTP_ACCEPT": "text/html"}, ""), ({"HTTP_ACCEPT": "application/json"}, ""),
                           ({}, "?format=json"), ({}, "?format=xml")]:
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
