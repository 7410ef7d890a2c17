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

The reading, checking and batched inserting is companies.imports.company_import (the admin's
import task runs it too): while the main thread reads and validates, batches are inserted by
`--workers` threads, each with its own database connection (PostgreSQL; inline elsewhere, or when
already inside a transaction).
"""

from __future__ import annotations

import codecs
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, no_translations

from access.actor import acting_as
from companies.enrichment import backlog_summary
from companies.imports import BATCH_SIZE, WORKERS, ImportFileError, ImportTally, company_import
from core.progress import Progress, count_lines

ACTOR = "command:import_companies"


class Command(BaseCommand):
    help = "Import companies from a CSV file (header row; `cnpj` required, other company fields optional)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file with a header row")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="rows per insert (default 5000)")
        parser.add_argument("--delimiter", default=",", help="field delimiter (default ,)")
        parser.add_argument("--encoding", default="utf-8-sig", help="file encoding (default utf-8, BOM allowed)")
        parser.add_argument("--workers", type=int, default=WORKERS, help="parallel insert connections (default 2)")
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
        enrich = not no_enrich and not dry_run
        with acting_as(ACTOR), source.open(newline="", encoding=encoding) as handle, self.progress:
            try:
                tally = company_import(
                    source=handle,
                    delimiter=delimiter,
                    batch_size=batch_size,
                    workers=workers,
                    enrich=enrich,
                    dry_run=dry_run,
                    progress=self._show_progress,
                    on_invalid=self._invalid,
                    on_repeat=self._repeat if self.verbosity >= 2 else None,
                )
            except ImportFileError as exc:
                hint = " Try --encoding latin-1." if isinstance(exc.__cause__, UnicodeDecodeError) else ""
                raise CommandError(f"{exc}{hint}") from exc
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
        if enrich and tally.inserted:
            self.stdout.write(backlog_summary())
        if tally.not_queued:
            self.stderr.write(
                "The task queue is unavailable: no worker was told of the new lookups. They wait in the "
                "backlog; beat's backlog tick (or `manage.py refresh_companies`) starts the drainers once it is back."
            )

    def _invalid(self, line: int, reason: str) -> None:
        self.stderr.write(f"line {line}: {reason}")

    def _repeat(self, line: int, cnpj: str, first: int) -> None:
        self.stdout.write(f"line {line}: skipped, CNPJ {cnpj} repeats line {first}")

    def _show_progress(self, tally: ImportTally) -> None:
        verb = "would insert" if self.dry_run else "inserted"
        self.progress.update(
            tally.rows, f"{tally.inserted} {verb}, {tally.stored} already stored, {tally.invalid} invalid"
        )
