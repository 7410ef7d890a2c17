"""Conditional requests on company and book details: ETag, If-None-Match (304), If-Match (412 on a
stale version, so a lost update is refused), including two writers racing with the same ETag."""

import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from companies.services import company_create

CNPJ = "11222333000181"
BOOK = {"title": "Vidas Secas", "authors": ["Graciliano Ramos"], "isbn": "9788501067203"}


def company_url(api):
    company_create(cnpj=CNPJ, legal_name="Versões Ltda", enrich=False)
    return f"/api/companies/{CNPJ}/"


def book_url(api):
    created = api.post("/api/books/", BOOK)
    assert created.status_code == 201, created.content
    return f"/api/books/{created.json()['id']}/"


RESOURCES = [
    pytest.param(company_url, {"trade_name": "Primeira"}, {"trade_name": "Segunda"}, id="company"),
    pytest.param(book_url, {"subtitle": "Primeira"}, {"subtitle": "Segunda"}, id="book"),
]


@pytest.mark.django_db(databases=["default", "mongo"])
@pytest.mark.parametrize(("make", "first", "second"), RESOURCES)
def test_etag_and_if_none_match(api, make, first, second):
    url = make(api)
    response = api.get(url)
    etag = response["ETag"]
    assert response.status_code == 200 and etag.startswith('"') and not etag.startswith('W/')
    assert api.get(url)["ETag"] == etag  # stable while nothing changes (cached or not)
    unchanged = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged["ETag"] == etag
    assert not unchanged.has_header("Content-Type")
    assert api.get(url, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    assert api.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200
    changed = api.patch(url, first)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert api.get(url)["ETag"] == changed["ETag"]  # the write's ETag is the next read's


@pytest.mark.django_db(databases=["default", "mongo"])
@pytest.mark.parametrize(("make", "first", "second"), RESOURCES)
def test_if_match_refuses_an_update_based_on_a_stale_version(api, make, first, second):
    url = make(api)
    original = api.get(url)
    version = original["ETag"]
    updated = api.patch(url, first, HTTP_IF_MATCH=version)
    assert updated.status_code == 200, updated.content
    # A second update based on the first version: refused, nothing written.
    stale = api.patch(url, second, HTTP_IF_MATCH=version)
    assert stale.status_code == 412
    body = stale.json()
    assert body["code"] == "precondition_failed" and "If-Match" in body["message"]
    field, value = next(iter(first.items()))
    assert api.get(url).json()[field] == value
    # PUT too; and `*` or the current ETag go through.
    assert api.put(url, {**api.get(url).json(), **second}, HTTP_IF_MATCH=version).status_code == 412
    assert api.patch(url, second, HTTP_IF_MATCH="*").status_code == 200
    current = api.get(url)["ETag"]
    assert api.patch(url, first, HTTP_IF_MATCH=f'"nope", {current}').status_code == 200
    assert api.patch(url, second, HTTP_IF_MATCH=f"W/{api.get(url)['ETag']}").status_code == 412  # weak never
    # An If-Match sent empty (an unset variable in a client) names no version: refused too.
    assert api.patch(url, second, HTTP_IF_MATCH="").status_code == 412
    # Without If-Match, writes are unconditional as before.
    assert api.patch(url, second).status_code == 200


@pytest.mark.django_db(transaction=True, databases=["default", "mongo"])
@pytest.mark.parametrize(("make", "first", "second"), RESOURCES)
def test_two_writers_with_the_same_etag_only_one_lands(api_key, make, first, second):
    api = APIClient()
    api.credentials(HTTP_X_API_KEY=api_key)
    url = make(api)
    version = api.get(url)["ETag"]
    statuses = []
    barrier = threading.Barrier(2)

    def write(change):
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=api_key)
        barrier.wait()
        try:
            statuses.append(client.patch(url, change, HTTP_IF_MATCH=version).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(change,)) for change in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 412]


def test_archiving_a_book_honours_if_match(api):
    url = book_url(api)
    version = api.get(url)["ETag"]
    assert api.patch(url, {"subtitle": "1938"}, HTTP_IF_MATCH=version).status_code == 200
    stale = api.delete(url, HTTP_IF_MATCH=version)
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    assert api.get(url).status_code == 200  # still in the catalogue
    assert api.delete(url, HTTP_IF_MATCH=api.get(url)["ETag"]).status_code == 204
    assert api.get(url).status_code == 404
