"""Keyset pages of the book list: every book exactly once, in order, whatever the data's shape."""

import datetime
import random
from urllib.parse import parse_qs, urlsplit

import pytest
from bson import ObjectId
from django.core.cache import cache
from django.core.exceptions import ValidationError

from books.listing import EDGES_CACHE_KEY, Cursor, Ordering
from books.models import Book
from books.tests.conftest import mongo_db
from books.tests.factories import BookFactory, make_isbn13

URL = "/api/books/"


def cursor_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["cursor"][0]


def walk(api, params) -> list[dict]:
    """Every page of the list, following `next`; checks the page sizes on the way."""
    response = api.get(URL, params)
    books, pages = [], 0
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body["results"]) <= int(params.get("page_size", 20))
        books += body["results"]
        pages += 1
        assert pages < 200
        if body["next"] is None:
            return books
        response = api.get(body["next"])


@pytest.fixture
def shelf():
    """Books with the awkward shapes: shared titles and dates (ties), missing dates, far-apart
    creation times, non-ASCII titles, one archived book."""
    rng = random.Random(5)
    titles = ["Dune", "Dune", "Émile", "Zorba", "Ōkami", "a", "Dune Messiah", "", "Ääkköset", "\U0001d518nicode"]
    books = []
    for number in range(37):
        title = rng.choice(titles) or f"T{number}"
        published = rng.choice([None, datetime.date(1999, 1, 1), datetime.date(1965, 8, 1),
                                datetime.date(1, 1, 1), datetime.date(9999, 12, 1),
                                datetime.date(2000 + number % 20, 1 + number % 12, 1)])
        books.append(BookFactory(title=title, isbn=make_isbn13(500 + number), published_date=published,
                                 published_date_precision="day" if published else ""))
    # Creation times far apart and tied, as an import over years would leave them.
    moments = [datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC), datetime.datetime(2026, 5, 5, tzinfo=datetime.UTC)]
    for index, book in enumerate(books[:12]):
        Book.objects.filter(pk=book.pk).update(created_at=moments[index % 2])
    archived = books[-1]
    Book.objects.filter(pk=archived.pk).update(archived_at=datetime.datetime.now(datetime.UTC))
    return [Book.objects.get(pk=book.pk) for book in books]


def expected(books, field, descending, include_archived=False):
    def sort_key(book):
        value = getattr(book, field)
        if isinstance(value, datetime.datetime):
            value = value.replace(microsecond=value.microsecond // 1000 * 1000)
        if isinstance(value, str):
            value = value.encode()  # MongoDB compares strings by their UTF-8 bytes
        return (value is not None, value if value is not None else 0, book.pk.binary)

    kept = [book for book in books if include_archived or book.archived_at is None]
    return [str(book.pk) for book in sorted(kept, key=sort_key, reverse=descending)]


@mongo_db
@pytest.mark.parametrize("ordering", ["-created_at", "created_at", "title", "-title",
                                      "published_date", "-published_date"])
@pytest.mark.parametrize("page_size", [1, 4, 20])
def test_pages_list_every_book_once_in_order(api, shelf, ordering, page_size):
    ordering_params = {"ordering": ordering} if ordering != "-created_at" else {}
    listed = walk(api, {**ordering_params, "page_size": page_size})
    field = ordering.lstrip("-")
    assert [book["id"] for book in listed] == expected(shelf, field, ordering.startswith("-"))


@mongo_db
def test_pages_with_filters_and_archived_books(api, shelf):
    listed = walk(api, {"ordering": "title", "page_size": 3, "include_archived": "true"})
    assert [book["id"] for book in listed] == expected(shelf, "title", False, include_archived=True)
    dunes = walk(api, {"search": "dune", "ordering": "-published_date", "page_size": 2})
    want = [book for book in shelf if "dune" in book.title.lower() and book.archived_at is None]
    assert [book["id"] for book in dunes] == expected(want, "published_date", True)


@mongo_db
@pytest.mark.parametrize("edges", [None, {"created_at": [0, 1], "title": [1, 2], "published_date": [5, 6]}])
def test_stale_or_missing_edges_lose_no_book(api, shelf, edges):
    """The cached edges only say where to start looking; wrong ones cost time, never books."""
    cache.delete(EDGES_CACHE_KEY)
    if edges is not None:
        cache.set(EDGES_CACHE_KEY, edges, timeout=None)
    for ordering in ("title", "-published_date", "-created_at"):
        listed = walk(api, {"ordering": ordering, "page_size": 7})
        assert [book["id"] for book in listed] == expected(shelf, ordering.lstrip("-"), ordering.startswith("-"))


@mongo_db
def test_books_added_after_a_cursor_are_not_skipped_before_it(api, shelf):
    first = api.get(URL, {"ordering": "title", "page_size": 5}).json()
    BookFactory(title="zzz last", isbn=make_isbn13(9001))
    rest = walk(api, {"ordering": "title", "page_size": 5, "cursor": cursor_of(first["next"])})
    assert "zzz last" in [book["title"] for book in rest]


@mongo_db
def test_a_cursor_from_another_ordering_is_400(api, shelf):
    next_url = api.get(URL, {"ordering": "title", "page_size": 2}).json()["next"]
    cursor = cursor_of(next_url)
    response = api.get(URL, {"ordering": "-title", "cursor": cursor})
    assert response.status_code == 400 and response.json()["field"] == "cursor"


def test_cursor_round_trip_and_forgeries():
    ordering = Ordering.parse("-published_date")
    cursor = Cursor(ordering, datetime.datetime(1999, 1, 1), ObjectId(), 64)
    assert Cursor.decode(cursor.encode(), ordering=ordering) == cursor
    unsigned = (
        "eyJvIjoiLXB1Ymxpc2hlZF9kYXRlIiwidiI6InRleHQiLCJpIjoiMSIsInciOjF9",  # earlier releases' form
        "eyJvIjoiLWNyZWF0ZWRfYXQiLCJ2IjpudWxsLCJpIjoiIiwidyI6MX0",  # {"i": ""}: used to be a 500
    )
    signed = cursor.encode()
    for forged in ("", "e30", "%%%", *unsigned, signed[:-2], "x" + signed[1:], signed + ":extra"):
        with pytest.raises(ValidationError) as raised:
            Cursor.decode(forged, ordering=ordering)
        assert "cursor" in raised.value.message_dict


@mongo_db
def test_edges_that_cannot_be_measured_in_time_lose_no_book(api, shelf, monkeypatch):
    from pymongo.errors import ExecutionTimeout

    from books import listing

    attempts = []

    def too_slow():
        attempts.append(1)
        raise ExecutionTimeout("operation exceeded time limit")

    cache.delete(EDGES_CACHE_KEY)
    monkeypatch.setattr(listing, "_last_edges", {})
    monkeypatch.setattr(listing, "_measure_edges", too_slow)
    for ordering in ("-created_at", "title", "-published_date"):
        listed = walk(api, {"ordering": ordering, "page_size": 9})
        assert [book["id"] for book in listed] == expected(shelf, ordering.lstrip("-"), ordering.startswith("-"))
    assert len(attempts) == 1  # a failed measurement is not retried by every request
