"""manage.py import_books FILE: upsert books from a CSV (header row) or JSON-lines file.

Progress (total, percentage, rate, ETA) shows as a bar on a terminal and as a log line at least
every 10% or 10 seconds elsewhere; `--dry-run` checks every row and writes nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, no_translations

from access.actor import acting_as
from books.imports import BATCH_SIZE, ImportFileError, ImportSummary, book_import
from core.progress import Progress, count_lines

ACTOR = "command:import_books"


class Command(BaseCommand):
    help = (
        "Import books from a CSV file with a header row or a JSON-lines file (detected by the "
        "extension, else by the content). Books are matched by ISBN: new ones are added, changed "
        "ones updated, the same file run twice changes nothing. Invalid rows are reported by line."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--errors", type=int, default=50, help="How many row errors to print.")
        parser.add_argument(
            "--dry-run", action="store_true", help="check every row and report what would change; write nothing"
        )

    @no_translations  # operators read the commands' output in English, like the API's messages
    def handle(self, *args, file: Path, batch_size: int, errors: int, dry_run: bool = False, **options):
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        self.dry_run = dry_run
        lines = count_lines(file)
        self.progress = Progress(
            "import_books" + (" (dry run)" if dry_run else ""),
            total=lines,  # a CSV's header makes it one more than the rows: close enough for a bar
            terminal=self.stdout.isatty(),
            enabled=options["verbosity"] > 0,
        )
        try:
            with file.open(encoding="utf-8-sig", newline="") as stream, acting_as(ACTOR), self.progress:
                summary = book_import(
                    source=stream,
                    filename=file.name,
                    batch_size=batch_size,
                    progress=self._progress,
                    dry_run=dry_run,
                )
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        except UnicodeDecodeError as error:
            raise CommandError(f"{file} is not UTF-8 text (byte {error.start}).") from None
        self._report(summary, limit=errors)

    def _progress(self, summary: ImportSummary) -> None:
        would = "would be " if self.dry_run else ""
        self.progress.update(
            summary.rows,
            f"{summary.created:,} {would}created, {summary.updated:,} {would}updated, "
            f"{summary.unchanged:,} unchanged, {summary.invalid + summary.duplicates:,} skipped",
        )

    def _report(self, summary: ImportSummary, *, limit: int) -> None:
        for row_error in summary.errors[:limit]:
            self.stderr.write(f"line {row_error.line}: {row_error.reason}")
        not_shown = summary.invalid + summary.duplicates - min(limit, len(summary.errors))
        if not_shown > 0:
            self.stderr.write(f"... and {not_shown} more rows not imported")
        if summary.ignored_columns:
            self.stderr.write(f"ignored columns: {', '.join(summary.ignored_columns)}")
        would = "would be " if self.dry_run else ""
        line = (
            f"{summary.source} ({summary.format}): {summary.rows} rows, {summary.created} {would}created, "
            f"{summary.updated} {would}updated, {summary.unchanged} unchanged, {summary.duplicates} duplicate, "
            f"{summary.invalid} invalid."
        )
        if self.dry_run:
            line = "Dry run, nothing written: " + line
        self.stdout.write(self.style.SUCCESS(line) if not summary.errors else self.style.WARNING(line))
