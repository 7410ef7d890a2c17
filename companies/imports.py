"""The companies import: a CSV file's rows checked one by one, the valid ones inserted in bulk.

`company_import()` is the one implementation behind `manage.py import_companies` and the admin's
import task. The header names the columns: `cnpj` (raw or formatted) is required; any editable
company field may follow (legal_name, trade_name, city, state, ...; activities and partners as
JSON). A file whose header cannot work (no `cnpj`, an unknown or repeated column) is refused
before anything is written (`check_import_file()` says so before an upload is queued). Every row
is validated and each invalid one is reported with its line number and reason; the valid ones are
inserted in batches through `companies.services.company_bulk_create` (the COPY path of
`companies.bulk`), each batch in its own transaction. CNPJs already stored, or repeated in the
file, are skipped, so importing a file twice is harmless. Inserted companies have their registry
lookup due at once (the enrichment backlog) unless `enrich=False`; the drainers are told after
each batch. With `dry_run`, everything is checked and nothing is written.

While the caller's thread reads and validates, batches are inserted by `workers` threads, each
with its own database connection (PostgreSQL outside a transaction; inline otherwise).
"""

from __future__ import annotations

import contextvars
import csv
import io
import json
import queue
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TextIO

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from companies import bulk, services
from companies import cnpj as cnpj_value
from companies import tasks as company_tasks
from companies.models import Company

BATCH_SIZE = 5000
WORKERS = 2
JSON_COLUMNS = frozenset({"secondary_activities", "partners"})
MAX_REPORTED_ERRORS = 1000  # invalid rows kept in the report; the count covers them all
PROGRESS_EVERY_ROWS = 1000


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (empty, a header that cannot work, not text)."""


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass
class ImportTally:
    rows: int = 0
    inserted: int = 0
    stored: int = 0
    repeated: int = 0
    invalid: int = 0
    not_queued: int = 0
    errors: list[RowError] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict, repr=False)  # CNPJ -> its first line

    def reject(self, line: int, reason: str) -> None:
        self.invalid += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(line, reason))

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "inserted": self.inserted,
            "stored": self.stored,
            "repeated": self.repeated,
            "invalid": self.invalid,
            "not_queued": self.not_queued,
            "errors": [{"line": error.line, "reason": error.reason} for error in self.errors],
            "errors_truncated": self.invalid > len(self.errors),
        }


def import_columns(header: list[str]) -> list[str]:
    """The header's column names (trimmed, lower case), or ImportFileError saying why they cannot work."""
    columns = [name.strip().lower() for name in header]
    allowed = {"cnpj", *services.EDITABLE_FIELDS}
    if "cnpj" not in columns:
        raise ImportFileError(_("The header has no `cnpj` column."))
    unknown = [name for name in columns if name not in allowed]
    if unknown:
        raise ImportFileError(
            _("Unknown column(s): %(unknown)s. Columns may be: cnpj, %(allowed)s.")
            % {"unknown": ", ".join(unknown), "allowed": ", ".join(services.EDITABLE_FIELDS)}
        )
    if len(set(columns)) != len(columns):
        raise ImportFileError(_("A column appears twice in the header."))
    return columns


def _header(reader) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(_("The file is empty; expected a header row with a `cnpj` column.")) from None
    return import_columns(header)


def check_import_file(*, content: str, delimiter: str = ",") -> list[str]:
    """Refuse, before anything is queued or written, a file whose header cannot work; returns its columns."""
    try:
        return _header(csv.reader(io.StringIO(content), delimiter=delimiter))
    except csv.Error as error:
        raise ImportFileError(_("The header row is not valid CSV: %(error)s.") % {"error": error}) from None


def company_import(
    *,
    source: TextIO | str,
    delimiter: str = ",",
    batch_size: int = BATCH_SIZE,
    workers: int = WORKERS,
    enrich: bool = True,
    dry_run: bool = False,
    progress: Callable[[ImportTally], None] | None = None,
    on_invalid: Callable[[int, str], None] | None = None,
    on_repeat: Callable[[int, str, int], None] | None = None,
) -> ImportTally:
    """Insert every valid, not yet stored row of the CSV `source`; returns the tally.

    `progress(tally)` is called every PROGRESS_EVERY_ROWS rows read and after every batch
    written; `on_invalid(line, reason)` for each invalid row and `on_repeat(line, cnpj, first_line)`
    for each row repeating an earlier CNPJ, as they are met. History rows name the current actor.
    """
    stream = io.StringIO(source) if isinstance(source, str) else source
    reader = csv.reader(stream, delimiter=delimiter)
    run = _Import(
        batch_size=batch_size, enrich=enrich and not dry_run, progress=progress,
        on_invalid=on_invalid, on_repeat=on_repeat,
    )
    writer = BatchWriter(workers=workers, on_done=run.batch_done, enrich=run.enrich, dry_run=dry_run)
    run.writer = writer
    try:
        return run.read(reader)
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _("Near line %(line)s: the file is not valid text in this encoding (%(reason)s).")
            % {"line": reader.line_num + 1, "reason": error.reason}
        ) from error
    except csv.Error as error:
        raise ImportFileError(_("Line %(line)s: %(error)s") % {"line": reader.line_num, "error": error}) from error
    finally:
        writer.close()


