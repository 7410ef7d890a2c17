"""The four keyset-paged lists (companies, a company's history, books, a book's history) page alike:
forward to the end and back again with every row once and in order, ties broken by id, nulls in
place, the same 400s for a bad page size, ordering or cursor, and never a 500 for a cursor."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from bson import ObjectId

from books.models import Book
from books.tests.factories import BookFactory, make_isbn13
from companies.models import Company
from companies.tests.factories import CompanyFactory
from core.cursors import cursor_sign
from core.pagination import CURSOR_MESSAGE, CURSOR_ORDERING_MESSAGE, ORDERING_MESSAGE, PAGE_SIZE_MESSAGE

pytestmark = pytest.mark.django_db(databases=["default", "mongo"])

UTC = datetime.UTC


@dataclass
class Listing:
    """One list made for a test: where it is, how its rows are named, and their expected order."""

    url: str
    row_id: str  # the key naming a row in `results`
    expected: dict[str, list]  # ordering -> row ids in that order
    salt: str
    max_page_size: int
    orderable: bool


def _companies(api) -> Listing:
    names = ["Beta", "Alfa", "Beta", "Gama", "Alfa", "Beta", "Delta", "Alfa", "Beta"]
    companies = [CompanyFactory(legal_name=name) for name in names]
    moments = [datetime.datetime(2030, 1, 1, minute % 3, tzinfo=UTC) for minute in range(len(companies))]
    for company, moment in zip(companies, moments, strict=True):
        Company.objects.filter(pk=company.pk).update(updated_at=moment)
    stored = list(Company.objects.all())
    expected = {}
    for field in ("cnpj", "legal_name", "updated_at"):
        ascending = [c.cnpj for c in sorted(stored, key=lambda c: (getattr(c, field), c.pk))]
        expected[field], expected[f"-{field}"] = ascending, ascending[::-1]
    return Listing("/api/companies/", "cnpj", expected, "core.pagination:companies:", 200, True)


def _company_history(api) -> Listing:
    company = CompanyFactory(legal_name="v0")
    for number in range(1, 7):
        changed = api.patch(f"/api/companies/{company.cnpj}/", {"legal_name": f"v{number}"}, format="json")
        assert changed.status_code == 200
    ids = sorted(company.history.values_list("history_id", flat=True), reverse=True)
    return Listing(f"/api/companies/{company.cnpj}/history/", "history_id", {"-history_id": ids},
                   f"core.pagination:companies.history:{company.cnpj}", 200, False)


def _books(api) -> Listing:
    dates = [None, datetime.date(1999, 1, 1), None, datetime.date(1965, 8, 1), datetime.date(1999, 1, 1),
             None, datetime.date(2010, 5, 1), datetime.date(1999, 1, 1), None, datetime.date(1001, 1, 1)]
    titles = ["Dune", "Emma", "Dune", "Solaris", "Dune", "Emma", "Zorba", "Dune", "Aleph", "Emma"]
    books = [
        BookFactory(title=title, isbn=make_isbn13(700 + number), published_date=published,
                    published_date_precision="day" if published else "")
        for number, (title, published) in enumerate(zip(titles, dates, strict=True))
    ]
    tied = datetime.datetime(2020, 2, 2, tzinfo=UTC)
    for book in books[:5]:
        Book.objects.filter(pk=book.pk).update(created_at=tied)
    archived = BookFactory(title="Archived", isbn=make_isbn13(799))
    Book.objects.filter(pk=archived.pk).update(archived_at=datetime.datetime.now(UTC))
    stored = list(Book.objects.filter(archived_at=None))
    expected = {}
    for field in ("created_at", "published_date", "title"):
        def key(book, field=field):
            value = getattr(book, field)
            return (value is not None, value if value is not None else 0, book.pk)  # a null sorts lowest

        ascending = [str(b.pk) for b in sorted(stored, key=key)]
        expected[field], expected[f"-{field}"] = ascending, ascending[::-1]
    return Listing("/api/books/", "id", expected, "core.pagination:books:", 100, True)


def _book_history(api) -> Listing:
    book = BookFactory(title="v0")
    for number in range(1, 7):
        assert api.patch(f"/api/books/{book.pk}/", {"title": f"v{number}"}, format="json").status_code == 200
    records = sorted(book.history.all(), key=lambda r: (r.history_date, r.history_id), reverse=True)
    expected = {"-history_date": [str(record.history_id) for record in records]}
    return Listing(f"/api/books/{book.pk}/history/", "history_id", expected,
                   f"core.pagination:books.history:{book.pk}", 200, False)


LISTS = {"companies": _companies, "company history": _company_history, "books": _books, "book history": _book_history}


@pytest.fixture(params=list(LISTS))
def listing(request, api) -> Listing:
    return LISTS[request.param](api)


def _message(body: dict) -> str:
    (error,) = body["errors"]
    return error["message"]


def _cursor(link: str) -> str:
    return parse_qs(urlsplit(link).query)["cursor"][0]


def _walk(api, first: str, link: str, row_id: str) -> tuple[list, str]:
    """Row ids of every page from `first` following `link` (next or previous) to its end, each page
    kept in reading order; and the last page's URL."""
    pages, url = [], first
    while True:
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert list(body) == ["next", "previous", "results"]
        pages.append([row[row_id] for row in body["results"]])
        assert len(pages) < 100
        if body[link] is None:
            return pages, url
        url = body[link]


