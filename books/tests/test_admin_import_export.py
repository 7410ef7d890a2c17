"""The books admin's import (through books.imports, as a task) and export (CSV, XLSX) on MongoDB."""

import csv
import io
import json
import re

import pytest
from celery import current_app as celery_app
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from books.models import Book
from books.tests.conftest import mongo_db
from books.tests.factories import BookFactory, make_isbn13
from tasks.models import ImportJob

CHANGELIST = reverse("admin:books_book_changelist")
IMPORT = reverse("admin:books_book_import")
EXPORT = reverse("admin:books_book_export")

pytestmark = pytest.mark.usefixtures("in_english")


@pytest.fixture
def eager():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def upload(client, text: str, name: str):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, text.encode(), content_type="text/plain")})


@mongo_db
def test_a_json_lines_upload_is_upserted_by_isbn_and_reported(admin_client, admin_user, eager):
    BookFactory(title="Dune", authors=["Frank Herbert"], isbn=make_isbn13(1))
    lines = [
        {"title": "Dune", "authors": ["Frank Herbert"], "isbn": make_isbn13(1), "page_count": 412},  # updated
        {"title": "Emma", "authors": ["Jane Austen"], "isbn": make_isbn13(2)},  # created
        {"title": "No ISBN", "authors": ["Nobody"], "isbn": "123"},  # line 3: invalid
        {"title": "Emma again", "authors": ["Jane Austen"], "isbn": make_isbn13(2)},  # line 4: repeated
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"  # line 5: invalid
    response = upload(admin_client, text, "books.jsonl")
    assert response.status_code == 302, response.content
    job = ImportJob.objects.get()
    assert (job.target, job.rows_total) == ("books.book", 5)

    page = admin_client.get(response["Location"])
    assert 'id="import-report"' in page.content.decode()
    figures = dict(page.context["figures"])
    assert (figures["Created"], figures["Updated"], figures["Repeated in the file"], figures["Invalid"]) == (1, 1, 1, 2)
    assert [row["line"] for row in page.context["errors"]] == [3, 4, 5]
    assert Book.objects.get(isbn=make_isbn13(1)).page_count == 412
    emma = Book.objects.get(isbn=make_isbn13(2))
    assert emma.title == "Emma"
    assert emma.history.get().history_actor == f"user:{admin_user.username}"
    rows = list(csv.reader(io.StringIO(admin_client.get(page.context["errors_url"]).content.decode())))
    assert [row[0] for row in rows[1:]] == ["3", "4", "5"]


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        ("title,authors,isbn,autor\nEmma,Jane Austen,9780000000022,x\n", "books.csv", "Unknown column(s): autor"),
        ('{"title": "Emma", "authors": ["A"], "isbn": "9780000000022", "pages": 3}\n', "books.jsonl",
         "Unknown column(s): pages"),
        ("title,isbn\nEmma,9780000000022\n", "books.csv", "lacks the column(s) authors"),
    ],
)
@mongo_db
def test_a_book_file_that_cannot_be_imported_is_refused_with_nothing_written(admin_client, text, name, message):
    response = upload(admin_client, text, name)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["file"])
    assert not ImportJob.objects.exists() and not Book.objects.exists()


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@mongo_db
def test_the_book_export_is_the_change_list_as_filtered_and_searched(admin_client):
    from openpyxl import load_workbook

    BookFactory(title="Solaris", authors=["Stanisław Lem"], language="pl", tags=["sf", "classic"])
    BookFactory(title="Fiasko", authors=["Stanisław Lem"], language="pl")
    BookFactory(title="Emma", authors=["Jane Austen"], language="en")
    BookFactory(title="Lalka", authors=["Bolesław Prus"], language="pl")
    query = {"language": "pl", "q": "Lem"}
    changelist = admin_client.get(CHANGELIST, query)
    expected = [book.title for book in changelist.context["cl"].result_list]
    assert sorted(expected) == ["Fiasko", "Solaris"]
    link = re.search(r'href="([^"]+)" id="export-csv"', changelist.content.decode()).group(1).replace("&amp;", "&")

    rows = _csv_rows(admin_client.get(link))
    assert rows[0][:4] == ["Title", "Subtitle", "Authors", "ISBN"]
    assert [row[0] for row in rows[1:]] == expected  # the list's own order
    solaris = next(row for row in rows if row[0] == "Solaris")
    assert (solaris[2], solaris[8]) == ("Stanisław Lem", "sf; classic")

    response = admin_client.get(EXPORT, {**query, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [row[0].value for row in sheet.iter_rows()][1:] == expected


@mongo_db
def test_a_viewer_exports_but_does_not_import(make_user, client):
    user = make_user(username="reader", is_staff=True, perms=["books.view_book"])
    client.force_login(user)
    page = client.get(CHANGELIST).content.decode()
    assert 'id="export-csv"' in page and 'id="import-file"' not in page
    assert client.get(IMPORT).status_code == 403
    assert client.get(EXPORT, {"format": "csv"}).status_code == 200
