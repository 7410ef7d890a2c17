import email.utils
import time

import httpx
import pytest
import respx

from integrations import http
from integrations.errors import RateLimited, Unavailable

URL = "https://upstream.test/thing"


def _response(status=200, headers=None, content=b"{}"):
    return httpx.Response(status, headers=headers or {}, content=content)


def test_clients_have_explicit_timeouts_and_user_agent(settings):
    settings.INTEGRATIONS_CONNECT_TIMEOUT = 1.5
    settings.INTEGRATIONS_READ_TIMEOUT = 7
    settings.INTEGRATIONS_USER_AGENT = "test-agent/1"
    with http.build_client() as client:
        assert client.timeout.connect == 1.5
        assert client.timeout.read == 7
        assert client.headers["User-Agent"] == "test-agent/1"
    with http.build_client(read_timeout=35) as client:
        assert client.timeout.read == 35


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", 60), ("12", 12), ("soon", 60)],
)
def test_retry_after_seconds(value, expected):
    assert http.retry_after_seconds(_response(headers={"Retry-After": value} if value else {})) == expected


def test_retry_after_as_http_date():
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= http.retry_after_seconds(_response(headers={"Retry-After": when})) <= 30


def test_overload_statuses_become_named_errors():
    with pytest.raises(RateLimited) as caught:
        http.raise_for_overload(_response(429, {"Retry-After": "7"}), provider="x")
    assert caught.value.retry_after == 7
    with pytest.raises(Unavailable):
        http.raise_for_overload(_response(503), provider="x")
    http.raise_for_overload(_response(404), provider="x")  # for the caller to read


def test_malformed_json_is_unavailable():
    with pytest.raises(Unavailable, match="malformed JSON"):
        http.json_body(_response(content=b"<html>oops"), provider="x")


@respx.mock
@pytest.mark.parametrize(
    ("side_effect", "message"),
    [
        (httpx.ConnectError("refused"), "cannot connect"),
        (httpx.ConnectTimeout("slow"), "connect timeout"),
        (httpx.ReadTimeout("slow"), "timed out"),
        (httpx.RemoteProtocolError("cut"), "transport error"),
    ],
)
def test_transport_failures_become_unavailable(side_effect, message):
    respx.get(URL).mock(side_effect=side_effect)
    with http.build_client() as client, pytest.raises(Unavailable, match=message) as caught:
        http.request(client, "GET", URL, provider="upstream")
    assert caught.value.provider == "upstream"


def test_clients_share_one_tls_context_that_verifies_like_httpx():
    import ssl

    first, second = http.build_client(), http.build_client()
    try:
        assert http.tls_context() is http.tls_context()
        context = http.tls_context()
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert context.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded
    finally:
        first.close()
        second.close()
