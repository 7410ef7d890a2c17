"""The three front doors agree: the same raw value sent through the API, the admin form and the
import is stored the same, or refused by all three naming the same field."""

import csv
import datetime
import io

import pytest
from django.urls import reverse

from books.imports import book_import
from books.models import Book
from books.tests.conftest import mongo_db
from books.tests.test_admin import form_data

pytestmark = mongo_db
REFUSED = object()
ISBN = "9780441172719"
VALID = {"title": "Dune", "authors": ["Frank Herbert"], "isbn": "0-441-17271-7"}

# (field, what is sent, what is stored or REFUSED); the stored value of `published` is
# (published_date, published_date_precision).
CASES = [
    ("isbn", "978-0-441-17271-9", ISBN),
    ("isbn", "0441172717", ISBN),
    ("isbn", " 0-441-17271-7 ", ISBN),
    ("isbn", "978-0-441-17271-8", REFUSED),
    ("isbn", "12345", REFUSED),
    ("language", "PT", "pt"),
    ("language", " en ", "en"),
    ("language", "pt-BR", REFUSED),
    ("language", "xx", REFUSED),
    ("published", "1965-08", (datetime.date(1965, 8, 1), "month")),
    ("published", "1965", (datetime.date(1965, 1, 1), "year")),
    ("published", "1965-8-2", (datetime.date(1965, 8, 2), "day")),
    ("published", "1965-13", REFUSED),
    ("published", "08/1965", REFUSED),
    ("authors", ["  Frank Herbert ", "Frank Herbert", " ", "Brian Herbert"], ["Frank Herbert", "Brian Herbert"]),
    ("authors", [" "], REFUSED),
    ("authors", ["x" * 201], REFUSED),
    ("tags", ["SF", " sf ", "Classic"], ["sf", "classic"]),
    ("tags", ["x" * 51], REFUSED),
    ("title", "  Dune  ", "Dune"),
    ("page_count", "412", 412),
    ("page_count", "0", REFUSED),
    ("page_count", "many", REFUSED),
]
API_NAMES = {"published": "published_date"}


def _stored(book: Book, field: str):
    if field == "published":
        return book.published_date, book.published_date_precision
    return getattr(book, field)


def _api_value(field, sent):
    return int(sent) if field == "page_count" and sent.isdigit() else sent


def _cell(sent):
    return ";".join(sent) if isinstance(sent, list) else sent


@pytest.mark.parametrize(("field", "sent", "stored"), CASES)
def test_api_admin_and_import_store_or_refuse_alike(api, admin_client, field, sent, stored):
    name = API_NAMES.get(field, field)
    expected_isbn = stored if field == "isbn" and stored is not REFUSED else ISBN

    response = api.post("/api/books/", {**VALID, name: _api_value(field, sent)}, format="json")
    if stored is REFUSED:
        assert response.status_code == 400 and response.json()["field"].split(".")[0] == name, response.content
    else:
        assert response.status_code == 201, response.content
        assert _stored(Book.objects.get(isbn=expected_isbn), field) == stored
    Book.objects.all().delete()  # books are archived in the product; a test may clear its own rows

    response = admin_client.post(reverse("admin:books_book_add"), form_data(**{field: _cell(sent)}))
    if stored is REFUSED:
        assert response.status_code == 200 and field in response.context["adminform"].form.errors
    else:
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert _stored(Book.objects.get(isbn=expected_isbn), field) == stored
    Book.objects.all().delete()

    row = {"title": "Dune", "authors": "Frank Herbert", "isbn": "0-441-17271-7", name: _cell(sent)}
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(row))
    writer.writeheader()
    writer.writerow(row)
    summary = book_import(source=text.getvalue(), filename="books.csv")
    if stored is REFUSED:
        assert summary.invalid == 1 and summary.errors[0].reason.startswith(f"{name}:"), summary.errors
    else:
        assert summary.created == 1, summary.errors
        assert _stored(Book.objects.get(isbn=expected_isbn), field) == stored
