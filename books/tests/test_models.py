"""The Book model, its value types (ISBN, partial date, language) and the system checks."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from books.isbn import isbn10, isbn13, isbn_display
from books.languages import normalize_language
from books.published import PartialDate, Precision


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0-306-40615-2", "9780306406157"),
        ("978-0-306-40615-7", "9780306406157"),
        (" 978 0 306 40615 7 ", "9780306406157"),
        ("080442957X", "9780804429573"),
        ("979-10-90636-07-1", "9791090636071"),
    ],
)
def test_isbn13_accepts_isbn10_and_isbn13_with_separators(raw, expected):
    assert isbn13(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("978-0-306-40615-8", "invalid_check_digit"),
        ("0-306-40615-3", "invalid_check_digit"),
        ("12345", "invalid_length"),
        ("97803064061X7", "invalid_format"),
        ("", "required"),
    ],
)
def test_isbn13_rejects_with_a_reason(raw, code):
    with pytest.raises(ValidationError) as error:
        isbn13(raw)
    assert error.value.code == code


def test_isbn_derived_forms():
    assert isbn10("9780306406157") == "0306406152"
    assert isbn10("9791090636071") is None
    assert isbn_display("9780306406157") == "978-0-306-40615-7"


@pytest.mark.parametrize(
    ("text", "start", "precision", "end"),
    [
        ("1999-06-15", date(1999, 6, 15), Precision.DAY, date(1999, 6, 16)),
        ("1999-06", date(1999, 6, 1), Precision.MONTH, date(1999, 7, 1)),
        ("1999-12", date(1999, 12, 1), Precision.MONTH, date(2000, 1, 1)),
        ("1999", date(1999, 1, 1), Precision.YEAR, date(2000, 1, 1)),
    ],
)
def test_partial_date_parse_and_round_trip(text, start, precision, end):
    value = PartialDate.parse(text)
    assert (value.start, value.precision, value.end) == (start, precision, end)
    assert str(value) == text


@pytest.mark.parametrize("text", ["1999-13", "1999-02-30", "99", "June 1999", "0999", "1999-6-1x"])
def test_partial_date_rejects_impossible_or_malformed_dates(text):
    with pytest.raises(ValidationError):
        PartialDate.parse(text)


def test_language_codes_are_iso_639_1():
    assert normalize_language(" PT ") == "pt"
    assert normalize_language("") == ""
    with pytest.raises(ValidationError):
        normalize_language("xx")
    with pytest.raises(ValidationError):
        normalize_language("eng")


@pytest.mark.django_db(databases=["default", "mongo"])
def test_system_checks_pass_on_both_databases():
    # Plain `check` skips database checks; the Mongo backend's own (e.g. no AutoField) need this.
    call_command("check", databases=["default", "mongo"], fail_level="WARNING")


@pytest.mark.django_db(databases=["default", "mongo"])
def test_demo_data_is_valid_and_loads_once():
    from books.demo import DEMO_BOOKS, load_demo_data
    from books.models import Book

    assert load_demo_data() == len(DEMO_BOOKS) >= 12
    assert load_demo_data() == 0
    assert Book.objects.count() == len(DEMO_BOOKS)
    assert str(Book.objects.get(isbn="9780262510875").published) == "1996-07"
