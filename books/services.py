"""Writes to the book catalogue. Books are archived, never deleted.

`book_fields_clean` holds the rules on a book's values (ISBN-10 or -13 to ISBN-13, the language
code, the partial publication date, the authors and tags lists, the model's own limits); every
write calls it, whichever door it came through (API, admin, import), so each stores and refuses
the same.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from contextlib import contextmanager, suppress
from threading import Lock
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _
from redis.exceptions import LockError, RedisError

from books.isbn import isbn13
from books.languages import normalize_language
from books.models import Book
from books.published import PartialDate, Precision

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


# Checked in full by their own rule; the model's validators would only repeat it (the ISBN's
# check digit was a third of an import row's time again).
_CHECKED_BY_RULE = frozenset({"isbn", "language"})
_MODEL_FIELDS = frozenset(field.name for field in Book._meta.fields)


def _text(value):
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value  # anything else: the model refuses it


def _names(value, *, lower: bool = False) -> list[str]:
    """Trimmed, blanks dropped, each once, in order."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Send a list of text.", code="not_a_list")
    names = (item.strip() for item in value)
    return list(dict.fromkeys(name.lower() if lower else name for name in names if name))


def _authors(value) -> list[str]:
    names = _names(value)
    if not names:
        raise ValidationError("A book needs at least one author.", code="required")
    return names


def _page_count(value) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise ValidationError("Enter a whole number of pages.", code="invalid")
    return int(value)


_CLEANERS = {
    "title": _text,
    "subtitle": _text,
    "publisher": _text,
    "description": _text,
    "authors": _authors,
    "tags": lambda value: _names(value, lower=True),
    "isbn": lambda value: isbn13(value.strip() if isinstance(value, str) else value),
    "language": lambda value: normalize_language(value if isinstance(value, str) else ""),
    "page_count": _page_count,
}


def _published(value, precision) -> tuple:
    """(published_date, published_date_precision) from text ("1999-06-15", "1999-06", "1999"), a
    date (with its precision; a day when none is given) or nothing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ""
    if isinstance(value, str):
        published = PartialDate.parse(value)
        return published.start, published.precision
    if isinstance(value, PartialDate):
        return value.start, value.precision
    if not hasattr(value, "isoformat"):
        raise ValidationError("Use a string: YYYY-MM-DD, YYYY-MM or YYYY.", code="invalid_date")
    return value, precision or Precision.DAY


def book_fields_clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The values to store for the given fields (any of EDITABLE_FIELDS), normalised and checked
    with the model's own limits; raises one ValidationError naming every bad field.
    `published_date` may be text with its precision ("1965-08"), as clients send it."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not book fields it edits: {sorted(unknown)}")
    cleaned, errors = {}, {}
    for name, value in fields.items():
        try:
            if name == "published_date":
                precision = fields.get("published_date_precision", "")
                cleaned["published_date"], cleaned["published_date_precision"] = _published(value, precision)
            elif name != "published_date_precision":
                cleaned[name] = _CLEANERS[name](value)
        except ValidationError as error:
            errors[name] = error.error_list
    if "published_date_precision" in fields and "published_date" not in fields:
        cleaned["published_date_precision"] = _text(fields["published_date_precision"])
    exclude = [name for name in _MODEL_FIELDS if name not in cleaned or name in errors or name in _CHECKED_BY_RULE]
    try:
        Book(**cleaned).clean_fields(exclude=exclude)
    except ValidationError as error:
        errors.update(error.error_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


class DuplicateIsbn(Exception):
    """Another book already has this ISBN; `existing` is that book (possibly archived)."""

    def __init__(self, existing: Book):
        super().__init__(_("A book with ISBN %(isbn)s already exists.") % {"isbn": existing.isbn})
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
    fields = book_fields_clean(
        {
            "title": title,
            "subtitle": subtitle,
            "authors": authors,
            "isbn": isbn,
            "publisher": publisher,
            "published_date": published_date,
            "published_date_precision": published_date_precision,
            "language": language,
            "page_count": page_count,
            "tags": tags or [],
            "description": description,
        }
    )
    _ensure_isbn_free(isbn=fields["isbn"])
    return _save(Book(**fields))


def book_update(*, book: Book, data: dict, precondition: Callable[[Book], None] | None = None) -> Book:
    """Apply `data` (any of EDITABLE_FIELDS); writes and records history only when something changed.

    Writes to one book take turns (a lock in the shared cache): each reads the stored document,
    changes only its own fields (an update of those fields, not a replacement of the document)
    and records a history row of exactly the state it wrote, so parallel PATCHes of different
    fields all land and each version shows what its write changed.
    """
    data = book_fields_clean(data)
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


def book_archive(*, book: Book, precondition: Callable[[Book], None] | None = None) -> Book:
    """Take the book out of the catalogue; the document and its history stay in MongoDB.
    `precondition` (a stale If-Match, say) is checked under the book's write lock."""
    with _one_writer(book.pk):
        book = Book.objects.get(pk=book.pk)
        if precondition is not None:
            precondition(book)
        if book.archived_at is None:
            book.archived_at = timezone.now()
            book.save(update_fields=["archived_at", "updated_at"])
    return book


def book_restore(*, book: Book) -> Book:
    if book.archived_at is not None:
        book.archived_at = None
        book.save(update_fields=["archived_at", "updated_at"])
    return book
