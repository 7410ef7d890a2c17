"""The CSV export's fast path on PostgreSQL: `COPY (SELECT ...) TO STDOUT (FORMAT csv)`.

The server formats every row and psycopg hands the bytes over as they come, so Python does no
work per value; the plain path (core.exports.csv_chunks) formats each value in Python and is
several times slower. The SELECT is the queryset's own (its filters, search and ordering), with
each column turned into the plain path's text by Django expressions: text neutralised as a formula
and empty as nothing, times in UTC to the second, and a column's own `sql` where it has a `value`
conversion. A column neither rule covers (JSON, lists, booleans) makes `copy_supported()` false
and the plain path is used. A test checks that both paths give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from django.core.exceptions import EmptyResultSet
from django.db import connections, models, transaction
from django.db.models import Case, F, Func, Value, When
from django.db.models.functions import Concat

from core.exports import FORMULA_STARTS, Column, csv_header

CHUNK_BYTES = 64 * 1024
_FORMULA_PATTERN = "^[" + "".join("\\" + char if char in "-" else char for char in FORMULA_STARTS) + "]"
_AS_IS = (models.DateField, models.DecimalField, models.IntegerField)  # DateField: not DateTimeField, see below


class _UtcSeconds(Func):
    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
    output_field = models.TextField()


def _expression(column: Column, model):
    if column.value is not None:
        return column.sql() if column.sql is not None else None
    if not isinstance(column.field, str) or "__" in column.field:
        return None
    field = model._meta.get_field(column.field)
    if isinstance(field, models.DateTimeField):
        return _UtcSeconds(F(column.field))
    if isinstance(field, _AS_IS):
        return F(column.field)
    if isinstance(field, (models.CharField, models.TextField)):
        return Case(
            When(**{f"{column.field}__regex": _FORMULA_PATTERN}, then=Concat(Value("'"), F(column.field))),
            When(**{column.field: ""}, then=Value(None)),  # nothing, as the plain path writes it
            default=F(column.field),
            output_field=models.TextField(),
        )
    return None


def copy_supported(columns: list[Column], queryset) -> bool:
    return connections[queryset.db].vendor == "postgresql" and all(
        _expression(column, queryset.model) is not None for column in columns
    )


def copy_csv_chunks(columns: list[Column], queryset) -> Iterator[bytes]:
    """The same bytes as core.exports.csv_chunks(columns, the queryset's rows), written by the database."""
    yield csv_header(columns)
    names = [f"export_{index}" for index in range(len(columns))]
    selected = queryset.annotate(
        **{name: _expression(column, queryset.model) for name, column in zip(names, columns, strict=True)}
    ).values_list(*names)
    try:
        sql, params = selected.query.sql_with_params()
    except EmptyResultSet:  # a filter that matches nothing by construction (`.none()`, `__in=[]`)
        return
    connection = connections[queryset.db]
    connection.ensure_connection()
    # A cursor on Django's own connection speaking psycopg's COPY protocol (as companies.bulk does);
    # the parameters are bound on the client, since COPY takes none.
    # Its own transaction (a savepoint inside an outer one): a download cut short cancels the
    # COPY, and only what this block began is rolled back.
    with transaction.atomic(using=queryset.db), psycopg.ClientCursor(connection.connection) as cursor:
        statement = cursor.mogrify(sql, params)
        with cursor.copy(f"COPY ({statement}) TO STDOUT (FORMAT csv)") as copy:
            parts: list[bytes] = []
            size = 0
            for data in copy:
                parts.append(bytes(data))
                size += len(data)
                if size >= CHUNK_BYTES:
                    yield b"".join(parts)
                    parts, size = [], 0
            if parts:
                yield b"".join(parts)
