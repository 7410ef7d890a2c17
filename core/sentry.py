"""Error reports to Sentry, when SENTRY_DSN is set: Django and Celery errors, with no personal
data (send_default_pii off) and the project's secrets scrubbed from every event."""

from __future__ import annotations

SECRET_FIELDS = [
    "x-api-key", "x_api_key", "http_x_api_key", "api_key", "apikey", "authorization", "http_authorization",
    "password", "passwd", "secret", "secret_key", "token", "access", "refresh", "jwt", "jwt_signing_key",
    "pipefy_token", "receitaws_token", "cookie", "sessionid", "csrftoken", "metrics_token",
]


def _scrub_query_string(event, hint):
    """Query strings may carry secrets (`?api_key=`, `?password=`): their secret values go."""
    from urllib.parse import parse_qsl, urlencode

    request = event.get("request") or {}
    query = request.get("query_string")
    if isinstance(query, str) and query:
        pairs = parse_qsl(query, keep_blank_values=True)
        request["query_string"] = urlencode(
            [(key, "[Filtered]" if key.lower() in SECRET_FIELDS else value) for key, value in pairs]
        )
    return event


def sentry_setup(*, dsn: str, environment: str, traces_sample_rate: float = 0.0) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=dsn,
        environment=environment.lower(),
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        event_scrubber=EventScrubber(denylist=sorted({*DEFAULT_DENYLIST, *SECRET_FIELDS}), recursive=True),
        max_request_body_size="never",
        # Frame locals hold passwords, tokens and request objects: not sent.
        include_local_variables=False,
        before_send=_scrub_query_string,
    )
