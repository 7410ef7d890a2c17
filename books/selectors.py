"""Reads from the book catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bson import ObjectId
from django.db.models import Q, QuerySet

from books.filters import BookFilter
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


def book_list(*, filters=None) -> QuerySet:
    """The books matching the query-string `filters` (archived ones only with include_archived);
    raises ValidationError naming a bad filter. Paged and ordered by books.pagination."""
    filterset = BookFilter(data=filters or {}, queryset=Book.objects.all())
    if not filterset.is_valid():
        raise filterset.errors_as_validation_error()
    return filterset.qs


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


def book_history_records(*, book: Book) -> QuerySet:
    """The book's recorded versions (history rows), unordered: the API pages them newest first."""
    return book.history.all()


def book_history_previous(*, book: Book, before) -> object | None:
    """The version recorded just before `before` (a history row), or None for the first one."""
    earlier = Q(history_date__lt=before.history_date) | Q(
        history_date=before.history_date, history_id__lt=before.history_id
    )
    return book.history.filter(earlier).order_by("-history_date", "-history_id").first()


def book_history_entries(records, *, previous=None) -> list[BookHistoryEntry]:
    """`records` (newest first) with what each changed; `previous` is the version before the last."""
    tracked = [f.attname for f in Book._meta.concrete_fields if f.attname not in HISTORY_IGNORED_FIELDS]
    entries = []
    for record in reversed(records):
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


def book_history(*, book: Book) -> list[BookHistoryEntry]:
    """Every recorded version of the book, newest first, each with what it changed."""
    return book_history_entries(list(book.history.order_by("-history_date", "-history_id")))
