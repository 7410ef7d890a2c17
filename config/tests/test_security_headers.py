"""PRODUCTION security headers and cookies; CORS allow-list from the environment."""

import json

import pytest
from django.test import override_settings

from config.tests.test_settings import STRONG, run

PROBE = """
import django, json; django.setup()
from django.test import Client
client = Client()
out = {}
for path in ("/admin/login/", "/api/doc/"):
    response = client.get(path, secure=True)
    out[path] = {"status": response.status_code, "headers": dict(response.headers),
                 "cookies": {name: dict(morsel) for name, morsel in response.cookies.items()}}
for path in ("/health/live",):
    response = client.get(path)
    out[path] = {"status": response.status_code, "headers": dict(response.headers),
                 "cookies": {name: dict(morsel) for name, morsel in response.cookies.items()}}
out["insecure"] = client.get("/api/doc/").status_code
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def production_responses(tmp_path_factory):
    env = {
        **STRONG, "ALLOWED_HOSTS": "testserver", "API_DOCS_PUBLIC": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings", "STATIC_ROOT": str(tmp_path_factory.mktemp("static")),
    }
    collected = run(["manage.py", "collectstatic", "--noinput", "-v", "0"], ENVIRONMENT="PRODUCTION", **env)
    assert collected.returncode == 0, collected.stderr
    result = run(PROBE, ENVIRONMENT="PRODUCTION", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", ["/admin/login/", "/api/doc/"])
def test_production_pages_carry_security_headers(production_responses, path):
    response = production_responses[path]
    assert response["status"] == 200
    headers = response["headers"]
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]


def test_production_cookies_are_secure_and_http_only(production_responses):
    csrf = production_responses["/admin/login/"]["cookies"]["csrftoken"]
    assert csrf["secure"] is True and csrf["httponly"] is True


def test_production_redirects_plain_http_to_https(production_responses):
    assert production_responses["insecure"] == 301


def test_production_health_is_reachable_over_plain_http(production_responses):
    # Load balancers probe over plain HTTP inside the network: no redirect for /health/.
    assert production_responses["/health/live"]["status"] == 200


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"])
def test_cors_allows_only_listed_origins(api):
    allowed = api.get("/api/auth/me/", HTTP_ORIGIN="https://app.example.com")
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "X-Request-ID" in allowed["Access-Control-Expose-Headers"]
    other = api.get("/api/auth/me/", HTTP_ORIGIN="https://evil.example.net")
    assert "Access-Control-Allow-Origin" not in other
    preflight = api.options(
        "/api/auth/me/", HTTP_ORIGIN="https://app.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-api-key",
    )
    assert preflight.status_code == 200 and "x-api-key" in preflight["Access-Control-Allow-Headers"]
