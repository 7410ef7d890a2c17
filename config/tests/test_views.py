"""config.views.SharedComponentsMixin: one set of stateless DRF components per view class."""

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
