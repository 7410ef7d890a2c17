"""Lists as files, never held in memory: CSV streamed in chunks as rows arrive, XLSX written row
by row (openpyxl's write-only mode) to a temporary file that is then streamed.

CSV text: UTF-8 with a byte order mark (spreadsheets then read the accents), lines ending in
"\n", nothing for an empty value, dates as YYYY-MM-DD, times as YYYY-MM-DD HH:MM:SS in UTC. Text
that a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a carriage return)
is neutralised: prefixed with an apostrophe in CSV, stored as plain text in XLSX. On PostgreSQL,
core.exports_fast writes the same bytes with COPY.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

CSV_CHUNK_CHARACTERS = 64 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # UTC
LINE_END = "\n"
BOM = "\ufeff"
XLSX_MAX_ROWS = 1_048_576  # Excel's limit, header row included


@dataclass(frozen=True)
class Column:
    """One column of an export: its header, the field read (a `values_list` path), and how a
    stored value becomes the cell's (default: as it is)."""

    header: Any  # a (lazy) translatable string
    field: str | tuple[str, ...]  # several fields: `value` gets them as a tuple
    value: Callable[[Any], Any] | None = None
    # The same text as `value`, computed by the database (a Django expression): lets the
    # PostgreSQL fast path (core.exports_fast) export the column.
    sql: Callable[[], Any] | None = None


def column_rows(columns: list[Column], queryset, *, chunk_size: int) -> Iterator[tuple]:
    """The queryset's rows, one value per column (read in chunks: a server-side cursor on
    PostgreSQL, a batched cursor on MongoDB)."""
    fields: list[str] = []
    spans = []
    for column in columns:
        names = column.field if isinstance(column.field, tuple) else (column.field,)
        spans.append((len(fields), len(names), isinstance(column.field, tuple)))
        fields.extend(names)
    rows = queryset.values_list(*fields).iterator(chunk_size=chunk_size)
    if not any(grouped for _start, _size, grouped in spans):
        return rows
    return (
        tuple(row[start:start + size] if grouped else row[start] for start, size, grouped in spans) for row in rows
    )


def cell_text(value) -> str:
    """A value as CSV text: dates in ISO 8601, lists of text joined with "; ", other lists and
    dicts as JSON, nothing as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return (value.astimezone(datetime.UTC) if value.tzinfo else value).strftime(DATETIME_FORMAT)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (int, float, decimal.Decimal)):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return cell_text("; ".join(value))
    return cell_text(json.dumps(value, ensure_ascii=False, default=str))


class _Buffer:
    """A file-like sink for csv.writer that hands back what was written. The writer ends rows with
    "\r\n", so that it quotes a value holding a carriage return as well as one holding a line feed
    (as PostgreSQL does); each row (one write) then ends in "\n" instead."""

    def __init__(self):
        self.parts: list[str] = []
        self.size = 0

    def write(self, row: str) -> None:
        row = row[:-2] + LINE_END
        self.parts.append(row)
        self.size += len(row)

    def take(self) -> str:
        text, self.parts, self.size = "".join(self.parts), [], 0
        return text


def csv_header(columns: list[Column]) -> bytes:
    """The CSV's first bytes: the byte order mark and the header row."""
    buffer = _Buffer()
    csv.writer(buffer, lineterminator="\r\n").writerow([str(column.header) for column in columns])
    return (BOM + buffer.take()).encode()


def csv_chunks(columns: list[Column], rows: Iterable[tuple]) -> Iterator[bytes]:
    """The CSV (UTF-8 with a byte order mark, so spreadsheets read the accents) in chunks of about
    CSV_CHUNK_CHARACTERS: a header row, then one row per tuple of `rows` (values in column order)."""
    yield csv_header(columns)
    buffer = _Buffer()
    writer = csv.writer(buffer, lineterminator="\r\n")
    converters = [column.value for column in columns]
    plain = not any(converters)
    for row in rows:
        if not plain:
            row = [convert(value) if convert else value for convert, value in zip(converters, row, strict=True)]
        writer.writerow([cell_text(value) for value in row])
        if buffer.size >= CSV_CHUNK_CHARACTERS:
            yield buffer.take().encode()
    if buffer.size:
        yield buffer.take().encode()


def _xlsx_value(value, sheet):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or isinstance(value, (bool, int, float, decimal.Decimal, datetime.date)):
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            return value.replace(tzinfo=None)  # Excel has no time zones; stored times are UTC
        return value
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, default=str) if not (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        ) else "; ".join(value)
    value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters an XLSX file cannot hold
    if value.startswith("="):  # openpyxl would store it as a formula
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def xlsx_file(columns: list[Column], rows: Iterable[tuple], *, title: str):
    """A temporary file (deleted when closed) holding the XLSX workbook, positioned at its start."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([str(column.header) for column in columns])
    converters = [column.value for column in columns]
    for row in rows:
        sheet.append([
            _xlsx_value(convert(value) if convert else value, sheet)
            for convert, value in zip(converters, row, strict=True)
        ])
    output = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (the response closes it)
    workbook.save(output)
    output.seek(0)
    return output
