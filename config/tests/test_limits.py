"""Input limits across the API: long strings, page sizes, bodies, content types."""

import json

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db(databases=["default", "mongo"])


def test_very_long_strings_are_refused_by_field_limits(api):
    company = api.post("/api/companies/", {"cnpj": "11222333000181", "legal_name": "x" * 10_000, "enrich": False})
    assert company.status_code == 400 and company.json()["field"] == "legal_name"
    book = api.post("/api/books/", {"title": "t" * 10_000, "authors": ["A"], "isbn": "9788535902778"})
    assert book.status_code == 400 and book.json()["field"] == "title"


def test_page_size_is_capped(api):
    response = api.get("/api/companies/?page_size=100000")
    assert response.status_code == 400 and response.json()["field"] == "page_size"


@override_settings(MAX_REQUEST_BODY_BYTES=4096)
def test_oversized_json_body_is_413_and_nothing_is_stored(api):
    payload = json.dumps({"cnpj": "11222333000181", "legal_name": "y" * 8000, "enrich": False})
    response = api.post("/api/companies/", data=payload, content_type="application/json")
    assert response.status_code == 413 and response.json()["code"] == "request_too_large"
    assert api.get("/api/companies/11222333000181/").status_code == 404


def test_malformed_json_and_wrong_content_type(api):
    malformed = api.post("/api/companies/", data='{"cnpj": ', content_type="application/json")
    assert malformed.status_code == 400 and malformed.json()["code"] == "parse_error"
    wrong_type = api.post("/api/companies/", data="cnpj=1", content_type="text/plain")
    assert wrong_type.status_code == 415
