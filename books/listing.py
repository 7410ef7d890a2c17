"""Keyset pages of the book list, read as adjacent ranges of the ordering's (field, _id) index.

A page is "the next N books after the cursor" in one ordering (`created_at`, `published_date` or
`title`, ascending or descending, the id breaking ties); there is no total count, and nothing is
skipped over. Each read is a range of the ordering index, so on MongoDB it is an index scan that
stops at the limit. secantusdb (tests, `make run`, the benchmark) decodes every document of a
range before it sorts and limits, and ignores indexes when a filter's top level holds `$and`
or `$or`; so the walk asks for narrow ranges first and widens them until the page is full, and
each read's first `$match` holds only the range (the other filters follow in a second `$match`,
which MongoDB merges into the first).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from bson.errors import InvalidId
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connections
from pymongo.errors import OperationFailure

from books.models import Book
from core.cursors import cursor_read, cursor_sign

EPOCH = datetime(1970, 1, 1)
MAX_READS = 40  # then one open-ended read finishes the page whatever it costs
GROWTH = 16  # how much wider the next range is after an empty one
STRING_KEY_BYTES = 16


class TimeKey:
    """Datetimes (and dates, stored as midnight) as milliseconds, MongoDB's precision."""

    lowest, highest = datetime(1, 1, 1), datetime(9999, 12, 31)
    stored_type = datetime

    def __init__(self, first_width_ms: int, *, nullable: bool, not_after_now: bool = False):
        self.first_width = first_width_ms
        self.nullable, self.not_after_now = nullable, not_after_now
        self.bottom, self.top = self.to_int(self.lowest), self.to_int(self.highest)

    def default_edges(self) -> tuple[int, int]:
        if self.not_after_now:  # a creation time: the first range starts now, not in year 9999
            return self.bottom, self.to_int(datetime.now(UTC).replace(tzinfo=None))
        return self.bottom, self.top

    def to_stored(self, value) -> datetime:
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            return value.replace(microsecond=value.microsecond // 1000 * 1000)
        return datetime(value.year, value.month, value.day)

    def to_int(self, value: datetime) -> int:
        return (value - EPOCH) // timedelta(milliseconds=1)

    def edge(self, number: int, low: int, high: int) -> datetime | None:
        if not low < number < high:
            return None
        return EPOCH + timedelta(milliseconds=number)

    def dump(self, value: datetime) -> int:
        return self.to_int(value)

    def load(self, raw) -> datetime:
        if not isinstance(raw, int) or isinstance(raw, bool) or not self.bottom <= raw <= self.top:
            raise ValueError("not a time")
        return EPOCH + timedelta(milliseconds=raw)


class StringKey:
    """Strings as the number their first UTF-8 bytes spell: MongoDB's (binary) string order."""

    lowest = ""
    nullable = False
    stored_type = str

    def __init__(self, first_width: int):
        self.first_width = first_width
        self.bottom, self.top = 0, self.to_int(chr(0x10FFFF) * STRING_KEY_BYTES)

    def default_edges(self) -> tuple[int, int]:
        return self.bottom, self.top

    def to_stored(self, value) -> str:
        return value

    def to_int(self, value: str) -> int:
        return int.from_bytes(value.encode()[:STRING_KEY_BYTES].ljust(STRING_KEY_BYTES, b"\0"), "big")

    def edge(self, number: int, low: int, high: int) -> str | None:
        if not low < number < high:
            return None
        raw = number.to_bytes(STRING_KEY_BYTES, "big").rstrip(b"\0")
        for length in range(len(raw), 0, -1):  # the longest valid UTF-8 prefix: never above `number`
            try:
                return raw[:length].decode("utf-8")
            except UnicodeDecodeError:
                continue
        return None

    def dump(self, value: str) -> str:
        return value

    def load(self, raw) -> str:
        if not isinstance(raw, str):
            raise ValueError("not a string")
        return raw


KEYS = {
    "created_at": TimeKey(50, nullable=False, not_after_now=True),
    "published_date": TimeKey(7 * 86_400_000, nullable=True),
    "title": StringKey(256 ** (STRING_KEY_BYTES - 12)),
}


EDGES_CACHE_KEY = "books:list-edges:v1"
logger = logging.getLogger(__name__)


def key_edges() -> dict[str, list[int]]:
    """The lowest and highest value of each ordering field, as the walk's numbers.

    Where a first page starts and where a walk may stop. Kept in the cache (no expiry), widened
    by every write (`key_edges_note`, which starts them from the books it writes when the cache
    has none) and measured with one `$group` when missing (given up after 2 s: then this walk
    covers the whole key space). A stale or partial pair costs only extra reads, never books:
    the first and last ranges of a walk are open-ended.
    """
    edges = cache.get(EDGES_CACHE_KEY)
    if edges is not None:
        _last_edges.update(edges=edges, at=time.monotonic())
        return edges
    if _last_edges and time.monotonic() - _last_edges["at"] < LOCAL_EDGES_SECONDS:
        return _last_edges["edges"]  # the cache is empty or down: no full read per request
    try:
        edges = _measure_edges()
    except OperationFailure:  # maxTimeMS ran out; an unreachable server still answers 503
        # Too slow to measure now (secantusdb decodes every book for a `$group`): walk the
        # whole key space this time.
        logger.warning("book list: could not measure the ordering edges in time", exc_info=True)
        _last_edges.update(edges={}, at=time.monotonic())  # not again on every request
        return {}
    cache.set(EDGES_CACHE_KEY, edges, timeout=None)
    _last_edges.update(edges=edges, at=time.monotonic())
    return edges


_last_edges: dict = {}
LOCAL_EDGES_SECONDS = 300
MEASURE_EDGES_MS = 2000  # under the driver's heartbeat timeout, which would cancel the pool


def _measure_edges() -> dict[str, list[int]]:
    collection = connections[Book.objects.db].get_collection(Book._meta.db_table)
    group = {"_id": None}
    for field in KEYS:
        group[f"{field}_low"] = {"$min": f"${field}"}
        group[f"{field}_high"] = {"$max": f"${field}"}
    found = next(collection.aggregate([{"$group": group}], maxTimeMS=MEASURE_EDGES_MS), None) or {}
    edges = {}
    for field, key in KEYS.items():
        low, high = found.get(f"{field}_low"), found.get(f"{field}_high")
        if isinstance(low, key.stored_type) and isinstance(high, key.stored_type):
            edges[field] = [key.to_int(low), key.to_int(high)]
    return edges


def key_edges_note(books) -> None:
    """Widen the cached edges to take in these (new or changed) books."""
    edges = cache.get(EDGES_CACHE_KEY)
    changed = False
    if edges is None:
        # Start from these books: narrower than the data is only a hint that costs reads.
        edges, changed = {}, True
    for field, key in KEYS.items():
        numbers = [key.to_int(key.to_stored(value)) for book in books
                   if (value := getattr(book, field)) is not None]
        if not numbers:
            continue
        low, high = edges.get(field, [min(numbers), max(numbers)])
        new = [min(low, *numbers), max(high, *numbers)]
        if new != edges.get(field):
            edges[field], changed = new, True
    if changed:
        cache.set(EDGES_CACHE_KEY, edges, timeout=None)


@dataclass(frozen=True)
class Ordering:
    field: str
    descending: bool

    @classmethod
    def parse(cls, value: str) -> Ordering:
        return cls(value.lstrip("-"), value.startswith("-"))

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.field


DEFAULT_ORDERING = Ordering("created_at", descending=True)
CURSOR_SALT = "books.cursor"


@dataclass(frozen=True)
class Cursor:
    """The last book of a page: its ordering value (None for a missing date) and id."""

    ordering: Ordering
    value: object
    book_id: ObjectId
    width: int  # the last range's width, where the next page starts looking

    def encode(self) -> str:
        key = KEYS[self.ordering.field]
        data = {"o": str(self.ordering), "v": None if self.value is None else key.dump(self.value),
                "i": str(self.book_id), "w": self.width}
        return cursor_sign(data, salt=CURSOR_SALT)

    @classmethod
    def decode(cls, text: str, *, ordering: Ordering) -> Cursor:
        try:
            data = cursor_read(text, salt=CURSOR_SALT)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            if data["o"] != str(ordering):
                raise ValidationError({"cursor": ["This cursor belongs to another ordering; start again without it."]})
            key = KEYS[ordering.field]
            value = None if data["v"] is None else key.load(data["v"])
            if value is None and not key.nullable:
                raise ValueError("missing value")
            width = data["w"]
            if not isinstance(width, int) or width < 1:
                raise ValueError("bad width")
            return cls(ordering, value, ObjectId(data["i"]), width)
        except ValidationError:
            raise
        except (ValueError, TypeError, KeyError, InvalidId) as error:  # InvalidCursor is a ValueError
            raise ValidationError({"cursor": ["Not a cursor this list gave out."]}) from error


@dataclass(frozen=True)
class BookPage:
    books: list[Book]
    next_cursor: str | None


def book_filters_match(cleaned: dict, *, include_archived: bool) -> dict:
    """The MongoDB filter for the list's cleaned query-string filters (user text escaped)."""
    match: dict = {}
    if cleaned.get("isbn"):
        match["isbn"] = cleaned["isbn"]
    if cleaned.get("author"):
        match["authors"] = {"$regex": f"^{re.escape(cleaned['author'].strip())}$", "$options": "i"}
    if cleaned.get("tag"):
        match["tags"] = cleaned["tag"].strip().lower()
    if cleaned.get("language"):
        match["language"] = cleaned["language"]
    published = {}
    if cleaned.get("published_after"):
        published["$gte"] = KEYS["published_date"].to_stored(cleaned["published_after"].start)
    if cleaned.get("published_before"):
        published["$lt"] = KEYS["published_date"].to_stored(cleaned["published_before"].end)
    if published:
        match["published_date"] = published
    if cleaned.get("search") and cleaned["search"].strip():
        pattern = {"$regex": re.escape(cleaned["search"].strip()), "$options": "i"}
        match["$or"] = [{"title": pattern}, {"subtitle": pattern}, {"authors": pattern}]
    if not include_archived:
        match["archived_at"] = None  # null or missing
    return match


def book_page(*, match: dict, ordering: Ordering, cursor: Cursor | None, size: int) -> BookPage:
    """Up to `size` books matching `match` after `cursor` in `ordering`, and the next cursor."""
    walk = _Walk(match, ordering, size + 1)
    if "isbn" in match:  # at most one book: one read, no ranges
        walk.read({"isbn": match["isbn"]}, by_value=True)
    else:
        walk.run(cursor)
    books = walk.books[:size]
    next_cursor = None
    if len(walk.books) > size:
        last = books[-1]
        key = KEYS[ordering.field]
        value = getattr(last, ordering.field)
        value = None if value is None else key.to_stored(value)
        next_cursor = Cursor(ordering, value, last.pk, walk.used_width).encode()
    return BookPage(books, next_cursor)


class _Walk:
    def __init__(self, match: dict, ordering: Ordering, wanted: int):
        self.match, self.ordering, self.wanted = match, ordering, wanted
        self.key = KEYS[ordering.field]
        self.direction = -1 if ordering.descending else 1
        self.books: list[Book] = []
        self.width = self.used_width = self.key.first_width
        self.reads = 0

    @property
    def missing(self) -> int:
        return self.wanted - len(self.books)

    def read(self, first_match: dict, *, by_value: bool) -> int:
        sort = {self.ordering.field: self.direction, "_id": self.direction} if by_value else {"_id": self.direction}
        pipeline = [{"$match": first_match}]
        rest = {name: value for name, value in self.match.items() if name not in first_match}
        if rest:
            pipeline.append({"$match": rest})
        pipeline += [{"$sort": sort}, {"$limit": self.missing}]
        found = list(Book.objects.raw_aggregate(pipeline))
        self.reads += 1
        self.books += found
        return len(found)

    def run(self, cursor: Cursor | None) -> None:
        field, key = self.ordering.field, self.key
        id_after = "$lt" if self.ordering.descending else "$gt"
        nulls_first = not self.ordering.descending  # MongoDB sorts a missing value lowest
        if cursor is not None:
            self.width = self.used_width = cursor.width
            # Books sharing the cursor's value (or lack of one) after it by id.
            self.read({field: cursor.value, "_id": {id_after: cursor.book_id}}, by_value=False)
            if cursor.value is None and not nulls_first:
                return
        elif key.nullable and nulls_first:
            self.read({field: None}, by_value=False)
        if self.missing > 0:
            self._ranges(None if cursor is None else cursor.value)
        if self.missing > 0 and key.nullable and not nulls_first:
            self.read({field: None}, by_value=False)

    def _ranges(self, start) -> None:
        """Read adjacent ranges moving away from `start` (exclusive), widening until the page is full."""
        field, key, descending = self.ordering.field, self.key, self.ordering.descending
        near, near_inclusive = start, False
        low, high = key_edges().get(field) or key.default_edges()
        # Without a cursor the first range reaches from near the data's edge to the end of the key space.
        position = key.to_int(start) if start is not None else (high + 1 if descending else low - 1)
        while self.missing > 0:
            far = position - self.width if descending else position + self.width
            edge = None if self.reads >= MAX_READS else key.edge(far, low, high + 1)
            if edge == "" or (edge is not None and near is not None and (edge >= near if descending else edge <= near)):
                self.width *= GROWTH  # rounding left nothing between the edges: look further
                continue
            condition = {}
            if near is not None:
                if descending:
                    condition["$lte" if near_inclusive else "$lt"] = near
                else:
                    condition["$gte" if near_inclusive else "$gt"] = near
            if edge is not None:
                condition["$gte" if descending else "$lt"] = edge
            if "$gte" not in condition and "$gt" not in condition:
                condition["$gte"] = key.lowest  # one type only: leaves out missing values
            missing = self.missing
            self.used_width = self.width
            found = self.read({field: condition}, by_value=True)
            if edge is None:
                return
            near, near_inclusive, position = edge, not descending, key.to_int(edge)
            self.width *= GROWTH if found == 0 else max(2, min(GROWTH, 2 * missing // found))
