"""The one place that builds outbound HTTP clients: explicit timeouts, user agent, error mapping."""

from __future__ import annotations

import email.utils
import functools
import ssl
import time
from contextlib import contextmanager
from contextvars import ContextVar

import certifi
import httpx
from django.conf import settings

from integrations.errors import RateLimited, Skipped, Unavailable

DEFAULT_RETRY_AFTER = 60


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings of every outbound client, built once per process: loading the CA bundle
    cost about 20 ms of CPU, more than the rest of a registry lookup. (What httpx builds for
    `verify=True`, shared.)"""
    return ssl.create_default_context(cafile=certifi.where())


def build_client(
    *,
    headers: dict[str, str] | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
) -> httpx.Client:
    connect = settings.INTEGRATIONS_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
    read = settings.INTEGRATIONS_READ_TIMEOUT if read_timeout is None else read_timeout
    return httpx.Client(
        timeout=httpx.Timeout(connect=connect, read=read, write=read, pool=connect),
        headers={
            "User-Agent": settings.INTEGRATIONS_USER_AGENT,
            "Accept": "application/json",
            **(headers or {}),
        },
        follow_redirects=False,
        verify=tls_context(),
    )


@contextmanager
def transport_errors(provider: str):
    """Turn httpx transport failures into `Unavailable` (with whether the request may have landed)."""
    try:
        yield
    except httpx.ConnectError as exc:
        raise Unavailable(f"{provider}: cannot connect ({exc})", provider=provider) from exc
    except httpx.ConnectTimeout as exc:
        raise Unavailable(f"{provider}: connect timeout", provider=provider) from exc
    except httpx.TimeoutException as exc:
        raise Unavailable(f"{provider}: timed out waiting for the answer", provider=provider) from exc
    except httpx.HTTPError as exc:
        raise Unavailable(f"{provider}: transport error ({exc.__class__.__name__})", provider=provider) from exc


_deadline: ContextVar[float | None] = ContextVar("outbound_deadline", default=None)


@contextmanager
def deadline(seconds: float | None):
    """Outbound calls made inside the block wait at most until `seconds` from now in total: each
    call's connect and read timeouts are cut to the time left (`time_left()`)."""
    if seconds is None:
        yield
        return
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds left before the current `deadline` (None: no deadline)."""
    until = _deadline.get()
    return None if until is None else until - time.monotonic()


def request(client: httpx.Client, method: str, url: str, *, provider: str, **kwargs) -> httpx.Response:
    left = time_left()
    if left is not None:
        if left <= 0:
            raise Skipped(f"{provider}: not asked, the lookup ran out of time", provider=provider, retry_after=5)
        configured = client.timeout
        kwargs.setdefault(
            "timeout",
            httpx.Timeout(
                connect=min(configured.connect or left, left),
                read=min(configured.read or left, left),
                write=min(configured.write or left, left),
                pool=min(configured.pool or left, left),
            ),
        )
    with transport_errors(provider):
        return client.request(method, url, **kwargs)


def retry_after_seconds(response: httpx.Response, default: float = DEFAULT_RETRY_AFTER) -> float:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); `default` when absent or odd."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return default
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def raise_for_overload(response: httpx.Response, *, provider: str) -> None:
    """429 -> RateLimited; 5xx -> Unavailable. Other statuses are for the caller to read."""
    if response.status_code == 429:
        raise RateLimited(
            f"{provider}: too many requests", provider=provider, retry_after=retry_after_seconds(response)
        )
    if response.status_code >= 500:
        retry_after = retry_after_seconds(response, default=0) or None
        raise Unavailable(f"{provider}: HTTP {response.status_code}", provider=provider, retry_after=retry_after)


def json_body(response: httpx.Response, *, provider: str):
    """The decoded JSON body; an unreadable body means the service is not working properly."""
    try:
        return response.json()
    except ValueError as exc:
        raise Unavailable(
            f"{provider}: malformed JSON in HTTP {response.status_code} answer", provider=provider
        ) from exc
