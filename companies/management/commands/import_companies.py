"""manage.py import_companies FILE.csv: add companies from a CSV file, skipping stored CNPJs.

The header names the columns: `cnpj` (raw or formatted) is required; any editable company field
may follow (legal_name, trade_name, city, state, ...; activities and partners as JSON). Every row
is validated and each invalid one is reported with its line number and reason; the valid ones are
inserted in bulk, in batches, each batch in its own transaction. CNPJs already stored (or
repeated in the file) are skipped, so running the command twice is harmless. History rows are
attributed to `command:import_companies`. Inserted companies have their registry lookup due at
once, in the enrichment backlog (`--no-enrich` to leave them pending for `refresh_companies`);
the drainers are told after each batch, and the import ends by printing the backlog and its ETA.
Progress (total, percentage, rate, ETA) shows as a bar on a terminal and as a log line at least
every 10% or 10 seconds elsewhere; `--dry-run` validates everything and reports what would be
inserted without writing anything.

While the main thread reads and validates, batches are inserted by `--workers` threads, each with
its own database connection (PostgreSQL; inline elsewhere, or when already inside a transaction).
"""

from __future__ import annotations

import codecs
import contextvars
import csv
import json
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.db import connection

from access.actor import acting_as
from companies import cnpj as cnpj_value
from companies import services
from companies import tasks as company_tasks
from companies.enrichment import backlog_summary
from companies.models import Company
from core.progress import Progress, count_lines

ACTOR = "command:import_companies"
JSON_COLUMNS = frozenset({"secondary_activities", "partners"})


@dataclass
class Tally:
    rows: int = 0
    inserted: int = 0
    stored: int = 0
    repeated: int = 0
    invalid: int = 0
    not_queued: int = 0
    seen: dict[str, int] = field(default_factory=dict)


