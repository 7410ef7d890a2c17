"""Project-wide DRF view plumbing."""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation

_shared: dict[tuple[type, ...], tuple] = {}


def _instances(classes) -> list:
    key = tuple(classes)
    instances = _shared.get(key)
    if instances is None:
        instances = _shared[key] = tuple(component() for component in key)
    return list(instances)


# One set of parser, authenticator and renderer objects per view class, not per request.
#
# DRF builds a new object of each of these classes for every request (the three parsers alone
# were ~3% of a cached company answer). Ours, and DRF's and simplejwt's that we use, keep no
# state between calls, so the same objects can serve every request and thread. Throttles and
# permissions do keep per-request state (throttles remember their key and window), so they
# are still built per request.
#
# (A comment, not a docstring: the API schema uses a view's inherited docstring as its text.)
class SharedComponentsMixin:
    def get_parsers(self):
        return _instances(self.parser_classes)

    def get_authenticators(self):
        return _instances(self.authentication_classes)

    def get_renderers(self):
        return _instances(self.renderer_classes)


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, answering at once the most common case: no format asked for and an
    `Accept` header that is absent or `*/*` (what DRF would conclude too: the first renderer,
    with its own media type). Anything else goes through DRF's full parsing of the header."""

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if accept == "*/*" and not format_suffix and self.settings.URL_FORMAT_OVERRIDE not in request.GET:
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
