"""Shared fixtures. The real servers themselves are started by scripts/pytest_services.py."""

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from access.services import api_key_create


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (real Redis): no throttle counts or entries leak, and
    no service is still treated as down after an earlier test's outage (core.outages)."""
    from django.core.cache import cache

    from core import outages

    outages.CACHE.clear()
    outages.BROKER.clear()
    cache.clear()


@pytest.fixture
def in_english(settings):
    """The back office in English, as for a visitor who asks for it (Portuguese is the default;
    config/tests/test_localization.py and the Portuguese tests cover it)."""
    settings.LANGUAGE_CODE = "en"


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


def _own_server_fixture(name):
    """A fixture giving the suite's own `name` server, for fault tests: stop it with .kill(), bring
    it back with .restart(); it is running again after the test whatever happened."""

    @pytest.fixture
    def fixture():
        from scripts.pytest_services import started_server

        server = started_server(name)
        if server is None:
            pytest.skip(f"{name} is an external server (its URL was given); fault tests need their own")
        yield server
        if server.process is None:
            server.restart()

    return fixture


redis_server = _own_server_fixture("redis")
postgres_server = _own_server_fixture("postgres")
mongo_server = _own_server_fixture("mongo")


# --- Real browser (Playwright driving Debian's Chromium) ---------------------------------------
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Never Playwright's downloaded browsers: the system Chromium, headless.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True}


@pytest.fixture
def screenshot(browser_page):
    """screenshot("name") saves a full-page PNG under test-artifacts/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name):
        path = SCREENSHOTS / f"{name}.png"
        browser_page.screenshot(path=str(path), full_page=True)
        return path

    return take


# The staff guide's pictures (docs/staff/img/) are written only when asked: `make docs-screenshots`.
STAFF_GUIDE_IMAGES = Path(__file__).resolve().parent / "docs" / "staff" / "img"


@pytest.fixture
def guide_screenshot(browser_page):
    """guide_screenshot("name", locator, until=None) saves a PNG of one part of the page (the
    element, or from its top to the bottom of `until`: small enough for the documentation) under
    test-artifacts/screenshots/guide/, and also as docs/staff/img/name.png when DOCS_SCREENSHOTS=1."""
    folder = SCREENSHOTS / "guide"
    folder.mkdir(parents=True, exist_ok=True)
    to_docs = os.environ.get("DOCS_SCREENSHOTS") == "1"

    def document_box(locator):
        box = locator.bounding_box()  # relative to the viewport
        scroll_x, scroll_y = browser_page.evaluate("[window.scrollX, window.scrollY]")
        return {**box, "x": box["x"] + scroll_x, "y": box["y"] + scroll_y}

    def take(name, locator, *, until=None):
        top = document_box(locator)
        bottom = document_box(until) if until is not None else top
        height = bottom["y"] + bottom["height"] - top["y"]
        clip = {"x": top["x"], "y": top["y"], "width": top["width"], "height": height}
        image = browser_page.screenshot(
            path=str(folder / f"{name}.png"), clip=clip, full_page=True, animations="disabled"
        )
        if to_docs:
            STAFF_GUIDE_IMAGES.mkdir(parents=True, exist_ok=True)
            (STAFF_GUIDE_IMAGES / f"{name}.png").write_bytes(image)
        return image

    return take


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: once Playwright's session starts, its event loop stays marked as
    running in the main thread, and Django refuses ORM calls from there (see `browser_page`)."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture
def browser_page(live_server, request):
    """A Playwright page against the live server. Fixtures and assertions in these tests call the
    synchronous ORM from the thread where Playwright's loop runs, so Django's async-safety guard
    is lifted for the rest of the session (browser tests are ordered last)."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    page = request.getfixturevalue("page")
    page.base = live_server.url
    return page
