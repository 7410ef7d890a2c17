"""The bulk import service: CSV (header row) or JSON lines, upserted by ISBN in batches.

`book_import()` is the one implementation behind `manage.py import_books` and the background
task started by `POST /api/books/import/`. Rows are validated with the same rules as the API;
a bad row is reported with its line number and reason and never stops the rest. A book named
twice in one file is taken from its first row (later rows are reported as duplicates), so running
the same file twice changes nothing the second time (every row comes back "unchanged").
"""

from __future__ import annotations

import contextvars
import csv
import io
import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import PurePath
from typing import TextIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from access.actor import current_actor
from books.models import Book
from books.services import book_fields_clean

IMPORT_FIELDS = (
    "title", "subtitle", "authors", "isbn", "publisher", "published_date",
    "language", "page_count", "tags", "description",
)
REQUIRED_FIELDS = ("title", "authors", "isbn")
LIST_SEPARATOR = ";"  # between authors or tags inside one CSV cell
BATCH_SIZE = 1000
# ISBNs per lookup query. secantusdb checks each found document against the `$in` list one
# value at a time, so 1,000 ISBNs that all exist took 2 s in one query and 0.23 s in ten.
LOOKUP_CHUNK = 100
MAX_REPORTED_ERRORS = 1000
CSV, JSONL = "csv", "jsonl"
EXTENSIONS = {".csv": CSV, ".jsonl": JSONL, ".ndjson": JSONL, ".json": JSONL}


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (not text, unknown format, missing columns)."""


class RowInvalid(ValueError):
    pass


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass
class ImportSummary:
    source: str = ""
    format: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    invalid: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def reject(self, line: int, reason: str, *, duplicate: bool = False) -> None:
        if duplicate:
            self.duplicates += 1
        else:
            self.invalid += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(line, reason))

    def as_dict(self) -> dict:
        data = asdict(self)
        data["errors_truncated"] = self.invalid + self.duplicates > len(self.errors)
        return data


def decode_import_file(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(_("The file is not UTF-8 text (byte %(byte)s).") % {"byte": error.start}) from None


def detect_format(*, filename: str = "", first_line: str = "") -> str:
    by_extension = EXTENSIONS.get(PurePath(filename).suffix.lower())
    if by_extension:
        return by_extension
    return JSONL if first_line.lstrip().startswith("{") else CSV


def check_import_file(*, content: str, filename: str = "", strict: bool = False) -> str:
    """Refuse, before queueing, a file that cannot be imported at all; returns its format. With
    `strict` (the admin), a column or key that is not a book field is refused too, rather than
    reported and ignored."""
    stream = io.StringIO(content)
    file_format = detect_format(filename=filename, first_line=_peek_first_line(stream))
    if not content.strip():
        raise ImportFileError(_("The file is empty."))
    names = set(_csv_header(csv.reader(stream))) if file_format == CSV else set()
    if strict and file_format == JSONL:
        names = _jsonl_keys(stream)
    unknown = sorted(names - set(IMPORT_FIELDS))
    if strict and unknown:
        raise ImportFileError(
            _("Unknown column(s): %(unknown)s. Columns may be: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(IMPORT_FIELDS)}
        )
    return file_format


def _jsonl_keys(stream: TextIO) -> set[str]:
    """Every key of the file's JSON objects (lines that are not one are the import's to report)."""
    keys: set[str] = set()
    for text in stream:
        try:
            record = json.loads(text) if text.strip() else None
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            keys.update(str(key).strip().lower() for key in record)
    return keys


def book_import(
    *,
    source: str | TextIO,
    filename: str = "",
    batch_size: int = BATCH_SIZE,
    progress: Callable[[ImportSummary], None] | None = None,
    dry_run: bool = False,
) -> ImportSummary:
    """Upsert every valid row of `source` by ISBN; returns what happened, row by row. With
    `dry_run`, every row is checked and classified (created, updated, unchanged) against what is
    stored, and nothing is written."""
    stream = io.StringIO(source) if isinstance(source, str) else source
    first_line = _peek_first_line(stream)
    summary = ImportSummary(source=filename, format=detect_format(filename=filename, first_line=first_line))
    records = _csv_records(stream, summary) if summary.format == CSV else _jsonl_records(stream, summary)
    actor = current_actor() or "system"
    batch: dict[str, tuple[int, dict]] = {}
    first_lines: dict[str, int] = {}  # ISBN -> line; a file names each book once
    with _BatchWriter(summary, actor, progress, dry_run=dry_run) as writer:
        for line, record in records:
            summary.rows += 1
            try:
                fields = _clean_row(record)
            except RowInvalid as error:
                summary.reject(line, str(error))
                continue
            isbn = fields["isbn"]
            if isbn in first_lines:
                summary.reject(line, f"ISBN {isbn} already on line {first_lines[isbn]}; skipped", duplicate=True)
                continue
            first_lines[isbn] = line
            batch[isbn] = (line, fields)
            if len(batch) >= batch_size:
                writer.write(batch)
                batch = {}
        writer.write(batch)
    return summary


class _BatchWriter:
    """Writes batches in one background thread, one at a time and in order, while the caller
    reads and checks the next batch: the database's work and the file's overlap.

    A batch is handed over only once the previous one is written, so each batch's lookup of
    existing ISBNs sees every earlier batch, and a failed write is raised to the caller at the
    next hand-over (or at the end) with nothing after it written.
    """

    def __init__(self, summary: ImportSummary, actor: str, progress, *, dry_run: bool = False):
        self.summary, self.actor, self.progress = summary, actor, progress
        self.dry_run = dry_run
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="book-import")
        self.pending: Future | None = None

    def _wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()
            if self.progress:
                self.progress(self.summary)

    def write(self, batch: dict) -> None:
        self._wait()
        if batch:
            context = contextvars.copy_context()  # the actor, for the history rows
            self.pending = self.pool.submit(context.run, _flush, batch, self.summary, self.actor, dry_run=self.dry_run)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        try:
            if exc_type is None:
                self._wait()
        finally:
            # The writer thread's own database connections end with it.
            self.pool.submit(connections.close_all).result()
            self.pool.shutdown()


def _peek_first_line(stream: TextIO) -> str:
    if stream.seekable():
        position = stream.tell()
        first_line = stream.readline()
        stream.seek(position)
        return first_line
    return ""


def _csv_header(reader) -> list[str]:
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise ImportFileError(_("The file is empty.")) from None
    except csv.Error as error:
        raise ImportFileError(_("The header row is not valid CSV: %(error)s.") % {"error": error}) from None
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if missing:
        raise ImportFileError(
            _("The header row lacks the column(s) %(missing)s; known columns: %(known)s.")
            % {"missing": ", ".join(missing), "known": ", ".join(IMPORT_FIELDS)}
        )
    return header


def _csv_records(stream: TextIO, summary: ImportSummary) -> Iterator[tuple[int, dict]]:
    reader = csv.reader(stream)
    header = _csv_header(reader)
    summary.ignored_columns = sorted({name for name in header if name not in IMPORT_FIELDS})
    previous_line = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            summary.rows += 1
            summary.reject(previous_line + 1, f"not valid CSV: {error}")
            previous_line = reader.line_num
            continue
        line, previous_line = previous_line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            summary.rows += 1
            summary.reject(line, f"the row has {len(cells)} cells; the header has {len(header)}")
            continue
        yield line, dict(zip(header, cells, strict=True))


def _jsonl_records(stream: TextIO, summary: ImportSummary) -> Iterator[tuple[int, dict]]:
    for line, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            summary.rows += 1
            summary.reject(line, f"not valid JSON: {error.msg} (column {error.colno})")
            continue
        if not isinstance(record, dict):
            summary.rows += 1
            summary.reject(line, "each line must be one JSON object")
            continue
        record = {str(key).strip().lower(): value for key, value in record.items()}
        if unknown := set(record) - set(IMPORT_FIELDS) - set(summary.ignored_columns):
            # Reported as the CSV's unknown columns are, not dropped unseen.
            summary.ignored_columns = sorted({*summary.ignored_columns, *unknown})
        yield line, record


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _is_blank(value) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _clean_row(record: dict) -> dict:
    """The model fields a row sets (only the columns it has), or RowInvalid saying why. The rules
    are the service's (books.services.book_fields_clean); reading a cell is the import's: several
    authors or tags in one text are separated by LIST_SEPARATOR."""
    missing = [name for name in REQUIRED_FIELDS if _is_blank(record.get(name))]
    if missing:
        raise RowInvalid(f"{missing[0]}: this field is required")
    fields = {}
    for name in IMPORT_FIELDS:
        if name not in record:
            continue
        value = record[name]
        if name in ("authors", "tags") and isinstance(value, str):
            value = value.split(LIST_SEPARATOR)
        fields[name] = value
    try:
        return book_fields_clean(fields)
    except ValidationError as error:
        name, messages = next(iter(error.message_dict.items()))
        raise RowInvalid(f"{name}: {' '.join(messages)}") from None


def _flush(
    batch: dict[str, tuple[int, dict]], summary: ImportSummary, actor: str, *, retry: bool = True, dry_run=False
):
    """Write one batch: one query to find existing books, one bulk insert, one bulk update (with
    `dry_run`, only the query: the counts say what the writes would do)."""
    if not batch:
        return
    isbns = list(batch)
    existing = {
        book.isbn: book
        for start in range(0, len(isbns), LOOKUP_CHUNK)
        for book in Book.objects.filter(isbn__in=isbns[start:start + LOOKUP_CHUNK])
    }
    to_create, to_update, changed_fields = [], [], set()
    unchanged = 0
    for isbn, (line, fields) in batch.items():
        book = existing.get(isbn)
        if book is None:
            to_create.append(Book(**fields))
            continue
        if book.archived_at is not None:  # as the API and the admin: restore it first, then change it
            summary.reject(line, f"ISBN {isbn} belongs to an archived book; restore it first; skipped")
            continue
        changed = [name for name, value in fields.items() if getattr(book, name) != value]
        if not changed:
            unchanged += 1
            continue
        for name in changed:
            setattr(book, name, fields[name])
        changed_fields.update(changed)
        to_update.append(book)
    if dry_run:
        summary.created += len(to_create)
        summary.updated += len(to_update)
        summary.unchanged += unchanged
        batch.clear()
        return
    history = {"custom_historical_attrs": {"history_actor": actor}}
    try:
        if to_create:
            bulk_create_with_history(to_create, Book, batch_size=len(to_create), **history)
    except IntegrityError:
        # Another writer inserted one of these ISBNs meanwhile: look again, once.
        if not retry:
            raise
        _flush(batch, summary, actor, retry=False)
        return
    if to_update:
        now = timezone.now()
        for book in to_update:
            book.updated_at = now
        fields = sorted(changed_fields | {"updated_at"})
        bulk_update_with_history(to_update, Book, fields, batch_size=len(to_update), **history)
    summary.created += len(to_create)
    summary.updated += len(to_update)
    summary.unchanged += unchanged
    batch.clear()
