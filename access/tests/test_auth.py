from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from access.models import ServiceAPIKey
from access.services import api_key_create

ME = "/api/auth/me/"
pytestmark = pytest.mark.django_db


def keyed(raw_key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    return client


def test_no_credentials_is_401_json_with_challenge(client_anon):
    response = client_anon.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_api_key_is_accepted_and_named(api):
    response = api.get(ME)
    assert response.status_code == 200
    assert response.json() == {"kind": "api_key", "name": "test-service", "read_only": False, "is_staff": False}


def test_api_keys_are_stored_hashed():
    api_key, raw_key = api_key_create(name="hashed")
    stored = ServiceAPIKey.objects.get(pk=api_key.pk)
    assert raw_key not in stored.hashed_key and raw_key != stored.id


def test_unknown_key_is_401():
    response = keyed("nope.not-a-key").get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"


def test_revoked_key_is_401():
    api_key, raw_key = api_key_create(name="revoked")
    assert keyed(raw_key).get(ME).status_code == 200
    api_key.revoked = True
    api_key.save()
    assert keyed(raw_key).get(ME).status_code == 401


def test_expired_key_is_401():
    api_key, raw_key = api_key_create(name="expiring", expires_in_days=1)
    assert keyed(raw_key).get(ME).status_code == 200
    ServiceAPIKey.objects.filter(pk=api_key.pk).update(expiry_date=timezone.now() - timedelta(seconds=1))
    assert keyed(raw_key).get(ME).status_code == 401


def test_read_only_key_reads_but_cannot_write(read_only_api):
    assert read_only_api.get(ME).json()["read_only"] is True
    response = read_only_api.post("/api/auth/me/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "read_only_key"


@override_settings(API_KEY="seed-deployment-key-0123456789abcdef")
def test_api_key_variable_is_accepted_as_full_access_key():
    response = keyed("seed-deployment-key-0123456789abcdef").get(ME)
    assert response.status_code == 200
    assert response.json()["name"] == "API_KEY"
    assert keyed("seed-deployment-key-0123456789abcdeX").get(ME).status_code == 401


def test_api_key_variable_unset_accepts_no_empty_key():
    assert keyed(" ").get(ME).status_code == 401


class TestJWT:
    password = "s3cret-Passw0rd!"

    def obtain(self, make_user):
        make_user(username="bob", password=self.password)
        response = APIClient().post("/api/auth/token/", {"username": "bob", "password": self.password})
        assert response.status_code == 200
        return response.json()

    def test_obtain_and_use_access_token(self, make_user):
        tokens = self.obtain(make_user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        assert client.get(ME).json()["name"] == "bob"

    def test_wrong_password_is_401(self, make_user):
        make_user(username="bob", password=self.password)
        response = APIClient().post("/api/auth/token/", {"username": "bob", "password": "wrong"})
        assert response.status_code == 401
        assert response.json()["type"] == "client_error"

    def test_refresh_rotates_and_old_refresh_token_is_refused(self, make_user):
        tokens = self.obtain(make_user)
        client = APIClient()
        rotated = client.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]})
        assert rotated.status_code == 200
        assert rotated.json()["refresh"] != tokens["refresh"]
        reused = client.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]})
        assert reused.status_code == 401
        assert client.post("/api/auth/token/refresh/", {"refresh": rotated.json()["refresh"]}).status_code == 200

    def test_verify(self, make_user):
        tokens = self.obtain(make_user)
        client = APIClient()
        valid = client.post("/api/auth/token/verify/", {"token": tokens["access"]})
        assert valid.status_code == 204 and valid.content == b""  # as the schema says: no body
        invalid = client.post("/api/auth/token/verify/", {"token": tokens["access"] + "x"})
        assert invalid.status_code == 401
        body = invalid.json()  # one error in the project's shape, no made-up fields
        assert body["code"] == "token_not_valid" and body["field"] is None
        assert [error["field"] for error in body["errors"]] == [None]
        assert client.post("/api/auth/token/verify/", {}).json()["field"] == "token"

    def test_logout_blacklists_refresh_token(self, make_user):
        tokens = self.obtain(make_user)
        client = APIClient()
        logout = client.post("/api/auth/logout/", {"refresh": tokens["refresh"]})
        assert logout.status_code == 204 and logout.content == b""
        assert client.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401
        # Verifying the blacklisted token answers as refreshing it does.
        verify = client.post("/api/auth/token/verify/", {"token": tokens["refresh"]})
        assert verify.status_code == 401 and verify.json()["code"] == "token_not_valid"

    def test_invalid_bearer_token_is_401(self):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
        assert client.get(ME).status_code == 401


def test_create_api_key_command_prints_key_once(capsys):
    from django.core.management import call_command

    call_command("create_api_key", "billing", "--read-only", "--expires-in-days", "30")
    raw_key = capsys.readouterr().out.strip()
    stored = ServiceAPIKey.objects.get(name="billing")
    assert stored.read_only and stored.expiry_date > timezone.now() + timedelta(days=29)
    assert keyed(raw_key).get(ME).json() == {"kind": "api_key", "name": "billing", "read_only": True, "is_staff": False}


