"""Writes to the book catalogue. Books are archived, never deleted."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager, suppress
from threading import Lock

from django.core.cache import cache
from django.db import IntegrityError
from django.utils import timezone
from redis.exceptions import LockError, RedisError

from books.models import Book

logger = logging.getLogger(__name__)
# Longest a write may hold a book's lock, and wait for it.
WRITE_LOCK_SECONDS = 10
_LOCAL_LOCKS: defaultdict[str, Lock] = defaultdict(Lock)

EDITABLE_FIELDS = (
    "title",
    "subtitle",
    "authors",
    "isbn",
    "publisher",
    "published_date",
    "published_date_precision",
    "language",
    "page_count",
    "tags",
    "description",
)


class DuplicateIsbn(Exception):
    """Another book already has this ISBN; `existing` is that book (possibly archived)."""

    def __init__(self, existing: Book):
        super().__init__(f"A book with ISBN {existing.isbn} already exists.")
        self.existing = existing


def _ensure_isbn_free(*, isbn: str, exclude_pk=None) -> None:
    others = Book.objects.filter(isbn=isbn)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    existing = others.first()
    if existing is not None:
        raise DuplicateIsbn(existing)


def _save(book: Book, **save_kwargs) -> Book:
    """Validate and save; a concurrent insert of the same ISBN trips the unique index."""
    book.full_clean(validate_unique=False, validate_constraints=False)
    try:
        book.save(**save_kwargs)
    except IntegrityError:
        existing = Book.objects.filter(isbn=book.isbn).exclude(pk=book.pk).first()
        if existing is None:
            raise
        raise DuplicateIsbn(existing) from None
    return book


def book_create(
    *,
    title: str,
    authors: list[str],
    isbn: str,
    subtitle: str = "",
    publisher: str = "",
    published_date=None,
    published_date_precision: str = "",
    language: str = "",
    page_count: int | None = None,
    tags: list[str] | None = None,
    description: str = "",
) -> Book:
    _ensure_isbn_free(isbn=isbn)
    book = Book(
        title=title,
        subtitle=subtitle,
        authors=list(authors),
        isbn=isbn,
        publisher=publisher,
        published_date=published_date,
        published_date_precision=published_date_precision if published_date else "",
        language=language,
        page_count=page_count,
        tags=list(tags or []),
        description=description,
    )
    return _save(book)


def book_update(*, book: Book, data: dict, precondition: Callable[[Book], None] | None = None) -> Book:
    """Apply `data` (any of EDITABLE_FIELDS); writes and records history only when something changed.

    Writes to one book take turns (a lock in the shared cache): each reads the stored document,
    changes only its own fields (an update of those fields, not a replacement of the document)
    and records a history row of exactly the state it wrote, so parallel PATCHes of different
    fields all land and each version shows what its write changed.
    """
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"book_update() got fields it does not edit: {sorted(unknown)}")
    with _one_writer(book.pk):
        book = Book.objects.get(pk=book.pk)
        if precondition is not None:  # e.g. a stale If-Match: checked against what is stored now
            precondition(book)
        changed = [name for name, value in data.items() if getattr(book, name) != value]
        if not changed:
            return book
        if "isbn" in changed:
            _ensure_isbn_free(isbn=data["isbn"], exclude_pk=book.pk)
        for name in changed:
            setattr(book, name, data[name])
        if book.published_date is None and book.published_date_precision:
            book.published_date_precision = ""
            changed.append("published_date_precision")
        return _save(book, update_fields=[*dict.fromkeys(changed), "updated_at"])


@contextmanager
def _one_writer(book_id):
    """Hold the book's write lock: in Redis, shared by every process; in the process otherwise
    (`make run`). If Redis cannot be reached the write goes ahead unlocked: it still changes
    only its own fields."""
    key = f"books:write-lock:{book_id}"
    if not hasattr(cache, "lock"):
        with _LOCAL_LOCKS[key]:
            yield
        return
    lock = cache.lock(key, timeout=WRITE_LOCK_SECONDS, blocking_timeout=WRITE_LOCK_SECONDS)
    try:
        acquired = lock.acquire()
    except RedisError:
        logger.warning("book write lock unavailable for %s; writing its fields without it", book_id)
        acquired = False
    try:
        yield
    finally:
        if acquired:
            with suppress(LockError, RedisError):  # expired meanwhile: nothing to release
                lock.release()


def book_archive(*, book: Book) -> Book:
    """Take the book out of the catalogue; the document and its history stay in MongoDB."""
    if book.archived_at is None:
        book.archived_at = timezone.now()
        book.save(update_fields=["archived_at", "updated_at"])
    return book


def book_restore(*, book: Book) -> Book:
    if book.archived_at is not None:
        book.archived_at = None
        book.save(update_fields=["archived_at", "updated_at"])
    return book
