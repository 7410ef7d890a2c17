"""The staff door: one sign-in policy at the admin and at the token endpoint (lockout per username
and per address, in Redis), the sign-in record, sessions that end, signing out everywhere, the
password policy."""

import time
from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.utils import timezone, translation
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from access import signin
from access.models import SignInRecord
from access.signin import SESSION_LAST_SEEN, SESSION_SIGNED_IN_AT

pytestmark = pytest.mark.django_db
PASSWORD = "Correct-Horse-Battery-9"
TOKEN = "/api/auth/token/"
LOGIN = "/admin/login/"
LIMITS = override_settings(
    SIGNIN_MAX_FAILURES_PER_USERNAME=5,
    SIGNIN_MAX_FAILURES_PER_ADDRESS=20,
    SIGNIN_LOCKOUT_MINUTES=15,
    # The API's own per-address and per-username throttles are looser than the lockout here.
    API_THROTTLE_RATES={
        "api_key": "3000/minute", "user": "600/minute", "anon": "600/minute",
        "login_address": "1000/minute", "login_username": "1000/minute",
    },
)


@pytest.fixture
def staff(make_user):
    def make(username, **extra):
        return make_user(username=username, password=PASSWORD, is_staff=True, **extra)

    return make


def api_sign_in(username, password, address="198.51.100.1"):
    return APIClient(REMOTE_ADDR=address).post(TOKEN, {"username": username, "password": password})


def admin_sign_in(username, password, address="198.51.100.1", client=None):
    client = client or Client(REMOTE_ADDR=address)
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


@LIMITS
def test_the_token_endpoint_locks_a_username_out_after_its_failures_even_with_the_right_password(staff):
    staff("ana")
    staff("bia")
    assert [api_sign_in("ana", "wrong-password-1").status_code for _ in range(5)] == [401] * 5
    locked = api_sign_in("ana", PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "throttled" and "try again in 15 minutes" in locked.json()["message"]
    assert 800 < int(locked["Retry-After"]) <= 900
    # From another address too: it is the username that is locked.
    assert api_sign_in("ana", PASSWORD, address="203.0.113.50").status_code == 429
    # Another user, from the same address, is not affected.
    assert api_sign_in("bia", PASSWORD).status_code == 200
    # Shared through Redis, where every process reads it.
    assert get_redis_connection("default").keys("*signin:lock:username:ana*")
    assert signin.lift(usernames=["ana"]) == 1
    assert api_sign_in("ana", PASSWORD).status_code == 200


@LIMITS
def test_the_admin_locks_a_username_out_with_a_clear_page(staff):
    staff("carla")
    staff("davi")
    for _ in range(5):
        refused = admin_sign_in("carla", "wrong-password-1")
        assert refused.status_code == 200 and b"errornote" in refused.content
    locked = admin_sign_in("carla", PASSWORD)
    assert locked.status_code == 429
    assert b"Too many sign-in attempts" in locked.content and b"Try again in 15 minutes" in locked.content
    assert int(locked["Retry-After"]) > 0
    assert admin_sign_in("davi", PASSWORD).status_code == 302  # others sign in
    # One policy: the API door refuses her too.
    assert api_sign_in("carla", PASSWORD).status_code == 429


@LIMITS
def test_an_address_guessing_at_many_usernames_is_locked_out_but_not_the_users_elsewhere(staff):
    staff("edu")
    for number in range(20):
        assert api_sign_in(f"guess{number}", "wrong-password-1", address="203.0.113.9").status_code == 401
    assert api_sign_in("edu", PASSWORD, address="203.0.113.9").status_code == 429
    assert admin_sign_in("edu", PASSWORD, address="203.0.113.9").status_code == 429
    assert api_sign_in("edu", PASSWORD, address="198.51.100.77").status_code == 200


@LIMITS
@override_settings(TRUSTED_PROXIES="1")
def test_behind_a_proxy_the_forwarded_client_is_locked_not_the_proxy(staff):
    staff("fabi")

    def through_proxy(client_address, username, password):
        client = APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"6.6.6.6, {client_address}")
        return client.post(TOKEN, {"username": username, "password": password})

    for number in range(20):
        through_proxy("203.0.113.66", f"guess{number}", "wrong-password-1")
    assert through_proxy("203.0.113.66", "fabi", PASSWORD).status_code == 429
    assert through_proxy("203.0.113.67", "fabi", PASSWORD).status_code == 200


@LIMITS
def test_every_attempt_at_both_doors_is_recorded_without_the_password(staff):
    staff("gabi")
    admin_sign_in("gabi", "wrong-password-1", address="198.51.100.5")
    admin_sign_in("gabi", PASSWORD, address="198.51.100.5")
    APIClient(REMOTE_ADDR="198.51.100.6", HTTP_USER_AGENT="curl/8.5").post(
        TOKEN, {"username": "gabi", "password": PASSWORD}
    )
    rows = list(SignInRecord.objects.order_by("at").values_list("door", "username", "address", "outcome"))
    assert rows == [
        ("admin", "gabi", "198.51.100.5", "failure"),
        ("admin", "gabi", "198.51.100.5", "success"),
        ("api", "gabi", "198.51.100.6", "success"),
    ]
    assert SignInRecord.objects.get(door="api").user_agent == "curl/8.5"
    assert SignInRecord.objects.filter(outcome="success").exclude(user=None).count() == 2
    assert not SignInRecord.objects.filter(user_agent__contains=PASSWORD).exists()


