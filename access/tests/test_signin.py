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
    page = locked.content.decode()  # in Portuguese, the back office's default
    assert "Tentativas de acesso demais" in page and "Tente de novo em 15 minutos" in page
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
    assert "Bloqueios liberados" in lifted.content.decode()
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
    page = answer.content.decode()
    assert "desconectado(s) de todos os lugares" in page and "1 token(s) de renovação revogado(s)" in page
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
    with translation.override("en"), pytest.raises(ValidationError) as short:
        validate_password("Xq7#kP2!wz")
    assert "at least 12 characters" in " ".join(short.value.messages)
    with translation.override("en"), pytest.raises(ValidationError) as common:
        validate_password("password1234")
    assert "too common" in " ".join(common.value.messages)
    with translation.override("pt-br"), pytest.raises(ValidationError) as in_portuguese:
        validate_password("Xq7#kP2!wz")
    assert "12 caracteres" in " ".join(in_portuguese.value.messages)
    validate_password("Correct-Horse-Battery-9")


@LIMITS
def test_a_full_width_or_padded_spelling_of_a_locked_username_is_still_locked(staff):
    staff("bob")
    for _ in range(5):
        admin_sign_in("bob", "wrong-password-1")
    assert admin_sign_in("\uff42\uff4f\uff42", PASSWORD).status_code == 429  # full-width b, o, b
    assert admin_sign_in(" BOB ", PASSWORD).status_code == 429
    assert api_sign_in("\uff42\uff4f\uff42", PASSWORD).status_code == 429


def _enrol(user):
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="recovery")
    StaticToken.objects.create(device=static, token="abcd2345")
    return device


def _code(device, ahead=0):
    from django_otp.oath import TOTP

    return f"{TOTP(device.bin_key, drift=ahead).token():06d}"


@LIMITS
def test_with_two_factor_sign_in_the_api_wants_the_code_too_and_never_confirms_a_password(staff):
    device = _enrol(staff("nina"))
    wrong_password = api_sign_in("nina", "wrong-password-1")
    no_code = api_sign_in("nina", PASSWORD)
    assert wrong_password.status_code == no_code.status_code == 401
    assert wrong_password.json()["message"] == no_code.json()["message"]
    client = APIClient(REMOTE_ADDR="198.51.100.1")
    assert client.post(TOKEN, {"username": "nina", "password": PASSWORD, "otp_token": "ABCD 2345"}).status_code == 200
    assert client.post(TOKEN, {"username": "nina", "password": PASSWORD, "otp_token": "abcd2345"}).status_code == 401
    assert client.post(
        TOKEN, {"username": "nina", "password": PASSWORD, "otp_token": _code(device)}
    ).status_code == 200
    assert SignInRecord.objects.filter(username="nina", outcome="failure").count() == 3


@LIMITS
def test_the_admin_form_gives_one_answer_for_a_wrong_password_and_a_missing_code(staff):
    _enrol(staff("olga"))
    wrong_password = admin_sign_in("olga", "wrong-password-1")
    no_code = admin_sign_in("olga", PASSWORD)
    assert wrong_password.status_code == no_code.status_code == 200
    message = "o código do aplicativo autenticador"
    assert message in wrong_password.content.decode() and message in no_code.content.decode()
    # Recovery codes in any case, with spaces.
    client = Client(REMOTE_ADDR="198.51.100.1")
    signed_in = client.post(
        LOGIN, {"username": "olga", "password": PASSWORD, "otp_token": "ABCD 2345", "next": "/admin/"}
    )
    assert signed_in.status_code == 302


@LIMITS
def test_after_wrong_codes_the_form_says_to_wait_instead_of_counting_more_failures(staff):
    device = _enrol(staff("paula"))
    client = Client(REMOTE_ADDR="198.51.100.1")
    client.post(LOGIN, {"username": "paula", "password": PASSWORD, "otp_token": "000000", "next": "/admin/"})
    failures = SignInRecord.objects.filter(outcome="failure").count()
    waiting = client.post(
        LOGIN, {"username": "paula", "password": PASSWORD, "otp_token": _code(device), "next": "/admin/"}
    )
    assert waiting.status_code == 200 and "aguarde" in waiting.content.decode()
    assert SignInRecord.objects.filter(outcome="failure").count() == failures


@override_settings(SESSION_IDLE_MINUTES=1)
def test_a_busy_session_is_not_ended_by_a_short_idle_time(staff):
    client = _signed_in_admin(staff("rita", is_superuser=True))
    for _ in range(4):  # a request every 20 seconds for 80 seconds
        _age_session(client, last_seen=20)
        assert client.get("/admin/").status_code == 200


def test_the_password_rules_speak_portuguese_to_a_brazilian_browser(admin_client, staff):
    user = staff("sara")
    url = f"/admin/auth/user/{user.pk}/password/"
    data = {"password1": "Curta-1", "password2": "Curta-1"}
    in_portuguese = admin_client.post(url, data, HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9")
    assert "Esta senha é muito curta" in in_portuguese.content.decode()
    in_english = admin_client.post(url, data, HTTP_ACCEPT_LANGUAGE="en-US")
    assert "This password is too short" in in_english.content.decode()
