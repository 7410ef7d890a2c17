"""Reads from the book catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bson import ObjectId

from books.filters import BookFilter
from books.listing import DEFAULT_ORDERING, BookPage, Cursor, Ordering, book_filters_match, book_page
from books.models import Book

HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
HISTORY_IGNORED_FIELDS = frozenset({"updated_at"})


def parse_book_id(book_id) -> ObjectId | None:
    """The ObjectId in a URL, or None when it is not one (24 hexadecimal characters)."""
    if isinstance(book_id, ObjectId):
        return book_id
    if isinstance(book_id, str) and len(book_id) == 24 and ObjectId.is_valid(book_id):
        return ObjectId(book_id)
    return None


def book_list(*, filters=None, cursor: str | None = None, page_size: int = 20) -> BookPage:
    """One page of the books matching the query-string `filters`, after `cursor` (from the last
    page's `next`); raises ValidationError naming a bad filter or cursor."""
    filterset = BookFilter(data=filters or {}, queryset=Book.objects.none())
    if not filterset.is_valid():
        raise filterset.errors_as_validation_error()
    cleaned = filterset.form.cleaned_data
    ordering = Ordering.parse(cleaned["ordering"][0]) if cleaned.get("ordering") else DEFAULT_ORDERING
    after = Cursor.decode(cursor, ordering=ordering) if cursor else None
    match = book_filters_match(cleaned, include_archived=filterset.wants_archived)
    return book_page(match=match, ordering=ordering, cursor=after, size=page_size)


def book_get(*, book_id, include_archived: bool = False) -> Book:
    """One book by id; raises Book.DoesNotExist for unknown, malformed or (by default) archived ids."""
    object_id = parse_book_id(book_id)
    if object_id is None:
        raise Book.DoesNotExist(f"{book_id!r} is not a book id")
    # Look up by _id alone and check `archived_at` here: combined with the archived filter's
    # $or, some servers' planners scan the collection instead of using the _id index.
    book = Book.objects.get(pk=object_id)
    if book.is_archived and not include_archived:
        raise Book.DoesNotExist(f"book {book_id} is archived")
    return book


def book_get_by_isbn(*, isbn: str) -> Book | None:
    return Book.objects.filter(isbn=isbn).first()


@dataclass(frozen=True)
class BookChange:
    field: str
    old: object
    new: object


@dataclass(frozen=True)
class BookHistoryEntry:
    history_id: ObjectId
    date: datetime
    kind: str
    actor: str
    user_id: int | None
    changes: list[BookChange] = field(default_factory=list)


def book_history(*, book: Book) -> list[BookHistoryEntry]:
    """Every recorded version of the book, newest first, each with what it changed."""
    records = list(book.history.order_by("history_date", "history_id"))
    tracked = [f.attname for f in Book._meta.concrete_fields if f.attname not in HISTORY_IGNORED_FIELDS]
    entries, previous = [], None
    for record in records:
        changes = []
        if previous is not None:
            changes = [
                BookChange(name, getattr(previous, name), getattr(record, name))
                for name in tracked
                if getattr(previous, name) != getattr(record, name)
            ]
        kind = HISTORY_TYPES.get(record.history_type, record.history_type)
        if kind == "changed" and [c.field for c in changes] == ["archived_at"]:
            kind = "archived" if record.archived_at else "restored"
        entries.append(
            BookHistoryEntry(
                history_id=record.history_id,
                date=record.history_date,
                kind=kind,
                actor=record.history_actor,
                user_id=record.history_user_id,
                changes=changes,
            )
        )
        previous = record
    return entries[::-1]