@pytest.mark.parametrize("page_size", [1, 3])
def test_forward_to_the_end_and_back_lists_every_row_once_in_order(api, listing, page_size):
    for ordering, expected in listing.expected.items():
        query = {"page_size": page_size} | ({"ordering": ordering} if listing.orderable else {})
        first = f"{listing.url}?{urlencode(query)}"
        assert api.get(first).json()["previous"] is None
        forward, last = _walk(api, first, "next", listing.row_id)
        assert [row for page in forward for row in page] == expected, ordering
        assert all(len(page) == page_size for page in forward[:-1])
        backward, _ = _walk(api, last, "previous", listing.row_id)
        assert backward == forward[::-1], ordering  # the same pages, the first one last


def test_books_cross_the_null_dates_both_ways(api):
    listing = _books(api)
    for ordering in ("published_date", "-published_date"):
        expected = listing.expected[ordering]
        nulls = {str(b.pk) for b in Book.objects.filter(published_date=None)}
        # Every page boundary: one on each side of the first null and of the last.
        for page_size in (2, 4, 5):
            forward, last = _walk(api, f"/api/books/?ordering={ordering}&page_size={page_size}", "next", "id")
            assert [row for page in forward for row in page] == expected
            backward, _ = _walk(api, last, "previous", "id")
            assert backward == forward[::-1]
        listed = [row for page in forward for row in page]
        positions = [index for index, book_id in enumerate(listed) if book_id in nulls]
        assert positions == (list(range(4)) if ordering == "published_date" else list(range(6, 10)))


def test_a_page_past_the_end_links_back_to_the_first(api):
    listing = _books(api)
    last_id = listing.expected["title"][-1]
    cursor = cursor_sign({"o": "title", "v": "Zzz", "k": last_id, "b": False}, salt=listing.salt)
    body = api.get(listing.url, {"ordering": "title", "cursor": cursor}).json()
    assert body["results"] == [] and body["next"] is None
    assert "cursor" not in body["previous"] and "ordering=title" in body["previous"]


@pytest.mark.parametrize("page_size", ["0", "-1", "x", "1.5", "201", " "])
def test_a_page_size_out_of_range_is_400_in_the_same_words(api, listing, page_size):
    too_big = str(listing.max_page_size + 1)
    response = api.get(listing.url, {"page_size": too_big if page_size == "201" else page_size})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == "page_size" and body["code"] == "invalid"
    assert _message(body) == PAGE_SIZE_MESSAGE.format(maximum=listing.max_page_size)
    assert api.get(listing.url, {"page_size": listing.max_page_size}).status_code == 200


@pytest.mark.parametrize("ordering", ["phone", "--title", "-", "title,cnpj", "id"])
def test_an_unknown_ordering_is_400_naming_it(api, listing, ordering):
    response = api.get(listing.url, {"ordering": ordering})
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "ordering"
    if listing.orderable:
        fields = ", ".join(dict.fromkeys(term.lstrip("-") for term in listing.expected))
        assert _message(body) == ORDERING_MESSAGE.format(fields=fields)
    else:
        assert _message(body) == "Unknown query parameter."  # a history has one ordering


