"""`manage.py import_books` and POST /api/books/import/: one import service, two front doors."""

import io
import json

import pytest
from bson import ObjectId
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import translation
from django_celery_results.models import TaskResult

from books.imports import ImportFileError, book_import, detect_format
from books.models import Book
from books.tests.conftest import mongo_db

CSV_TEXT = """title,authors,isbn,published_date,language,page_count,tags,shelf
Dune,Frank Herbert,0-441-17271-7,1965-08,en,412,SF; classic,A1
Solaris,Stanisław Lem,978-0-15-602760-1,1961,pl,,sf,A2
Bad digit,Someone,978-0-306-40615-8,,en,,,A3
No author,,9780306406157,,en,,,A4
Bad date,Someone,9780306406157,1965-13,en,,,A5
"Lord of the Rings, The","Tolkien, J. R. R.",9780261103252,1954-07-29,en,1178,fantasy,A6
Dune,Frank Herbert,9780441172719,1965-08,en,896,sf,A7
Too,many,cells,here,en,1,x,y,z
Emma,Jane Austen,9780141439587,1815-12,en,0,,A9
"""

JSONL_TEXT = "\n".join(
    [
        json.dumps({"title": "Emma", "authors": ["Jane Austen"], "isbn": "978-0-14-143958-7", "language": "en"}),
        "",
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"title": "Persuasion", "authors": "Jane Austen", "isbn": "0141439688", "tags": ["Novel"]}),
        json.dumps({"title": "No isbn", "authors": ["X"]}),
    ]
)


class TerminalOutput(io.StringIO):
    def isatty(self):
        return True


def test_format_is_detected_by_extension_then_content():
    assert detect_format(filename="books.CSV") == "csv"
    assert detect_format(filename="books.jsonl") == "jsonl"
    assert detect_format(filename="upload.txt", first_line='{"title": "x"}') == "jsonl"
    assert detect_format(filename="upload", first_line="title,authors,isbn") == "csv"


