"""Every request body and every 2xx JSON answer in the schema has an example, each example is
valid against its schema, and the request examples are accepted by the API itself."""

import copy

import pytest
from drf_spectacular.settings import spectacular_settings
from openapi_schema_validator import OAS30Validator

from config.schema import _examples


@pytest.fixture(scope="module")
def schema():
    return spectacular_settings.DEFAULT_GENERATOR_CLASS().get_schema(request=None, public=True)


def _resolve(node, components, depth=0):
    """The schema with every $ref replaced by its component (our components are not recursive)."""
    assert depth < 30, "recursive schema"
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return _resolve(copy.deepcopy(components[name]), components, depth + 1)
        return {key: _resolve(value, components, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, components, depth + 1) for item in node]
    return node


def _bodies(schema):
    """(where, media) for every request body and every 2xx JSON answer."""
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for content_type, media in (operation.get("requestBody") or {}).get("content", {}).items():
                yield f"{method.upper()} {path} request {content_type}", media
            for status, response in operation.get("responses", {}).items():
                if str(status).startswith("2") and (media := (response.get("content") or {}).get("application/json")):
                    yield f"{method.upper()} {path} {status}", media


def test_every_body_and_success_answer_has_a_valid_example(schema):
    components = schema["components"]["schemas"]
    checked = 0
    for where, media in _bodies(schema):
        assert media.get("examples"), f"{where}: no example"
        resolved = _resolve(media["schema"], components)
        for name, example in media["examples"].items():
            errors = sorted(OAS30Validator(resolved).iter_errors(example["value"]), key=str)
            assert not errors, f"{where} example {name}: {errors[0].message} at {list(errors[0].path)}"
            checked += 1
    assert checked >= 40


def test_no_example_is_left_unused(schema):
    used = {
        (media["schema"].get("$ref", "").rsplit("/", 1)[-1])
        for _, media in _bodies(schema)
    }
    examples = _examples()
    assert set(examples["requests"]) | set(examples["responses"]) <= used


@pytest.mark.django_db(databases=["default", "mongo"])
def test_the_request_examples_are_accepted_by_the_api(api):
    requests = _examples()["requests"]
    created = api.post("/api/companies/", {**requests["CompanyCreateRequest"], "enrich": False})
    assert created.status_code == 201, created.content
    url = f"/api/companies/{created.json()['cnpj']}/"
    assert api.put(url, requests["CompanyUpdateRequest"]).status_code == 200
    assert api.patch(url, requests["PatchedCompanyUpdateRequest"]).status_code == 200
    book = api.post("/api/books/", requests["BookRequest"])
    assert book.status_code == 201, book.content
    assert api.patch(f"/api/books/{book.json()['id']}/", requests["PatchedBookRequest"]).status_code == 200
    assert api.put(f"/api/books/{book.json()['id']}/", requests["BookRequest"]).status_code == 200