def _forgeries(listing: Listing, cursor: str) -> list[str]:
    """Cursors edited by hand, and cursors signed for this list whose position is not one."""
    ordering, row = next(iter(listing.expected.items()))
    key = row[0]
    positions = [
        {"o": ordering, "v": True, "k": key, "b": False},
        {"o": ordering, "v": [1], "k": key, "b": False},
        {"o": ordering, "v": {"$gt": ""}, "k": key, "b": False},
        {"o": ordering, "v": "not a value \x00", "k": key, "b": False},
        {"o": ordering, "v": "2020-01-01", "k": "not an id", "b": False},
        {"o": ordering, "v": "2020-01-01", "k": 10**30, "b": False},
        {"o": ordering, "v": "2020-01-01", "k": -1.5, "b": False},
        {"o": ordering, "v": "2020-01-01", "k": None, "b": False},
        {"o": ordering, "v": "2020-01-01", "k": key, "b": "yes"},
        {"o": ordering, "v": "2020-01-01", "k": key},
        {"o": 5, "v": "2020-01-01", "k": key, "b": False},
        ["o", "v", "k", "b"],
        "a position",
    ]
    if listing.orderable and ordering != "title":
        positions.append({"o": ordering, "v": None, "k": key, "b": False})  # not a nullable field
    signed = [cursor_sign(position, salt=listing.salt) for position in positions]
    edited = [
        cursor[:-1] + ("A" if cursor[-1] != "A" else "B"),  # the signature
        ("x" if cursor[0] != "x" else "y") + cursor[1:],  # the position
        cursor[: len(cursor) // 2],
        cursor + "=",
        cursor + ":x",
        "%%%",
        "e30",
    ]
    return signed + edited


def test_a_tampered_or_foreign_cursor_is_400_never_500(api, listing):
    ordering = next(iter(listing.expected))
    query = {"page_size": 1} | ({"ordering": ordering} if listing.orderable else {})
    cursor = _cursor(api.get(listing.url, query).json()["next"])
    assert api.get(listing.url, {**query, "cursor": cursor}).status_code == 200
    for forged in _forgeries(listing, cursor):
        response = api.get(listing.url, {**query, "cursor": forged})
        assert response.status_code == 400, (forged, response.content)
        body = response.json()
        assert (body["field"], body["code"], _message(body)) == ("cursor", "invalid", CURSOR_MESSAGE), forged


def test_a_cursor_is_refused_by_every_other_list_and_ordering(api):
    listings = [make(api) for make in LISTS.values()]
    cursors = {}
    for listing in listings:
        ordering = next(iter(listing.expected))
        query = {"page_size": 1} | ({"ordering": ordering} if listing.orderable else {})
        cursors[listing.url] = (query, _cursor(api.get(listing.url, query).json()["next"]))
    for listing in listings:
        query, _ = cursors[listing.url]
        for url, (_, cursor) in cursors.items():
            if url == listing.url:
                continue
            response = api.get(listing.url, {**query, "cursor": cursor})
            assert response.status_code == 400 and _message(response.json()) == CURSOR_MESSAGE, (listing.url, url)
        if listing.orderable:  # the same list in another ordering
            query, cursor = cursors[listing.url]
            other = next(term for term in listing.expected if term != query["ordering"])
            response = api.get(listing.url, {**query, "ordering": other, "cursor": cursor})
            assert response.status_code == 400 and _message(response.json()) == CURSOR_ORDERING_MESSAGE
    # Another company's (or book's) history refuses it too.
    company, book = CompanyFactory(), BookFactory(isbn=make_isbn13(900))
    for url, other in ((listings[1].url, f"/api/companies/{company.cnpj}/history/"),
                       (listings[3].url, f"/api/books/{book.pk}/history/")):
        _, cursor = cursors[url]
        response = api.get(other, {"cursor": cursor})
        assert response.status_code == 400 and response.json()["field"] == "cursor"


def test_an_objectid_cursor_of_a_missing_book_still_pages(api):
    """A well-formed position whose row is gone (archived, say) pages from where it was."""
    listing = _books(api)
    gone = ObjectId()
    cursor = cursor_sign({"o": "-created_at", "v": "2999-01-01T00:00:00+00:00", "k": str(gone), "b": False},
                         salt=listing.salt)
    body = api.get(listing.url, {"cursor": cursor, "page_size": 100}).json()
    assert [row["id"] for row in body["results"]] == listing.expected["-created_at"]