@mongo_db
def test_command_imports_csv_reports_bad_rows_and_is_safe_to_run_twice(tmp_path):
    path = tmp_path / "books.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_books", str(path), stdout=stdout, stderr=stderr)

    errors = stderr.getvalue()
    assert "line 4: isbn: The ISBN check digit is wrong." in errors
    assert "line 5: authors: this field is required" in errors
    assert "line 6: published_date:" in errors
    assert "line 9: the row has 9 cells; the header has 8" in errors
    assert "line 10: page_count: Ensure this value is greater than or equal to 1." in errors
    assert "ignored columns: shelf" in errors
    assert "line 8: ISBN 9780441172719 already on line 2; skipped" in errors
    assert "9 rows, 3 created, 0 updated, 0 unchanged, 1 duplicate, 5 invalid" in stdout.getvalue()
    assert "\r" not in stdout.getvalue()  # progress only on a terminal

    dune = Book.objects.get(isbn="9780441172719")
    assert dune.tags == ["sf", "classic"] and str(dune.published) == "1965-08" and dune.page_count == 412
    assert [(h.history_type, h.history_actor) for h in dune.history.all()] == [("+", "command:import_books")]
    lotr = Book.objects.get(isbn="9780261103252")
    assert lotr.title == "Lord of the Rings, The" and lotr.authors == ["Tolkien, J. R. R."]
    solaris = Book.objects.get(isbn="9780156027601")
    assert solaris.published_date_precision == "year" and solaris.page_count is None

    stdout = io.StringIO()
    call_command("import_books", str(path), stdout=stdout, stderr=io.StringIO())
    assert "9 rows, 0 created, 0 updated, 3 unchanged, 1 duplicate, 5 invalid" in stdout.getvalue()
    assert Book.objects.count() == 3
    assert dune.history.count() == 1

    # A changed row updates only what the file carries; the book's other fields stay.
    solaris.description = "kept"
    solaris.save()
    path.write_text("title,authors,isbn\nSolaris (new ed.),Stanisław Lem,9780156027601\n", encoding="utf-8")
    call_command("import_books", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    solaris.refresh_from_db()
    assert (solaris.title, solaris.description, solaris.language) == ("Solaris (new ed.)", "kept", "pl")
    assert solaris.history.latest().history_actor == "command:import_books"


@mongo_db
def test_command_imports_json_lines_detected_by_content_and_refuses_bad_files(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text(JSONL_TEXT, encoding="utf-8")
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_books", str(path), stdout=stdout, stderr=stderr)
    assert "line 3: not valid JSON" in stderr.getvalue()
    assert "line 4: each line must be one JSON object" in stderr.getvalue()
    assert "line 6: isbn: this field is required" in stderr.getvalue()
    assert "(jsonl): 5 rows, 2 created, 0 updated, 0 unchanged, 0 duplicate, 3 invalid" in stdout.getvalue()
    assert Book.objects.get(isbn="9780141439686").tags == ["novel"]

    # On a terminal a progress bar shows as well (config/tests/test_progress.py runs it on one).
    terminal = TerminalOutput()
    call_command("import_books", str(path), stdout=terminal, stderr=io.StringIO())
    assert "(jsonl): 5 rows, 0 created, 0 updated, 2 unchanged, 0 duplicate, 3 invalid" in terminal.getvalue()

    missing_column = tmp_path / "bad.csv"
    missing_column.write_text("title,isbn\nDune,9780441172719\n", encoding="utf-8")
    with pytest.raises(CommandError, match="lacks the column"):
        call_command("import_books", str(missing_column), stdout=io.StringIO())
    with pytest.raises(CommandError, match="not a file"):
        call_command("import_books", str(tmp_path / "missing.csv"))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"title,authors,isbn\n\xff\xfe\n")
    with pytest.raises(CommandError, match="UTF-8"):
        call_command("import_books", str(binary), stdout=io.StringIO())
    with translation.override("en"), pytest.raises(ImportFileError, match="empty"):  # outside a command or request
        book_import(source="", filename="x.csv")


@pytest.fixture
def eager_celery():
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        from config.celery import app

        app.conf.task_always_eager = True
        try:
            yield app
        finally:
            app.conf.task_always_eager = False


@mongo_db
def test_api_import_runs_the_same_import_as_a_task(api, read_only_api, jwt_client, eager_celery):
    upload = SimpleUploadedFile("books.csv", CSV_TEXT.encode(), content_type="text/csv")
    response = api.post("/api/books/import/", {"file": upload}, format="multipart")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "SUCCESS"  # run eagerly here: done before the answer
    task_id = response.json()["task_id"]

    stored = TaskResult.objects.get(task_id=task_id)
    assert stored.status == "SUCCESS"
    summary = json.loads(stored.result)
    counts = ("rows", "created", "updated", "unchanged", "duplicates", "invalid")
    assert tuple(summary[name] for name in counts) == (9, 3, 0, 0, 1, 5)
    assert {"line": 4, "reason": "isbn: The ISBN check digit is wrong."} in summary["errors"]
    assert summary["requested_by"] == "api_key:test-service"
    dune = Book.objects.get(isbn="9780441172719")
    assert dune.history.earliest().history_actor == "task:import_books"

    again = api.post(
        "/api/books/import/", {"file": SimpleUploadedFile("b.csv", CSV_TEXT.encode())}, format="multipart"
    )
    summary = json.loads(TaskResult.objects.get(task_id=again.json()["task_id"]).result)
    assert tuple(summary[name] for name in counts) == (9, 0, 0, 3, 1, 5)
    assert Book.objects.count() == 3

    for client in (read_only_api, jwt_client("adder", perms=["books.add_book"])):
        refused = client.post("/api/books/import/", {"file": SimpleUploadedFile("b.csv", b"x")}, format="multipart")
        assert refused.status_code == 403

    for upload, field, status in (
        (None, "file", 400),
        (SimpleUploadedFile("b.csv", b"\xff\xfe"), "file", 400),
        (SimpleUploadedFile("b.csv", b"title,isbn\nDune,9780441172719\n"), "file", 400),
        (SimpleUploadedFile("b.jsonl", b"  \n"), "file", 400),
        (SimpleUploadedFile("b.csv", b"x" * 2048), "file", 413),
    ):
        with override_settings(BOOKS_IMPORT_MAX_BYTES=1024):
            response = api.post("/api/books/import/", {"file": upload} if upload else {}, format="multipart")
        assert response.status_code == status, response.content
        assert response.json()["field"] == field
    assert TaskResult.objects.count() == 2
    assert ObjectId.is_valid(str(dune.pk))


@mongo_db
def test_json_lines_are_validated_as_the_api_does_and_unknown_keys_reported(tmp_path):
    path = tmp_path / "books.jsonl"
    path.write_text(
        '{"title": "Dune", "authors": [1, {"a": 1}], "isbn": "9780441172719"}\n'
        '{"title": "Emma", "authors": ["Jane Austen"], "isbn": "9780141439587", "shelf": "B2", "foo": 1}\n',
        encoding="utf-8",
    )
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_books", str(path), stdout=stdout, stderr=stderr)
    assert "line 1: authors: Send a list of text." in stderr.getvalue()
    assert "ignored columns: foo, shelf" in stderr.getvalue()
    assert not Book.objects.filter(isbn="9780441172719").exists()
    assert Book.objects.get(isbn="9780141439587").authors == ["Jane Austen"]


@mongo_db
def test_an_archived_books_isbn_is_skipped_not_changed():
    from books import services

    book = services.book_create(title="Refactoring", authors=["Martin Fowler"], isbn="9780201485677")
    services.book_archive(book=book)
    source = "title,authors,isbn\nRefactoring (2nd ed.),Martin Fowler,9780201485677\n"
    summary = book_import(source=source, filename="books.csv")
    assert (summary.updated, summary.invalid) == (0, 1)
    assert "archived" in summary.errors[0].reason and summary.errors[0].line == 2
    book.refresh_from_db()
    assert book.title == "Refactoring" and book.archived_at is not None