class Command(BaseCommand):
    help = "Import companies from a CSV file (header row; `cnpj` required, other company fields optional)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file with a header row")
        parser.add_argument("--batch-size", type=int, default=5000, help="rows per insert (default 5000)")
        parser.add_argument("--delimiter", default=",", help="field delimiter (default ,)")
        parser.add_argument("--encoding", default="utf-8-sig", help="file encoding (default utf-8, BOM allowed)")
        parser.add_argument("--workers", type=int, default=2, help="parallel insert connections (default 2)")
        parser.add_argument("--no-enrich", action="store_true", help="do not queue the registry enrichment")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and report what would be inserted; write nothing"
        )

    @no_translations  # operators read the commands' output in English, like the API's messages
    def handle(
        self, *args, path, batch_size, delimiter, encoding, workers, no_enrich=False, dry_run=False, **options
    ):
        if batch_size < 1 or workers < 1:
            raise CommandError("--batch-size and --workers must be at least 1.")
        source = Path(path)
        if not source.is_file():
            raise CommandError(f"No such file: {source}")
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise CommandError(f"--encoding {encoding}: not an encoding Python knows (e.g. utf-8, latin-1).") from None
        if len(delimiter) != 1:
            raise CommandError(f"--delimiter must be one character, not {delimiter!r}.")
        self.verbosity = options["verbosity"]
        self.dry_run = dry_run
        self.progress = Progress(
            "import_companies" + (" (dry run)" if dry_run else ""),
            total=max(0, count_lines(source) - 1),
            terminal=self.stdout.isatty(),
            enabled=self.verbosity >= 1,
        )
        started = time.monotonic()
        self.enrich = not no_enrich and not dry_run
        self.writer = BatchWriter(workers=workers, on_done=self._batch_done, enrich=self.enrich, dry_run=dry_run)
        with acting_as(ACTOR), source.open(newline="", encoding=encoding) as handle, self.progress:
            try:
                tally = self._import(csv.reader(handle, delimiter=delimiter), batch_size)
            finally:
                self.writer.close()
        elapsed = time.monotonic() - started
        if dry_run:
            self.stdout.write(
                f"Dry run, nothing written: {tally.rows} rows read in {elapsed:.1f}s: {tally.inserted} would be "
                f"inserted, {tally.stored} already stored, {tally.repeated} repeated in the file, "
                f"{tally.invalid} invalid."
            )
            return
        self.stdout.write(
            f"{tally.rows} rows read in {elapsed:.1f}s: {tally.inserted} inserted, "
            f"{tally.stored} already stored, {tally.repeated} repeated in the file, {tally.invalid} invalid."
        )
        if self.enrich and tally.inserted:
            self.stdout.write(backlog_summary())
        if tally.not_queued:
            self.stderr.write(
                "The task queue is unavailable: no worker was told of the new lookups. They wait in the "
                "backlog; beat's backlog tick (or `manage.py refresh_companies`) starts the drainers once it is back."
            )

    # --- reading ----------------------------------------------------------------------------
    def _columns(self, reader) -> list[str]:
        try:
            header = next(reader)
        except StopIteration:
            raise CommandError("The file is empty; expected a header row with a `cnpj` column.") from None
        columns = [name.strip().lower() for name in header]
        allowed = {"cnpj", *services.EDITABLE_FIELDS}
        unknown = [name for name in columns if name not in allowed]
        if "cnpj" not in columns:
            raise CommandError("The header has no `cnpj` column.")
        if unknown:
            raise CommandError(
                f"Unknown column(s): {', '.join(unknown)}. Columns may be: cnpj, {', '.join(services.EDITABLE_FIELDS)}."
            )
        if len(set(columns)) != len(columns):
            raise CommandError("A column appears twice in the header.")
        return columns

    def _import(self, reader, batch_size) -> Tally:
        try:
            return self._import_rows(reader, batch_size)
        except UnicodeDecodeError as exc:
            raise CommandError(
                f"Near line {reader.line_num + 1}: the file is not valid text in this encoding ({exc.reason}); "
                "try --encoding latin-1."
            ) from exc
        except csv.Error as exc:
            raise CommandError(f"Line {reader.line_num}: {exc}") from exc

    def _import_rows(self, reader, batch_size) -> Tally:
        columns = self._columns(reader)
        cnpj_index = columns.index("cnpj")
        others = [(index, name) for index, name in enumerate(columns) if name != "cnpj"]
        tally = Tally()
        batch: list[dict] = []
        for values in reader:
            line = reader.line_num
            if not any(values):
                continue
            tally.rows += 1
            if tally.rows % 1000 == 0:  # rows read so far, also while a big batch is being written
                self._show_progress(tally)
            row = self._row(values, line, len(columns), cnpj_index, others, tally)
            if row is not None:
                batch.append(row)
                if len(batch) >= batch_size:
                    self._flush(batch, tally)
                    batch = []
        self._flush(batch, tally)
        self.writer.finish(tally)
        return tally

    def _row(self, values, line, width, cnpj_index, others, tally) -> dict | None:
        if len(values) != width:
            return self._invalid(line, f"expected {width} columns, found {len(values)}", tally)
        try:
            number = cnpj_value.normalize(values[cnpj_index])
        except cnpj_value.InvalidCNPJ as exc:
            return self._invalid(line, f"cnpj: {exc}", tally)
        first = tally.seen.get(number)
        if first is not None:
            tally.repeated += 1
            if self.verbosity >= 2:
                self.stdout.write(f"line {line}: skipped, CNPJ {number} repeats line {first}")
            return None
        fields = {}
        for index, name in others:
            raw = values[index].strip()
            if not raw:
                continue
            if name in JSON_COLUMNS:
                try:
                    raw = json.loads(raw)
                except ValueError:
                    return self._invalid(line, f"{name}: not valid JSON", tally)
            fields[name] = raw
        if fields:
            try:
                fields = services.company_fields_clean(fields)
            except ValidationError as exc:
                reasons = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
                return self._invalid(line, reasons, tally)
        fields["cnpj"] = number
        tally.seen[number] = line
        return fields

    def _invalid(self, line, reason, tally) -> None:
        tally.invalid += 1
        self.stderr.write(f"line {line}: {reason}")
        return None

    # --- writing ----------------------------------------------------------------------------
    def _flush(self, batch, tally) -> None:
        if batch:
            self.writer.submit(batch, tally)

    def _batch_done(self, tally, inserted: list[str]) -> None:
        if self.enrich and inserted and not tally.not_queued and company_tasks.backlog_kick() is None:
            tally.not_queued = len(inserted)
        self._show_progress(tally)

    def _show_progress(self, tally) -> None:
        verb = "would insert" if self.dry_run else "inserted"
        self.progress.update(
            tally.rows, f"{tally.inserted} {verb}, {tally.stored} already stored, {tally.invalid} invalid"
        )


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

    def submit(self, batch: list[dict], tally: Tally) -> None:
        if not self.parallel:
            self._count(tally, len(batch), self.insert(rows=batch, enrich=self.enrich))
            return
        while len(self.pending) >= self.limit:
            self._collect(tally)
        future: Future = Future()
        # copy_context: the worker keeps the actor (command:import_companies) for the history rows.
        self.queue.put((contextvars.copy_context(), batch, future))
        self.pending.append((len(batch), future))

    def finish(self, tally: Tally) -> None:
        while self.pending:
            self._collect(tally)

    def close(self) -> None:
        """Cancel the batches not started (after an error), let running ones end, stop the threads."""
        for _, future in self.pending:
            future.cancel()
        for _ in self.threads:
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

    def _collect(self, tally: Tally) -> None:
        size, future = self.pending.popleft()
        self._count(tally, size, future.result())

    def _count(self, tally: Tally, size: int, inserted: list[str]) -> None:
        tally.inserted += len(inserted)
        tally.stored += size - len(inserted)
        self.on_done(tally, inserted)


def _not_stored(*, rows: list[dict], enrich: bool) -> list[str]:
    """--dry-run: the CNPJs of `rows` that an import would insert (not stored yet); writes nothing."""
    cnpjs = [row["cnpj"] for row in rows]
    stored = set(Company.objects.filter(cnpj__in=cnpjs).values_list("cnpj", flat=True))
    return [cnpj for cnpj in cnpjs if cnpj not in stored]
