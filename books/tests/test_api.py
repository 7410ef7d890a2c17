"""/api/books/: create, read, update, archive and restore, errors, filters and permissions."""

import pytest
from bson import ObjectId

from books.models import Book
from books.tests.conftest import ISBN13_DIGITS, VALID_ISBN13, mongo_db
from books.tests.factories import BookFactory, make_isbn13

URL = "/api/books/"


def detail(book_id):
    return f"{URL}{book_id}/"


@mongo_db
def test_create_read_update_with_isbn10_and_isbn13_input(api, book_payload):
    response = api.post(URL, book_payload(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == body["url"] == f"http://testserver/api/books/{body['id']}/"
    assert ObjectId.is_valid(body["id"])
    assert body["isbn"] == ISBN13_DIGITS and body["isbn10"] == "0306406152"
    assert body["authors"] == ["Harold Abelson", "Gerald Jay Sussman"]
    assert body["tags"] == ["programming", "lisp"]
    assert body["language"] == "en" and body["published_date"] == "1996-07"
    assert body["archived_at"] is None

    stored = Book.objects.get(pk=ObjectId(body["id"]))
    assert (stored.published_date.isoformat(), stored.published_date_precision) == ("1996-07-01", "month")

    assert api.get(response["Location"]).json() == body

    second = api.post(URL, book_payload(isbn="979-10-90636-07-1", published_date="2004"), format="json")
    assert second.status_code == 201, second.content
    assert second.json()["isbn"] == "9791090636071" and second.json()["isbn10"] is None

    patched = api.patch(detail(body["id"]), {"title": "SICP", "published_date": "1996-07-25"}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["title"] == "SICP" and patched.json()["published_date"] == "1996-07-25"
    assert patched.json()["authors"] == body["authors"]

    replaced = api.put(
        detail(body["id"]),
        {"title": "SICP", "authors": ["Abelson"], "isbn": VALID_ISBN13, "published_date": None},
        format="json",
    )
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["authors"] == ["Abelson"] and replaced.json()["published_date"] is None
    assert Book.objects.get(pk=ObjectId(body["id"])).published_date_precision == ""


INVALID_INPUT = [
    ({"isbn": "978-0-306-40615-8"}, "isbn", "invalid_check_digit"),
    ({"isbn": "0-306-40615-3"}, "isbn", "invalid_check_digit"),
    ({"isbn": "12345"}, "isbn", "invalid_length"),
    ({"isbn": ""}, "isbn", None),
    ({"authors": []}, "authors", None),
    ({"authors": ["  "]}, "authors", "required"),  # blank names are dropped, as every door does
    ({"authors": "Jane Doe"}, "authors", None),
    ({"title": ""}, "title", None),
    ({"published_date": "1996-13"}, "published_date", "invalid_date"),
    ({"published_date": 1996}, "published_date", None),
    ({"language": "xx"}, "language", "invalid_language"),
    ({"page_count": 0}, "page_count", None),
    ({"tags": ["x" * 51]}, "tags.0", None),
]


@mongo_db
def test_invalid_input_is_400_naming_the_field_and_writes_nothing(api, book_payload):
    for overrides, field, code in INVALID_INPUT:
        response = api.post(URL, book_payload(**overrides), format="json")
        assert response.status_code == 400, (overrides, response.content)
        body = response.json()
        assert body["field"] == field, (overrides, body)
        assert body["type"] == "validation_error"
        if code:
            assert body["code"] == code, body
    assert not Book.objects.exists()
    book = BookFactory()
    response = api.patch(detail(book.pk), {"isbn": "978-0-306-40615-8"}, format="json")
    assert response.status_code == 400 and response.json()["field"] == "isbn"
    book.refresh_from_db()
    assert book.isbn != ISBN13_DIGITS


@mongo_db
def test_duplicate_isbn_is_409_with_the_existing_book(api, book_payload, monkeypatch):
    first = api.post(URL, book_payload(), format="json").json()

    again = api.post(URL, book_payload(isbn=VALID_ISBN13), format="json")  # the same book as ISBN-13
    assert again.status_code == 409
    assert again.json()["field"] == "isbn"
    assert [error["field"] for error in again.json()["errors"]] == ["isbn"]  # the same field in both
    assert again.json()["existing_url"] == first["url"]

    other = api.post(URL, book_payload(isbn=make_isbn13(1)), format="json").json()
    clash = api.patch(detail(other["id"]), {"isbn": ISBN13_DIGITS}, format="json")
    assert clash.status_code == 409 and clash.json()["existing_url"] == first["url"]

    # A concurrent insert passes the pre-check; the unique index still answers 409, not 500.
    monkeypatch.setattr("books.services._ensure_isbn_free", lambda **kwargs: None)
    raced = api.post(URL, book_payload(), format="json")
    assert raced.status_code == 409 and raced.json()["existing_url"] == first["url"]

    # An archived holder of the ISBN is named too, so the caller can restore it.
    api.delete(first["url"])
    archived = api.post(URL, book_payload(), format="json")
    assert archived.status_code == 409 and archived.json()["existing_archived"] is True
    assert Book.objects.count() == 2


@mongo_db
def test_ids_that_are_not_object_ids_are_404_json(api):
    book = BookFactory()
    unknown = str(ObjectId())
    for book_id in ("not-an-id", "123", "zzzzzzzzzzzzzzzzzzzzzzzz", unknown, f"{book.pk}x"):
        for method, suffix in (
            ("get", ""),
            ("patch", ""),
            ("put", ""),
            ("delete", ""),
            ("post", "restore/"),
            ("get", "history/"),
        ):
            response = getattr(api, method)(f"{detail(book_id)}{suffix}", {}, format="json")
            assert response.status_code == 404, (method, book_id, response.content)
            assert response.json()["code"] == "not_found"


@mongo_db
def test_delete_archives_and_restore_brings_back(api):
    book, other = BookFactory(title="Kept"), BookFactory(title="Other")

    assert api.delete(detail(book.pk)).status_code == 204
    assert api.get(detail(book.pk)).status_code == 404
    assert api.delete(detail(book.pk)).status_code == 404
    assert api.patch(detail(book.pk), {"title": "x"}, format="json").status_code == 404
    assert [b["id"] for b in api.get(URL).json()["results"]] == [str(other.pk)]
    listed = api.get(URL, {"include_archived": "true"}).json()["results"]
    assert {b["id"] for b in listed} == {str(book.pk), str(other.pk)}
    assert next(b for b in listed if b["id"] == str(book.pk))["archived_at"] is not None
    assert Book.objects.filter(pk=book.pk).exists()

    restored = api.post(f"{detail(book.pk)}restore/")
    assert restored.status_code == 200 and restored.json()["archived_at"] is None
    assert api.get(detail(book.pk)).status_code == 200
    assert api.post(f"{detail(book.pk)}restore/").status_code == 200  # restoring twice is harmless
    assert len(api.get(URL).json()["results"]) == 2


@mongo_db
def test_list_filters_ordering_and_pagination(api):
    BookFactory(
        title="Dune",
        authors=["Frank Herbert"],
        tags=["sf"],
        language="en",
        published_date="1965-08-01",
        published_date_precision="month",
        isbn=make_isbn13(11),
    )
    BookFactory(
        title="Solaris",
        authors=["Stanisław Lem"],
        tags=["sf", "classic"],
        language="pl",
        published_date="1961-01-01",
        published_date_precision="year",
        isbn="9780156027601",
    )
    BookFactory(
        title="C++ [Primer] (5th)",
        subtitle="A .* guide",
        authors=["Stanley B. Lippman", "J. Lajoie"],
        tags=["c++"],
        language="en",
        published_date="2012-08-06",
        published_date_precision="day",
        isbn=make_isbn13(13),
    )
    BookFactory(title="Emma", authors=["Jane Austen"], language="en", isbn=make_isbn13(14))

    def titles(**params):
        response = api.get(URL, params)
        assert response.status_code == 200, (params, response.content)
        return sorted(b["title"] for b in response.json()["results"])

    assert titles(author="frank HERBERT") == ["Dune"]
    assert titles(author="Frank") == []  # the whole name, not a part of it
    assert titles(tag="SF") == ["Dune", "Solaris"]
    assert titles(tag="c++") == ["C++ [Primer] (5th)"]
    assert titles(language="pl") == ["Solaris"]
    assert titles(isbn="0-15-602760-7") == ["Solaris"]  # its ISBN-10 form
    assert titles(published_after="1965") == ["C++ [Primer] (5th)", "Dune"]
    assert titles(published_after="1965-09") == ["C++ [Primer] (5th)"]
    assert titles(published_before="1965-08") == ["Dune", "Solaris"]
    assert titles(published_before="1961", published_after="1961") == ["Solaris"]
    assert titles(search="sola") == ["Solaris"]
    assert titles(search="lippman") == ["C++ [Primer] (5th)"]
    assert titles(search="guide") == ["C++ [Primer] (5th)"]

    # Regex characters match literally and never cause a 500.
    assert titles(search="[Primer]") == ["C++ [Primer] (5th)"]
    assert titles(search="(5th") == ["C++ [Primer] (5th)"]
    assert titles(search=".*") == ["C++ [Primer] (5th)"]
    assert titles(search="[") == ["C++ [Primer] (5th)"]
    assert titles(author="J. Lajoie") == ["C++ [Primer] (5th)"]
    assert titles(author="J.xLajoie") == []
    for value in ("[", "(", ".*", "a|b", "\\", "*", "?"):
        assert titles(author=value) == []
        assert titles(tag=value) == []

    ordered = api.get(URL, {"ordering": "published_date"}).json()["results"]
    assert [b["title"] for b in ordered] == ["Emma", "Solaris", "Dune", "C++ [Primer] (5th)"]
    ordered = api.get(URL, {"ordering": "-title"}).json()["results"]
    assert [b["title"] for b in ordered] == ["Solaris", "Emma", "Dune", "C++ [Primer] (5th)"]

    first = api.get(URL, {"ordering": "title", "page_size": 3}).json()
    second = api.get(first["next"]).json()
    assert "count" not in first and len(first["results"]) == 3 and second["next"] is None
    assert [b["title"] for b in first["results"] + second["results"]] == [
        "C++ [Primer] (5th)",
        "Dune",
        "Emma",
        "Solaris",
    ]

    for params, field in (
        ({"published_after": "someday"}, "published_after"),
        ({"isbn": "123"}, "isbn"),
        ({"language": "zz"}, "language"),
        ({"ordering": "isbn"}, "ordering"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "x"}, "page_size"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ):
        response = api.get(URL, params)
        assert response.status_code == 400, (params, response.content)
        assert response.json()["field"] == field


@mongo_db
def test_permissions(api, read_only_api, jwt_client, client_anon, book_payload):
    book = BookFactory()
    assert client_anon.get(URL).status_code == 401
    assert read_only_api.get(URL).status_code == 200
    refused = read_only_api.post(URL, book_payload(), format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "read_only_key"
    assert read_only_api.delete(detail(book.pk)).status_code == 403

    reader = jwt_client("reader")
    assert reader.get(detail(book.pk)).status_code == 200
    assert reader.post(URL, book_payload(), format="json").status_code == 403
    assert reader.patch(detail(book.pk), {"title": "x"}, format="json").status_code == 403
    assert reader.delete(detail(book.pk)).status_code == 403

    adder = jwt_client("adder", perms=["books.add_book"])
    created = adder.post(URL, book_payload(), format="json")
    assert created.status_code == 201, created.content
    assert adder.patch(created["Location"], {"title": "x"}, format="json").status_code == 403

    editor = jwt_client("editor", perms=["books.change_book", "books.delete_book"])
    assert editor.patch(created["Location"], {"title": "x"}, format="json").status_code == 200
    assert editor.delete(created["Location"]).status_code == 204
    assert editor.post(f"{created['Location']}restore/").status_code == 403  # POST also needs add
    assert adder.post(f"{created['Location']}restore/").status_code == 403  # restore needs change
    keeper = jwt_client("keeper", perms=["books.add_book", "books.change_book"])
    assert keeper.post(f"{created['Location']}restore/").status_code == 200
    assert Book.objects.get(isbn=ISBN13_DIGITS).title == "x"


@mongo_db
def test_parallel_patches_of_different_fields_all_land_and_each_version_shows_its_own(api_key, book_payload):
    from concurrent.futures import ThreadPoolExecutor

    from rest_framework.test import APIClient

    book = APIClient(HTTP_X_API_KEY=api_key).post(URL, book_payload(), format="json").json()
    changes = {
        "title": "Título Novo",
        "subtitle": "Um subtítulo",
        "publisher": "Editora Paralela",
        "description": "Escrita ao mesmo tempo",
        "page_count": 321,
        "language": "pt",
        "tags": ["paralelo"],
        "authors": ["Autora Um", "Autor Dois"],
    }

    def patch(item):
        client = APIClient(HTTP_X_API_KEY=api_key)
        return client.patch(detail(book["id"]), dict([item]), format="json").status_code

    with ThreadPoolExecutor(max_workers=len(changes)) as pool:
        assert list(pool.map(patch, changes.items())) == [200] * len(changes)
    stored = Book.objects.get(pk=ObjectId(book["id"]))
    assert {name: getattr(stored, name) for name in changes} == changes  # no change lost
    history = APIClient(HTTP_X_API_KEY=api_key).get(f"{detail(book['id'])}history/").json()
    versions = history["results"]
    changed = sorted(tuple(c["field"] for c in v["changes"]) for v in versions if v["changes"])
    assert changed == sorted((name,) for name in changes)  # each write is credited with its own field


@mongo_db
@pytest.mark.parametrize(
    "value, archived_listed", [("true", True), ("1", True), ("TRUE", True), ("0", False), ("false", False)]
)
def test_include_archived_takes_true_false_1_0(api, book_payload, value, archived_listed):
    book = api.post(URL, book_payload(), format="json").json()
    assert api.delete(detail(book["id"])).status_code == 204
    response = api.get(URL, {"include_archived": value})
    assert response.status_code == 200
    assert (book["id"] in {b["id"] for b in response.json()["results"]}) is archived_listed


@mongo_db
@pytest.mark.parametrize("params", [{"include_archived": "yes"}, {"include_archived": "True!"}, {"foo": "1"}])
def test_a_bad_boolean_or_unknown_query_parameter_is_400(api, params):
    response = api.get(URL, params)
    assert response.status_code == 400 and response.json()["field"] == next(iter(params))


@mongo_db
def test_an_archived_book_is_readable_with_include_archived_and_the_409_points_there(api, book_payload):
    book = api.post(URL, book_payload(), format="json").json()
    assert api.delete(detail(book["id"])).status_code == 204
    assert api.get(detail(book["id"])).status_code == 404
    archived = api.get(detail(book["id"]), {"include_archived": "true"})
    assert archived.status_code == 200 and archived.json()["archived_at"]
    again = api.post(URL, book_payload(), format="json")
    assert again.status_code == 409 and again.json()["existing_archived"] is True
    assert api.get(again.json()["existing_url"]).json()["id"] == book["id"]
    assert api.get(detail(book["id"]), {"include_archived": "maybe"}).status_code == 400


@mongo_db
@pytest.mark.parametrize(
    "extra, field, code",
    [({"foo": 1}, "foo", "unknown"), ({"archived_at": "2020-01-01T00:00:00Z"}, "archived_at", "read_only"),
     ({"id": "0" * 24}, "id", "read_only")],
)
def test_unknown_or_read_only_body_fields_are_400(api, book_payload, extra, field, code):
    created = api.post(URL, {**book_payload(), **extra}, format="json")
    assert created.status_code == 400 and created.json()["field"] == field and created.json()["code"] == code
    book = api.post(URL, book_payload(), format="json").json()
    changed = api.patch(detail(book["id"]), extra, format="json")
    assert changed.status_code == 400 and changed.json()["field"] == field


@mongo_db
def test_put_back_what_was_read_is_accepted_and_put_replaces(api, book_payload):
    book = api.post(URL, book_payload(subtitle="Sub", publisher="Editora", tags=["a"]), format="json").json()
    assert api.put(detail(book["id"]), book, format="json").status_code == 200  # read-only values repeated
    replaced = api.put(detail(book["id"]), {"title": "Só", "authors": ["Um"], "isbn": book["isbn"]}, format="json")
    assert replaced.status_code == 200, replaced.content
    body = replaced.json()
    assert (body["title"], body["subtitle"], body["publisher"], body["tags"]) == ("Só", "", "", [])
