"""Book test fixtures. Tests that touch MongoDB use the `mongo_db` marker below."""

import pytest

# Django flushes both databases after each such test (MongoDB has no rollback).
mongo_db = pytest.mark.django_db(databases=["default", "mongo"])

VALID_ISBN10 = "0-306-40615-2"
VALID_ISBN13 = "978-0-306-40615-7"
ISBN13_DIGITS = "9780306406157"


@pytest.fixture
def book_payload():
    def make(**overrides):
        payload = {
            "title": "Structure and Interpretation of Computer Programs",
            "subtitle": "Second edition",
            "authors": ["Harold Abelson", "Gerald Jay Sussman"],
            "isbn": VALID_ISBN10,
            "publisher": "MIT Press",
            "published_date": "1996-07",
            "language": "EN",
            "page_count": 657,
            "tags": ["Programming", "lisp", "programming"],
            "description": "The wizard book.",
        }
        payload.update(overrides)
        return payload

    return make