class _Import:
    """One import's reading side: rows to clean batches, handed to the BatchWriter."""

    writer: BatchWriter

    def __init__(self, *, batch_size, enrich, progress, on_invalid, on_repeat):
        self.batch_size, self.enrich = batch_size, enrich
        self.progress, self.on_invalid, self.on_repeat = progress, on_invalid, on_repeat
        self.tally = ImportTally()

    def read(self, reader) -> ImportTally:
        columns = _header(reader)
        cnpj_index = columns.index("cnpj")
        # Each column's cleaner: the service's rule, through the bulk module's fast path.
        others = [(index, name, bulk.field_cleaner(name)) for index, name in enumerate(columns) if name != "cnpj"]
        tally, batch_size, width = self.tally, self.batch_size, len(columns)
        batch: list[dict] = []
        for values in reader:
            line = reader.line_num
            if not any(values):
                continue
            tally.rows += 1
            if self.progress and tally.rows % PROGRESS_EVERY_ROWS == 0:  # also while a big batch is written
                self.progress(tally)
            row = self.row(values, line, width, cnpj_index, others)
            if row is not None:
                batch.append(row)
                if len(batch) >= batch_size:
                    self.writer.submit(batch, tally)
                    batch = []
        if batch:
            self.writer.submit(batch, tally)
        self.writer.finish(tally)
        return tally

    def row(self, values, line, width, cnpj_index, others) -> dict | None:
        tally = self.tally
        if len(values) != width:
            return self.invalid(
                line, _("expected %(width)s columns, found %(found)s") % {"width": width, "found": len(values)}
            )
        try:
            number = cnpj_value.normalize(values[cnpj_index])
        except cnpj_value.InvalidCNPJ as exc:
            return self.invalid(line, f"cnpj: {exc}")
        first = tally.seen.get(number)
        if first is not None:
            tally.repeated += 1
            if self.on_repeat:
                self.on_repeat(line, number, first)
            return None
        fields, reasons = {}, []
        for index, name, clean in others:
            raw = values[index].strip()
            if not raw:
                continue
            if name in JSON_COLUMNS:
                try:
                    raw = json.loads(raw)
                except ValueError:
                    reasons.append(_("%(column)s: not valid JSON") % {"column": name})
                    continue
            try:
                fields[name] = clean(raw)
            except ValidationError as exc:
                reasons.append(f"{name}: {' '.join(exc.messages)}")
        if reasons:
            return self.invalid(line, "; ".join(reasons))
        fields["cnpj"] = number
        tally.seen[number] = line
        return fields

    def invalid(self, line: int, reason: str) -> None:
        self.tally.reject(line, reason)
        if self.on_invalid:
            self.on_invalid(line, reason)
        return None

    def batch_done(self, tally: ImportTally, inserted: list[str]) -> None:
        if self.enrich and inserted and not tally.not_queued and company_tasks.backlog_kick() is None:
            tally.not_queued = len(inserted)
        if self.progress:
            self.progress(tally)


class BatchWriter:
    """Inserts batches through companies.services.company_bulk_create, each in its own
    transaction: on `workers` threads, each keeping its own database connection for the whole
    import, when that is safe (PostgreSQL, not inside a transaction); else inline. At most
    `workers` batches wait or run at a time, so the reading keeps ahead without piling up rows."""

    def __init__(self, *, workers: int, on_done, enrich: bool, dry_run: bool = False):
        self.enrich = enrich
        self.insert = _not_stored if dry_run else services.company_bulk_create
        self.parallel = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.limit = workers
        self.pending: deque[tuple[int, Future]] = deque()
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.threads = [
            threading.Thread(target=self._work, name=f"import-{number}", daemon=True)
            for number in range(workers if self.parallel else 0)
        ]
        for thread in self.threads:
            thread.start()
        self.on_done = on_done

    def submit(self, batch: list[dict], tally: ImportTally) -> None:
        if not self.parallel:
            self._count(tally, len(batch), self.insert(rows=batch, enrich=self.enrich))
            return
        while len(self.pending) >= self.limit:
            self._collect(tally)
        future: Future = Future()
        # copy_context: the worker keeps the actor for the history rows.
        self.queue.put((contextvars.copy_context(), batch, future))
        self.pending.append((len(batch), future))

    def finish(self, tally: ImportTally) -> None:
        while self.pending:
            self._collect(tally)

    def close(self) -> None:
        """Cancel the batches not started (after an error), let running ones end, stop the threads."""
        for _size, future in self.pending:
            future.cancel()
        for _thread in self.threads:
            self.queue.put(None)
        for thread in self.threads:
            thread.join()

    def _work(self) -> None:
        try:
            while (item := self.queue.get()) is not None:
                context, batch, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(context.run(self.insert, rows=batch, enrich=self.enrich))
                except BaseException as exc:  # handed to the reading thread, which raises it
                    future.set_exception(exc)
        finally:
            connection.close()  # this thread's own connection

    def _collect(self, tally: ImportTally) -> None:
        size, future = self.pending.popleft()
        self._count(tally, size, future.result())

    def _count(self, tally: ImportTally, size: int, inserted: list[str]) -> None:
        tally.inserted += len(inserted)
        tally.stored += size - len(inserted)
        self.on_done(tally, inserted)


def _not_stored(*, rows: list[dict], enrich: bool) -> list[str]:
    """A dry run: the CNPJs of `rows` that an import would insert (not stored yet); writes nothing."""
    cnpjs = [row["cnpj"] for row in rows]
    stored = set(Company.objects.filter(cnpj__in=cnpjs).values_list("cnpj", flat=True))
    return [cnpj for cnpj in cnpjs if cnpj not in stored]
