"""Shared fixtures. The real servers themselves are started by scripts/pytest_services.py."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from access.services import api_key_create


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (real Redis): no throttle counts or entries leak."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def client_anon():
    return APIClient()


@pytest.fixture
def api_key(db):
    """A full-access API key's raw value."""
    _, raw_key = api_key_create(name="test-service")
    return raw_key


@pytest.fixture
def read_only_api_key(db):
    _, raw_key = api_key_create(name="test-reader", read_only=True)
    return raw_key


@pytest.fixture
def api(api_key):
    """An API client authenticated with a full-access API key."""
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key)
    return client


@pytest.fixture
def read_only_api(read_only_api_key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=read_only_api_key)
    return client


@pytest.fixture
def make_user(db):
    def make(username="alice", password="s3cret-Passw0rd!", perms=(), **extra):
        user = get_user_model().objects.create_user(username=username, password=password, **extra)
        for codename in perms:
            app_label, _, code = codename.partition(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=code))
        return user

    return make


@pytest.fixture
def jwt_client(make_user):
    """Returns a function: jwt_client(perms=[...]) -> APIClient logged in with a Bearer token."""

    def make(username="alice", perms=()):
        password = "s3cret-Passw0rd!"
        make_user(username=username, password=password, perms=perms)
        client = APIClient()
        response = client.post("/api/auth/token/", {"username": username, "password": password}, format="json")
        assert response.status_code == 200, response.content
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
        return client

    return make


def _own_server(name):
    from scripts.pytest_services import started_server

    server = started_server(name)
    if server is None:
        pytest.skip(f"{name} is an external server (its URL was given); fault tests need their own")
    return server


@pytest.fixture
def redis_server():
    """The suite's own Redis, for fault tests: stop it with .kill(), bring it back with .restart()."""
    server = _own_server("redis")
    yield server
    if server.process is None:
        server.restart()


@pytest.fixture
def postgres_server():
    server = _own_server("postgres")
    yield server
    if server.process is None:
        server.restart()


@pytest.fixture
def mongo_server():
    server = _own_server("mongo")
    yield server
    if server.process is None:
        server.restart()