@LIMITS
def test_superusers_read_the_record_and_lift_lockouts_in_the_admin(staff, admin_client):
    staff("hugo")
    for _ in range(5):
        api_sign_in("hugo", "wrong-password-1", address="203.0.113.30")
    assert api_sign_in("hugo", PASSWORD).status_code == 429
    page = admin_client.get("/admin/access/signinrecord/?outcome__exact=locked")
    assert page.status_code == 200 and b"hugo" in page.content
    ids = list(SignInRecord.objects.filter(username="hugo").values_list("pk", flat=True))
    lifted = admin_client.post(
        "/admin/access/signinrecord/", {"action": "lift_lockouts", "_selected_action": ids}, follow=True
    )
    assert b"Lockouts lifted" in lifted.content
    assert api_sign_in("hugo", PASSWORD).status_code == 200
    # The record cannot be edited or removed.
    record = SignInRecord.objects.filter(username="hugo").first()
    assert admin_client.post(f"/admin/access/signinrecord/{record.pk}/delete/", {"post": "yes"}).status_code == 403


def test_staff_without_superuser_rights_cannot_lift_lockouts(staff):
    from django.contrib.auth.models import Permission

    reader = staff("ines")
    reader.user_permissions.add(Permission.objects.get(codename="view_signinrecord"))
    client = Client()
    client.force_login(reader)
    page = client.get("/admin/access/signinrecord/")
    assert page.status_code == 200 and b"lift_lockouts" not in page.content


def _signed_in_admin(user):
    client = Client()
    assert admin_sign_in(user.username, PASSWORD, client=client).status_code == 302
    assert client.get("/admin/").status_code == 200
    return client


def _age_session(client, **seconds_ago):
    session = client.session
    now = time.time()
    for key, ago in seconds_ago.items():
        session[{"signed_in": SESSION_SIGNED_IN_AT, "last_seen": SESSION_LAST_SEEN}[key]] = now - ago
    session.save()


@override_settings(SESSION_IDLE_MINUTES=60, SESSION_MAX_HOURS=12)
def test_an_idle_admin_session_ends(staff):
    client = _signed_in_admin(staff("joao", is_superuser=True))
    _age_session(client, last_seen=59 * 60)
    assert client.get("/admin/").status_code == 200  # still within the idle time
    _age_session(client, last_seen=61 * 60)
    ended = client.get("/admin/")
    assert ended.status_code == 302 and ended["Location"].startswith("/admin/login/")
    assert client.get("/admin/").status_code == 302  # and stays ended


@override_settings(SESSION_IDLE_MINUTES=60, SESSION_MAX_HOURS=2)
def test_an_admin_session_ends_at_its_maximum_age_even_when_busy(staff):
    client = _signed_in_admin(staff("kaio", is_superuser=True))
    _age_session(client, signed_in=2 * 3600 + 5, last_seen=10)
    assert client.get("/admin/").status_code == 302


def test_sign_out_everywhere_ends_sessions_and_revokes_refresh_tokens(staff, admin_client):
    user = staff("lara", is_superuser=True)
    browser_one, browser_two = _signed_in_admin(user), _signed_in_admin(user)
    tokens = api_sign_in("lara", PASSWORD).json()
    answer = admin_client.post(
        "/admin/auth/user/", {"action": "sign_out_everywhere", "_selected_action": [user.pk]}, follow=True
    )
    assert b"signed out everywhere" in answer.content and b"1 refresh token" in answer.content
    assert browser_one.get("/admin/").status_code == 302
    assert browser_two.get("/admin/").status_code == 302
    refreshed = APIClient().post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 401
    # Signing in again afterwards works.
    assert _signed_in_admin(user).get("/admin/").status_code == 200


def test_old_sign_in_records_are_pruned_daily(staff):
    from access.tasks import prune_signin_records_task

    SignInRecord.objects.create(door="admin", username="old", outcome="failure")
    SignInRecord.objects.create(door="admin", username="new", outcome="failure")
    SignInRecord.objects.filter(username="old").update(at=timezone.now() - timedelta(days=91))
    assert prune_signin_records_task.apply().get() == {"removed": 1}
    assert list(SignInRecord.objects.values_list("username", flat=True)) == ["new"]


def test_passwords_need_twelve_characters_and_not_a_common_one():
    with pytest.raises(ValidationError) as short:
        validate_password("Xq7#kP2!wz")
    assert "at least 12 characters" in " ".join(short.value.messages)
    with pytest.raises(ValidationError) as common:
        validate_password("password1234")
    assert "too common" in " ".join(common.value.messages)
    with translation.override("pt-br"), pytest.raises(ValidationError) as in_portuguese:
        validate_password("Xq7#kP2!wz")
    assert "12 caracteres" in " ".join(in_portuguese.value.messages)
    validate_password("Correct-Horse-Battery-9")