def _operations():
    from drf_spectacular.settings import spectacular_settings

    schema = spectacular_settings.DEFAULT_GENERATOR_CLASS().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method in item:
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method, path


@pytest.mark.django_db(databases=["default", "mongo"])
def test_every_api_operation_but_auth_requires_credentials(client_anon):
    from django.test import override_settings

    checked = []
    samples = {"{cnpj}": "11222333000181", "{id}": "5f43a1b2c3d4e5f6a7b8c9d0", "{task_id}": "0" * 32}
    with override_settings(API_THROTTLE_RATES={"anon": "100000/minute"}):
        for method, path in _operations():
            if path.startswith("/api/auth/") and path != "/api/auth/me/":
                continue
            url = path
            for placeholder, value in samples.items():
                url = url.replace(placeholder, value)
            response = getattr(client_anon, method)(url, {}, format="json")
            assert response.status_code == 401, f"{method.upper()} {path} answered {response.status_code}"
            assert response.json()["code"] == "not_authenticated"
            checked.append((method, path))
    assert len(checked) > 15


# --- cached key records -------------------------------------------------------------------------
def _key_queries(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        status_code = client.get(ME).status_code
    return status_code, [q["sql"] for q in queries.captured_queries if "apikey" in q["sql"]]


def test_a_known_key_is_checked_without_the_database_after_its_first_use():
    _, raw_key = api_key_create(name="cached")
    client = keyed(raw_key)
    status_code, queries = _key_queries(client)
    assert status_code == 200 and len(queries) == 1
    assert _key_queries(client) == (200, [])


def test_a_cached_record_still_checks_the_secret():
    _, raw_key = api_key_create(name="cached")
    assert keyed(raw_key).get(ME).status_code == 200
    prefix = raw_key.partition(".")[0]
    response = keyed(f"{prefix}.{'x' * 32}").get(ME)
    assert response.status_code == 401 and response.json()["code"] == "invalid_api_key"


def test_a_cached_key_is_refused_once_its_expiry_passes(monkeypatch):
    _, raw_key = api_key_create(name="expiring", expires_in_days=1)
    client = keyed(raw_key)
    assert _key_queries(client)[0] == 200
    later = timezone.now() + timedelta(days=2)
    monkeypatch.setattr("access.authentication.timezone.now", lambda: later)
    assert _key_queries(client) == (401, [])


@pytest.mark.parametrize(
    "change",
    [
        lambda key: ServiceAPIKey.objects.filter(pk=key.pk).update(revoked=True),
        lambda key: ServiceAPIKey.objects.filter(pk=key.pk).delete(),
        lambda key: key.delete(),
        lambda key: ServiceAPIKey.objects.filter(pk=key.pk).update(read_only=True),
    ],
    ids=["queryset-revoke", "queryset-delete", "delete", "made-read-only"],
)
def test_every_kind_of_change_reaches_the_next_request(change):
    api_key, raw_key = api_key_create(name="changing")
    client = keyed(raw_key)
    assert client.get(ME).json()["read_only"] is False
    change(api_key)
    response = client.get(ME)
    assert response.status_code == 401 or response.json()["read_only"] is True


def test_a_reader_that_raced_a_change_does_not_keep_the_old_record():
    from access import key_records

    api_key, raw_key = api_key_create(name="racing")
    prefix = raw_key.partition(".")[0]

    def load_then_revoke(prefix):
        # The reader has the row in hand when the key is revoked, before it keeps the record.
        before = ServiceAPIKey.objects.filter(prefix=prefix).values(*key_records.FIELDS).first()
        ServiceAPIKey.objects.filter(pk=api_key.pk).update(revoked=True)
        return before

    assert key_records.record(prefix, load_then_revoke)["name"] == "racing"
    assert keyed(raw_key).get(ME).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_change_made_elsewhere_is_seen_within_api_key_cache_seconds(settings):
    """Another process's change (here: SQL behind the ORM's back) reaches this one in time."""
    import time

    from django.db import connection

    settings.API_KEY_CACHE_SECONDS = 1
    api_key, raw_key = api_key_create(name="elsewhere")
    client = keyed(raw_key)
    assert client.get(ME).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {ServiceAPIKey._meta.db_table} SET revoked = true WHERE id = %s", [api_key.pk])
    assert client.get(ME).status_code == 200  # still this process's record
    time.sleep(1.1)
    assert client.get(ME).status_code == 401


def test_unknown_prefixes_are_remembered_too():
    client = keyed("nosuchpx." + "x" * 32)
    status_code, queries = _key_queries(client)
    assert status_code == 401 and len(queries) == 1
    assert _key_queries(client) == (401, [])


def test_keys_still_work_when_the_cache_is_down(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    _, raw_key = api_key_create(name="no-cache")
    assert keyed(raw_key).get(ME).status_code == 200
