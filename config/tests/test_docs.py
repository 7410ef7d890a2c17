"""OpenAPI schema, Swagger UI and Redoc: valid, self-hosted, both security schemes."""

import re

import pytest
import yaml
from drf_spectacular.settings import spectacular_settings
from openapi_spec_validator import validate

from config.tests.test_settings import STRONG, run

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return spectacular_settings.DEFAULT_GENERATOR_CLASS().get_schema(request=None, public=True)


def test_schema_validates_and_declares_both_security_schemes(schema):
    validate(schema)
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["jwtAuth"]["scheme"] == "bearer"


def test_schema_endpoint_serves_yaml(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


@pytest.mark.parametrize("path", ["/api/doc/", "/api/redoc/"])
def test_doc_pages_load_only_our_own_assets(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    links = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
    external = [url for url in links if url.startswith(("http:", "https:", "//"))]
    assert external == []
    assert "/static/drf_spectacular_sidecar/" in html


def test_sidecar_assets_are_served(client):
    html = client.get("/api/doc/").content.decode()
    asset = re.search(r"""src=["'](/static/drf_spectacular_sidecar/[^"']+\.js)""", html).group(1)
    response = client.get(asset)
    assert response.status_code == 200


@pytest.mark.parametrize(("public", "expected"), [("", 403), ("true", 200)])
def test_docs_are_staff_only_in_production_unless_public(public, expected):
    code = (
        "import django; django.setup(); from django.test import Client; "
        "print(Client().get('/api/schema/', secure=True).status_code)"
    )
    env = {**STRONG, "ALLOWED_HOSTS": "testserver", "API_DOCS_PUBLIC": public}
    result = run(code, ENVIRONMENT="PRODUCTION", DJANGO_SETTINGS_MODULE="config.settings", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(expected)


def test_committed_schema_is_current(tmp_path):
    from pathlib import Path

    from django.core.management import call_command

    fresh = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(fresh))
    committed = Path(__file__).resolve().parents[2] / "dist" / "openapi.yaml"
    assert committed.exists(), "run `make dist`"
    assert fresh.read_text() == committed.read_text(), "dist/openapi.yaml is stale: run `make dist`"

