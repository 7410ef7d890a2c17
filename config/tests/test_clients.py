"""Client identity behind proxies: TRUSTED_PROXIES decides which X-Forwarded-For entry is believed,
for the throttles, the access log and everything that reads REMOTE_ADDR."""

import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient

from core.clients import ProxyPolicy, proxy_policy, resolve_client

TOKEN = "/api/auth/token/"


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "client"),
    [
        # No trusted proxy: the header is the client's own words, ignored.
        ("", "198.51.100.7", "1.2.3.4", "198.51.100.7"),
        # One proxy: the entry it appended (the rightmost) is the client; what the client sent
        # itself, to the left, is not believed.
        ("1", "10.0.0.2", "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        ("2", "10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.3", "203.0.113.9"),
        # Fewer entries than proxies: it did not come through them.
        ("2", "10.0.0.2", "203.0.113.9", "10.0.0.2"),
        ("1", "10.0.0.2", "", "10.0.0.2"),
        ("1", "10.0.0.2", "203.0.113.9:4711", "203.0.113.9"),
        ("1", "10.0.0.2", "[2001:db8::5]:4711", "2001:db8::5"),
        # Networks: read from the right, skipping our own proxies.
        ("10.0.0.0/8", "10.0.0.2", "6.6.6.6, 203.0.113.9, 10.1.2.3", "203.0.113.9"),
        ("10.0.0.0/8, 192.168.5.5", "192.168.5.5", "203.0.113.9", "203.0.113.9"),
        # A peer outside the networks sent the header itself: ignored.
        ("10.0.0.0/8", "198.51.100.7", "203.0.113.9", "198.51.100.7"),
        # Every hop is ours: the leftmost.
        ("10.0.0.0/8", "10.0.0.2", "10.9.9.9, 10.1.1.1", "10.9.9.9"),
        # Not an address where the client should be: stop at the last proxy trusted.
        ("10.0.0.0/8", "10.0.0.2", "junk, 10.1.1.1", "10.1.1.1"),
        ("1", "10.0.0.2", "junk", "10.0.0.2"),
    ],
)
def test_the_client_is_the_entry_the_trusted_proxies_appended(trusted, peer, forwarded, client):
    assert resolve_client(peer, forwarded, proxy_policy(trusted)) == client


def test_a_value_that_is_neither_a_count_nor_networks_is_refused_by_a_system_check():
    with pytest.raises(ValueError, match=r"'proxy\.example'"):
        proxy_policy("10.0.0.0/8,proxy.example")
    assert proxy_policy("") == ProxyPolicy()
    with override_settings(TRUSTED_PROXIES="proxy.example"):
        from ops.checks import trusted_proxies_check

        (error,) = trusted_proxies_check()
    assert error.id == "ops.E009" and "TRUSTED_PROXIES" in error.msg


def _failed_logins(count, peer, forwarded_for):
    statuses = []
    for attempt in range(count):
        client = APIClient(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded_for(attempt))
        response = client.post(TOKEN, {"username": f"nobody{attempt}", "password": "wrong-password-123"})
        statuses.append(response.status_code)
    return statuses


def _rates(**overrides):
    return override_settings(API_THROTTLE_RATES={**settings.API_THROTTLE_RATES, **overrides})


@pytest.mark.django_db
@_rates(login_address="5/hour", login_username="100/hour")
def test_a_new_forwarded_for_on_every_attempt_does_not_escape_the_login_throttle():
    statuses = _failed_logins(8, "198.51.100.20", lambda n: f"203.0.113.{n}")
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 3


@pytest.mark.django_db
@_rates(login_address="5/hour", login_username="100/hour")
@override_settings(TRUSTED_PROXIES="1")
def test_behind_a_trusted_proxy_each_client_has_its_own_allowance_and_spoofing_does_not_help():
    # Eight different clients behind one proxy: none is throttled.
    assert _failed_logins(8, "10.0.0.2", lambda n: f"203.0.113.{n}") == [401] * 8
    # One client that puts a new address of its own in front each time: the proxy's entry counts.
    statuses = _failed_logins(8, "10.0.0.2", lambda n: f"6.6.6.{n}, 198.51.100.30")
    assert statuses[5:] == [429] * 3


@pytest.mark.django_db
@_rates(anon="3/hour")
@override_settings(TRUSTED_PROXIES="10.0.0.0/8")
def test_anonymous_limit_keys_on_the_resolved_client():
    spoofed = [
        APIClient(REMOTE_ADDR="198.51.100.40", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
        .post("/api/auth/token/verify/", {"token": "x"})
        .status_code
        for n in range(5)
    ]
    assert spoofed[3:] == [429, 429]  # an outsider cannot pose as one of our proxies' clients


@override_settings(TRUSTED_PROXIES="1")
def test_the_access_log_and_request_meta_carry_the_client(json_log):
    response = APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.77").get("/health/live")
    assert response.status_code == 200
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    (access,) = [line for line in lines if line["logger"] == "api.access"]
    assert access["client"] == "203.0.113.77"
    assert access["message"].endswith("from 203.0.113.77")


def test_trusted_proxies_are_documented_in_the_example_environment():
    text = (settings.BASE_DIR / ".env.example").read_text()
    assert "TRUSTED_PROXIES=" in text
    call_command("check")  # the default (empty) passes the checks
